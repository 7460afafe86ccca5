/*
 * kube_async - curl multi on a libevent loop; see kube_async.h.
 */
#include "kube/kube_async.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_curlev.h"
#include "kube/kube_internal.h"
#include "lib/clock.h"
#include "lib/fence.h"
#include "lib/log.h"

struct kube_async_req {
	struct kube_async *a;
	struct kube_async_req *prev, *next;
	CURL *easy;
	struct curl_slist *hdrs;
	struct event *retry; /* waiting out a 429's Retry-After */
	int64_t deadline;    /* clock_mono_ms(): the whole request ends by it */
	char method[8];
	int post;
	int overflow;
	int in_multi;
	int fenced; /* a worker's mutation: its retry asks the fence again */
	struct kube_resp resp;
	kube_async_cb cb;
	void *ctx;
};

struct kube_async {
	struct kube_client *c;
	struct kube_curlev *ev;
	struct kube_async_req *head;
	size_t pending;
	struct kube_async_stats st;
};

static void unlink_req(struct kube_async_req *q)
{
	struct kube_async *a = q->a;

	if (q->prev)
		q->prev->next = q->next;
	else
		a->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	a->pending--;
}

/* The header list holds the bearer token: wiped, then freed. */
static void free_req(struct kube_async_req *q)
{
	struct curl_slist *h;

	if (q->in_multi)
		curl_multi_remove_handle(kube_curlev_multi(q->a->ev), q->easy);
	if (q->easy)
		curl_easy_cleanup(q->easy);
	if (q->retry)
		event_free(q->retry);
	for (h = q->hdrs; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(q->hdrs);
	kube_resp_done(&q->resp);
	free(q);
}

static int result(struct kube_async_req *q, CURLcode cc)
{
	curl_off_t ra = 0;
	int rc;

	if (q->overflow)
		return -E2BIG;
	if (cc != CURLE_OK)
		return kube_map_curl(cc);
	curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &q->resp.status);
	if (q->resp.status == 429) {
		curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &ra);
		q->resp.retry_after_ms =
			kube_retry_after_ms(429, (long long)ra);
	}
	kube_resp_parse(&q->resp);
	if (q->resp.status == 401)
		kube_client_token_stale(q->a->c);
	rc = kube_map_status(q->resp.status, q->post);
	kube_client_note_answer(q->a->c, q->resp.status, rc);
	return rc;
}

static void finish_rc(struct kube_async_req *q, int rc)
{
	struct kube_async *a = q->a;

	unlink_req(q);
	a->st.done++;
	if (rc < 0)
		a->st.failed++;
	q->cb(q->ctx, rc, &q->resp);
	free_req(q);
}

/* The retry goes out with what is left of the request's own deadline, so
 * a caller's bound (a Lease renewal's renew deadline) holds. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct kube_async_req *q = arg;
	int64_t left = q->deadline - clock_mono_ms();
	int r;

	(void)fd;
	(void)what;
	if (left <= 0) {
		finish_rc(q, -ETIMEDOUT);
		return;
	}
	if (q->fenced && (r = fence_allow(left)) < 0) {
		finish_rc(q, r);
		return;
	}
	curl_easy_setopt(q->easy, CURLOPT_TIMEOUT_MS, (long)left);
	if (curl_multi_add_handle(kube_curlev_multi(q->a->ev), q->easy) !=
	    CURLM_OK) {
		finish_rc(q, -ENOMEM);
		return;
	}
	q->in_multi = 1;
	q->a->st.retried++;
}

/* A 429 was not served, so sending it again is safe for every method:
 * 1 when the retry is armed (the answer is dropped), else 0. */
static int retry_after(struct kube_async_req *q)
{
	int64_t wait = q->resp.retry_after_ms;
	struct timeval tv = {(time_t)(wait / 1000),
			     (suseconds_t)(wait % 1000) * 1000};

	if (q->resp.status != 429 ||
	    !kube_retry_fits(clock_mono_ms(), wait, q->deadline))
		return 0;
	if (q->retry == NULL)
		q->retry = evtimer_new(kube_curlev_base(q->a->ev), on_retry, q);
	if (q->retry == NULL || evtimer_add(q->retry, &tv) < 0)
		return 0;
	curl_multi_remove_handle(kube_curlev_multi(q->a->ev), q->easy);
	q->in_multi = 0;
	log_v(4, "%s (async): API server overloaded (429), retrying in %lld ms",
	      q->method, (long long)wait);
	kube_resp_done(&q->resp);
	kube_resp_init(&q->resp);
	q->overflow = 0;
	return 1;
}

