/* The route worker's pure reconcile plan (workers/route/rt_plan.c) and
 * its CIDR helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "workers/route/rt_cidr.h"
#include "workers/route/rt_mark.h"
#include "workers/route/rt_plan.h"

#define MAXN 512
#define MAXE 512
#define MAXT 4

/* A scenario: nodes, tables with entries, gone records. */
struct scen {
	struct rt_pnode nodes[MAXN];
	char ncidr[MAXN][RT_CIDR_MAX];
	char ninst[MAXN][RT_ID_MAX];
	char nname[MAXN][32];
	size_t n_nodes;
	struct rt_entry ent[MAXT][MAXE];
	struct rt_table_obs tables[MAXT];
	size_t n_tables;
	struct rt_gone gone[8];
	size_t n_gone;
	struct rt_plan_in in;
	struct rt_plan plan;
};

static struct scen S;

static void scen_init(size_t n_tables)
{
	static const char *ids[MAXT] = {"vtb-1", "vtb-2", "vtb-3", "vtb-4"};

	memset(&S, 0, sizeof(S));
	S.n_tables = n_tables;
	for (size_t t = 0; t < n_tables; t++) {
		S.tables[t].id = ids[t];
		S.tables[t].entries = S.ent[t];
		S.tables[t].listed = 1;
	}
	S.in.synced = 1;
	S.in.have_cluster_cidr = 1;
	assert_int_equal(rt_cidr_parse("10.244.0.0/16", &S.in.cluster), 0);
}

static size_t add_node(const char *cidr, const char *inst, int eligible)
{
	size_t i = S.n_nodes++;

	snprintf(S.nname[i], sizeof(S.nname[i]), "node-%zu", i);
	snprintf(S.ncidr[i], sizeof(S.ncidr[i]), "%s", cidr);
	snprintf(S.ninst[i], sizeof(S.ninst[i]), "%s", inst);
	S.nodes[i].name = S.nname[i];
	S.nodes[i].cidr = S.ncidr[i];
	S.nodes[i].instance = S.ninst[i];
	S.nodes[i].eligible = eligible;
	return i;
}

static struct rt_entry *add_entry(size_t t, const char *dst,
				  const char *hop_type, const char *hop,
				  enum rt_status st)
{
	struct rt_entry *e = &S.ent[t][S.tables[t].n];

	snprintf(e->id, sizeof(e->id), "rte-%zu-%zu", t, S.tables[t].n);
	snprintf(e->dst, sizeof(e->dst), "%s", dst);
	snprintf(e->hop_type, sizeof(e->hop_type), "%s", hop_type);
	snprintf(e->hop_id, sizeof(e->hop_id), "%s", hop);
	e->custom = 1;
	e->marked = 1; /* made by this cluster; tests of others unset it */
	e->n_hops = hop[0] ? 1 : 0;
	e->status = st;
	S.tables[t].n++;
	return e;
}

static void add_gone(const char *cidr, const char *inst)
{
	struct rt_gone *g = &S.gone[S.n_gone++];

	snprintf(g->name, sizeof(g->name), "gone-%zu", S.n_gone);
	snprintf(g->cidr, sizeof(g->cidr), "%s", cidr);
	snprintf(g->instance, sizeof(g->instance), "%s", inst);
}

static void build(void)
{
	S.in.nodes = S.nodes;
	S.in.n_nodes = S.n_nodes;
	S.in.tables = S.tables;
	S.in.n_tables = S.n_tables;
	S.in.gone = S.gone;
	S.in.n_gone = S.n_gone;
	assert_int_equal(rt_plan_build(&S.in, &S.plan), 0);
}

static int teardown(void **state)
{
	(void)state;
	rt_plan_done(&S.plan);
	return 0;
}

/* ---- CIDR helpers ---- */

