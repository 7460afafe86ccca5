/*
 * kube_informer - list+watch cache of one resource on a libevent loop.
 *
 * kube_informer_new() schedules an initial LIST (paged, limit 500, no
 * resourceVersion: a consistent read) and then WATCHes from the list's
 * resourceVersion with allowWatchBookmarks and a random timeoutSeconds of
 * 300-600 s. Events update a store keyed by namespace/name that keeps only
 * what the extract callback builds from each object, plus its uid and
 * resourceVersion. Callbacks run on the loop:
 *   on_add(item), on_update(old, new), on_delete(last), on_synced() once
 *   after the first complete list.
 * A 410 (HTTP or ERROR event) relists and replaces the store, synthesising
 * on_delete for objects that vanished meanwhile; a normal stream end
 * rewatches from the last resourceVersion; errors and a watch silent for
 * idle_ms (default twice timeoutSeconds, or $CCM_WATCH_IDLE_MS) back off
 * (800 ms doubling to 30 s, jittered) and resume from the last
 * resourceVersion. An overloaded API server's 429 on a WATCH, or on a
 * LIST page the client could not wait out within its timeout (a page's
 * 429 is otherwise retried after its Retry-After inside the LIST,
 * kube_client.h), makes that backoff at least the answer's Retry-After.
 * Every 429 counts in errors and in overloaded. A resync period re-delivers
 * every item as on_update(item, item) without API traffic.
 *
 * The LIST runs synchronously on the client's easy handle and blocks the
 * loop for its duration (each page bounded by the client timeout); watches
 * are asynchronous.
 *
 * Ownership: o and ops are copied (selectors too). Items and their obj
 * belong to the store; pointers given to callbacks or returned by
 * kube_informer_get are valid until control returns to the loop. Callbacks
 * must not free the informer. Free informers before their client.
 */
#ifndef CCM_KUBE_INFORMER_H
#define CCM_KUBE_INFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "kube/kube_client.h"

struct event_base;
struct kube_informer;

struct kube_item {
	const char *ns; /* "" for cluster-scoped objects */
	const char *name;
	const char *uid;
	const char *rv;
	void *obj; /* from extract, NULL without one */
};

struct kube_informer_opts {
	const char *label_selector; /* NULL: none */
	const char *field_selector;
	int64_t resync_ms;   /* 0: no resync */
	int64_t idle_ms;     /* 0: $CCM_WATCH_IDLE_MS or 2 x timeoutSeconds */
	int watch_timeout_s; /* 0: random 300-600 */
	int page_limit;	     /* 0: 500 */
	size_t max_event;    /* 0: KUBE_WATCH_MAX_EVENT (3 MiB) */
	/* Builds the controller's struct; < 0 skips the object (logged). */
	int (*extract)(void *ctx, const struct json *obj, void **out);
	void (*free_obj)(void *ctx, void *obj);
};

struct kube_informer_ops {
	void (*on_add)(void *ctx, const struct kube_item *it);
	void (*on_update)(void *ctx, const struct kube_item *old,
			  const struct kube_item *cur);
	void (*on_delete)(void *ctx, const struct kube_item *it);
	void (*on_synced)(void *ctx);
};

struct kube_informer_stats {
	uint64_t lists;		  /* LISTs completed */
	uint64_t relists;	  /* LISTs caused by 410 Gone */
	uint64_t watches;	  /* watch requests started */
	uint64_t reconnects;	  /* watches re-established after a failure */
	uint64_t idle_timeouts;	  /* watches torn down for silence */
	uint64_t oversize_events; /* events dropped for size */
	uint64_t events;	  /* watch events applied */
	uint64_t errors;	  /* failed LISTs, watch errors, 429s */
	uint64_t overloaded;	  /* 429 answers to its LISTs and watches */
};

int kube_informer_new(struct kube_client *c, struct event_base *base,
		      const char *path, const struct kube_informer_opts *o,
		      const struct kube_informer_ops *ops, void *ctx,
		      struct kube_informer **ret);
void kube_informer_free(struct kube_informer *inf);

int kube_informer_synced(const struct kube_informer *inf);
/* ns "" or NULL for cluster-scoped objects. */
const struct kube_item *kube_informer_get(const struct kube_informer *inf,
					  const char *ns, const char *name);
size_t kube_informer_len(const struct kube_informer *inf);
/* Calls cb for each item (unordered); a cb < 0 stops and is returned. */
int kube_informer_foreach(const struct kube_informer *inf,
			  int (*cb)(void *ctx, const struct kube_item *it),
			  void *ctx);
void kube_informer_get_stats(const struct kube_informer *inf,
			     struct kube_informer_stats *out);
/* The resourceVersion the next watch resumes from. */
const char *kube_informer_rv(const struct kube_informer *inf);

#endif
