/*
 * rt_report - what the worker sees but must not change: route entries
 * inside the cluster CIDR that are not ours (one Warning each, and a
 * gauge), and route tables that would need more custom entries than the
 * account's quota (a Warning when the shortfall changes, and gauges).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "lib/log.h"
#include "workers/route/rt_ctl.h"
#include "workers/wk_runtime.h"

size_t rt_quota_route_entries(const struct rt_ctl *c)
{
	int q = c->cfg->cloud.quotas.route_entries_per_table;

	return q > 0 ? (size_t)q : 200;
}

static void warned_key(const struct rt_ctl *c, const struct rt_op *op,
		       struct rt_warned *w)
{
	snprintf(w->key, sizeof(w->key), "%s|%s|%s", c->tables[op->table],
		 op->entry_id, op->dst);
}

static int was_warned(const struct rt_warned *v, size_t n,
		      const struct rt_warned *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].key, w->key) == 0)
			return 1;
	return 0;
}

static void warn_foreign(struct rt_ctl *c, const struct rt_op *op)
{
	const char *table = c->tables[op->table];

	log_warn("route table %s: entry %s %s -> %s (%s, %d next hop%s) lies "
		 "inside the cluster CIDR %s but is not this cluster's (no "
		 "marker %s, not exactly a node's pod CIDR and instance): left "
		 "alone",
		 table, op->entry_id, op->dst, op->hop_id[0] ? op->hop_id : "-",
		 op->hop_type[0] ? op->hop_type : "no hop", op->n_hops,
		 op->n_hops == 1 ? "" : "s", c->cfg->cluster_cidr, c->mark);
	rt_controller_ref_event(
		c, 1, "ForeignRouteEntry",
		"Route table %s: entry %s %s -> %s (%d next hops) is inside "
		"the "
		"cluster CIDR but not owned by this cluster: left alone",
		table, op->entry_id, op->dst, op->hop_id[0] ? op->hop_id : "-",
		op->n_hops);
}

/* Keys of tables this pass could not list stay remembered. */
static size_t keep_unlisted(const struct rt_ctl *c, const struct rt_pass *p,
			    struct rt_warned *next, size_t n)
{
	size_t i, t;

	for (i = 0; i < c->n_warned && n < RT_MAX_WARNED; i++)
		for (t = 0; t < c->n_tables; t++) {
			size_t l = strlen(c->tables[t]);

			if (!p->obs[t].listed &&
			    strncmp(c->warned[i].key, c->tables[t], l) == 0 &&
			    c->warned[i].key[l] == '|') {
				next[n++] = c->warned[i];
				break;
			}
		}
	return n;
}

static void foreign_gauges(struct rt_ctl *c, const struct rt_pass *p)
{
	size_t t, i;

	for (t = 0; t < c->n_tables; t++) {
		char labels[128];
		size_t n = 0;

		if (!p->obs[t].listed)
			continue;
		for (i = 0; i < p->plan.n_foreign; i++)
			n += p->plan.foreign[i].table == t;
		snprintf(labels, sizeof(labels), "table=\"%s\"", c->tables[t]);
		wk_gauge_set(c->rt, "ccm_route_foreign_entries", labels,
			     (double)n);
	}
}

void rt_report_foreign(struct rt_ctl *c, const struct rt_pass *p)
{
	struct rt_warned *next = calloc(RT_MAX_WARNED, sizeof(*next));
	size_t i, n = 0;

	foreign_gauges(c, p);
	if (!next)
		return; /* warned again next pass: noisy, not wrong */
	for (i = 0; i < p->plan.n_foreign; i++) {
		struct rt_warned w = {""};

		warned_key(c, &p->plan.foreign[i], &w);
		if (!was_warned(c->warned, c->n_warned, &w))
			warn_foreign(c, &p->plan.foreign[i]);
		if (n < RT_MAX_WARNED && !was_warned(next, n, &w))
			next[n++] = w;
	}
	n = keep_unlisted(c, p, next, n);
	free(c->warned);
	c->warned = next;
	c->n_warned = n;
}

static void quota_table(struct rt_ctl *c, const struct rt_pass *p, size_t t)
{
	size_t quota = rt_quota_route_entries(c);
	size_t need = rt_plan_entries_after(&p->plan, t);
	size_t shortfall = need > quota ? need - quota : 0;
	size_t *last = t < 8 ? &c->quota_short[t] : NULL;
	char labels[128];

	snprintf(labels, sizeof(labels), "table=\"%s\"", c->tables[t]);
	wk_gauge_set(c->rt, "ccm_route_table_entries_needed", labels,
		     (double)need);
	wk_gauge_set(c->rt, "ccm_route_table_entries_quota", labels,
		     (double)quota);
	if (last && *last == shortfall)
		return;
	if (last)
		*last = shortfall;
	if (!shortfall) {
		log_info("route table %s: %zu custom route entries needed, "
			 "within the quota of %zu",
			 c->tables[t], need, quota);
		return;
	}
	log_warn("route table %s needs %zu custom route entries, %zu more "
		 "than the quota of %zu (maxRouteEntriesPerRouteTable in "
		 "cloud-config): raise the account's quota, then the key",
		 c->tables[t], need, shortfall, quota);
	rt_controller_ref_event(
		c, 1, "RouteQuotaExceeded",
		"Route table %s needs %zu custom route entries but the quota "
		"is %zu: %zu node(s) cannot get a route until the quota "
		"(maxRouteEntriesPerRouteTable) is raised",
		c->tables[t], need, quota, shortfall);
}

void rt_report_quota(struct rt_ctl *c, const struct rt_pass *p)
{
	size_t t;

	for (t = 0; t < c->n_tables; t++)
		if (p->obs[t].listed)
			quota_table(c, p, t);
}
