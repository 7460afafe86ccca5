/*
 * slb_sync - one Service: ensure its CLB (finalizer first, then the
 * difference between the desired model and the CLB as last seen, then
 * the status), or clean it up and remove the finalizer.
 *
 * Input errors (bad annotation, quota, nodePort 0 in ECS mode) give a
 * Warning and no cloud call, and are not retried: only a change of the
 * Service can fix them. Cloud errors give SyncLoadBalancerFailed with the
 * cloud's message and request id, mark the cached state stale (describe
 * before the next diff, which also settles an ambiguous create) and
 * retry with per-Service backoff. A fenced call retries soon without
 * counting as a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_client.h"
#include "config/cfg.h"
#include "kube/kube_informer.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "workers/service_lb/slb_apply.h"
#include "workers/service_lb/slb_attrs.h"
#include "workers/service_lb/slb_ctl.h"
#include "workers/service_lb/slb_find.h"
#include "workers/service_lb/slb_subset.h"
#include "workers/service_lb/slb_svc.h"
#include "workers/wk_runtime.h"

struct sync {
	struct slb_ctl *c;
	struct slb_entry *e;
	const struct slb_svc *svc;
	struct slb_annot annot;
	struct slb_want *w;
	struct slb_plan plan;
	struct slb_eps eps;
	struct wk_node **nodes;
	size_t n_nodes, cap_nodes;
	struct wk_node **sub_nodes; /* nodes minus those outside the subset */
	size_t n_sub_nodes;
	struct slb_sub_res sub;
	int hold_removals; /* a source of backends was not read whole */
	struct ali_error err;
	struct slb_tick tick;
	char msg[512];
};

/* A sync is a run of bounded calls on the loop; between them the worker
 * tells the supervisor it is alive, so a slow or retrying cloud that
 * stretches one Service's sync past the heartbeat deadline does not get
 * a progressing worker killed (a wedged one still misses it). */
static void heartbeat(void *arg)
{
	wk_heartbeat(arg);
}

/* Not sent for want of a lease, or given up because the worker stops:
 * retried soon, no Event, not a failure. */
static int fenced(int r, const struct ali_error *err)
{
	return (r == -ETIMEDOUT && (!err || ali_error_is(err, "Fenced"))) ||
	       r == -ECANCELED;
}

static int batch_size(const struct slb_ctl *c)
{
	int b = ali_client_backend_batch(c->ali);

	return c->cfg->sg_batch_size < b ? c->cfg->sg_batch_size : b;
}

/* ---- inputs from the informers ---- */

static int add_node(void *ctx, const struct kube_item *it)
{
	struct sync *s = ctx;

	if (!it->obj)
		return 0;
	if (s->n_nodes == s->cap_nodes) {
		size_t nc = s->cap_nodes ? s->cap_nodes * 2 : 64;
		/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
		void *v = realloc(s->nodes, nc * sizeof(*s->nodes));

		if (!v)
			return -ENOMEM;
		s->nodes = v;
		s->cap_nodes = nc;
	}
	s->nodes[s->n_nodes++] = it->obj;
	return 0;
}

static int add_eps(struct slb_eps *dst, const struct slb_eps *src)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && src && i < src->n; i++)
		r = slb_eps_push(dst, &src->v[i]);
	return r;
}

static int add_slice(void *ctx, const struct kube_item *it)
{
	struct sync *s = ctx;
	const struct slb_slice *sl = it->obj;

	if (!sl || strcmp(it->ns, s->svc->ns) != 0 ||
	    strcmp(sl->svc, s->svc->name) != 0)
		return 0;
	return add_eps(&s->eps, &sl->eps);
}

static int gather(struct sync *s)
{
	struct slb_ctl *c = s->c;
	const struct kube_item *it;
	int r = kube_informer_foreach(c->nodes, add_node, s);

	if (r < 0)
		return r;
	if (c->src == SLB_SRC_SLICES)
		return kube_informer_foreach(c->eps, add_slice, s);
	it = kube_informer_get(c->eps, s->svc->ns, s->svc->name);
	return it ? add_eps(&s->eps, it->obj) : 0;
}

