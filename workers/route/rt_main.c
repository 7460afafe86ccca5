/*
 * rt_main - the route worker's wk_controller: node informer, triggers and
 * the timers that drive passes.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alicloud/ali_client.h"
#include "config/cfg.h"
#include "kube/kube_event.h"
#include "kube/kube_informer.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "workers/route/rt_ctl.h"
#include "workers/wk_node.h"
#include "workers/wk_runtime.h"

#define CONTROLLER_REF "route-controller"

void rt_controller_ref_event(struct rt_ctl *c, int warning, const char *reason,
			     const char *fmt, ...)
{
	struct kube_objref ref = {.kind = "Node",
				  .name = CONTROLLER_REF,
				  .uid = CONTROLLER_REF,
				  .api_version = "v1"};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kube_event(c->rec, &ref,
		   warning ? KUBE_EVENT_TYPE_WARNING : KUBE_EVENT_TYPE_NORMAL,
		   reason, "%s", msg);
}

void rt_trigger(struct rt_ctl *c, int64_t delay_ms)
{
	int64_t at = clock_mono_ms() + (delay_ms > 0 ? delay_ms : 0);
	struct timeval tv;

	if (c->pass) {
		c->dirty = 1; /* picked up when the pass finishes */
		return;
	}
	if (c->trigger_at && c->trigger_at <= at)
		return;
	c->trigger_at = at;
	tv.tv_sec = (time_t)((at - clock_mono_ms()) / 1000);
	tv.tv_usec = (suseconds_t)(((at - clock_mono_ms()) % 1000) * 1000);
	if (tv.tv_sec < 0 || tv.tv_usec < 0)
		tv.tv_sec = tv.tv_usec = 0;
	evtimer_add(c->ev_trigger, &tv);
}

static void on_trigger(evutil_socket_t fd, short what, void *arg)
{
	struct rt_ctl *c = arg;

	(void)fd;
	(void)what;
	c->trigger_at = 0;
	if (!kube_informer_synced(c->inf))
		return; /* on_synced triggers the first pass */
	rt_pass_start(c);
}

static void on_period(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rt_trigger(arg, 0);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rt_exec_on_timer(arg);
}

static void on_jobs(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rt_jobs_run(arg);
}

static int64_t agg_wait(const struct rt_ctl *c)
{
	return c->cfg->node_event_aggregation_wait_ms;
}

static int route_relevant_change(const struct wk_node *a,
				 const struct wk_node *b)
{
	return wk_node_route_eligible(a) != wk_node_route_eligible(b) ||
	       strcmp(a->pod_cidr4, b->pod_cidr4) != 0 ||
	       strcmp(a->instance_id, b->instance_id) != 0 ||
	       a->network_unavailable != b->network_unavailable;
}

static void on_add(void *ctx, const struct kube_item *it)
{
	struct rt_ctl *c = ctx;
	const struct wk_node *n = it->obj;

	if (n && (wk_node_route_eligible(n) || n->pod_cidr4[0]))
		rt_trigger(c, agg_wait(c));
}

static void on_update(void *ctx, const struct kube_item *old,
		      const struct kube_item *cur)
{
	struct rt_ctl *c = ctx;

	if (!old->obj || !cur->obj)
		return;
	if (route_relevant_change(old->obj, cur->obj))
		rt_trigger(c, agg_wait(c));
}

static void remember_gone(struct rt_ctl *c, const struct wk_node *n)
{
	struct rt_gone *g;

	if (c->n_gone == RT_MAX_GONE) {
		/* forget the oldest: a blocked route then waits for the
		 * operator, which is the safe side */
		memmove(c->gone, c->gone + 1,
			(RT_MAX_GONE - 1) * sizeof(*c->gone));
		c->n_gone--;
	}
	g = &c->gone[c->n_gone];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", n->name);
	if (rt_cidr_norm(n->pod_cidr4, g->cidr, sizeof(g->cidr)))
		return;
	snprintf(g->instance, sizeof(g->instance), "%s", n->instance_id);
	c->n_gone++;
}

static void on_delete(void *ctx, const struct kube_item *it)
{
	struct rt_ctl *c = ctx;
	const struct wk_node *n = it->obj;

	if (!n || !n->pod_cidr4[0])
		return;
	log_info("node %s deleted: its route %s will be removed", n->name,
		 n->pod_cidr4);
	remember_gone(c, n);
	rt_trigger(c, agg_wait(c));
}

