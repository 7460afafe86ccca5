/*
 * rt_pass - one reconcile pass: snapshot the node cache, list every route
 * table, plan, queue the mutations (run by rt_exec), and when they are done
 * derive each node's NetworkUnavailable condition and schedule the next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_vpc.h"
#include "config/cfg.h"
#include "kube/kube_informer.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "workers/route/rt_ctl.h"
#include "workers/wk_node.h"
#include "workers/wk_runtime.h"

void rt_pass_free(struct rt_pass *p)
{
	size_t t;

	if (!p)
		return;
	for (t = 0; p->entries && t < p->plan.n_tables; t++)
		free(p->entries[t]);
	rt_plan_done(&p->plan);
	free(p->entries);
	free(p->obs);
	free(p->nodes);
	free(p->pn);
	free(p->steps);
	free(p->free_at);
	free(p->cell);
	free(p->fail_msg);
	free(p);
}

struct snap {
	struct rt_pass *p;
	size_t cap;
};

static int snap_node(void *ctx, const struct kube_item *it)
{
	struct snap *s = ctx;
	const struct wk_node *n = it->obj;
	struct rt_snode *d;

	if (!n)
		return 0;
	if (s->p->n_nodes == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct rt_snode *v = realloc(s->p->nodes, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->p->nodes = v;
		s->cap = ncap;
	}
	d = &s->p->nodes[s->p->n_nodes++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", n->name);
	snprintf(d->uid, sizeof(d->uid), "%s", n->uid ? n->uid : "");
	rt_cidr_norm(n->pod_cidr4, d->cidr, sizeof(d->cidr));
	snprintf(d->instance, sizeof(d->instance), "%s", n->instance_id);
	d->eligible = wk_node_route_eligible(n) && d->cidr[0];
	return 0;
}

static int snapshot(struct rt_ctl *c, struct rt_pass *p)
{
	struct snap s = {.p = p};
	size_t i;
	int r;

	r = kube_informer_foreach(c->inf, snap_node, &s);
	if (r < 0)
		return r;
	p->pn = calloc(p->n_nodes + 1, sizeof(*p->pn));
	if (!p->pn)
		return -ENOMEM;
	for (i = 0; i < p->n_nodes; i++) {
		p->pn[i].name = p->nodes[i].name;
		p->pn[i].cidr = p->nodes[i].cidr;
		p->pn[i].instance = p->nodes[i].instance;
		p->pn[i].eligible = p->nodes[i].eligible;
	}
	return 0;
}

static enum rt_status status_of(const char *s)
{
	if (strcmp(s, "Pending") == 0)
		return RT_ST_PENDING;
	if (strcmp(s, "Deleting") == 0)
		return RT_ST_DELETING;
	if (strcmp(s, "Modifying") == 0)
		return RT_ST_MODIFYING;
	return RT_ST_AVAILABLE;
}

static void convert(const struct rt_ctl *c, const struct ali_route_entry *a,
		    struct rt_entry *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", a->id);
	snprintf(e->dst, sizeof(e->dst), "%s", a->cidr);
	snprintf(e->hop_type, sizeof(e->hop_type), "%s", a->next_hop_type);
	snprintf(e->hop_id, sizeof(e->hop_id), "%s", a->next_hop_id);
	e->custom = strcmp(a->type, "Custom") == 0;
	e->marked = rt_mark_is(a->name, c->mark);
	e->n_hops = a->n_hops > 1000 ? 1000 : (int)a->n_hops;
	e->status = status_of(a->status);
}

static void list_table(struct rt_ctl *c, struct rt_pass *p, size_t t)
{
	const struct ali_route_filter f = {.entry_type = "Custom"};
	struct ali_route_list l = {0};
	struct ali_error err;
	size_t i;
	int r;

	ali_error_clear(&err);
	p->obs[t].id = c->tables[t];
	r = ali_vpc_route_entries(c->ali, c->tables[t], &f, &l, &err);
	if (r < 0) {
		log_error("route table %s: DescribeRouteEntryList: %s: %s; "
			  "nothing in this table is changed this pass",
			  c->tables[t], err.code, err.message);
		p->failed = 1;
		return;
	}
	p->entries[t] = calloc(l.n + 1, sizeof(struct rt_entry));
	if (!p->entries[t]) {
		ali_route_list_done(&l);
		p->failed = 1;
		return;
	}
	for (i = 0; i < l.n; i++)
		convert(c, &l.v[i], &p->entries[t][i]);
	p->obs[t].entries = p->entries[t];
	p->obs[t].n = l.n;
	p->obs[t].listed = 1;
	ali_route_list_done(&l);
}

static void prune_gone(struct rt_ctl *c, const struct rt_plan *plan)
{
	size_t i, k = 0;

	for (i = 0; i < c->n_gone; i++)
		if (plan->gone_use[i])
			c->gone[k++] = c->gone[i];
	c->n_gone = k;
}

static int add_steps(struct rt_pass *p, const struct rt_op *ops, size_t n,
		     int del, size_t batch)
{
	size_t i = 0;

	while (i < n) {
		struct rt_step *s = &p->steps[p->n_steps++];
		size_t k = 1;

		while (i + k < n && k < batch &&
		       ops[i + k].table == ops[i].table)
			k++;
		memset(s, 0, sizeof(*s));
		s->table = ops[i].table;
		s->del = del;
		s->first = i;
		s->count = k;
		i += k;
	}
	return 0;
}

/* Steps in table order, deletes before creates within a table. */
static int plan_steps(struct rt_ctl *c, struct rt_pass *p)
{
	size_t batch = (size_t)c->cfg->route_reconcile_batch_size;
	size_t n = p->plan.n_creates + p->plan.n_deletes;

	if (batch < 1 || batch > RT_MAX_BATCH)
		batch = RT_MAX_BATCH;
	p->steps = calloc(n + 1, sizeof(*p->steps));
	if (!p->steps)
		return -ENOMEM;
	add_steps(p, p->plan.deletes, p->plan.n_deletes, 1, batch);
	add_steps(p, p->plan.creates, p->plan.n_creates, 0, batch);
	return 0;
}