/* ---- outcomes ---- */

static int retry_fenced(struct sync *s)
{
	slb_entry_failed(s->c, s->e, SLB_FENCED_RETRY_MS);
	return -ETIMEDOUT;
}

static int cloud_failed(struct sync *s, const char *what, int r)
{
	if (fenced(r, &s->err))
		return retry_fenced(s);
	if (!s->err.code[0])
		ali_error_set(&s->err, 0, "Client", "%s", strerror(-r));
	s->e->stale = 1;
	slb_event_cloud_error(s->c, s->svc, what, &s->err);
	wk_counter_add(s->c->rt, "service_lb_syncs_total", "result=\"error\"",
		       1);
	slb_entry_failed(s->c, s->e, 0);
	return r;
}

static int kube_failed(struct sync *s, const char *reason, int r)
{
	if (r == -ETIMEDOUT)
		return retry_fenced(s);
	slb_event(s->c, s->svc, 1, reason, "%s", strerror(-r));
	slb_entry_failed(s->c, s->e, 0);
	return r;
}

/* Input the user must fix: Warning, no cloud call, no retry. */
static int input_error(struct sync *s, const char *msg)
{
	slb_event(s->c, s->svc, 1, "SyncLoadBalancerFailed",
		  "Error syncing load balancer: %s", msg);
	slb_entry_ok(s->c, s->e);
	return -EINVAL;
}

/* ---- the plan ---- */

static void plan_summary(const struct slb_plan *p, char *out, size_t n)
{
	size_t i, l = 0;

	out[0] = '\0';
	for (i = 0; i < p->n && l + 1 < n; i++) {
		int w = snprintf(out + l, n - l, "%s%s", i ? ", " : "",
				 slb_op_name(p->v[i].op));

		if (w < 0)
			break;
		l += (size_t)w;
	}
}

static int dry_run(struct sync *s)
{
	char sum[768];

	plan_summary(&s->plan, sum, sizeof(sum));
	log_info("dry-run: service %s/%s: would call %s on %s", s->svc->ns,
		 s->svc->name, sum,
		 s->e->cloud.lb_id[0] ? s->e->cloud.lb_id : "a new CLB");
	slb_event(s->c, s->svc, 0, "DryRun", "would call %s", sum);
	slb_entry_ok(s->c, s->e);
	return 0;
}

static int apply(struct sync *s)
{
	struct slb_apply a = {.ali = s->c->ali,
			      .cfg = s->c->cfg,
			      .w = s->w,
			      .c = &s->e->cloud,
			      .p = &s->plan,
			      .token_salt = s->e->token_salt,
			      .tick = &s->tick};
	int r;

	if (s->plan.n && s->plan.v[0].op == SLB_OP_CREATE_LB &&
	    !s->e->token_salt[0])
		snprintf(s->e->token_salt, sizeof(s->e->token_salt), "%s.%lld",
			 s->svc->rv, (long long)clock_wall_ms());
	r = slb_apply_plan(&a, &s->err);
	if (r < 0) {
		const struct slb_call *call = &s->plan.v[a.done];

		snprintf(s->msg, sizeof(s->msg), "%s", slb_op_name(call->op));
		return cloud_failed(s, s->msg, r);
	}
	if (s->e->cloud.exists)
		s->e->token_salt[0] = '\0';
	return 0;
}

static int describe_if_stale(struct sync *s)
{
	int r;

	if (!s->e->stale)
		return 0;
	ali_error_clear(&s->err);
	r = slb_find(s->c->ali, s->w, &s->e->cloud, &s->tick, &s->err);
	if (r < 0)
		return cloud_failed(s, "describe", r);
	s->e->stale = 0;
	return 0;
}

/* ---- ensure ---- */

