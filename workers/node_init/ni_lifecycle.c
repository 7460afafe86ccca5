#include "workers/node_init/ni_lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_entry {
	char node[256];
	char instance[64];
	int misses;
	int64_t first_miss_ms;
};

struct ni_lc {
	int64_t grace_ms;
	int max_deletions;
	int budget;
	struct lc_entry *v;
	size_t n;
};

int ni_lc_new(int64_t grace_ms, int max_deletions, struct ni_lc **ret)
{
	struct ni_lc *lc = calloc(1, sizeof(*lc));

	if (!lc)
		return -ENOMEM;
	lc->grace_ms = grace_ms < 0 ? 0 : grace_ms;
	lc->max_deletions = max_deletions < 0 ? 0 : max_deletions;
	lc->budget = lc->max_deletions;
	*ret = lc;
	return 0;
}

void ni_lc_free(struct ni_lc *lc)
{
	if (!lc)
		return;
	free(lc->v);
	free(lc);
}

#ifdef CCM_TEST_HOOKS
int64_t ni_lc_grace_from_env(void)
{
	const char *v = getenv(NI_GONE_GRACE_ENV);
	char *end;
	long long ms;

	if (!v || !*v)
		return NI_GONE_GRACE_MS;
	ms = strtoll(v, &end, 10);
	return (*end || ms < 0) ? NI_GONE_GRACE_MS : (int64_t)ms;
}
#else
/* The release build has no knob: the guard is the documented 2 minutes. */
int64_t ni_lc_grace_from_env(void)
{
	return NI_GONE_GRACE_MS;
}
#endif

void ni_lc_begin(struct ni_lc *lc)
{
	lc->budget = lc->max_deletions;
}

static struct lc_entry *find(const struct ni_lc *lc, const char *node)
{
	size_t i;

	for (i = 0; i < lc->n; i++)
		if (strcmp(lc->v[i].node, node) == 0)
			return &lc->v[i];
	return NULL;
}

static struct lc_entry *find_or_add(struct ni_lc *lc, const char *node,
				    const char *instance)
{
	struct lc_entry *e = find(lc, node), *nv;

	if (e && strcmp(e->instance, instance) != 0) {
		/* Another instance behind the same name: start over. */
		e->misses = 0;
		e->first_miss_ms = 0;
		snprintf(e->instance, sizeof(e->instance), "%s", instance);
	}
	if (e)
		return e;
	nv = realloc(lc->v, (lc->n + 1) * sizeof(*lc->v));
	if (!nv)
		return NULL;
	lc->v = nv;
	e = &lc->v[lc->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->node, sizeof(e->node), "%s", node);
	snprintf(e->instance, sizeof(e->instance), "%s", instance);
	return e;
}

void ni_lc_forget(struct ni_lc *lc, const char *node)
{
	struct lc_entry *e = find(lc, node);

	if (!e)
		return;
	*e = lc->v[--lc->n];
}

int ni_lc_misses(const struct ni_lc *lc, const char *node)
{
	const struct lc_entry *e = find(lc, node);

	return e ? e->misses : 0;
}

static enum ni_act on_found(struct lc_entry *e, const struct ni_lc_input *in)
{
	int stopped = in->status && strcmp(in->status, "Stopped") == 0;
	int running = in->status && strcmp(in->status, "Running") == 0;

	if (e) {
		e->misses = 0;
		e->first_miss_ms = 0;
	}
	if (stopped && !in->shutdown_tainted)
		return NI_ACT_TAINT;
	if (!stopped && in->shutdown_tainted &&
	    (running || in->ready == WK_COND_TRUE))
		return NI_ACT_UNTAINT;
	return NI_ACT_NONE;
}

static enum ni_act on_missing(struct ni_lc *lc, struct lc_entry *e,
			      const struct ni_lc_input *in, int64_t now)
{
	if (e->misses == 0) {
		e->misses = 1;
		e->first_miss_ms = now;
		return NI_ACT_SUSPECT;
	}
	e->misses++;
	if (now - e->first_miss_ms < lc->grace_ms || in->ready == WK_COND_TRUE)
		return NI_ACT_NONE;
	if (lc->budget <= 0)
		return NI_ACT_DEFER;
	lc->budget--;
	return NI_ACT_DELETE;
}

enum ni_act ni_lc_step(struct ni_lc *lc, const struct ni_lc_input *in,
		       int64_t now_ms)
{
	struct lc_entry *e;

	if (!in->node || !in->instance)
		return NI_ACT_NONE;
	switch (in->obs) {
	case NI_OBS_FOUND:
		return on_found(find(lc, in->node), in);
	case NI_OBS_MISSING:
		e = find_or_add(lc, in->node, in->instance);
		/* Out of memory: forget nothing, decide nothing. */
		return e ? on_missing(lc, e, in, now_ms) : NI_ACT_NONE;
	case NI_OBS_UNKNOWN:
		break;
	}
	return NI_ACT_NONE;
}

static int requested(const char *const *ids, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

void ni_lc_batch(const char *const *ids, size_t n, int ok, int complete,
		 const struct ni_instance *got, size_t ngot, enum ni_obs *obs)
{
	size_t i, k, found = 0;
	int trusted = ok && complete;

	for (k = 0; trusted && k < ngot; k++)
		if (!requested(ids, n, got[k].id))
			trusted = 0; /* the filter was not applied */
	for (i = 0; i < n; i++) {
		obs[i] = NI_OBS_UNKNOWN;
		if (trusted && ni_instance_find(got, ngot, ids[i])) {
			obs[i] = NI_OBS_FOUND;
			found++;
		}
	}
	for (i = 0; trusted && i < n; i++)
		/* A witness: some other id of this batch came back. */
		if (obs[i] != NI_OBS_FOUND && found > 0)
			obs[i] = NI_OBS_MISSING;
}

const char *ni_act_name(enum ni_act a)
{
	static const char *const names[] = {
		"none", "suspect", "delete", "defer", "taint", "untaint",
	};

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}
