/*
 * kube_async - Kubernetes requests that never block the caller's loop.
 *
 * A kube_async is one curl multi handle driven by a libevent event_base
 * (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION -> event_new / evtimer). It
 * borrows a kube_client for the connection settings (server, TLS, proxy,
 * User-Agent, bearer token at the moment of the first send), not its rate
 * limiter's pacing or its fence: kube_async does not ask the fence for a
 * first send, so a caller that mutates on a worker's behalf must ask
 * fence_allow() itself just before kube_async_send and set call->fenced;
 * a retry after a 429 (below) then asks fence_allow() again as the last
 * step before it leaves. The supervisor's own Lease writes are not fenced.
 *
 * Each request has its own deadline (timeout_ms covers connect, send, the
 * whole answer and any retry after a 429) and ends exactly once through
 * cb(ctx, rc, resp), from
 * the event loop, never from inside kube_async_send:
 *   rc as kube_client.h (0 for 2xx, -ENOENT, -EEXIST/-EAGAIN for 409 on
 *   POST/other, -EACCES, -EIO, -ETIMEDOUT at the deadline,
 *   -ECONNREFUSED, -E2BIG over KUBE_BODY_MAX).
 * A 429 (the API server is overloaded; the request was not served) is
 * sent again after its Retry-After (default 1 s, at most 30 s) when that
 * still leaves the retry 1 s (KUBE_RETRY_MIN_MS) before the request's
 * deadline, which stays the first send + timeout_ms: a retry never
 * carries a request past it (a Lease renewal past its renew deadline).
 * Otherwise cb gets -EIO with resp->status 429 and resp->retry_after_ms.
 * Every answer teaches the client's shared rate limiter as the
 * synchronous requests do (a 429 halves it, a success adds a step), but
 * asynchronous sends are not paced by it.
 * resp (status, body, parsed JSON) belongs to the request; cb may steal
 * resp->obj (set it to NULL). cb may start new requests and cancel other
 * ones; the request's own handle is invalid once cb runs.
 *
 * kube_async_cancel drops a request in flight without calling cb (a
 * request already on the wire may still reach the server).
 *
 * Ownership: kube_async_free cancels everything in flight (no callbacks)
 * and must not be called from a callback; kube_async_free(NULL) is a
 * no-op. The client and base must outlive the kube_async.
 */
#ifndef CCM_KUBE_ASYNC_H
#define CCM_KUBE_ASYNC_H

#include <stddef.h>
#include <stdint.h>

#include "kube/kube_client.h"

struct event_base;
struct kube_async;
struct kube_async_req;

typedef void (*kube_async_cb)(void *ctx, int rc, struct kube_resp *resp);

struct kube_async_call {
	const char *method; /* GET POST PUT PATCH DELETE */
	const char *path;   /* absolute from the server root */
	const char *ctype;  /* body content type; NULL: application/json */
	const char *body;   /* copied; NULL for none */
	int64_t timeout_ms; /* > 0; the request's whole deadline */
	int fenced; /* the caller asked fence_allow(): retries ask too */
};

struct kube_async_stats {
	uint64_t sent, done, failed, cancelled;
	uint64_t retried; /* sends again after a 429's Retry-After */
};

int kube_async_new(struct kube_client *c, struct event_base *base,
		   struct kube_async **ret);
void kube_async_free(struct kube_async *a);

/* 0 and *ret (may be NULL) on start; negative errno when nothing was
 * started (cb is then never called). */
int kube_async_send(struct kube_async *a, const struct kube_async_call *call,
		    kube_async_cb cb, void *ctx, struct kube_async_req **ret);
void kube_async_cancel(struct kube_async_req *q);
size_t kube_async_pending(const struct kube_async *a);
void kube_async_get_stats(const struct kube_async *a,
			  struct kube_async_stats *out);

#endif
