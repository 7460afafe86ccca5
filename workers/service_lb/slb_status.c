/*
 * slb_status - the finalizer and status.loadBalancer of a Service.
 *
 * The finalizer changes only by strategic-merge patches: adding a
 * primitive list merges (a foreign finalizer added concurrently stays),
 * removing uses $deleteFromPrimitiveList, so neither needs the object's
 * resourceVersion and neither can drop what another controller wrote.
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

int slb_finalizer_body(int add, char *out, size_t n)
{
	int w = snprintf(out, n, "{\"metadata\":{\"%sfinalizers\":[\"%s\"]}}",
			 add ? "" : "$deleteFromPrimitiveList/", SLB_FINALIZER);

	return w < 0 || (size_t)w >= n ? -E2BIG : 0;
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

static int patch(struct slb_ctl *c, const char *path, enum kube_patch_type t,
		 const char *body)
{
	struct kube_resp resp;
	int r;

	kube_resp_init(&resp);
	r = kube_patch(c->kube, path, t, body, &resp);
	if (r < 0 && r != -EPERM && r != -ETIMEDOUT)
		log_warn("PATCH %s: HTTP %ld: %.200s", path, resp.status,
			 resp.body.data ? resp.body.data : "");
	kube_resp_done(&resp);
	return r;
}

int slb_patch_finalizer(struct slb_ctl *c, const struct slb_svc *s, int add)
{
	char path[512], body[256];
	int r = slb_finalizer_body(add, body, sizeof(body));

	if (r < 0)
		return r;
	svc_path(s, "", path, sizeof(path));
	r = patch(c, path, KUBE_PATCH_STRATEGIC, body);
	if (r == -ENOENT && !add)
		r = 0; /* gone already: nothing holds it */
	if (r == 0)
		log_info("service %s/%s: finalizer %s %s", s->ns, s->name,
			 SLB_FINALIZER, add ? "added" : "removed");
	return r;
}

int slb_patch_status(struct slb_ctl *c, const struct slb_svc *s, const char *ip,
		     const char *host)
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
	r = patch(c, path, KUBE_PATCH_MERGE, body);
	if (r == -ENOENT)
		r = 0; /* deleted meanwhile */
	return r;
}