static void warn_inputs(struct sync *s)
{
	const struct cfg *cfg = s->c->cfg;

	if (s->svc->n_source_ranges && !s->annot.acl_on)
		slb_event(s->c, s->svc, 1, "SourceRangesNotApplied",
			  "spec.loadBalancerSourceRanges is not applied by "
			  "this controller: the CLB accepts traffic from any "
			  "source; use the loadbalancer-acl-status/-acl-id "
			  "annotations to restrict it");
	if (s->annot.n_vg_ports && cfg->cloud.cluster_id_defaulted)
		slb_event(s->c, s->svc, 1, "DefaultClusterID",
			  "loadbalancer-vgroup-port shares a vServer group "
			  "while the cluster ID is the default \"%s\": set "
			  "clusterID in the cloud-config so backends of "
			  "different clusters cannot be confused",
			  cfg->cloud.cluster_id);
}

static int unavailable(const struct sync *s)
{
	size_t i;

	for (i = 0; i < s->w->n_ports; i++)
		if (s->plan.keep_empty[i] || s->plan.no_backends[i])
			return 1;
	return 0;
}

static int build_inputs(struct sync *s)
{
	const struct cfg *cfg = s->c->cfg;
	char err[512];
	int r;

	r = slb_annot_parse(s->svc, &cfg->cloud, &s->annot, err, sizeof(err));
	if (r < 0)
		return input_error(s, err);
	if (!s->annot.intranet && cfg->cloud.disable_public_slb)
		return input_error(s, "create public address slb is not "
				      "allowed (disablePublicSLB)");
	r = gather(s);
	if (r < 0)
		return cloud_failed(s, "read nodes and endpoints", r);
	return 0;
}

/* Cluster policy on node backends: only this Service's subset of the
 * eligible nodes (all of them when the quotas allow). */
static int subset(struct sync *s)
{
	int r;

	if (!slb_svc_subsetted(s->c, s->svc)) {
		s->n_sub_nodes = 0;
		return 0;
	}
	if (!s->sub_nodes) {
		/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
		s->sub_nodes = calloc(s->n_nodes + 1, sizeof(*s->sub_nodes));
		if (!s->sub_nodes)
			return cloud_failed(s, "plan subset", -ENOMEM);
	}
	r = slb_subset_nodes(s->c, s->e, s->svc, &s->annot, s->nodes,
			     s->n_nodes, s->sub_nodes, &s->n_sub_nodes,
			     &s->sub);
	if (r < 0)
		return cloud_failed(s, "plan subset", r);
	return 0;
}

static int build_model(struct sync *s, int quiet)
{
	const struct cfg *cfg = s->c->cfg;
	struct slb_be_in in;
	char err[512], skipped[512];
	int r;

	r = subset(s);
	if (r < 0)
		return r;
	in = (struct slb_be_in){
		.svc = s->svc,
		.annot = &s->annot,
		.cluster_id = cfg->cloud.cluster_id,
		.nodes = s->sub.applies ? s->sub_nodes : s->nodes,
		.n_nodes = s->sub.applies ? s->n_sub_nodes : s->n_nodes,
		.eps = &s->eps,
		.quotas = &cfg->cloud.quotas};
	r = slb_model_build(&in, &s->w, err, sizeof(err));
	if (r == -EINVAL)
		return input_error(s, err);
	if (r < 0)
		return cloud_failed(s, "build model", r);
	slb_tick(&s->tick);
	r = slb_resolve_enis(s->c, s->w, skipped, sizeof(skipped), &s->err);
	if (r < 0)
		return cloud_failed(s, "DescribeNetworkInterfaces", r);
	s->hold_removals = r > 0;
	if (r > 0 && !quiet)
		slb_event(s->c, s->svc, 1, "SkipSyncBackends",
			  "Not sync pods [%s]: no ENI found for their IPs; "
			  "no backend is removed until they resolve",
			  skipped);
	return 0;
}

/* Without a complete picture of the backends, nothing is removed: a pod
 * missing from the ENI answer may still be serving. */
static void drop_removals(struct slb_plan *p)
{
	size_t i, k;

	for (i = 0, k = 0; i < p->n; i++) {
		if (p->v[i].op == SLB_OP_REMOVE_BE) {
			slb_bes_done(&p->v[i].be);
			continue;
		}
		p->v[k++] = p->v[i];
	}
	p->n = k;
}