static void test_cidr_parse(void **state)
{
	struct rt_cidr c, o;
	char buf[RT_CIDR_MAX];

	(void)state;
	assert_int_equal(rt_cidr_norm("10.244.1.7/24", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.244.1.0/24");
	assert_int_equal(rt_cidr_norm("0.0.0.0/0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0.0.0.0/0");
	assert_int_equal(rt_cidr_norm("192.168.0.1/32", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.168.0.1/32");
	assert_int_equal(rt_cidr_norm("10.0.0.0/33", buf, sizeof(buf)),
			 -EINVAL);
	assert_string_equal(buf, "");
	assert_int_equal(rt_cidr_parse("10.0.0.0", &c), -EINVAL);
	assert_int_equal(rt_cidr_parse("10.0.0.0/", &c), -EINVAL);
	assert_int_equal(rt_cidr_parse("10.0.0.0/-1", &c), -EINVAL);
	assert_int_equal(rt_cidr_parse("10.0.0.0/8x", &c), -EINVAL);
	assert_int_equal(rt_cidr_parse("fd00::/64", &c), -EINVAL);
	assert_int_equal(rt_cidr_parse("10.0.0/8", &c), -EINVAL);
	assert_int_equal(rt_cidr_parse(NULL, &c), -EINVAL);
	assert_int_equal(rt_cidr_parse("10.0.0.0/008", &c), -EINVAL);
	assert_int_equal(rt_cidr_parse("10.244.0.0/16", &o), 0);
	assert_int_equal(rt_cidr_parse("10.244.3.0/24", &c), 0);
	assert_true(rt_cidr_within(&c, &o));
	assert_true(rt_cidr_within(&o, &o));
	assert_false(rt_cidr_within(&o, &c));
	assert_int_equal(rt_cidr_parse("10.245.0.0/24", &c), 0);
	assert_false(rt_cidr_within(&c, &o));
	assert_int_equal(rt_cidr_parse("10.0.0.0/8", &c), 0);
	assert_false(rt_cidr_within(&c, &o)); /* wider than the cluster */
}

static void test_guard_limit(void **state)
{
	(void)state;
	assert_int_equal(rt_plan_guard_limit(0), 3);
	assert_int_equal(rt_plan_guard_limit(5), 3);
	assert_int_equal(rt_plan_guard_limit(39), 3);
	assert_int_equal(rt_plan_guard_limit(40), 4);
	assert_int_equal(rt_plan_guard_limit(100), 10);
	assert_int_equal(rt_plan_guard_limit(205), 20);
}

static void test_entry_managed(void **state)
{
	struct rt_cidr cl;
	struct rt_entry e = {.custom = 1, .n_hops = 1};

	(void)state;
	rt_cidr_parse("10.244.0.0/16", &cl);
	strcpy(e.dst, "10.244.1.0/24");
	strcpy(e.hop_type, "Instance");
	strcpy(e.hop_id, "i-1");
	assert_true(rt_entry_managed(&e, 1, &cl));
	assert_false(rt_entry_managed(&e, 0, &cl)); /* no --cluster-cidr */
	strcpy(e.hop_type, "instance");
	assert_true(rt_entry_managed(&e, 1, &cl)); /* case-insensitive */
	strcpy(e.hop_type, "NetworkInterface");
	assert_false(rt_entry_managed(&e, 1, &cl));
	strcpy(e.hop_type, "Instance");
	e.custom = 0;
	assert_false(rt_entry_managed(&e, 1, &cl)); /* System, BGP, CEN */
	e.custom = 1;
	e.n_hops = 2;
	assert_false(rt_entry_managed(&e, 1, &cl)); /* ECMP */
	e.n_hops = 1;
	strcpy(e.dst, "10.245.1.0/24");
	assert_false(rt_entry_managed(&e, 1, &cl)); /* outside */
	strcpy(e.dst, "10.0.0.0/8");
	assert_false(rt_entry_managed(&e, 1, &cl)); /* contains the cluster */
	strcpy(e.dst, "garbage");
	assert_false(rt_entry_managed(&e, 1, &cl));
	/* even a 0.0.0.0/0 cluster CIDR never makes the default route ours */
	rt_cidr_parse("0.0.0.0/0", &cl);
	strcpy(e.dst, "0.0.0.0/0");
	assert_false(rt_entry_managed(&e, 1, &cl));
	strcpy(e.dst, "10.244.0.0/16");
	e.hop_id[0] = '\0';
	assert_false(rt_entry_managed(&e, 1, &cl));
}

/* ---- creates ---- */

static void test_creates_for_eligible_nodes(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_node("10.244.2.0/24", "i-2", 1);
	add_node("10.244.3.0/24", "i-3", 0); /* excluded / virtual */
	add_node("", "i-4", 0);		     /* no pod CIDR */
	build();
	assert_int_equal(S.plan.n_creates, 2);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_string_equal(S.plan.creates[0].dst, "10.244.1.0/24");
	assert_string_equal(S.plan.creates[0].hop_id, "i-1");
	assert_int_equal(S.plan.creates[0].node, 0);
	assert_int_equal(S.plan.creates[0].reason, RT_CREATE);
	assert_string_equal(S.plan.creates[1].hop_id, "i-2");
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_CREATE);
	assert_int_equal(rt_plan_state(&S.plan, 2, 0), RT_NS_SKIP);
	assert_int_equal(rt_plan_state(&S.plan, 3, 0), RT_NS_SKIP);
	assert_int_equal(rt_plan_state(&S.plan, 9, 0), RT_NS_SKIP);
	assert_false(S.plan.retry);
}

static void test_eligible_without_instance_skipped(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "", 1);
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_SKIP);
}

static void test_creates_outside_cluster_cidr(void **state)
{
	(void)state;
	scen_init(1);
	add_node("172.20.1.0/24", "i-1", 1);
	build();
	assert_int_equal(S.plan.n_creates, 1);
}

static void test_creates_every_table(void **state)
{
	(void)state;
	scen_init(2);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-1", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_creates, 1);
	assert_int_equal(S.plan.creates[0].table, 1);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_READY);
	assert_int_equal(rt_plan_state(&S.plan, 0, 1), RT_NS_CREATE);
}

static void test_existing_route_ready(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-1", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.managed[0], 1);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_READY);
	assert_false(S.plan.retry);
}

static void test_noncanonical_node_cidr_matches(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	/* the cloud echoes a destination with host bits set */
	add_entry(0, "10.244.1.9/24", "Instance", "i-1", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_READY);
}

static void test_pending_waited_not_recreated(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-1", RT_ST_PENDING);
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_PENDING);
	assert_true(S.plan.retry);
}

