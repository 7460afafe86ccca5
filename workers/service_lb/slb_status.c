/*
 * slb_status - the finalizer and status.loadBalancer of a Service.
 *
 * The finalizer changes only by strategic-merge patches: adding a
 * primitive list merges (a foreign finalizer added concurrently stays),
 * removing uses $deleteFromPrimitiveList, so neither can drop what
 * another controller wrote. Both carry the UID of the object that was
 * judged, and a removal also its resourceVersion: the API server refuses
 * the patch (409 for the version, 422 for the UID) when the Service
 * changed or was deleted and re-created under the same name meanwhile,
 * so the new object keeps its finalizer.
 * The ingress goes to services/status as a merge patch (ingress is
 * replaced whole, which is what we want).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kube/kube_client.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "workers/service_lb/slb_ctl.h"

int slb_finalizer_body(int add, const char *uid, const char *rv, char *out,
		       size_t n)
{
	struct buf b;
	int r;

	buf_init(&b, n);
	r = buf_puts(&b, "{\"metadata\":{");
	if (r == 0 && uid && uid[0]) {
		r = buf_puts(&b, "\"uid\":");
		if (r == 0)
			r = json_buf_str(&b, uid);
		if (r == 0)
			r = buf_puts(&b, ",");
	}
	if (r == 0 && rv && rv[0]) {
		r = buf_puts(&b, "\"resourceVersion\":");
		if (r == 0)
			r = json_buf_str(&b, rv);
		if (r == 0)
			r = buf_puts(&b, ",");
	}
	if (r == 0)
		r = buf_printf(&b, "\"%sfinalizers\":[\"%s\"]}}",
			       add ? "" : "$deleteFromPrimitiveList/",
			       SLB_FINALIZER);
	if (r == 0 && b.len < n)
		memcpy(out, b.data, b.len + 1);
	else if (r == 0)
		r = -E2BIG;
	buf_done(&b);
	return r < 0 ? -E2BIG : 0;
}

/* [{"ip":a},{"ip":b}] from "a,b". */
static int ip_list(struct buf *b, const char *ips)
{
	char one[64];
	const char *p = ips, *comma;
	size_t l;
	int r = buf_puts(b, "[");

	while (r == 0 && p && *p) {
		comma = strchr(p, ',');
		l = comma ? (size_t)(comma - p) : strlen(p);
		if (l >= sizeof(one))
			return -E2BIG;
		memcpy(one, p, l);
		one[l] = '\0';
		r = buf_puts(b, p == ips ? "{\"ip\":" : ",{\"ip\":");
		if (r == 0)
			r = json_buf_str(b, one);
		if (r == 0)
			r = buf_puts(b, "}");
		p = comma ? comma + 1 : NULL;
	}
	return r == 0 ? buf_puts(b, "]") : r;
}

int slb_status_body(const char *ip, const char *host, char *out, size_t n)
{
	struct buf b;
	int r;

	buf_init(&b, n);
	r = buf_puts(&b, "{\"status\":{\"loadBalancer\":{\"ingress\":");
	if (r == 0 && !ip[0] && !host[0])
		r = buf_puts(&b, "null");
	else if (r == 0 && host[0]) {
		r = buf_puts(&b, "[{\"hostname\":");
		if (r == 0)
			r = json_buf_str(&b, host);
		if (r == 0)
			r = buf_puts(&b, "}]");
	} else if (r == 0)
		r = ip_list(&b, ip);
	if (r == 0)
		r = buf_puts(&b, "}}}");
	if (r == 0 && b.len < n)
		memcpy(out, b.data, b.len + 1);
	else if (r == 0)
		r = -E2BIG;
	buf_done(&b);
	return r;
}

static void svc_path(const struct slb_svc *s, const char *sub, char *out,
		     size_t n)
{
	snprintf(out, n, "/api/v1/namespaces/%s/services/%s%s", s->ns, s->name,
		 sub);
}

/* rv (may be NULL) gets the patched object's resourceVersion. */
static int patch(struct slb_ctl *c, const char *path, enum kube_patch_type t,
		 const char *body, char *rv, size_t rvlen)
{
	struct kube_resp resp;
	struct json *doc = NULL;
	char jerr[64];
	int r;

	kube_resp_init(&resp);
	r = kube_patch(c->kube, path, t, body, &resp);
	/* a UID precondition that failed: the name now holds another object
	 * (the API server calls the differing uid an immutable-field error) */
	if (r == -EIO && resp.status == 422 && resp.body.data &&
	    strstr(resp.body.data, "metadata.uid"))
		r = -EAGAIN;
	if (r < 0 && r != -EPERM && r != -ETIMEDOUT && r != -EAGAIN)
		log_warn("PATCH %s: HTTP %ld: %.200s", path, resp.status,
			 resp.body.data ? resp.body.data : "");
	if (r == 0 && rv && resp.body.data &&
	    json_parse(resp.body.data, resp.body.len, NULL, &doc, jerr,
		       sizeof(jerr)) == 0) {
		const char *v = json_path_str(doc, "metadata.resourceVersion");

		if (v && strlen(v) < rvlen)
			memcpy(rv, v, strlen(v) + 1);
	}
	json_free(doc);
	kube_resp_done(&resp);
	return r;
}

int slb_patch_finalizer(struct slb_ctl *c, const struct slb_svc *s, int add,
			const char *rv)
{
	char path[512], body[512];
	int r = slb_finalizer_body(add, s->uid, add ? NULL : rv, body,
				   sizeof(body));

	if (r < 0)
		return r;
	svc_path(s, "", path, sizeof(path));
	r = patch(c, path, KUBE_PATCH_STRATEGIC, body, NULL, 0);
	if (r == -ENOENT && !add)
		r = 0; /* gone already: nothing holds it */
	if (r == 0)
		log_info("service %s/%s: finalizer %s %s", s->ns, s->name,
			 SLB_FINALIZER, add ? "added" : "removed");
	return r;
}

int slb_patch_status(struct slb_ctl *c, const struct slb_svc *s, const char *ip,
		     const char *host, char rv[32])
{
	char path[512], body[1024];
	int r;

	if (!strcmp(s->ingress_ip, host[0] ? "" : ip) &&
	    !strcmp(s->ingress_host, host))
		return 0;
	r = slb_status_body(ip, host, body, sizeof(body));
	if (r < 0)
		return r;
	svc_path(s, "/status", path, sizeof(path));
	r = patch(c, path, KUBE_PATCH_MERGE, body, rv, rv ? 32 : 0);
	if (r == -ENOENT)
		r = 0; /* deleted meanwhile */
	return r;
}