static int diff(struct sync *s)
{
	char err[512];
	int r = slb_diff(s->w, &s->e->cloud, batch_size(s->c), &s->plan, err,
			 sizeof(err));

	if (r == -EPERM)
		return input_error(s, err);
	if (r < 0) {
		ali_error_set(&s->err, 0, "Client", "%s", err);
		return cloud_failed(s, "plan", r);
	}
	if (s->hold_removals)
		drop_removals(&s->plan);
	if (s->plan.warn[0])
		slb_event(s->c, s->svc, 1, "SyncLoadBalancerFailed", "%s",
			  s->plan.warn);
	return 0;
}

static void note_unavailable(struct sync *s)
{
	int now = unavailable(s);

	if (now && (!s->e->unavailable || s->plan.n))
		slb_event(s->c, s->svc, 1, "UnAvailableLoadBalancer",
			  "There are no available nodes for LoadBalancer%s",
			  s->plan.n ? "" : "; the backends it had are kept");
	s->e->unavailable = now;
}

static void note_drift(struct sync *s)
{
	if (!s->e->resync || !s->plan.n)
		return;
	log_info("service %s/%s: CLB %s drifted from the desired state: %zu "
		 "calls repair it",
		 s->svc->ns, s->svc->name, s->e->cloud.lb_id, s->plan.n);
	wk_counter_add(s->c->rt, "service_lb_drift_repairs_total", "", 1);
}

/* The status addresses: the CLB's, or with external-ip-type eip the EIPs
 * bound to it (falling back to the CLB's with a Warning, as the Go CCM). */
static const char *status_ips(struct sync *s, char *eips, size_t n)
{
	int r;

	if (!s->annot.eip_status || s->annot.hostname[0] ||
	    !s->e->cloud.lb_id[0])
		return s->e->cloud.address;
	slb_tick(&s->tick);
	ali_error_clear(&s->err);
	r = slb_eip_ips(s->c, s->e->cloud.lb_id, eips, n, &s->err);
	if (r == 0 && eips[0])
		return eips;
	slb_event(s->c, s->svc, 1, "FailedSetEIPAddress",
		  "get eip error, set external ip to slb ip: %s",
		  r < 0 ? s->err.message : "no EIP is bound to the CLB");
	return s->e->cloud.address;
}

static int finish_ensure(struct sync *s, int changed)
{
	char eips[256];
	const char *ip = status_ips(s, eips, sizeof(eips));
	int r;

	slb_tick(&s->tick);
	changed = changed || strcmp(s->svc->ingress_ip, ip) != 0;
	r = slb_patch_status(s->c, s->svc, ip, s->annot.hostname, NULL);
	if (r < 0)
		return kube_failed(s, "FailedUpdateStatus", r);
	if (changed)
		slb_event(s->c, s->svc, 0, "EnsuredLoadBalancer",
			  "Ensured load balancer %s", s->e->cloud.lb_id);
	wk_counter_add(s->c->rt, "service_lb_syncs_total", "result=\"ok\"", 1);
	slb_entry_ok(s->c, s->e);
	return 0;
}

/* A subset chosen before the CLB was described did not know its current
 * members: choose again so they stay. */
static int describe_and_resubset(struct sync *s)
{
	int was_stale = s->e->stale, r;

	r = describe_if_stale(s);
	if (r < 0 || !was_stale || !s->sub.applies)
		return r;
	slb_model_free(s->w);
	s->w = NULL;
	return build_model(s, 0);
}

