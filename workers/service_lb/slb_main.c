/*
 * slb_main - the service-LB worker's wk_controller: the cloud client, the
 * Event recorder, and the informers whose events queue Services.
 *
 * Endpoint source: discovery.k8s.io/v1 EndpointSlices when the server
 * serves them and our credentials may list them, else core/v1 Endpoints
 * (v1beta1 slices are never read: on 1.20 their endpoints carry no
 * nodeName). The choice is logged once and exported as a gauge.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alicloud/ali_client.h"
#include "config/cfg.h"
#include "kube/kube_event.h"
#include "kube/kube_informer.h"
#include "lib/log.h"
#include "lib/retire.h"
#include "workers/service_lb/slb_annot.h"
#include "workers/service_lb/slb_ctl.h"
#include "workers/service_lb/slb_endpoints.h"
#include "workers/service_lb/slb_svc.h"
#include "workers/wk_fiber.h"
#include "workers/wk_runtime.h"

#define COMPONENT  "service-controller"
#define LABEL_SVC  "kubernetes.io/service-name"
#define N_INFORMER 3

int slb_svc_is_eni(const struct slb_ctl *c, const struct slb_svc *s)
{
	const char *v = slb_svc_annot(s, SLB_ANNOT_BACKEND_TYPE);

	if (v && v[0])
		return strcmp(v, "eni") == 0;
	return strcmp(c->cfg->cloud.service_backend_type, "eni") == 0;
}

static int svc_of_interest(const struct slb_svc *s)
{
	return slb_svc_wants_lb(s) || s->has_finalizer;
}

/* ---- Services ---- */

static int extract_svc(void *ctx, const struct json *obj, void **out)
{
	struct slb_svc *s = NULL;
	int r = slb_svc_from_json(obj, &s);

	(void)ctx;
	*out = s;
	return r;
}

static void free_svc(void *ctx, void *obj)
{
	(void)ctx;
	slb_svc_free(obj);
}

/* A running sync may still read what the informers replace or delete. */
static void retire_svc(void *ctx, void *obj)
{
	struct slb_ctl *c = ctx;

	retire_obj(c->retire, free_svc, c, obj);
}

static void retire_node(void *ctx, void *obj)
{
	struct slb_ctl *c = ctx;

	retire_obj(c->retire, wk_node_release, c, obj);
}

static int same_annots(const struct slb_svc *a, const struct slb_svc *b)
{
	size_t i;

	if (a->n_annots != b->n_annots)
		return 0;
	for (i = 0; i < a->n_annots; i++) {
		const char *v = slb_svc_annot(b, a->annots[i].key);

		if (!v || strcmp(v, a->annots[i].val) != 0)
			return 0;
	}
	return 1;
}

