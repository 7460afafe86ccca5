/*
 * kube_curlev - one curl multi handle driven by one libevent loop.
 *
 * The watch streams (kube_watch.c) and the asynchronous requests
 * (kube_async.c) both need curl's socket and timer callbacks turned into
 * libevent events; this is that glue, once. When a transfer completes, the
 * `done` callback gets the easy handle's CURLOPT_PRIVATE pointer and the
 * result; it may remove and free the easy handle.
 */
#ifndef CCM_KUBE_CURLEV_H
#define CCM_KUBE_CURLEV_H

#include <curl/curl.h>
#include <event2/event.h>

typedef void (*kube_curlev_done_fn)(void *priv, CURLcode cc);

struct kube_curlev;

int kube_curlev_new(struct event_base *base, kube_curlev_done_fn done,
		    struct kube_curlev **ret);
void kube_curlev_free(struct kube_curlev *m);
CURLM *kube_curlev_multi(const struct kube_curlev *m);
/* Lets curl act now (start a just-added transfer, so its timeout runs
 * from here) and delivers any completions. */
void kube_curlev_kick(struct kube_curlev *m);
struct event_base *kube_curlev_base(const struct kube_curlev *m);

#endif
