/* Unit tests: backends, desired model and diff of the service-LB worker,
 * with the call counts the issue states (pure logic, no cloud). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/slb_fixture.h"

/* Two ports (a: 80, b: 443); policy is externalTrafficPolicy. */
static void set_svc(struct slbf_world *w, const char *annots,
		    const char *policy)
{
	slbf_set_svc(w, annots, 2, "\"externalTrafficPolicy\":\"%s\"", policy);
}

static struct wk_node *node_named(struct slbf_world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n_nodes; i++)
		if (strcmp(w->nodes[i]->name, name) == 0)
			return w->nodes[i];
	return NULL;
}

static void replace_node(struct slbf_world *w, const char *name,
			 const char *ready, const char *labels, int unsched)
{
	size_t i;

	char copy[64];

	snprintf(copy, sizeof(copy), "%s", name);
	for (i = 0; i < w->n_nodes; i++)
		if (strcmp(w->nodes[i]->name, copy) == 0) {
			wk_node_free(w->nodes[i]);
			w->nodes[i] = slbf_node(copy, ready, labels, unsched);
		}
}

static void add_ep(struct slbf_world *w, const char *ip, const char *node,
		   int ready)
{
	struct slb_ep e;

	memset(&e, 0, sizeof(e));
	strcpy(e.ip, ip);
	strcpy(e.node, node);
	strcpy(e.port_name, "a");
	e.port = 8080;
	e.ready = ready;
	slb_eps_push(&w->eps, &e);
	strcpy(e.port_name, "b");
	e.port = 8443;
	slb_eps_push(&w->eps, &e);
}

static size_t count(const struct slb_plan *p, enum slb_op op)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->v[i].op == op;
	return n;
}

/* The first call of op for port (ANY_PORT: any), -1 if none. */
#define ANY_PORT (-1)
static int op_index(const struct slb_plan *p, enum slb_op op, int port)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].op == op &&
		    (port == ANY_PORT || p->v[i].port == port))
			return (int)i;
	return -1;
}

static void ten_nodes(struct slbf_world *w)
{
	char name[16];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		slbf_add_node(w, name, "True", "", 0);
	}
}

/* The deletion plan for the world's Service as it stands. */
static void plan_cleanup(struct slbf_world *w, struct slb_plan *p)
{
	struct slb_want *want = slbf_build(w);

	assert_int_equal(slb_diff_cleanup(want, &w->cloud, 20, p), 0);
	slb_model_free(want);
}

/* The two-port Service on ten nodes, its CLB created and in sync. */
static void created(struct slbf_world *w)
{
	set_svc(w, "", "Cluster");
	ten_nodes(w);
	slbf_sync_count(w, 20);
}

static void test_create_counts(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w, "", "Cluster");
	ten_nodes(&w);
	slbf_sync(&w, 20, &p);
	/* 1 LB + 2 groups (backends ride along) + 2 listeners + 2 starts */
	assert_int_equal(p.n, 7);
	assert_int_equal(count(&p, SLB_OP_CREATE_LB), 1);
	assert_int_equal(count(&p, SLB_OP_CREATE_VG), 2);
	assert_int_equal(p.v[1].be.n, 10);
	assert_int_equal(p.v[1].be.v[0].port, 30080);
	assert_string_equal(p.v[1].be.v[0].desc, "k8s/30080/web/shop/" CID);
	assert_int_equal(count(&p, SLB_OP_CREATE_LISTENER), 2);
	assert_int_equal(count(&p, SLB_OP_START_LISTENER), 2);
	slb_plan_done(&p);
	/* steady: nothing */
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	slbf_done(&w);
}

