/*
 * ni_lifecycle - the guarded "instance gone => delete the Node" and
 * "instance stopped => shutdown taint" decisions, as a pure state machine.
 *
 * The caller feeds one observation per ECS node per sync and an injected
 * clock (ms, monotonic); the machine answers what to do. Nothing here
 * talks to the cloud or the API server.
 *
 * Observations come from ni_lc_batch, which reads one DescribeInstances
 * batch (ids queried together in the providerID's region):
 *   - the call failed, was throttled, paged incompletely (NextToken left,
 *     or TotalCount above what arrived) or returned an instance that was
 *     not asked for: every id is NI_OBS_UNKNOWN;
 *   - an id that came back is NI_OBS_FOUND (with its Status);
 *   - an id that did not come back is NI_OBS_MISSING only when at least
 *     one OTHER id of the same batch came back (the answer was real and
 *     filtered correctly); otherwise NI_OBS_UNKNOWN. So an empty answer is
 *     never read as "gone", and a node alone in its region is never
 *     deleted automatically.
 *
 * A Node is deleted (NI_ACT_DELETE) only when its instance was MISSING on
 * two lookups at least grace_ms apart (first miss .. a later miss), the
 * node's Ready condition is not True (False, Unknown or absent), and the
 * sync's deletion budget (--max-node-deletions-per-sync) is not spent; a
 * candidate over the budget gets NI_ACT_DEFER and is reconsidered next
 * sync. UNKNOWN observations change nothing (neither confirm nor clear a
 * miss); FOUND clears it.
 *
 * Shutdown taint: FOUND with Status Stopped and no taint => NI_ACT_TAINT;
 * FOUND Running (or the node Ready again) with the taint =>
 * NI_ACT_UNTAINT.
 *
 * grace_ms defaults to NI_GONE_GRACE_MS (2 minutes); in the test build
 * only (CCM_TEST_HOOKS) the environment variable CCM_NODE_GONE_GRACE_MS
 * (milliseconds) overrides it. The release binary does not read it.
 *
 * Ownership: ni_lc_new/ni_lc_free (NULL is a no-op); strings passed in are
 * copied.
 */
#ifndef CCM_NI_LIFECYCLE_H
#define CCM_NI_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "workers/node_init/ni_model.h"
#include "workers/wk_node.h"

#define NI_GONE_GRACE_MS 120000
#ifdef CCM_TEST_HOOKS
#define NI_GONE_GRACE_ENV "CCM_NODE_GONE_GRACE_MS"
#endif

enum ni_obs {
	NI_OBS_UNKNOWN = 0,
	NI_OBS_FOUND,
	NI_OBS_MISSING,
};

enum ni_act {
	NI_ACT_NONE = 0,
	NI_ACT_SUSPECT, /* first miss recorded, nothing to do yet */
	NI_ACT_DELETE,
	NI_ACT_DEFER, /* would delete, but the sync's budget is spent */
	NI_ACT_TAINT,
	NI_ACT_UNTAINT,
};

struct ni_lc_input {
	const char *node;
	const char *instance;
	enum ni_obs obs;
	const char *status; /* instance Status when FOUND */
	enum wk_cond ready;
	int shutdown_tainted;
};

struct ni_lc;

int ni_lc_new(int64_t grace_ms, int max_deletions, struct ni_lc **ret);
void ni_lc_free(struct ni_lc *lc);
/* grace from CCM_NODE_GONE_GRACE_MS, else NI_GONE_GRACE_MS. */
int64_t ni_lc_grace_from_env(void);

/* Starts a sync: the deletion budget is refilled. */
void ni_lc_begin(struct ni_lc *lc);
enum ni_act ni_lc_step(struct ni_lc *lc, const struct ni_lc_input *in,
		       int64_t now_ms);
/* The Node is gone (deleted by us or anyone): drop its state. */
void ni_lc_forget(struct ni_lc *lc, const char *node);
/* Misses recorded for node (0 when none). */
int ni_lc_misses(const struct ni_lc *lc, const char *node);

/* Classifies each of ids[0..n) from one batch answer; ok = the call
 * succeeded; complete = paging finished and TotalCount matched. */
void ni_lc_batch(const char *const *ids, size_t n, int ok, int complete,
		 const struct ni_instance *got, size_t ngot, enum ni_obs *obs);
const char *ni_act_name(enum ni_act a);

#endif