static void report_blocked(struct rt_ctl *c, struct rt_pass *p)
{
	size_t t;

	for (t = 0; t < c->n_tables; t++) {
		if (!p->plan.blocked[t])
			continue;
		log_warn(
			"route table %s: %zu of %zu managed routes look stale, "
			"more than the %zu one pass may delete: deleting "
			"none (a route goes once its Node's DELETE event is "
			"seen, or remove it by hand)",
			c->tables[t], p->plan.blocked[t], p->plan.managed[t],
			rt_plan_guard_limit(p->plan.managed[t]));
		rt_controller_ref_event(
			c, 1, "RouteDeletionBlocked",
			"Route table %s: %zu of %zu managed routes would be "
			"deleted, more than %zu: deleted none",
			c->tables[t], p->plan.blocked[t], p->plan.managed[t],
			rt_plan_guard_limit(p->plan.managed[t]));
	}
}

static int prepare(struct rt_ctl *c, struct rt_pass *p)
{
	struct rt_plan_in in = {0};
	size_t t, nt = c->n_tables;
	int r;

	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	p->entries = calloc(nt + 1, sizeof(*p->entries));
	p->obs = calloc(nt + 1, sizeof(*p->obs));
	p->free_at = calloc(nt + 1, sizeof(*p->free_at));
	if (!p->entries || !p->obs || !p->free_at)
		return -ENOMEM;
	r = snapshot(c, p);
	if (r < 0)
		return r;
	for (t = 0; t < nt; t++)
		list_table(c, p, t);
	in.nodes = p->pn;
	in.n_nodes = p->n_nodes;
	in.synced = kube_informer_synced(c->inf);
	in.have_cluster_cidr = c->cfg->cluster_cidr[0] != '\0';
	if (in.have_cluster_cidr)
		in.have_cluster_cidr =
			rt_cidr_parse(c->cfg->cluster_cidr, &in.cluster) == 0;
	in.tables = p->obs;
	in.n_tables = nt;
	in.gone = c->gone;
	in.n_gone = c->n_gone;
	r = rt_plan_build(&in, &p->plan);
	if (r < 0)
		return r;
	p->cell = calloc(p->n_nodes * nt + 1, 1);
	p->fail_msg = calloc(p->n_nodes + 1, sizeof(*p->fail_msg));
	if (!p->cell || !p->fail_msg)
		return -ENOMEM;
	prune_gone(c, &p->plan);
	p->again = p->plan.retry;
	return plan_steps(c, p);
}