static void test_node_added(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	created(&w);
	slbf_add_node(&w, "n99", "True", "", 0);
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(count(&p, SLB_OP_ADD_BE), 2);
	assert_int_equal(p.v[0].be.n, 1);
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_ready_states(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;
	size_t i;

	(void)st;
	created(&w);
	/* an API-server partition: every node Unknown, nothing changes */
	for (i = 0; i < w.n_nodes; i++)
		replace_node(&w, w.nodes[i]->name, "Unknown", "", 0);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	replace_node(&w, "n03", "False", "", 0);
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_REMOVE_BE), 2);
	assert_int_equal(p.n, 2);
	slb_plan_done(&p);
	/* all False: would empty the groups, so they are kept */
	for (i = 0; i < w.n_nodes; i++)
		replace_node(&w, w.nodes[i]->name, "False", "", 0);
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 0);
	assert_true(p.keep_empty[0] && p.keep_empty[1]);
	assert_true(p.no_backends[0]);
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_excluded_cordoned(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w, "", "Cluster");
	ten_nodes(&w);
	slbf_add_node(&w, "m1", "True",
		      "\"node-role.kubernetes.io/master\":\"\"", 0);
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.v[1].be.n, 10); /* master not a backend */
	slb_plan_done(&p);
	replace_node(&w, "n01", "True",
		     "\"node.kubernetes.io/exclude-from-external-load-"
		     "balancers\":\"true\"",
		     0);
	assert_int_equal(slbf_sync_count(&w, 20), 2);
	/* cordoned: kept by default */
	replace_node(&w, "n02", "True", "", 1);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	set_svc(&w,
		"\"" PFX "loadbalancer-remove-unscheduled-backend\":"
		"\"on\"",
		"Cluster");
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_REMOVE_BE), 2);
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_backend_label(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w, "\"" PFX "loadbalancer-backend-label\":\"pool=web\"",
		"Cluster");
	ten_nodes(&w);
	replace_node(&w, "n04", "True", "\"pool\":\"web\"", 0);
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.v[1].be.n, 1);
	assert_string_equal(p.v[1].be.v[0].server_id, "i-n04");
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_local_weights(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w, "", "Local");
	ten_nodes(&w);
	add_ep(&w, "10.0.0.1", "n01", 1);
	add_ep(&w, "10.0.0.2", "n01", 1);
	add_ep(&w, "10.0.0.3", "n02", 1);
	add_ep(&w, "10.0.0.4", "n03", 0); /* not ready */
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.v[1].be.n, 2);
	assert_string_equal(p.v[1].be.v[0].server_id, "i-n01");
	assert_int_equal(p.v[1].be.v[0].weight, 2);
	assert_int_equal(p.v[1].be.v[1].weight, 1);
	slb_plan_done(&p);
	/* endpoint churn that keeps the same per-node counts: no calls */
	slb_eps_done(&w.eps);
	add_ep(&w, "10.0.0.7", "n01", 1);
	add_ep(&w, "10.0.0.8", "n01", 1);
	add_ep(&w, "10.0.0.9", "n02", 1);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* one more pod on n02: one re-weight per port */
	add_ep(&w, "10.0.0.10", "n02", 1);
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_SET_BE), 2);
	assert_int_equal(p.n, 2);
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_eni_backends(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w, "\"service.beta.kubernetes.io/backend-type\":\"eni\"",
		"Cluster");
	ten_nodes(&w);
	add_ep(&w, "10.0.0.1", "n01", 1);
	add_ep(&w, "10.9.9.9", "n02", 1); /* no ENI: dropped */
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.v[1].be.n, 1);
	assert_int_equal(p.v[1].be.v[0].type, SLB_BE_ENI);
	assert_string_equal(p.v[1].be.v[0].server_id, "eni-10.0.0.1");
	assert_string_equal(p.v[1].be.v[0].server_ip, "10.0.0.1");
	assert_int_equal(p.v[1].be.v[0].port, 8080);
	assert_string_equal(p.v[1].be.v[0].desc, "k8s/8080/web/shop/" CID);
	slb_plan_done(&p);
	/* node changes do not touch ENI groups */
	slbf_add_node(&w, "n77", "True", "", 0);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	slbf_done(&w);
}

/* backend-ip-version ipv6: a dual-stack Service's IPv6 pod addresses
 * (on any node, like backend-type eni) become ENI backends; its IPv4
 * ones do not, and an ipv4 ENI Service takes only the IPv4 ones. */
