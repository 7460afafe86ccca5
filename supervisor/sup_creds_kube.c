/*
 * sup_creds_kube - TokenRequest and SelfSubjectAccessReview over the API.
 *
 * The token text is copied into the caller's buffer only; error texts say
 * which permission or object failed and never carry the token.
 */
#include "supervisor/sup_creds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kube/kube_client.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "supervisor/sup_record.h"

struct kube_ctx {
	struct kube_client *kc, *check;
};

static struct kube_ctx ctx;

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

static int kube_token(void *arg, const char *sa, char *token, size_t len,
		      int64_t *expiry, char *why, size_t whylen)
{
	struct kube_ctx *k = arg;
	char path[256];
	struct kube_resp r;
	const char *t, *exp;
	int rc;

	snprintf(path, sizeof(path),
		 "/api/v1/namespaces/kube-system/serviceaccounts/%s/token", sa);
	kube_resp_init(&r);
	rc = kube_create(k->kc, path,
			 "{\"apiVersion\":\"authentication.k8s.io/v1\","
			 "\"kind\":\"TokenRequest\",\"spec\":"
			 "{\"expirationSeconds\":3600}}",
			 &r);
	t = json_path_str(r.obj, "status.token");
	exp = json_path_str(r.obj, "status.expirationTimestamp");
	if (rc == 0 && (t == NULL || strlen(t) >= len || !t[0]))
		rc = -EPROTO;
	if (rc == 0 && (exp == NULL || sup_time_parse(exp, expiry) < 0))
		*expiry = clock_wall_ms() + 3600 * 1000LL;
	if (rc == 0)
		snprintf(token, len, "%s", t);
	else
		token_error(rc, r.status, sa, why, whylen);
	kube_resp_done(&r);
	return rc;
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

static int kube_check(void *arg, const char *token, const struct sup_access *a)
{
	struct kube_ctx *k = arg;
	struct kube_resp r;
	struct buf b;
	int rc, allowed = 0;

	if (kube_client_set_token(k->check, token) < 0)
		return -EINVAL;
	buf_init(&b, 4096);
	kube_resp_init(&r);
	rc = review_body(&b, a) ? -E2BIG
				: kube_create(k->check,
					      "/apis/authorization.k8s.io/v1/"
					      "selfsubjectaccessreviews",
					      b.data, &r);
	if (rc == 0 &&
	    json_bool(json_path(r.obj, "status.allowed"), &allowed) < 0)
		allowed = 0;
	kube_resp_done(&r);
	buf_done(&b);
	(void)kube_client_set_token(k->check, NULL);
	return rc < 0 ? rc : allowed != 0;
}

void sup_creds_kube_ops(struct kube_client *kc, struct kube_client *check_kc,
			struct sup_creds_ops *ops)
{
	ctx.kc = kc;
	ctx.check = check_kc;
	ops->token = kube_token;
	ops->check = kube_check;
	ops->ctx = &ctx;
	ops->now_wall_ms = clock_wall_ms;
}
