#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cfg.h"
#include "ipc/ipc_bus.h"
#include "kube/kube_client.h"
#include "kube/kube_event.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "workers/node_init/ni_ctl.h"
#include "workers/wk_runtime.h"

#define CONFLICT_RETRIES 4

void ni_event(struct ni_ctl *c, const struct ni_node *n, const char *type,
	      const char *reason, const char *fmt, ...)
{
	struct kube_objref ref = {
		.kind = "Node",
		.name = n->wk->name,
		.uid = n->wk->uid,
		.api_version = "v1",
	};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(type, KUBE_EVENT_TYPE_WARNING) == 0)
		log_warn("node %s: %s: %s", n->wk->name, reason, msg);
	else
		log_info("node %s: %s: %s", n->wk->name, reason, msg);
	if (c->rec)
		kube_event(c->rec, &ref, type, reason, "%s", msg);
}

static void now_rfc3339(char *out, size_t n)
{
	time_t t = (time_t)(clock_wall_ms() / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* *after (when given) receives the Node the server answered with, or
 * stays NULL. */
static int send_patch(struct ni_ctl *c, const struct ni_node *n,
		      const char *suffix, enum kube_patch_type t,
		      const char *body, struct ni_node **after, char *err,
		      size_t errlen)
{
	char path[512];
	struct kube_resp r;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s%s", n->wk->name, suffix);
	kube_resp_init(&r);
	rc = kube_patch(c->kube, path, t, body, &r);
	if (rc == 0 && after && r.obj &&
	    ni_node_from_json(r.obj, &c->nopts, after) < 0)
		*after = NULL;
	if (rc == -EPERM) {
		log_info("dry-run: would patch node%s %s: %s", suffix,
			 n->wk->name, body);
		ni_event(c, n, KUBE_EVENT_TYPE_NORMAL, "DryRun",
			 "would patch node%s: %.800s", suffix, body);
	} else if (rc < 0) {
		if (rc == -EACCES && r.status == 401)
			wk_auth_failed(c->rt);
		snprintf(err, errlen, "patch node%s: %s (HTTP %ld)", suffix,
			 strerror(-rc), r.status);
	}
	kube_resp_done(&r);
	return rc;
}

static int reread(struct ni_ctl *c, const char *name, struct ni_node **out)
{
	char path[512];
	struct kube_resp r;
	int rc;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
	kube_resp_init(&r);
	rc = kube_get(c->kube, path, &r);
	if (rc == 0)
		rc = r.obj ? ni_node_from_json(r.obj, &c->nopts, out) : -EPROTO;
	kube_resp_done(&r);
	return rc;
}

/* *after: the Node as the status patch left it (NULL when none was sent
 * or its answer could not be read). */
static int apply_status(struct ni_ctl *c, const struct ni_node *n,
			const struct ni_instance *inst, const struct ni_want *w,
			struct ni_node **after, char *err, size_t errlen)
{
	char now[40];
	struct buf b;
	int rc;

	now_rfc3339(now, sizeof(now));
	buf_init(&b, 1 << 20);
	rc = ni_status_patch(n, inst, w, now, &b, err, errlen);
	if (rc > 0)
		rc = send_patch(c, n, "/status", KUBE_PATCH_STRATEGIC, b.data,
				after, err, errlen);
	buf_done(&b);
	return rc;
}

static int apply_spec(struct ni_ctl *c, const struct ni_node *n,
		      const struct ni_instance *inst, const struct ni_want *w,
		      char *err, size_t errlen)
{
	struct ni_node *fresh = NULL;
	struct buf b;
	int rc = 0, i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < CONFLICT_RETRIES; i++) {
		rc = ni_spec_patch(fresh ? fresh : n, inst, w, &b);
		if (rc > 0)
			rc = send_patch(c, fresh ? fresh : n, "",
					KUBE_PATCH_MERGE, b.data, NULL, err,
					errlen);
		if (rc != -EAGAIN)
			break;
		/* 409: another writer; rebuild from the current Node. */
		ni_node_free(fresh);
		fresh = NULL;
		rc = reread(c, n->wk->name, &fresh);
		if (rc < 0) {
			snprintf(err, errlen, "re-read node: %s",
				 strerror(-rc));
			break;
		}
	}
	ni_node_free(fresh);
	buf_done(&b);
	return rc;
}

int ni_apply(struct ni_ctl *c, const char *name, const struct ni_instance *inst,
	     const struct ni_want *w, char *err, size_t errlen)
{
	const struct ni_node *n = ni_ctl_node(c, name);
	struct ni_node *after = NULL;
	int rc, dry = 0;

	if (!n) {
		snprintf(err, errlen, "node is gone");
		return -ENOENT;
	}
	/* Status first: NetworkUnavailable before the taint goes. */
	rc = apply_status(c, n, inst, w, &after, err, errlen);
	dry = rc == -EPERM;
	if (rc < 0 && !dry)
		return rc;
	/* The spec patch carries a resourceVersion: the cached one is what
	 * the status patch just replaced (a certain 409, a GET and a second
	 * PATCH per Node), so it starts from the status patch's answer. */
	rc = apply_spec(c, after ? after : n, inst, w, err, errlen);
	ni_node_free(after);
	if (rc == -EPERM)
		dry = 1;
	else if (rc < 0)
		return rc;
	return dry ? -EPERM : 0;
}

int ni_delete_options(const struct wk_node *n, struct buf *b)
{
	int r;

	if (!n->uid || !n->uid[0])
		return -EINVAL;
	r = buf_puts(b, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
			"\"preconditions\":{\"uid\":");
	if (!r)
		r = json_buf_str(b, n->uid);
	if (!r && n->resource_version && n->resource_version[0]) {
		r = buf_puts(b, ",\"resourceVersion\":");
		if (!r)
			r = json_buf_str(b, n->resource_version);
	}
	if (!r)
		r = buf_puts(b, "}}");
	if (!r)
		r = buf_append(b, "", 1); /* NUL: the body is a C string */
	return r < 0 ? -ENOMEM : 0;
}

static int delete_judged(struct ni_ctl *c, const struct ni_node *n)
{
	char path[512];
	struct kube_resp r;
	struct buf body;
	int rc;

	buf_init(&body, 4096);
	rc = ni_delete_options(n->wk, &body);
	if (rc == 0) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", n->wk->name);
		kube_resp_init(&r);
		rc = kube_delete_opts(c->kube, path, body.data, &r);
		kube_resp_done(&r);
	}
	buf_done(&body);
	return rc;
}