static void test_ipv6_eni_backends(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w,
		"\"" PFX "loadbalancer-ip-version\":\"ipv6\",\"" PFX
		"loadbalancer-backend-ip-version\":\"ipv6\"",
		"Local");
	ten_nodes(&w);
	add_ep(&w, "10.0.0.1", "n01", 1);
	add_ep(&w, "2408:4005::1", "n01", 1);
	add_ep(&w, "2408:4005::2", "n07", 1);
	add_ep(&w, "2408:4005::3", "n02", 0); /* not ready */
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.v[1].be.n, 2);
	assert_int_equal(p.v[1].be.v[0].type, SLB_BE_ENI);
	assert_string_equal(p.v[1].be.v[0].server_id, "eni-2408:4005::1");
	assert_string_equal(p.v[1].be.v[0].server_ip, "2408:4005::1");
	assert_string_equal(p.v[1].be.v[1].server_ip, "2408:4005::2");
	assert_int_equal(p.v[1].be.v[1].port, 8080);
	assert_int_equal(p.v[1].be.v[1].weight, 100);
	assert_string_equal(p.v[1].be.v[0].desc, "k8s/8080/web/shop/" CID);
	slb_plan_done(&p);
	slbf_done(&w);

	memset(&w, 0, sizeof(w));
	set_svc(&w, "\"service.beta.kubernetes.io/backend-type\":\"eni\"",
		"Cluster");
	add_ep(&w, "10.0.0.1", "n01", 1);
	add_ep(&w, "2408:4005::1", "n01", 1);
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.v[1].be.n, 1);
	assert_string_equal(p.v[1].be.v[0].server_ip, "10.0.0.1");
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_vnode_mixed(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;
	size_t i, eni = 0;

	(void)st;
	set_svc(&w, "", "Cluster");
	ten_nodes(&w);
	slbf_add_node(&w, "vk", "True", "\"type\":\"virtual-kubelet\"", 0);
	add_ep(&w, "10.1.0.1", "vk", 1);
	add_ep(&w, "10.0.0.5", "n05", 1);
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.v[1].be.n, 11);
	for (i = 0; i < p.v[1].be.n; i++)
		if (p.v[1].be.v[i].type == SLB_BE_ENI) {
			eni++;
			assert_string_equal(p.v[1].be.v[i].server_ip,
					    "10.1.0.1");
			assert_int_equal(p.v[1].be.v[i].port, 8080);
		}
	assert_int_equal(eni, 1);
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_batching(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;
	char name[16];
	int i;

	(void)st;
	set_svc(&w, "", "Cluster");
	for (i = 0; i < 45; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		slbf_add_node(&w, name, "True", "", 0);
	}
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_CREATE_VG), 2);
	assert_int_equal(count(&p, SLB_OP_ADD_BE), 4);
	for (i = 0; i < (int)p.n; i++)
		assert_true(p.v[i].be.n <= 20);
	slb_plan_done(&p);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	slbf_done(&w);
}

static void reused_cloud(struct slbf_world *w, const char *extra_desc)
{
	struct slb_bes be = {0};
	struct slb_backend b;

	w->cloud.exists = 1;
	strcpy(w->cloud.lb_id, "lb-user");
	memset(&b, 0, sizeof(b));
	strcpy(b.server_id, "i-outside");
	b.port = 80;
	b.weight = 100;
	strcpy(b.desc, extra_desc);
	slb_bes_push(&be, &b);
	slb_cloud_add_group(&w->cloud, "rsp-user", "user-group", &be);
	slb_bes_done(&be);
}

