/*
 * kube_watch - one watch stream on a libevent loop (curl multi-socket).
 *
 * kube_watch_start() opens GET <path> (the caller builds the query:
 * watch=1, resourceVersion, timeoutSeconds...) on the client's curl multi
 * handle, which is driven by the event_base in hiperfifo style; several
 * watches of one client share one multi handle and one base (a second base
 * is refused with -EINVAL). TCP keepalive is on. The stream is split into
 * lines of at most max_event bytes (3 MiB by default); a longer event is
 * dropped, counted and logged, and the stream continues. Each line is
 * parsed and handed to on_event(type, object).
 *
 * The watch ends exactly once through on_end(err):
 *   0            the server closed the stream normally (timeoutSeconds)
 *   -EGONE       HTTP 410, or on_event returned -EGONE
 *   -ETIMEDOUT   nothing arrived for idle_ms (a frozen connection)
 *   -EACCES, -ENOENT, -EIO   other HTTP statuses (401 re-reads tokens;
 *                a 429 is -EIO with kube_watch_retry_after_ms() > 0 and
 *                teaches the client's rate limiter, kube_client.h)
 *   -ECONNREFUSED, -EPROTO   transport failure, undecodable line
 *   any negative value on_event returned (it stops the stream)
 * on_end may free the watch; on_event must not (return < 0 instead).
 *
 * Ownership: the watch borrows the client and base, which must outlive it.
 * kube_watch_free(NULL) is a no-op; freeing an active watch calls nothing.
 */
#ifndef CCM_KUBE_WATCH_H
#define CCM_KUBE_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "kube/kube_client.h"

struct event_base;
struct kube_watch;

#define KUBE_WATCH_MAX_EVENT (3u << 20)

struct kube_watch_ops {
	int (*on_event)(void *ctx, const char *type, const struct json *obj);
	void (*on_end)(void *ctx, int err);
};

struct kube_watch_opts {
	int64_t idle_ms;  /* 0: no idle limit */
	size_t max_event; /* 0: KUBE_WATCH_MAX_EVENT */
};

int kube_watch_start(struct kube_client *c, struct event_base *base,
		     const char *path, const struct kube_watch_opts *o,
		     const struct kube_watch_ops *ops, void *ctx,
		     struct kube_watch **ret);
void kube_watch_free(struct kube_watch *w);
/* Events dropped for exceeding max_event. */
uint64_t kube_watch_oversize(const struct kube_watch *w);
/* 1 when the idle timer (not a transport timeout) ended the watch. */
int kube_watch_idled(const struct kube_watch *w);
/* After an end on HTTP 429: how long the server asked to wait
 * (Retry-After, default 1 s, at most 30 s); else 0. */
int64_t kube_watch_retry_after_ms(const struct kube_watch *w);
/* Lines decoded so far. */
uint64_t kube_watch_events(const struct kube_watch *w);

#endif