void rt_pass_start(struct rt_ctl *c)
{
	struct rt_pass *p;
	int r;

	if (c->pass)
		return;
	if (rt_tables_resolve(c) < 0) {
		rt_trigger(c, backoff_next(&c->bo_fail));
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	c->dirty = 0;
	c->pass = p;
	r = prepare(c, p);
	if (r < 0) {
		log_error("route reconcile: %s", strerror(-r));
		c->pass = NULL;
		rt_pass_free(p);
		rt_trigger(c, backoff_next(&c->bo_fail));
		return;
	}
	log_v(2,
	      "route reconcile: %zu nodes, %zu tables: %zu to create, %zu to "
	      "delete",
	      p->n_nodes, c->n_tables, p->plan.n_creates, p->plan.n_deletes);
	report_blocked(c, p);
	rt_report_foreign(c, p);
	rt_report_quota(c, p);
	rt_exec_kick(c, 0);
}

/* 1: NetworkUnavailable=True, 0: False, -1: leave it. */
static int wanted_condition(const struct rt_ctl *c, const struct rt_pass *p,
			    size_t i)
{
	size_t t, nt = c->n_tables;
	int all_ok = 1;

	for (t = 0; t < nt; t++) {
		enum rt_nstate st = rt_plan_state(&p->plan, i, t);
		unsigned char cell = p->cell[i * nt + t];

		if (cell == RT_CELL_FAIL || st == RT_NS_BLOCKED)
			return 1;
		if (st != RT_NS_READY && cell != RT_CELL_OK)
			all_ok = 0;
	}
	return all_ok ? 0 : -1;
}

static void blocked_events(struct rt_ctl *c, struct rt_pass *p, size_t i)
{
	size_t t;

	for (t = 0; t < c->n_tables; t++)
		if (rt_plan_state(&p->plan, i, t) == RT_NS_BLOCKED)
			rt_job_event(c, &p->nodes[i], 1, "CreateRouteFailed",
				     "Error creating route entry in %s: "
				     "destination %s is held by another route "
				     "entry",
				     c->tables[t], p->nodes[i].cidr);
}

static void conditions(struct rt_ctl *c, struct rt_pass *p)
{
	size_t i;

	for (i = 0; i < p->n_nodes; i++) {
		const struct kube_item *it;
		const struct wk_node *n;
		int want;

		if (!p->nodes[i].eligible || !p->nodes[i].instance[0])
			continue;
		want = wanted_condition(c, p, i);
		if (want < 0)
			continue;
		if (want == 1)
			blocked_events(c, p, i);
		it = kube_informer_get(c->inf, NULL, p->nodes[i].name);
		n = it ? it->obj : NULL;
		if (!n ||
		    (want == 0 && n->network_unavailable == WK_COND_FALSE) ||
		    (want == 1 && n->network_unavailable == WK_COND_TRUE))
			continue;
		rt_job_cond(c, &p->nodes[i], want);
	}
}

static int all_listed(const struct rt_pass *p, size_t nt)
{
	size_t t;

	for (t = 0; t < nt; t++)
		if (!p->obs[t].listed)
			return 0;
	return 1;
}

static void schedule_next(struct rt_ctl *c, const struct rt_pass *p)
{
	int64_t delay = -1;

	if (p->failed || p->fenced)
		delay = backoff_next(&c->bo_fail);
	else
		backoff_reset(&c->bo_fail);
	if (p->again) {
		int64_t w = backoff_next(&c->bo_wait);

		delay = delay < 0 || w < delay ? w : delay;
	} else {
		backoff_reset(&c->bo_wait);
	}
	if (c->dirty &&
	    (delay < 0 || c->cfg->node_event_aggregation_wait_ms < delay))
		delay = c->cfg->node_event_aggregation_wait_ms;
	if (delay >= 0)
		rt_trigger(c, delay);
}

void rt_pass_finish(struct rt_ctl *c)
{
	struct rt_pass *p = c->pass;

	if (!p)
		return;
	if (!p->fenced)
		conditions(c, p);
	c->pass = NULL;
	if (!p->fenced && all_listed(p, c->n_tables)) {
		if (!c->reported)
			log_info("route controller: first full reconcile done "
				 "(%zu creates, %zu deletes planned)",
				 p->plan.n_creates, p->plan.n_deletes);
		c->reported = 1;
		wk_reconciled(c->rt);
	}
	schedule_next(c, p);
	rt_pass_free(p);
}
