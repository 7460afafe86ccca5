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
#include "lib/log.h"

struct kube_async_req {
	struct kube_async *a;
	struct kube_async_req *prev, *next;
	CURL *easy;
	struct curl_slist *hdrs;
	char method[8];
	int post;
	int overflow;
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

	if (q->easy) {
		curl_multi_remove_handle(kube_curlev_multi(q->a->ev), q->easy);
		curl_easy_cleanup(q->easy);
	}
	for (h = q->hdrs; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(q->hdrs);
	kube_resp_done(&q->resp);
	free(q);
}

static int result(struct kube_async_req *q, CURLcode cc)
{
	if (q->overflow)
		return -E2BIG;
	if (cc != CURLE_OK)
		return kube_map_curl(cc);
	curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &q->resp.status);
	kube_resp_parse(&q->resp);
	if (q->resp.status == 401)
		kube_client_token_stale(q->a->c);
	return kube_map_status(q->resp.status, q->post);
}

static void finish(struct kube_async_req *q, CURLcode cc)
{
	struct kube_async *a = q->a;
	int rc = result(q, cc);

	unlink_req(q);
	a->st.done++;
	if (rc < 0)
		a->st.failed++;
	if (cc != CURLE_OK)
		log_v(4, "%s (async): %s", q->method, curl_easy_strerror(cc));
	q->cb(q->ctx, rc, &q->resp);
	free_req(q);
}

/* A transfer finished: its easy handle's private pointer is the request. */
static void on_done(void *priv, CURLcode cc)
{
	finish(priv, cc);
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
	q->post = strcmp(call->method, "POST") == 0;
	kube_resp_init(&q->resp);
	q->easy = curl_easy_init();
	r = q->easy ? setup(q, call) : -ENOMEM;
	if (r == 0 && curl_multi_add_handle(kube_curlev_multi(a->ev),
					    q->easy) != CURLM_OK)
		r = -ENOMEM;
	if (r < 0) {
		if (q->easy)
			curl_easy_cleanup(q->easy);
		q->easy = NULL;
		free_req(q);
		return r;
	}
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