static void test_own_route_deleting_waits(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-1", RT_ST_DELETING);
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_PENDING);
	assert_true(S.plan.retry);
}

static void test_foreign_entry_blocks_node(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "NetworkInterface", "eni-1",
		  RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_BLOCKED);
}

static void test_system_entry_blocks_node(void **state)
{
	struct rt_entry *e;

	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	e = add_entry(0, "10.244.1.0/24", "local", "", RT_ST_AVAILABLE);
	e->custom = 0;
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_BLOCKED);
}

/* ---- deletions ---- */

static void test_stale_route_deleted(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-1", RT_ST_AVAILABLE);
	add_entry(0, "10.244.9.0/24", "Instance", "i-9", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_deletes, 1);
	assert_string_equal(S.plan.deletes[0].dst, "10.244.9.0/24");
	assert_string_equal(S.plan.deletes[0].hop_id, "i-9");
	assert_string_equal(S.plan.deletes[0].entry_id, "rte-0-1");
	assert_int_equal(S.plan.deletes[0].reason, RT_DEL_STALE);
	assert_int_equal(S.plan.deletes[0].node, RT_NO_NODE);
	assert_int_equal(S.plan.blocked[0], 0);
}

static void test_nothing_deleted_before_sync(void **state)
{
	(void)state;
	scen_init(1);
	S.in.synced = 0;
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.9.0/24", "Instance", "i-9", RT_ST_AVAILABLE);
	add_entry(0, "10.244.1.0/24", "Instance", "i-7", RT_ST_AVAILABLE);
	add_gone("10.244.9.0/24", "i-9");
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.blocked[0], 0);
	/* the conflicting entry stays, so the node is blocked, not created */
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_BLOCKED);
}

static void test_creates_before_sync(void **state)
{
	(void)state;
	scen_init(1);
	S.in.synced = 0;
	add_node("10.244.1.0/24", "i-1", 1);
	build();
	assert_int_equal(S.plan.n_creates, 1);
}

