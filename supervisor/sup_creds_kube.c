/*
 * sup_creds_kube - TokenRequest and SelfSubjectAccessReview over the API.
 *
 * The token text is copied into the caller's buffer only; error texts say
 * which permission or object failed and never carry the token.
 */
#include "supervisor/sup_creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_async.h"
#include "kube/kube_client.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "supervisor/sup_record.h"

/* One request in flight: what to call back and for which account. Kept
 * on a list, since a cancelled request never calls back. */
struct call {
	struct call *prev, *next;
	struct kube_ctx *x;
	char sa[64];
	sup_token_done tdone;
	sup_check_done cdone;
	void *arg;
};

struct kube_ctx {
	struct kube_client *kc, *check;
	struct kube_async *ka, *cka;
	int64_t timeout_ms;
	struct call *calls;
};

static struct call *call_new(struct kube_ctx *x)
{
	struct call *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->x = x;
	k->next = x->calls;
	if (x->calls)
		x->calls->prev = k;
	x->calls = k;
	return k;
}

static void call_free(struct call *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		k->x->calls = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
}

static void token_error(int rc, long status, const char *sa, char *why,
			size_t len)
{
	if (status == 403)
		snprintf(why, len,
			 "missing permission create serviceaccounts/token "
			 "for kube-system/%s (HTTP 403)",
			 sa);
	else if (status == 404)
		snprintf(why, len,
			 "service account kube-system/%s does not exist", sa);
	else
		snprintf(why, len,
			 "TokenRequest for kube-system/%s: %s "
			 "(HTTP %ld)",
			 sa, strerror(-rc), status);
}

static void on_token(void *arg, int rc, struct kube_resp *r)
{
	struct call *k = arg;
	const char *t = json_path_str(r->obj, "status.token");
	const char *exp = json_path_str(r->obj, "status.expirationTimestamp");
	int64_t expiry = 0;
	char why[256] = "";

	if (rc == 0 && (t == NULL || !t[0]))
		rc = -EPROTO;
	if (rc == 0 && (exp == NULL || sup_time_parse(exp, &expiry) < 0))
		expiry = clock_wall_ms() + 3600 * 1000LL;
	if (rc < 0)
		token_error(rc, r->status, k->sa, why, sizeof(why));
	k->tdone(k->arg, rc, rc == 0 ? t : NULL, expiry, why);
	call_free(k);
}

static int kube_token(void *arg, const char *sa, sup_token_done done,
		      void *darg)
{
	struct kube_ctx *x = arg;
	struct call *k = call_new(x);
	char path[256];
	struct kube_async_call c = {
		.method = "POST",
		.path = path,
		.body = "{\"apiVersion\":\"authentication.k8s.io/v1\","
			"\"kind\":\"TokenRequest\",\"spec\":"
			"{\"expirationSeconds\":3600}}",
		.timeout_ms = x->timeout_ms};
	int r;

	if (k == NULL)
		return -ENOMEM;
	snprintf(k->sa, sizeof(k->sa), "%s", sa);
	k->tdone = done;
	k->arg = darg;
	snprintf(path, sizeof(path),
		 "/api/v1/namespaces/kube-system/serviceaccounts/%s/token", sa);
	r = kube_async_send(x->ka, &c, on_token, k, NULL);
	if (r < 0)
		call_free(k);
	return r;
}

static int review_body(struct buf *b, const struct sup_access *a)
{
	const char *slash = strchr(a->resource, '/');
	int e = 0;

	e |= buf_puts(b, "{\"apiVersion\":\"authorization.k8s.io/v1\","
			 "\"kind\":\"SelfSubjectAccessReview\",\"spec\":"
			 "{\"resourceAttributes\":{\"verb\":");
	e |= json_buf_str(b, a->verb);
	e |= buf_puts(b, ",\"group\":");
	e |= json_buf_str(b, a->group);
	e |= buf_printf(b, ",\"resource\":\"%.*s\"",
			(int)(slash ? (size_t)(slash - a->resource)
				    : strlen(a->resource)),
			a->resource);
	if (slash)
		e |= buf_printf(b, ",\"subresource\":\"%s\"", slash + 1);
	if (a->ns[0]) {
		e |= buf_puts(b, ",\"namespace\":");
		e |= json_buf_str(b, a->ns);
	}
	e |= buf_puts(b, "}}}");
	return e;
}

static void on_review(void *arg, int rc, struct kube_resp *r)
{
	struct call *k = arg;
	int allowed = 0;

	if (rc == 0 &&
	    json_bool(json_path(r->obj, "status.allowed"), &allowed) < 0)
		allowed = 0;
	k->cdone(k->arg, rc < 0 ? rc : allowed != 0);
	call_free(k);
}

/* The review must carry the token under test: it is set on the check
 * client only while the request is built (the header is captured then). */
static int kube_check(void *arg, const char *token, const struct sup_access *a,
		      sup_check_done done, void *darg)
{
	struct kube_ctx *x = arg;
	struct call *k = call_new(x);
	struct kube_async_call c = {.method = "POST",
				    .path = "/apis/authorization.k8s.io/v1/"
					    "selfsubjectaccessreviews",
				    .timeout_ms = x->timeout_ms};
	struct buf b;
	int r;

	if (k == NULL)
		return -ENOMEM;
	k->cdone = done;
	k->arg = darg;
	buf_init(&b, 4096);
	r = review_body(&b, a) ? -E2BIG : 0;
	c.body = b.data;
	if (r == 0)
		r = kube_client_set_token(x->check, token);
	if (r == 0)
		r = kube_async_send(x->cka, &c, on_review, k, NULL);
	(void)kube_client_set_token(x->check, NULL);
	buf_done(&b);
	if (r < 0)
		call_free(k);
	return r;
}

static void free_ctx(void *arg)
{
	struct kube_ctx *x = arg;

	if (x == NULL)
		return;
	kube_async_free(x->ka);
	kube_async_free(x->cka);
	for (struct call *k = x->calls, *n; k; k = n) {
		n = k->next;
		free(k);
	}
	free(x);
}

int sup_creds_kube_ops(struct kube_client *kc, struct kube_client *check_kc,
		       struct event_base *base, int64_t timeout_ms,
		       struct sup_creds_ops *ops)
{
	struct kube_ctx *x = calloc(1, sizeof(*x));
	int r;

	if (x == NULL)
		return -ENOMEM;
	x->kc = kc;
	x->check = check_kc;
	x->timeout_ms = timeout_ms;
	r = kube_async_new(kc, base, &x->ka);
	if (r == 0)
		r = kube_async_new(check_kc, base, &x->cka);
	if (r < 0) {
		free_ctx(x);
		return r;
	}
	memset(ops, 0, sizeof(*ops));
	ops->token = kube_token;
	ops->check = kube_check;
	ops->ctx = x;
	ops->free_ctx = free_ctx;
	ops->now_wall_ms = clock_wall_ms;
	return 0;
}
