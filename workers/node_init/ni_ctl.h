/*
 * ni_ctl - the node-init controller's state, shared by its glue files
 * (ni_main.c: runtime, informer and timers; ni_batch.c: initialization of
 * joining nodes; ni_sync.c: the periodic sync and lifecycle; ni_apply.c:
 * patches, deletions and Events). Internal to workers/node_init.
 *
 * Ownership: everything hangs off struct ni_ctl, freed by ni_main's done.
 */
#ifndef CCM_NI_CTL_H
#define CCM_NI_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/backoff.h"
#include "lib/buf.h"
#include "workers/node_init/ni_init.h"
#include "workers/node_init/ni_lifecycle.h"
#include "workers/node_init/ni_model.h"

struct ali_client;
struct cfg;
struct event;
struct kube_client;
struct kube_informer;
struct kube_recorder;
struct wk_rt;

/* What the worker remembers about a node between events. */
struct ni_memo {
	char name[256];
	int non_ecs; /* discovery found nothing: data-centre machine */
	int noted;   /* its one Normal Event was sent */
	struct backoff bo;
	int64_t retry_at; /* monotonic ms of the next attempt, 0: none */
};

struct ni_ctl {
	struct wk_rt *rt;
	const struct cfg *cfg;
	struct kube_client *kube;
	struct ali_client *ali;
	struct kube_informer *inf;
	struct ni_node_opts nopts; /* what the node cache keeps */
	struct kube_recorder *rec;
	struct ni_lc *lc;
	struct event *ev_batch, *ev_sync, *ev_tick;
	char **pending;
	size_t n_pending;
	int64_t pending_since;
	struct ni_memo *memo;
	size_t n_memo;
	int synced;
	int passes;
	/* This pass's lifecycle outcome, for its summary line. */
	int pass_deleted, pass_deferred, pass_missing;
};

/* ni_main.c */
const struct ni_node *ni_ctl_node(struct ni_ctl *c, const char *name);
struct ni_memo *ni_memo_get(struct ni_ctl *c, const char *name);
void ni_retry_later(struct ni_ctl *c, const char *name);
void ni_retry_clear(struct ni_ctl *c, const char *name);

/* ni_batch.c: initialize / discover the named nodes. */
void ni_process_batch(struct ni_ctl *c, char **names, size_t n);
/* ni_sync.c: one full pass over every node. */
void ni_full_sync(struct ni_ctl *c);

/* ni_apply.c */
void ni_event(struct ni_ctl *c, const struct ni_node *n, const char *type,
	      const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Status then spec patch; 0, -EPERM (dry-run, logged) or < 0 with err. */
int ni_apply(struct ni_ctl *c, const char *name, const struct ni_instance *inst,
	     const struct ni_want *w, char *err, size_t errlen);
/* Deletes the Node object that was judged: the request carries its uid and
 * resourceVersion as preconditions, so a Node re-created under the same
 * name (or changed) since is left alone (-EAGAIN, judged again later). */
int ni_delete_node(struct ni_ctl *c, const struct ni_node *n, const char *why);
/* The DeleteOptions body of that request, in b; 0 or -EINVAL without a
 * uid (then nothing may be deleted), -ENOMEM. */
int ni_delete_options(const struct wk_node *n, struct buf *b);
/* Route worker on and the node would get a route (shared predicate). */
int ni_wants_network_unavailable(struct ni_ctl *c, const struct ni_node *n,
				 const struct ni_instance *inst);

#endif