static void test_untouchable_routes_survive(void **state)
{
	struct rt_entry *e;

	(void)state;
	scen_init(1);
	add_entry(0, "10.245.1.0/24", "Instance", "i-9", RT_ST_AVAILABLE);
	add_entry(0, "10.244.2.0/24", "NetworkInterface", "eni-9",
		  RT_ST_AVAILABLE);
	add_entry(0, "10.244.3.0/24", "HaVip", "havip-9", RT_ST_AVAILABLE);
	add_entry(0, "0.0.0.0/0", "NatGateway", "ngw-1", RT_ST_AVAILABLE);
	add_entry(0, "0.0.0.0/0", "Instance", "i-proxy", RT_ST_AVAILABLE);
	e = add_entry(0, "10.244.4.0/24", "Instance", "i-8", RT_ST_AVAILABLE);
	e->custom = 0;
	e = add_entry(0, "10.244.5.0/24", "Instance", "i-7", RT_ST_AVAILABLE);
	e->n_hops = 2;
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.managed[0], 0);
}

static void test_without_cluster_cidr_nothing_deleted(void **state)
{
	(void)state;
	scen_init(1);
	S.in.have_cluster_cidr = 0;
	add_entry(0, "10.244.9.0/24", "Instance", "i-9", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_deletes, 0);
}

static void test_route_inside_pod_cidr_is_stale(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-1", RT_ST_AVAILABLE);
	add_entry(0, "10.244.1.128/25", "Instance", "i-1", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_deletes, 1);
	assert_string_equal(S.plan.deletes[0].dst, "10.244.1.128/25");
}

static void test_conflict_deleted_then_created_later(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-old", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_deletes, 1);
	assert_int_equal(S.plan.deletes[0].reason, RT_DEL_CONFLICT);
	assert_int_equal(S.plan.deletes[0].node, 0);
	assert_string_equal(S.plan.deletes[0].hop_id, "i-old");
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_PENDING);
	assert_true(S.plan.retry);
}

static void test_conflict_needs_known_owner(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "", 1);    /* providerID not set yet */
	add_node("10.244.2.0/24", "i-2", 0); /* excluded node */
	add_entry(0, "10.244.1.0/24", "Instance", "i-x", RT_ST_AVAILABLE);
	add_entry(0, "10.244.2.0/24", "Instance", "i-y", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.managed[0], 2);
}

static void test_shared_cidr_any_owner_keeps(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_node("10.244.1.0/24", "i-2", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-2", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(rt_plan_state(&S.plan, 1, 0), RT_NS_READY);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_BLOCKED);
}

static void test_pending_stale_deferred(void **state)
{
	(void)state;
	scen_init(1);
	add_entry(0, "10.244.9.0/24", "Instance", "i-9", RT_ST_PENDING);
	add_entry(0, "10.244.8.0/24", "Instance", "i-8", RT_ST_DELETING);
	add_entry(0, "10.244.7.0/24", "Instance", "i-7", RT_ST_MODIFYING);
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_true(S.plan.retry);
}

static void add_managed_routes(size_t n, size_t first_live)
{
	char cidr[64], inst[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(cidr, sizeof(cidr), "10.244.%zu.0/24", i);
		snprintf(inst, sizeof(inst), "i-%zu", i);
		add_entry(0, cidr, "Instance", inst, RT_ST_AVAILABLE);
		if (i >= first_live)
			add_node(cidr, inst, 1);
	}
}

static void test_guard_small_table(void **state)
{
	(void)state;
	scen_init(1);
	add_managed_routes(20, 3); /* 3 stale of 20: limit is 3 */
	build();
	assert_int_equal(S.plan.n_deletes, 3);
	assert_int_equal(S.plan.blocked[0], 0);
	rt_plan_done(&S.plan);

	scen_init(1);
	add_managed_routes(20, 4); /* 4 stale of 20: blocked */
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.blocked[0], 4);
	assert_int_equal(S.plan.managed[0], 20);
}

static void test_guard_ten_percent(void **state)
{
	(void)state;
	scen_init(1);
	add_managed_routes(100, 10);
	build();
	assert_int_equal(S.plan.n_deletes, 10);
	rt_plan_done(&S.plan);
	scen_init(1);
	add_managed_routes(100, 11);
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.blocked[0], 11);
}

static void test_guard_all_nodes_missing(void **state)
{
	(void)state;
	scen_init(1);
	add_managed_routes(200, 200); /* an empty node list: delete nothing */
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.blocked[0], 200);
}