static void on_synced(void *ctx)
{
	struct rt_ctl *c = ctx;

	log_info("node cache synced (%zu nodes): first route reconcile",
		 kube_informer_len(c->inf));
	rt_trigger(c, 0);
}

static void route_on_bus(void *state, const struct ipc_bus_msg *m)
{
	struct rt_ctl *c = state;

	if (m->topic == IPC_TOPIC_NODE_INIT) {
		log_v(2, "hint: node %s initialized", m->name);
		rt_trigger(c, agg_wait(c));
	}
}

static int new_informer(struct rt_ctl *c)
{
	static const struct kube_informer_ops ops = {
		.on_add = on_add,
		.on_update = on_update,
		.on_delete = on_delete,
		.on_synced = on_synced,
	};
	struct kube_informer_opts o = {.extract = wk_node_extract_route,
				       .free_obj = wk_node_release};

	return wk_informer_new(c->rt, "/api/v1/nodes", &o, &ops, c, &c->inf);
}

static int new_timers(struct rt_ctl *c)
{
	struct event_base *b = wk_base(c->rt);
	int64_t p = c->cfg->route_reconciliation_period_ms;
	struct timeval tv = {(time_t)(p / 1000),
			     (suseconds_t)((p % 1000) * 1000)};

	c->ev_trigger = evtimer_new(b, on_trigger, c);
	c->ev_period = event_new(b, -1, EV_PERSIST, on_period, c);
	c->ev_step = evtimer_new(b, on_step, c);
	c->ev_jobs = evtimer_new(b, on_jobs, c);
	if (!c->ev_trigger || !c->ev_period || !c->ev_step || !c->ev_jobs)
		return -ENOMEM;
	return event_add(c->ev_period, &tv) ? -ENOMEM : 0;
}

static void route_done(void *state);

static int route_init(struct wk_rt *rt, void **state)
{
	struct rt_ctl *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->rt = rt;
	c->cfg = wk_cfg(rt);
	c->kube = wk_kube(rt);
	c->started_wall_ms = clock_wall_ms();
	backoff_init(&c->bo_fail, 5000, 300000, 1000, (unsigned)getpid());
	backoff_init(&c->bo_wait, 1000, 30000, 500, (unsigned)getpid() + 1);
	c->gone = calloc(RT_MAX_GONE, sizeof(*c->gone));
	r = c->gone ? 0 : -ENOMEM;
	if (r == 0)
		r = rt_mark_name(c->cfg->cloud.cluster_id, c->mark);
	if (r == 0)
		r = wk_cloud_client_new(rt, &c->ali);
	if (r == 0)
		r = kube_recorder_new(c->kube, CONTROLLER_REF, wk_identity(rt),
				      &c->rec);
	if (r == 0)
		r = new_timers(c);
	if (r == 0)
		r = new_informer(c);
	if (r < 0) {
		log_error("route controller: start failed: %s", strerror(-r));
		route_done(c);
		return r;
	}
	if (wk_subscribe(rt, IPC_TOPIC_NODE_INIT) < 0)
		log_warn("route controller: no node-init hints (the node "
			 "watch still covers it)");
	log_info("route controller started: cluster CIDR %s, period %llds%s, "
		 "entries named %s",
		 c->cfg->cluster_cidr,
		 (long long)(c->cfg->route_reconciliation_period_ms / 1000),
		 wk_dry_run(rt) ? ", dry-run" : "", c->mark);
	if (c->cfg->cloud.cluster_id_defaulted)
		log_warn("route controller: clusterID is not set in "
			 "cloud-config; route entries are marked %s, which "
			 "every cluster without a clusterID shares: set one "
			 "when clusters share a route table",
			 c->mark);
	*state = c;
	return 0;
}

static void free_event(struct event *e)
{
	if (e)
		event_free(e);
}

static void route_done(void *state)
{
	struct rt_ctl *c = state;

	if (!c)
		return;
	rt_pass_free(c->pass);
	kube_informer_free(c->inf);
	free_event(c->ev_trigger);
	free_event(c->ev_period);
	free_event(c->ev_step);
	free_event(c->ev_jobs);
	kube_recorder_free(c->rec);
	ali_client_free(c->ali);
	free(c->tables);
	free(c->gone);
	free(c->warned);
	free(c->jobs);
	free(c);
}

const struct wk_controller wk_ctl_route = {
	.name = "route",
	.init = route_init,
	.on_bus = route_on_bus,
	.done = route_done,
};