static void note_subset(struct sync *s)
{
	const struct slb_sub_res *u = &s->sub;
	struct wk_rt *rt = s->c->rt;

	if (!u->applies)
		return;
	wk_gauge_set(rt, "service_lb_subset_size", "", u->size);
	wk_gauge_set(rt, "service_lb_subset_full_size", "", u->full);
	wk_gauge_set(rt, "service_lb_subset_shrunk", "", u->size < u->full);
	if (u->picked < u->size)
		log_warn("service %s/%s: %d of %d subset members: the other "
			 "instances are at their attachment quota (%d CLBs); "
			 "retried when attachments are freed",
			 s->svc->ns, s->svc->name, u->picked, u->size,
			 s->c->cfg->cloud.quotas.lbs_per_instance);
	if (s->e->sub_noted[0] == u->size && s->e->sub_noted[1] == u->full)
		return;
	s->e->sub_noted[0] = u->size;
	s->e->sub_noted[1] = u->full;
	if (u->size < u->full)
		slb_event(s->c, s->svc, 1, "LoadBalancerSubsetShrunk",
			  "backends are a subset of %d of the %d eligible "
			  "nodes (full subset %d): %d Cluster-policy Services "
			  "on %d nodes exceed the quota of %d CLBs per ECS "
			  "instance (cloud-config maxLoadBalancersPerInstance)"
			  "; never fewer than %d",
			  u->size, u->eligible, u->full, u->services,
			  u->eligible, s->c->cfg->cloud.quotas.lbs_per_instance,
			  SLB_SUBSET_FLOOR);
	else if (u->size < u->eligible)
		slb_event(s->c, s->svc, 0, "LoadBalancerSubset",
			  "backends are a subset of %d of the %d eligible "
			  "nodes: the quota of backend servers per CLB is %d "
			  "(cloud-config maxBackendServersPerLoadBalancer)",
			  u->size, u->eligible,
			  s->c->cfg->cloud.quotas.backends_per_lb);
}

static int ensure(struct sync *s)
{
	int r;

	r = build_inputs(s);
	if (r == 0)
		r = build_model(s,
				s->e->stale && slb_svc_subsetted(s->c, s->svc));
	if (r == 0 && s->svc->rv[0] && strcmp(s->e->warn_rv, s->svc->rv) != 0) {
		warn_inputs(s);
		slb_strcpy(s->e->warn_rv, sizeof(s->e->warn_rv), s->svc->rv);
	}
	/* domain extensions are read only while annotated: a cache from
	 * before the annotation does not know them */
	if (r == 0 && s->annot.domext_set && s->e->cloud.exists &&
	    !s->e->cloud.dx_read)
		s->e->stale = 1;
	/* an annotated attribute known only from the create (billing
	 * annotated later, a zone the cloud picked) */
	if (r == 0 && slb_attrs_need_read(&s->annot, &s->e->cloud))
		s->e->stale = 1;
	if (r == 0)
		s->w->tag_keys = s->e->tag_keys;
	if (r == 0)
		r = describe_and_resubset(s);
	if (r == 0)
		r = diff(s);
	if (r < 0)
		return r;
	note_unavailable(s);
	note_drift(s);
	note_subset(s);
	if (wk_dry_run(s->c->rt))
		return dry_run(s);
	if (!s->svc->has_finalizer) {
		slb_tick(&s->tick);
		r = slb_patch_finalizer(s->c, s->svc, 1, NULL);
		if (r < 0)
			return kube_failed(s, "FailedAddFinalizer", r);
	}
	if (s->plan.n) {
		slb_event(s->c, s->svc, 0, "EnsuringLoadBalancer",
			  "Ensuring load balancer");
		r = apply(s);
		slb_subset_after(s->c, s->e, 1);
		if (r < 0)
			return r;
	}
	if (slb_attrs_remember_tags(&s->annot, &s->e->tag_keys) < 0)
		log_warn("service %s/%s: out of memory remembering tags",
			 s->svc->ns, s->svc->name);
	return finish_ensure(s, s->plan.n != 0);
}

/* ---- cleanup ---- */