static void test_guard_counts_conflicts(void **state)
{
	(void)state;
	scen_init(1);
	for (int i = 0; i < 5; i++) {
		char cidr[64], inst[64];

		snprintf(cidr, sizeof(cidr), "10.244.%d.0/24", i);
		snprintf(inst, sizeof(inst), "i-new%d", i);
		add_node(cidr, inst, 1);
		add_entry(0, cidr, "Instance", "i-old", RT_ST_AVAILABLE);
	}
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.blocked[0], 5);
	assert_int_equal(S.plan.n_creates, 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(rt_plan_state(&S.plan, i, 0), RT_NS_BLOCKED);
}

static void test_gone_exempt_from_guard(void **state)
{
	(void)state;
	scen_init(1);
	add_managed_routes(12, 10); /* 10 stale: blocked */
	add_gone("10.244.0.0/24", "i-0");
	add_gone("10.244.1.0/24", "i-1");
	add_gone("10.244.1.0/24", "i-other"); /* same CIDR, other hop */
	add_gone("10.244.77.0/24", "i-77");   /* route no longer there */
	build();
	assert_int_equal(S.plan.blocked[0], 8);
	assert_int_equal(S.plan.n_deletes, 2);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(S.plan.deletes[i].reason, RT_DEL_GONE);
	assert_true(S.plan.gone_use[0]);
	assert_true(S.plan.gone_use[1]);
	assert_false(S.plan.gone_use[2]);
	assert_false(S.plan.gone_use[3]);
}

static void test_gone_without_instance_matches_any_hop(void **state)
{
	(void)state;
	scen_init(1);
	add_managed_routes(1, 1);
	add_gone("10.244.0.0/24", "");
	build();
	assert_int_equal(S.plan.n_deletes, 1);
	assert_int_equal(S.plan.deletes[0].reason, RT_DEL_GONE);
}

static void test_gone_cidr_reused_by_live_node(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.0.0/24", "i-new", 1);
	add_entry(0, "10.244.0.0/24", "Instance", "i-new", RT_ST_AVAILABLE);
	add_gone("10.244.0.0/24", "i-old");
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_false(S.plan.gone_use[0]);
}

static void test_guard_per_table(void **state)
{
	(void)state;
	scen_init(2);
	add_managed_routes(20, 2); /* table 0: 2 stale */
	for (int i = 0; i < 5; i++) {
		char cidr[64];

		snprintf(cidr, sizeof(cidr), "10.244.%d.0/24", 100 + i);
		add_entry(1, cidr, "Instance", "i-z", RT_ST_AVAILABLE);
	}
	build();
	assert_int_equal(S.plan.blocked[0], 0);
	assert_int_equal(S.plan.blocked[1], 5);
	assert_int_equal(S.plan.n_deletes, 2);
	assert_int_equal(S.plan.deletes[0].table, 0);
	/* table 1 lacks the 18 live nodes' routes */
	assert_int_equal(S.plan.n_creates, 18);
}

static void test_unlisted_table_left_alone(void **state)
{
	(void)state;
	scen_init(2);
	S.tables[1].listed = 0;
	add_node("10.244.1.0/24", "i-1", 1);
	add_node("10.244.2.0/24", "i-2", 0);
	add_entry(0, "10.244.9.0/24", "Instance", "i-9", RT_ST_AVAILABLE);
	add_gone("10.244.50.0/24", "i-50");
	build();
	assert_int_equal(S.plan.n_creates, 1);
	assert_int_equal(S.plan.creates[0].table, 0);
	assert_int_equal(S.plan.n_deletes, 1);
	assert_int_equal(S.plan.deletes[0].table, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 1), RT_NS_UNKNOWN);
	assert_int_equal(rt_plan_state(&S.plan, 1, 1), RT_NS_SKIP);
	assert_true(S.plan.gone_use[0]); /* may still be in table 1 */
}