static void test_reused_foreign_survives(void **st)
{
	struct slbf_world w = {0};
	struct slb_want *want;
	struct slb_plan p;
	size_t i;

	(void)st;
	set_svc(&w,
		"\"" PFX "loadbalancer-id\":\"lb-user\",\"" PFX
		"loadbalancer-vgroup-port\":\"rsp-user:80\",\"" PFX
		"loadbalancer-weight\":\"50\"",
		"Cluster");
	ten_nodes(&w);
	reused_cloud(&w, "manual");
	slbf_sync(&w, 20, &p);
	/* reused without force-override: no listener calls, no CLB create */
	assert_int_equal(count(&p, SLB_OP_CREATE_LB), 0);
	assert_int_equal(count(&p, SLB_OP_CREATE_LISTENER), 0);
	assert_int_equal(count(&p, SLB_OP_REMOVE_BE), 0);
	assert_int_equal(count(&p, SLB_OP_ADD_BE), 1);
	for (i = 0; i < p.n; i++)
		if (p.v[i].op == SLB_OP_ADD_BE)
			assert_int_equal(p.v[i].be.v[0].weight, 5);
	slb_plan_done(&p);
	assert_int_equal(slb_cloud_group(&w.cloud, "rsp-user")->be.n, 11);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* deletion: only our backends leave; CLB and group stay */
	want = slbf_build(&w);
	assert_int_equal(slb_diff_cleanup(want, &w.cloud, 20, &p), 0);
	assert_int_equal(count(&p, SLB_OP_DELETE_LB), 0);
	/* port 443 had no vgroup-port: our own group there goes */
	assert_int_equal(count(&p, SLB_OP_DELETE_VG), 1);
	for (i = 0; i < p.n; i++) {
		size_t j;

		if (p.v[i].op == SLB_OP_DELETE_VG)
			assert_string_not_equal(p.v[i].vg_id, "rsp-user");

		for (j = 0; j < p.v[i].be.n; j++)
			assert_string_not_equal(p.v[i].be.v[j].server_id,
						"i-outside");
		slb_note(&w.cloud, want, &p, &p.v[i], NULL);
	}
	assert_int_equal(slb_cloud_group(&w.cloud, "rsp-user")->be.n, 1);
	slb_plan_done(&p);
	slb_model_free(want);
	slbf_done(&w);
}

static void test_other_cluster_untouched(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w,
		"\"" PFX "loadbalancer-id\":\"lb-user\",\"" PFX
		"loadbalancer-vgroup-port\":\"rsp-user:80\"",
		"Cluster");
	ten_nodes(&w);
	/* cluster c2's node on the same instance id and port */
	reused_cloud(&w, "k8s/30080/web/shop/c2");
	slb_cloud_group(&w.cloud, "rsp-user")->be.v[0].port = 30080;
	strcpy(slb_cloud_group(&w.cloud, "rsp-user")->be.v[0].server_id,
	       "i-n00");
	slb_cloud_group(&w.cloud, "rsp-user")->be.v[0].weight = 7;
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_SET_BE), 0);
	assert_int_equal(count(&p, SLB_OP_REMOVE_BE), 0);
	assert_int_equal(p.v[0].be.n, 9); /* i-n00 already present */
	slb_plan_done(&p);
	assert_int_equal(slb_cloud_group(&w.cloud, "rsp-user")->be.v[0].weight,
			 7);
	slbf_done(&w);
}

static void test_reuse_refused(void **st)
{
	struct slbf_world w = {0};
	struct slb_want *want;
	struct slb_plan p;
	char err[256];

	(void)st;
	set_svc(&w, "\"" PFX "loadbalancer-id\":\"lb-user\"", "Cluster");
	ten_nodes(&w);
	reused_cloud(&w, "manual");
	w.cloud.ccm_tagged = 1;
	want = slbf_build(&w);
	assert_int_equal(slb_diff(want, &w.cloud, 20, &p, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "lb-user"));
	w.cloud.exists = 0;
	assert_int_equal(slb_diff(want, &w.cloud, 20, &p, err, sizeof(err)),
			 -EINVAL);
	slb_model_free(want);
	slbf_done(&w);
}

static void test_cleanup_own(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	created(&w);
	plan_cleanup(&w, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.v[0].op, SLB_OP_SET_DELETE_PROTECTION);
	assert_int_equal(p.v[0].flag, 0);
	assert_int_equal(p.v[1].op, SLB_OP_DELETE_LB);
	slb_plan_done(&p);
	/* preserve-lb-on-delete: CLB kept, our listeners and groups go */
	set_svc(&w, "\"" PFX "loadbalancer-preserve-lb-on-delete\":\"on\"",
		"Cluster");
	plan_cleanup(&w, &p);
	assert_int_equal(count(&p, SLB_OP_DELETE_LB), 0);
	assert_int_equal(count(&p, SLB_OP_DELETE_LISTENER), 2);
	assert_int_equal(count(&p, SLB_OP_DELETE_VG), 2);
	/* the kept CLB keeps its protection; our tags go last */
	assert_int_equal(count(&p, SLB_OP_SET_DELETE_PROTECTION), 0);
	assert_int_equal(count(&p, SLB_OP_UNTAG), 1);
	assert_int_equal(p.v[p.n - 1].op, SLB_OP_UNTAG);
	slb_plan_done(&p);
	slbf_done(&w);
}