/* A transfer finished: its easy handle's private pointer is the request. */
static void on_done(void *priv, CURLcode cc)
{
	struct kube_async_req *q = priv;
	int rc = result(q, cc);

	if (cc != CURLE_OK)
		log_v(4, "%s (async): %s", q->method, curl_easy_strerror(cc));
	if (retry_after(q))
		return;
	if (q->resp.status == 429)
		log_v(2,
		      "%s (async): API server overloaded (429): Retry-After "
		      "%lld ms does not fit the request's deadline",
		      q->method, (long long)q->resp.retry_after_ms);
	finish_rc(q, rc);
}

int kube_async_new(struct kube_client *c, struct event_base *base,
		   struct kube_async **ret)
{
	struct kube_async *a = calloc(1, sizeof(*a));

	*ret = NULL;
	if (a == NULL)
		return -ENOMEM;
	a->c = c;
	if (kube_curlev_new(base, on_done, &a->ev) < 0) {
		kube_async_free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void kube_async_free(struct kube_async *a)
{
	if (a == NULL)
		return;
	while (a->head) {
		struct kube_async_req *q = a->head;

		unlink_req(q);
		free_req(q);
	}
	kube_curlev_free(a->ev);
	free(a);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct kube_async_req *q = ud;

	if (buf_append(&q->resp.body, p, sz * n) < 0) {
		q->overflow = 1;
		return 0;
	}
	return sz * n;
}

static int setup(struct kube_async_req *q, const struct kube_async_call *k)
{
	struct curl_slist *n;
	char ct[128];
	int r;

	r = kube_easy_setup(q->a->c, q->easy, k->path, &q->hdrs);
	if (r < 0)
		return r;
	if (k->body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 k->ctype ? k->ctype : "application/json");
		n = curl_slist_append(q->hdrs, ct);
		if (n == NULL)
			return -ENOMEM;
		q->hdrs = n;
		curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->hdrs);
		curl_easy_setopt(q->easy, CURLOPT_COPYPOSTFIELDS, k->body);
	} else if (q->post) {
		curl_easy_setopt(q->easy, CURLOPT_COPYPOSTFIELDS, "");
	}
	if (strcmp(k->method, "GET") == 0)
		curl_easy_setopt(q->easy, CURLOPT_HTTPGET, 1L);
	else if (!q->post)
		curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, k->method);
	curl_easy_setopt(q->easy, CURLOPT_TIMEOUT_MS, (long)k->timeout_ms);
	curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q);
	curl_easy_setopt(q->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	return 0;
}

int kube_async_send(struct kube_async *a, const struct kube_async_call *call,
		    kube_async_cb cb, void *ctx, struct kube_async_req **ret)
{
	struct kube_async_req *q;
	int r;

	if (ret)
		*ret = NULL;
	if (!call->method || !call->path || call->path[0] != '/' ||
	    call->timeout_ms <= 0 || !cb || strlen(call->method) >= 8)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	q->a = a;
	q->cb = cb;
	q->ctx = ctx;
	snprintf(q->method, sizeof(q->method), "%s", call->method);
	q->deadline = clock_mono_ms() + call->timeout_ms;
	q->fenced = call->fenced;
	q->post = strcmp(call->method, "POST") == 0;
	kube_resp_init(&q->resp);
	q->easy = curl_easy_init();
	r = q->easy ? setup(q, call) : -ENOMEM;
	if (r == 0 && curl_multi_add_handle(kube_curlev_multi(a->ev),
					    q->easy) != CURLM_OK)
		r = -ENOMEM;
	if (r < 0) {
		free_req(q);
		return r;
	}
	q->in_multi = 1;
	q->next = a->head;
	if (a->head)
		a->head->prev = q;
	a->head = q;
	a->pending++;
	a->st.sent++;
	if (ret)
		*ret = q;
	return 0;
}

void kube_async_cancel(struct kube_async_req *q)
{
	if (q == NULL)
		return;
	q->a->st.cancelled++;
	unlink_req(q);
	free_req(q);
}

size_t kube_async_pending(const struct kube_async *a)
{
	return a ? a->pending : 0;
}

void kube_async_get_stats(const struct kube_async *a,
			  struct kube_async_stats *out)
{
	*out = a->st;
}