static void test_large_scale(void **state)
{
	char cidr[64], inst[64];

	(void)state;
	scen_init(2);
	for (int i = 0; i < 400; i++) {
		snprintf(cidr, sizeof(cidr), "10.244.%d.%d/25", i / 2,
			 (i % 2) * 128);
		snprintf(inst, sizeof(inst), "i-%03d", i);
		add_node(cidr, inst, 1);
		if (i % 2)
			add_entry(0, cidr, "Instance", inst, RT_ST_AVAILABLE);
	}
	build();
	assert_int_equal(S.plan.n_creates, 200 + 400);
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(rt_plan_state(&S.plan, 1, 0), RT_NS_READY);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_CREATE);
}

static void test_empty_inputs(void **state)
{
	(void)state;
	scen_init(0);
	build();
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_deletes, 0);
	rt_plan_done(&S.plan);
	rt_plan_done(NULL);
	scen_init(1);
	build();
	assert_int_equal(S.plan.n_creates, 0);
}

/* ---- ownership (issue 11) ---- */

static struct rt_entry *add_unmarked(size_t t, const char *dst, const char *hop)
{
	struct rt_entry *e =
		add_entry(t, dst, "Instance", hop, RT_ST_AVAILABLE);

	e->marked = 0;
	return e;
}

static void test_unmarked_stale_is_foreign(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_entry(0, "10.244.1.0/24", "Instance", "i-1", RT_ST_AVAILABLE);
	/* hand-made: inside the cluster CIDR, its instance is no node */
	add_unmarked(0, "10.244.0.0/17", "i-foreign");
	add_unmarked(0, "172.20.0.0/16", "i-foreign"); /* outside: silence */
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.n_foreign, 1);
	assert_string_equal(S.plan.foreign[0].dst, "10.244.0.0/17");
	assert_string_equal(S.plan.foreign[0].hop_id, "i-foreign");
	assert_string_equal(S.plan.foreign[0].entry_id, "rte-0-1");
	assert_int_equal(S.plan.foreign[0].n_hops, 1);
	assert_int_equal(S.plan.managed[0], 1);
	assert_int_equal(S.plan.custom[0], 3);
}

static void test_ecmp_left_alone(void **state)
{
	struct rt_entry *e;

	(void)state;
	scen_init(1);
	e = add_unmarked(0, "10.244.7.0/24", "i-a");
	e->n_hops = 2;
	e = add_entry(0, "10.244.8.0/24", "Instance", "i-b", RT_ST_AVAILABLE);
	e->n_hops = 2; /* marked but not a shape this worker creates */
	add_gone("10.244.7.0/24", "i-a");
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.n_foreign, 2);
	assert_int_equal(S.plan.foreign[0].n_hops, 2);
	assert_int_equal(S.plan.managed[0], 0);
}

static void test_unmarked_exact_match_adopted(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_unmarked(0, "10.244.1.0/24", "i-1");
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.n_creates, 0);
	assert_int_equal(S.plan.n_foreign, 0);
	assert_int_equal(S.plan.managed[0], 1);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_READY);
}

static void test_unmarked_conflict_replaced(void **state)
{
	(void)state;
	scen_init(1);
	add_node("10.244.1.0/24", "i-1", 1);
	add_unmarked(0, "10.244.1.0/24", "i-other");
	build();
	assert_int_equal(S.plan.n_deletes, 1);
	assert_int_equal(S.plan.deletes[0].reason, RT_DEL_CONFLICT);
	assert_int_equal(S.plan.deletes[0].node, 0);
	assert_int_equal(rt_plan_state(&S.plan, 0, 0), RT_NS_PENDING);
	assert_int_equal(S.plan.n_foreign, 0);
}

static void test_unmarked_gone_needs_exact_instance(void **state)
{
	(void)state;
	scen_init(1);
	add_unmarked(0, "10.244.1.0/24", "i-1");
	add_unmarked(0, "10.244.2.0/24", "i-2");
	add_unmarked(0, "10.244.3.0/24", "i-3");
	add_gone("10.244.1.0/24", "i-1"); /* adopted by that node: goes */
	add_gone("10.244.2.0/24", "");	  /* instance unknown: stays */
	add_gone("10.244.3.0/24", "i-9"); /* another instance: stays */
	build();
	assert_int_equal(S.plan.n_deletes, 1);
	assert_string_equal(S.plan.deletes[0].dst, "10.244.1.0/24");
	assert_int_equal(S.plan.deletes[0].reason, RT_DEL_GONE);
	assert_int_equal(S.plan.n_foreign, 2);
}