/* Ownership is the tag values, not the name nor a tag's presence. */
static void test_cleanup_not_owned(void **st)
{
	struct slbf_world w = {0};
	struct slb_want *want;
	struct slb_plan p;

	(void)st;
	created(&w);
	want = slbf_build(&w);
	/* found by its default name: no tags at all */
	w.cloud.ccm_tagged = 0;
	w.cloud.tag_owner[0] = w.cloud.tag_cluster[0] = '\0';
	assert_int_equal(slb_diff_cleanup(want, &w.cloud, 20, &p), 0);
	assert_int_equal(p.n, 0);
	assert_non_null(strstr(p.warn, "lb-1"));
	assert_non_null(strstr(p.warn, "left in place"));
	slb_plan_done(&p);
	/* our Service's tag but another cluster's */
	w.cloud.ccm_tagged = 1;
	snprintf(w.cloud.tag_owner, sizeof(w.cloud.tag_owner), "%s",
		 want->default_name);
	snprintf(w.cloud.tag_cluster, sizeof(w.cloud.tag_cluster), "other");
	assert_int_equal(slb_diff_cleanup(want, &w.cloud, 20, &p), 0);
	assert_int_equal(p.n, 0);
	slb_plan_done(&p);
	/* both values ours: deleted */
	snprintf(w.cloud.tag_cluster, sizeof(w.cloud.tag_cluster), CID);
	assert_int_equal(slb_diff_cleanup(want, &w.cloud, 20, &p), 0);
	assert_int_equal(count(&p, SLB_OP_DELETE_LB), 1);
	assert_string_equal(p.warn, "");
	slb_plan_done(&p);
	slb_model_free(want);
	slbf_done(&w);
}

/* At the backend quota, leavers go before newcomers (the cloud would
 * refuse the add); below it, newcomers first. */
static void test_full_group_removes_first(void **st)
{
	struct slbf_world w = {0};
	struct slb_want *want;
	struct slb_plan p;
	char err[256];

	(void)st;
	created(&w);
	replace_node(&w, "n01", "False", "", 0);
	slbf_add_node(&w, "n11", "True", "", 0);
	want = slbf_build(&w);
	want->max_backends = 10;
	assert_int_equal(slb_diff(want, &w.cloud, 20, &p, err, sizeof(err)), 0);
	assert_int_equal(count(&p, SLB_OP_ADD_BE), 2);
	assert_true(op_index(&p, SLB_OP_REMOVE_BE, ANY_PORT) <
		    op_index(&p, SLB_OP_ADD_BE, ANY_PORT));
	slb_plan_done(&p);
	want->max_backends = 11;
	assert_int_equal(slb_diff(want, &w.cloud, 20, &p, err, sizeof(err)), 0);
	assert_true(op_index(&p, SLB_OP_ADD_BE, ANY_PORT) <
		    op_index(&p, SLB_OP_REMOVE_BE, ANY_PORT));
	slb_plan_done(&p);
	slb_model_free(want);
	slbf_done(&w);
}

