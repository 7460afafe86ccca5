/*
 * kube_internal - what the kube module files share with each other, not with
 * callers.
 *
 * kube_easy_setup() configures a curl easy handle for one request to the
 * client's server (URL, TLS, proxy, User-Agent, bearer token); the caller
 * owns the header list it returns. The mux is the curl multi + libevent
 * glue one client shares between its watches (kube_watch.c creates it on
 * first use; kube_client_free frees it).
 */
#ifndef CCM_KUBE_INTERNAL_H
#define CCM_KUBE_INTERNAL_H

#include <curl/curl.h>
#include <stdint.h>

#include "kube/kube_client.h"

#define KUBE_BODY_MAX (16u << 20)

struct kube_mux;

int kube_easy_setup(struct kube_client *c, CURL *e, const char *path,
		    struct curl_slist **hdrs);
/* A 401 seen elsewhere (a watch): re-read the token file before reuse. */
void kube_client_token_stale(struct kube_client *c);
int64_t kube_client_timeout_ms(const struct kube_client *c);

struct kube_mux *kube_client_get_mux(const struct kube_client *c);
void kube_client_set_mux(struct kube_client *c, struct kube_mux *m);
void kube_mux_free(struct kube_mux *m);

/* HTTP status to the codes in kube_client.h; post selects -EEXIST. */
int kube_map_status(long status, int post);
int kube_map_curl(CURLcode cc);
void kube_resp_parse(struct kube_resp *resp);

/*
 * An overloaded API server (429) says when to come back in Retry-After.
 * Synchronous requests wait that long and try again while the request's
 * deadline allows; asynchronous ones (kube_async) do the same on a timer
 * of the loop; Events are not worth blocking a worker for, so their
 * synchronous requests come back at once and the recorder holds them for
 * that long. Watches and informer LISTs back off at least that long.
 */
#define KUBE_RETRY_AFTER_MAX_MS	    30000
#define KUBE_RETRY_AFTER_DEFAULT_MS 1000
#define KUBE_RETRY_MIN_MS	    1000 /* left for the retry itself */
/* header_s: Retry-After in seconds as libcurl parsed it (0 = none). */
int64_t kube_retry_after_ms(long status, long long header_s);
/* 1 when waiting wait_ms from now_ms still leaves the retry
 * KUBE_RETRY_MIN_MS before deadline_ms (all on one clock), else 0. */
int kube_retry_fits(int64_t now_ms, int64_t wait_ms, int64_t deadline_ms);
/* The answer to any request of c (synchronous, asynchronous, a watch)
 * teaches c's shared rate limiter: a 429 halves the rate (and is counted
 * in the stats' overloaded), a success (rc 0) adds back a step. */
void kube_client_note_answer(struct kube_client *c, long status, int rc);
/* Retry-After (ms) of the last synchronous request when it ended on a 429
 * it could not wait out, else 0: the caller's backoff is never shorter. */
int64_t kube_client_last_retry_after_ms(const struct kube_client *c);

#endif