static int cleanup_want(struct sync *s)
{
	const struct cfg *cfg = s->c->cfg;
	char err[256];

	s->w = calloc(1, sizeof(*s->w));
	if (!s->w)
		return -ENOMEM;
	s->w->svc = s->svc;
	if (slb_annot_parse(s->svc, &cfg->cloud, &s->w->annot, err,
			    sizeof(err)) < 0) {
		/* a bad annotation must not keep the CLB forever: use the
		 * two that decide what may be deleted */
		memset(&s->w->annot, 0, sizeof(s->w->annot));
		slb_strcpy(s->w->annot.lb_id, sizeof(s->w->annot.lb_id),
			   slb_annot_get(s->svc, "loadbalancer-id"));
		s->w->annot.preserve =
			slb_annot_get(s->svc, "loadbalancer-preserve-lb-on-"
					      "delete") != NULL;
	}
	slb_strcpy(s->w->cluster_id, sizeof(s->w->cluster_id),
		   cfg->cloud.cluster_id);
	slb_svc_default_name(s->svc, s->w->default_name);
	s->w->reused = s->w->annot.lb_id[0] != '\0';
	s->w->manage_listeners = !s->w->reused || s->w->annot.force_override;
	return 0;
}

static int finish_cleanup(struct sync *s, int owned)
{
	char rv[32];
	int r = 0;

	slb_strcpy(rv, sizeof(rv), s->svc->rv);
	slb_tick(&s->tick);
	if (!s->svc->deleting)
		r = slb_patch_status(s->c, s->svc, "", "", rv);
	if (r < 0)
		return kube_failed(s, "FailedUpdateStatus", r);
	r = slb_patch_finalizer(s->c, s->svc, 0, rv);
	if (r == -EAGAIN) {
		/* judged on a version that is no longer there (changed, or
		 * deleted and re-created): judge the current one */
		log_info("service %s/%s: changed since it was judged; the "
			 "finalizer stays until it is judged again",
			 s->svc->ns, s->svc->name);
		slb_entry_failed(s->c, s->e, SLB_FENCED_RETRY_MS);
		return r;
	}
	if (r < 0)
		return kube_failed(s, "FailedRemoveFinalizer", r);
	if (owned)
		slb_event(s->c, s->svc, 0, "DeletedLoadBalancer",
			  "Deleted load balancer");
	slb_entry_drop(s->c, s->e);
	s->e = NULL;
	return 0;
}

static int cleanup(struct sync *s)
{
	int r = cleanup_want(s);

	if (r < 0)
		return cloud_failed(s, "cleanup", r);
	/* ownership is judged on tags read in this sync, never on a cache */
	s->e->stale = 1;
	r = describe_if_stale(s);
	if (r < 0)
		return r;
	r = slb_diff_cleanup(s->w, &s->e->cloud, batch_size(s->c), &s->plan);
	if (r < 0)
		return cloud_failed(s, "plan cleanup", r);
	if (s->plan.warn[0])
		slb_event(s->c, s->svc, 1, "LoadBalancerNotOwned", "%s",
			  s->plan.warn);
	if (wk_dry_run(s->c->rt))
		return dry_run(s);
	if (s->plan.n) {
		slb_event(s->c, s->svc, 0, "DeletingLoadBalancer",
			  "Deleting load balancer %s", s->e->cloud.lb_id);
		r = apply(s);
		slb_subset_after(s->c, s->e, 1);
		if (r < 0)
			return r;
	}
	return finish_cleanup(s, !s->plan.warn[0]);
}

int slb_sync(struct slb_ctl *c, struct slb_entry *e)
{
	const struct kube_item *it = kube_informer_get(c->svcs, e->ns, e->name);
	struct sync s;
	int r = 0;

	if (!it || !it->obj) {
		/* gone without our finalizer: nothing of ours can remain */
		slb_entry_drop(c, e);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.e = e;
	s.svc = it->obj;
	s.tick.fn = heartbeat;
	s.tick.arg = c->rt;
	if (slb_svc_wants_lb(s.svc))
		r = ensure(&s);
	else if (s.svc->has_finalizer)
		r = cleanup(&s);
	else {
		slb_entry_drop(c, e);
		s.e = NULL;
	}
	if (s.e)
		s.e->resync = 0;
	slb_plan_done(&s.plan);
	slb_model_free(s.w);
	slb_eps_done(&s.eps);
	free(s.nodes);
	free(s.sub_nodes);
	return r;
}