static int same_ports(const struct slb_svc *a, const struct slb_svc *b)
{
	/* calloc'd and filled by slb_strcpy: bytes after each string are
	 * zero, so the bytes compare the fields */
	return a->n_ports == b->n_ports &&
	       (!a->n_ports ||
		/* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
		memcmp(a->ports, b->ports, a->n_ports * sizeof(*a->ports)) ==
			0);
}

/* Everything but the resourceVersion and the status we write. */
static int svc_changed(const struct slb_svc *a, const struct slb_svc *b)
{
	/* Copies made with memcpy keep the zero padding and the zero bytes
	 * after each string that slb_svc_parse's calloc gave both values,
	 * so comparing the bytes compares the fields. */
	struct slb_svc *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	int changed = 1;

	if (x && y) {
		memcpy(x, a, sizeof(*x));
		memcpy(y, b, sizeof(*y));
		memset(x->rv, 0, sizeof(x->rv));
		memset(y->rv, 0, sizeof(y->rv));
		memset(x->ingress_ip, 0, sizeof(x->ingress_ip));
		memset(y->ingress_ip, 0, sizeof(y->ingress_ip));
		memset(x->ingress_host, 0, sizeof(x->ingress_host));
		memset(y->ingress_host, 0, sizeof(y->ingress_host));
		x->annots = y->annots = NULL;
		x->ports = y->ports = NULL;
		/* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
		changed = memcmp(x, y, sizeof(*x)) != 0 || !same_annots(a, b) ||
			  !same_ports(a, b);
	}
	free(x);
	free(y);
	return changed;
}

static void svc_add(void *ctx, const struct kube_item *it)
{
	struct slb_ctl *c = ctx;

	if (it->obj && svc_of_interest(it->obj))
		slb_enqueue(c, it->ns, it->name, 0, 0);
}

static void svc_update(void *ctx, const struct kube_item *old,
		       const struct kube_item *cur)
{
	struct slb_ctl *c = ctx;
	const struct slb_svc *o = old->obj, *n = cur->obj;

	if (!n)
		return;
	if (!svc_of_interest(n) && !(o && svc_of_interest(o)) &&
	    !slb_entry_get(c, cur->ns, cur->name, 0))
		return;
	if (!o || svc_changed(o, n))
		slb_enqueue(c, cur->ns, cur->name, 0, 0);
}

static void svc_delete(void *ctx, const struct kube_item *it)
{
	struct slb_ctl *c = ctx;

	if (slb_entry_get(c, it->ns, it->name, 0))
		slb_enqueue(c, it->ns, it->name, 0, 0);
}

/* ---- Nodes ---- */

static int same_kv(const struct wk_kv *a, size_t na, const struct wk_kv *b,
		   size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].key, b[i].key) != 0 ||
		    strcmp(a[i].val ? a[i].val : "",
			   b[i].val ? b[i].val : "") != 0)
			return 0;
	return 1;
}

static int node_lb_changed(const struct wk_node *a, const struct wk_node *b)
{
	return a->ready != b->ready || a->unschedulable != b->unschedulable ||
	       a->deleting != b->deleting ||
	       strcmp(a->instance_id, b->instance_id) != 0 ||
	       !same_kv(a->labels, a->n_labels, b->labels, b->n_labels) ||
	       !same_kv(a->taints, a->n_taints, b->taints, b->n_taints);
}

static int enqueue_node_users(void *ctx, const struct kube_item *it)
{
	struct slb_ctl *c = ctx;
	const struct slb_svc *s = it->obj;

	if (s && slb_svc_wants_lb(s) && !slb_svc_is_eni(c, s))
		slb_enqueue(c, it->ns, it->name,
			    c->cfg->node_event_aggregation_wait_ms, 1);
	return 0;
}

static void nodes_changed(struct slb_ctl *c)
{
	if (c->synced)
		kube_informer_foreach(c->svcs, enqueue_node_users, c);
}

static void node_add(void *ctx, const struct kube_item *it)
{
	(void)it;
	nodes_changed(ctx);
}

static void node_update(void *ctx, const struct kube_item *old,
			const struct kube_item *cur)
{
	if (!old->obj || !cur->obj || node_lb_changed(old->obj, cur->obj))
		nodes_changed(ctx);
}

static void node_delete(void *ctx, const struct kube_item *it)
{
	(void)it;
	nodes_changed(ctx);
}

/* ---- Endpoints / EndpointSlices ---- */

static int extract_eps(void *ctx, const struct json *obj, void **out)
{
	struct slb_eps *e = calloc(1, sizeof(*e));
	int r;

	(void)ctx;
	if (!e)
		return -ENOMEM;
	r = slb_eps_from_endpoints(obj, e);
	if (r < 0) {
		slb_eps_done(e);
		free(e);
		return r;
	}
	slb_eps_trim(e); /* kept in the informer's cache */
	*out = e;
	return 0;
}

static void free_eps(void *ctx, void *obj)
{
	(void)ctx;
	if (obj)
		slb_eps_done(obj);
	free(obj);
}

static int extract_slice(void *ctx, const struct json *obj, void **out)
{
	const char *svc = json_str(
		json_get(json_path(obj, "metadata.labels"), LABEL_SVC));
	struct slb_slice *s;
	int r;

	(void)ctx;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	slb_strcpy(s->svc, sizeof(s->svc), svc);
	r = slb_eps_from_slice(obj, &s->eps);
	if (r < 0) {
		slb_eps_done(&s->eps);
		free(s);
		return r;
	}
	slb_eps_trim(&s->eps);
	*out = s;
	return 0;
}

static void free_slice(void *ctx, void *obj)
{
	struct slb_slice *s = obj;

	(void)ctx;
	if (s)
		slb_eps_done(&s->eps);
	free(s);
}

static const struct slb_eps *eps_of(const struct slb_ctl *c, const void *obj)
{
	if (!obj)
		return NULL;
	return c->src == SLB_SRC_SLICES ? &((const struct slb_slice *)obj)->eps
					: obj;
}

static int same_eps(const struct slb_eps *a, const struct slb_eps *b)
{
	if (!a || !b)
		return a == b;
	return a->n == b->n &&
	       (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

static void eps_touch(struct slb_ctl *c, const struct kube_item *it)
{
	const char *name = it->name;
	const struct kube_item *si;

	if (c->src == SLB_SRC_SLICES)
		name = it->obj ? ((const struct slb_slice *)it->obj)->svc : "";
	si = kube_informer_get(c->svcs, it->ns, name);
	if (si && si->obj && slb_svc_wants_lb(si->obj))
		slb_enqueue(c, it->ns, name, SLB_COALESCE_MS, 1);
}

static void eps_add(void *ctx, const struct kube_item *it)
{
	eps_touch(ctx, it);
}

static void eps_update(void *ctx, const struct kube_item *old,
		       const struct kube_item *cur)
{
	struct slb_ctl *c = ctx;

	if (!same_eps(eps_of(c, old->obj), eps_of(c, cur->obj)))
		eps_touch(c, cur);
}

static void eps_delete(void *ctx, const struct kube_item *it)
{
	eps_touch(ctx, it);
}

/* ---- start ---- */

static void on_synced(void *ctx)
{
	struct slb_ctl *c = ctx;

	if (!kube_informer_synced(c->svcs) || !kube_informer_synced(c->nodes) ||
	    !kube_informer_synced(c->eps) || c->synced)
		return;
	c->synced = 1;
	log_info("service-lb: caches synced (%zu services, %zu nodes): "
		 "%zu services queued",
		 kube_informer_len(c->svcs), kube_informer_len(c->nodes),
		 c->n_ents);
	if (!c->n_ents) {
		c->reported = 1;
		wk_reconciled(c->rt);
	}
	slb_queue_kick(c);
}

static void on_queue(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	slb_queue_on_timer(arg);
}

/* v1 slices served, with list and watch, and listable by us. */
static int slices_usable(struct slb_ctl *c)
{
	const struct json *res;
	struct kube_resp r;
	size_t i;
	int ok = 0;

	kube_resp_init(&r);
	if (kube_get(c->kube, "/apis/discovery.k8s.io/v1", &r) == 0) {
		res = json_get(r.obj, "resources");
		for (i = 0; i < json_len(res); i++) {
			const char *n = json_path_str(json_at(res, i), "name");

			if (n && strcmp(n, "endpointslices") == 0)
				ok = 1;
		}
	}
	if (ok && kube_get(c->kube,
			   "/apis/discovery.k8s.io/v1/endpointslices?limit=1",
			   &r) != 0)
		ok = 0;
	kube_resp_done(&r);
	return ok;
}

static int new_informer(struct slb_ctl *c, const char *path,
			const struct kube_informer_opts *o,
			const struct kube_informer_ops *ops,
			struct kube_informer **ret)
{
	return wk_informer_new(c->rt, path, o, ops, c, ret);
}

static int new_informers(struct slb_ctl *c)
{
	static const struct kube_informer_ops svc_ops = {svc_add, svc_update,
							 svc_delete, on_synced};
	static const struct kube_informer_ops node_ops = {
		node_add, node_update, node_delete, on_synced};
	static const struct kube_informer_ops eps_ops = {eps_add, eps_update,
							 eps_delete, on_synced};
	struct kube_informer_opts so = {.extract = extract_svc,
					.free_obj = retire_svc};
	struct kube_informer_opts no = {.extract = wk_node_extract_lb,
					.free_obj = retire_node};
	struct kube_informer_opts eo = {.extract = extract_eps,
					.free_obj = free_eps};
	int slices = slices_usable(c);
	int r;

	c->src = slices ? SLB_SRC_SLICES : SLB_SRC_ENDPOINTS;
	log_info("service-lb: endpoint source: %s",
		 slices ? "discovery.k8s.io/v1 EndpointSlices"
			: "core/v1 Endpoints (discovery.k8s.io/v1 "
			  "EndpointSlices not served or not listable)");
	wk_gauge_set(c->rt, "service_lb_endpoint_source",
		     slices ? "source=\"endpointslices\""
			    : "source=\"endpoints\"",
		     1);
	if (slices) {
		eo.extract = extract_slice;
		eo.free_obj = free_slice;
	}
	r = new_informer(c, "/api/v1/services", &so, &svc_ops, &c->svcs);
	if (r == 0)
		r = new_informer(c, "/api/v1/nodes", &no, &node_ops, &c->nodes);
	if (r == 0)
		r = new_informer(c,
				 slices ? "/apis/discovery.k8s.io/v1/"
					  "endpointslices"
					: "/api/v1/endpoints",
				 &eo, &eps_ops, &c->eps);
	return r;
}

static void slb_done(void *state);

static int slb_init(struct wk_rt *rt, void **state)
{
	struct slb_ctl *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->rt = rt;
	c->cfg = wk_cfg(rt);
	c->kube = wk_kube(rt);
	c->seed = (unsigned)getpid();
	r = wk_cloud_client_new(rt, &c->ali);
	if (r == 0)
		r = retire_new(&c->retire);
	if (r == 0)
		r = wk_fibers_new(wk_base(rt), &c->fibers);
	if (r == 0) {
		struct ali_client_io io = wk_fibers_io(c->fibers);

		ali_client_set_io(c->ali, &io);
		r = kube_recorder_new(c->kube, COMPONENT, wk_identity(rt),
				      &c->rec);
	}
	if (r == 0) {
		c->ev_queue = evtimer_new(wk_base(rt), on_queue, c);
		r = c->ev_queue ? 0 : -ENOMEM;
	}
	if (r == 0)
		r = new_informers(c);
	/* exported from the start, so a repair shows as a step from 0 */
	wk_counter_add(rt, "service_lb_drift_repairs_total", "", 0);
	if (r < 0) {
		log_error("service-lb controller: start failed: %s",
			  strerror(-r));
		slb_done(c);
		return r;
	}
	log_info("service-lb controller started: cluster ID %s, cloud resync "
		 "%llds%s",
		 c->cfg->cloud.cluster_id,
		 (long long)(c->cfg->cloud_resync_period_ms / 1000),
		 wk_dry_run(rt) ? ", dry-run" : "");
	*state = c;
	return 0;
}

static void slb_done(void *state)
{
	struct slb_ctl *c = state;

	if (!c)
		return;
	/* running syncs unwind first: they hold entries and cache objects */
	c->stopping = 1;
	wk_fibers_free(c->fibers);
	kube_informer_free(c->svcs);
	kube_informer_free(c->nodes);
	kube_informer_free(c->eps);
	while (c->n_ents)
		slb_entry_drop(c, c->ents[0]);
	free(c->ents);
	retire_free(c->retire);
	if (c->ev_queue)
		event_free(c->ev_queue);
	kube_recorder_free(c->rec);
	ali_client_free(c->ali);
	free(c);
}

const struct wk_controller wk_ctl_service_lb = {
	.name = "service-lb",
	.init = slb_init,
	.done = slb_done,
};