int ni_delete_node(struct ni_ctl *c, const struct ni_node *n, const char *why)
{
	int rc = delete_judged(c, n);

	if (rc == -EPERM) {
		ni_event(c, n, KUBE_EVENT_TYPE_NORMAL, "DryRun",
			 "would delete node: %s", why);
		return rc;
	}
	if (rc == 0 || rc == -ENOENT) {
		ni_event(c, n, KUBE_EVENT_TYPE_NORMAL, "DeletedNode",
			 "Deleted node %s: %s", n->wk->name, why);
		wk_publish(c->rt, IPC_TOPIC_NODE_DEL, n->wk->name, 0);
		return 0;
	}
	if (rc == -EAGAIN) {
		log_info("node %s: not deleted, the object changed or was "
			 "re-created since it was judged (uid %s); judged "
			 "again from the start",
			 n->wk->name, n->wk->uid);
		return rc;
	}
	ni_event(c, n, KUBE_EVENT_TYPE_WARNING, "DeleteNodeFailed",
		 "Error deleting node %s: %s", n->wk->name,
		 rc == -EINVAL ? "the cached object has no uid"
			       : strerror(-rc));
	return rc;
}

int ni_wants_network_unavailable(struct ni_ctl *c, const struct ni_node *n,
				 const struct ni_instance *inst)
{
	if (!(c->cfg->controllers & CFG_CTL_ROUTE) ||
	    !c->cfg->configure_cloud_routes)
		return 0;
	/* The predicate needs the providerID we are about to write. */
	return wk_node_route_eligible_as(n->wk, inst ? inst->id : NULL);
}