static void test_duplicate_group(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;
	struct slb_cl_group *g;
	struct slb_bes be = {0};

	(void)st;
	created(&w);
	/* an ambiguous create left a twin of port 80's group */
	g = slb_cloud_group(&w.cloud, "rsp-2");
	assert_non_null(g);
	slb_bes_copy(&be, &g->be);
	slb_cloud_add_group(&w.cloud, "rsp-twin", g->name, &be);
	slb_bes_done(&be);
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].op, SLB_OP_DELETE_VG);
	assert_string_equal(p.v[0].vg_id, "rsp-twin");
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_port_changes(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	created(&w);
	/* port 443 -> https via annotation: delete + create + start */
	set_svc(&w,
		"\"" PFX "loadbalancer-protocol-port\":\"https:443\",\"" PFX
		"loadbalancer-cert-id\":\"cert-1\"",
		"Cluster");
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_DELETE_LISTENER), 1);
	assert_int_equal(count(&p, SLB_OP_CREATE_LISTENER), 1);
	assert_int_equal(count(&p, SLB_OP_START_LISTENER), 1);
	assert_int_equal(p.n, 3);
	slb_plan_done(&p);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* a listener parameter changes: one set call */
	set_svc(&w,
		"\"" PFX "loadbalancer-protocol-port\":\"https:443\",\"" PFX
		"loadbalancer-cert-id\":\"cert-2\"",
		"Cluster");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].op, SLB_OP_SET_LISTENER);
	slb_plan_done(&p);
	/* drift: a listener stopped and a backend removed out of band */
	slb_cloud_listener(&w.cloud, 80)->running = 0;
	slb_cloud_group(&w.cloud, "rsp-2")->be.n--;
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_START_LISTENER), 1);
	assert_int_equal(count(&p, SLB_OP_ADD_BE), 1);
	assert_int_equal(p.n, 2);
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_node_port_zero(void **st)
{
	struct slbf_world w = {0};
	struct slb_be_in in;
	struct slb_want *want = NULL;
	char err[256];

	(void)st;
	set_svc(&w, "", "Cluster");
	w.svc->ports[1].node_port = 0;
	ten_nodes(&w);
	in = (struct slb_be_in){w.svc,	   &w.annot, CID, w.nodes,
				w.n_nodes, &w.eps,   NULL};
	assert_int_equal(slb_model_build(&in, &want, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "nodePort"));
	assert_null(node_named(&w, "zz"));
	slbf_done(&w);
}

static void test_desc_ownership(void **st)
{
	struct slbf_world w = {0};

	(void)st;
	set_svc(&w, "", "Cluster");
	assert_true(slb_desc_is_ours("k8s/1/web/shop/c1", w.svc, "c1"));
	assert_false(slb_desc_is_ours("k8s/1/web/shop/c2", w.svc, "c1"));
	assert_false(slb_desc_is_ours("k8s/1/web/shop", w.svc, "c1"));
	assert_false(slb_desc_is_ours("k8s/1/web/shop/c1/x", w.svc, "c1"));
	assert_false(slb_desc_is_ours("manual", w.svc, "c1"));
	slbf_done(&w);
}

#define FWD_TLS                                                                \
	"\"" PFX "loadbalancer-protocol-port\":\"http:80,https:443\",\"" PFX   \
	"loadbalancer-cert-id\":\"cert-1\""

/* forward-port: the HTTPS target first, the forwarder re-created alone
 * on a change, and deleted before its target. */
static void test_forward_port_plan(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w, FWD_TLS ",\"" PFX "loadbalancer-forward-port\":\"80:443\"",
		"Cluster");
	ten_nodes(&w);
	slbf_sync(&w, 20, &p);
	assert_true(op_index(&p, SLB_OP_START_LISTENER, 443) <
		    op_index(&p, SLB_OP_CREATE_LISTENER, 80));
	assert_int_equal(slb_cloud_listener(&w.cloud, 80)->fwd_port, 443);
	slb_plan_done(&p);
	assert_int_equal(slbf_sync_count(&w, 20), 0);

	set_svc(&w, FWD_TLS, "Cluster");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.v[0].op, SLB_OP_DELETE_LISTENER);
	assert_int_equal(p.v[1].op, SLB_OP_CREATE_LISTENER);
	assert_int_equal(p.v[2].op, SLB_OP_START_LISTENER);
	assert_int_equal(p.v[0].port, 80);
	assert_int_equal(p.v[1].port, 80);
	assert_int_equal(slb_cloud_listener(&w.cloud, 80)->fwd_port, 0);
	slb_plan_done(&p);
	assert_int_equal(slbf_sync_count(&w, 20), 0);

	set_svc(&w,
		FWD_TLS ",\"" PFX
			"loadbalancer-forward-port\":\"80:443\",\"" PFX
			"loadbalancer-preserve-lb-on-delete\":\"on\"",
		"Cluster");
	assert_int_equal(slbf_sync_count(&w, 20), 3);
	plan_cleanup(&w, &p);
	assert_true(op_index(&p, SLB_OP_DELETE_LISTENER, 80) <
		    op_index(&p, SLB_OP_DELETE_LISTENER, 443));
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_domain_extensions_plan(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	set_svc(&w,
		FWD_TLS ",\"" PFX "loadbalancer-domain-extensions\":"
			"\"a.x:c1,b.x:c2\"",
		"Cluster");
	ten_nodes(&w);
	slbf_sync(&w, 20, &p);
	assert_int_equal(count(&p, SLB_OP_CREATE_DOMEXT), 2);
	assert_true(op_index(&p, SLB_OP_START_LISTENER, 443) <
		    op_index(&p, SLB_OP_CREATE_DOMEXT, 443));
	assert_int_equal(w.cloud.n_dx, 2);
	slb_plan_done(&p);
	assert_int_equal(slbf_sync_count(&w, 20), 0);

	set_svc(&w,
		FWD_TLS ",\"" PFX "loadbalancer-domain-extensions\":"
			"\"A.x:c9,c.x:c3\"",
		"Cluster");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.v[0].op, SLB_OP_DELETE_DOMEXT);
	assert_string_equal(p.v[0].str, "b.x");
	assert_int_equal(p.v[1].op, SLB_OP_SET_DOMEXT);
	assert_string_equal(p.v[1].cert, "c9");
	assert_true(p.v[1].vg_id[0] != '\0');
	assert_int_equal(p.v[2].op, SLB_OP_CREATE_DOMEXT);
	assert_string_equal(p.v[2].str, "c.x");
	slb_plan_done(&p);
	/* without the annotation they are not ours to manage */
	set_svc(&w, FWD_TLS, "Cluster");
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* empty: none wanted */
	set_svc(&w, FWD_TLS ",\"" PFX "loadbalancer-domain-extensions\":\"\"",
		"Cluster");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(count(&p, SLB_OP_DELETE_DOMEXT), 2);
	assert_int_equal(w.cloud.n_dx, 0);
	slb_plan_done(&p);
	slbf_done(&w);
}