static void test_marked_outside_cluster_kept(void **state)
{
	(void)state;
	scen_init(1);
	add_entry(0, "10.245.1.0/24", "Instance", "i-1", RT_ST_AVAILABLE);
	build();
	assert_int_equal(S.plan.n_deletes, 0);
	assert_int_equal(S.plan.n_foreign, 0);
}

static void test_entries_after_plan(void **state)
{
	(void)state;
	scen_init(2);
	add_node("10.244.1.0/24", "i-1", 1);
	add_node("10.244.2.0/24", "i-2", 1);
	add_entry(0, "10.244.9.0/24", "Instance", "i-9", RT_ST_AVAILABLE);
	add_unmarked(0, "10.244.128.0/17", "i-x");
	build();
	/* table 0: 2 entries, one stale deleted, two created */
	assert_int_equal(S.plan.custom[0], 2);
	assert_int_equal(rt_plan_entries_after(&S.plan, 0), 3);
	assert_int_equal(rt_plan_entries_after(&S.plan, 1), 2);
	assert_int_equal(rt_plan_entries_after(&S.plan, 7), 0);
}

static void test_mark_name(void **state)
{
	char name[RT_MARK_NAME_MAX], desc[RT_MARK_DESC_MAX], id[300];

	(void)state;
	assert_int_equal(rt_mark_name("route-test", name), 0);
	assert_string_equal(name, "k8s-route.route-test");
	assert_int_equal(rt_mark_name("c1/prod:eu x", name), 0);
	assert_string_equal(name, "k8s-route.c1-prod-eu-x");
	assert_int_equal(rt_mark_name("", name), -EINVAL);
	assert_string_equal(name, "");
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(rt_mark_name(id, name), 0);
	assert_int_equal(strlen(name), 128); /* the cloud's limit */
	assert_true(rt_mark_is("k8s-route.route-test", "k8s-route.route-test"));
	assert_false(
		rt_mark_is("k8s-route.route-test2", "k8s-route.route-test"));
	assert_false(rt_mark_is("", ""));
	assert_false(rt_mark_is(NULL, "k8s-route.x"));
	rt_mark_desc("route-test", "node-1", desc);
	assert_non_null(strstr(desc, "node node-1"));
	rt_mark_desc("route-test", id, desc);
	assert_int_equal(strlen(desc), RT_MARK_DESC_MAX - 1);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cidr_parse),
		T(test_guard_limit),
		T(test_entry_managed),
		T(test_creates_for_eligible_nodes),
		T(test_eligible_without_instance_skipped),
		T(test_creates_outside_cluster_cidr),
		T(test_creates_every_table),
		T(test_existing_route_ready),
		T(test_noncanonical_node_cidr_matches),
		T(test_pending_waited_not_recreated),
		T(test_own_route_deleting_waits),
		T(test_foreign_entry_blocks_node),
		T(test_system_entry_blocks_node),
		T(test_stale_route_deleted),
		T(test_nothing_deleted_before_sync),
		T(test_creates_before_sync),
		T(test_untouchable_routes_survive),
		T(test_without_cluster_cidr_nothing_deleted),
		T(test_route_inside_pod_cidr_is_stale),
		T(test_conflict_deleted_then_created_later),
		T(test_conflict_needs_known_owner),
		T(test_shared_cidr_any_owner_keeps),
		T(test_pending_stale_deferred),
		T(test_guard_small_table),
		T(test_guard_ten_percent),
		T(test_guard_all_nodes_missing),
		T(test_guard_counts_conflicts),
		T(test_gone_exempt_from_guard),
		T(test_gone_without_instance_matches_any_hop),
		T(test_gone_cidr_reused_by_live_node),
		T(test_guard_per_table),
		T(test_unlisted_table_left_alone),
		T(test_large_scale),
		T(test_empty_inputs),
		T(test_unmarked_stale_is_foreign),
		T(test_ecmp_left_alone),
		T(test_unmarked_exact_match_adopted),
		T(test_unmarked_conflict_replaced),
		T(test_unmarked_gone_needs_exact_instance),
		T(test_marked_outside_cluster_kept),
		T(test_entries_after_plan),
		cmocka_unit_test(test_mark_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