static void test_modification_protection_plan(void **st)
{
	struct slbf_world w = {0};
	struct slb_plan p;

	(void)st;
	created(&w);
	strcpy(w.cloud.mod_protection, "ConsoleProtection");
	/* the default is for creates only */
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	set_svc(&w,
		"\"" PFX "loadbalancer-modification-protection\":"
		"\"NonProtection\"",
		"Cluster");
	slbf_sync(&w, 20, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].op, SLB_OP_SET_MOD_PROTECTION);
	assert_string_equal(p.v[0].str, "NonProtection");
	slb_plan_done(&p);
	assert_int_equal(slbf_sync_count(&w, 20), 0);
	/* preserved: the lock comes off before the ownership tags */
	strcpy(w.cloud.mod_protection, "ConsoleProtection");
	set_svc(&w, "\"" PFX "loadbalancer-preserve-lb-on-delete\":\"on\"",
		"Cluster");
	plan_cleanup(&w, &p);
	assert_true(op_index(&p, SLB_OP_SET_MOD_PROTECTION, 0) >= 0);
	assert_true(op_index(&p, SLB_OP_SET_MOD_PROTECTION, 0) <
		    op_index(&p, SLB_OP_UNTAG, 0));
	assert_int_equal(count(&p, SLB_OP_DELETE_LB), 0);
	slb_plan_done(&p);
	slbf_done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_counts),
		cmocka_unit_test(test_forward_port_plan),
		cmocka_unit_test(test_domain_extensions_plan),
		cmocka_unit_test(test_modification_protection_plan),
		cmocka_unit_test(test_node_added),
		cmocka_unit_test(test_ready_states),
		cmocka_unit_test(test_excluded_cordoned),
		cmocka_unit_test(test_backend_label),
		cmocka_unit_test(test_local_weights),
		cmocka_unit_test(test_eni_backends),
		cmocka_unit_test(test_ipv6_eni_backends),
		cmocka_unit_test(test_vnode_mixed),
		cmocka_unit_test(test_batching),
		cmocka_unit_test(test_reused_foreign_survives),
		cmocka_unit_test(test_other_cluster_untouched),
		cmocka_unit_test(test_reuse_refused),
		cmocka_unit_test(test_cleanup_own),
		cmocka_unit_test(test_duplicate_group),
		cmocka_unit_test(test_cleanup_not_owned),
		cmocka_unit_test(test_full_group_removes_first),
		cmocka_unit_test(test_port_changes),
		cmocka_unit_test(test_node_port_zero),
		cmocka_unit_test(test_desc_ownership),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
