/* The shared Node model and predicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "workers/wk_node.h"

static struct wk_node *node(const char *text)
{
	struct json *j = NULL;
	struct wk_node *n = NULL;

	assert_int_equal(json_parse(text, strlen(text), NULL, &j, NULL, 0), 0);
	assert_int_equal(wk_node_from_json(j, &n), 0);
	json_free(j);
	return n;
}

static void test_provider_id(void **state)
{
	char r[64], i[64];

	(void)state;
	assert_int_equal(
		wk_provider_id_parse("cn-hangzhou.i-abc", r, 64, i, 64), 0);
	assert_string_equal(r, "cn-hangzhou");
	assert_string_equal(i, "i-abc");
	assert_int_equal(wk_provider_id_parse("alicloud://cn-beijing.i-x1", r,
					      64, i, 64),
			 0);
	assert_string_equal(r, "cn-beijing");
	assert_int_equal(wk_provider_id_parse("i-abc", r, 64, i, 64), -EINVAL);
	assert_int_equal(wk_provider_id_parse("cn.x-abc", r, 64, i, 64),
			 -EINVAL);
	assert_int_equal(
		wk_provider_id_parse("aws:///us-east-1a/i-1", r, 64, i, 64),
		-EINVAL);
	assert_int_equal(wk_provider_id_parse(".i-abc", r, 64, i, 64), -EINVAL);
	assert_int_equal(wk_provider_id_parse("a.b.i-abc", r, 64, i, 64),
			 -EINVAL);
}

static void test_from_json_and_route_predicate(void **state)
{
	struct wk_node *n;

	(void)state;
	n = node("{\"metadata\":{\"name\":\"n1\",\"uid\":\"u1\","
		 "\"resourceVersion\":\"7\",\"labels\":{\"a\":\"b\"},"
		 "\"annotations\":{\"alpha.kubernetes.io/provided-node-ip\":"
		 "\"10.0.0.9\"}},"
		 "\"spec\":{\"podCIDR\":\"fd00::/64\",\"podCIDRs\":"
		 "[\"fd00::/64\",\"172.16.1.0/24\"],\"providerID\":"
		 "\"cn-hangzhou.i-1\",\"taints\":[{\"key\":"
		 "\"" WK_TAINT_UNINITIALIZED "\",\"effect\":\"NoSchedule\"}]},"
		 "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
		 "\"Unknown\"},{\"type\":\"NetworkUnavailable\",\"status\":"
		 "\"False\"}],\"addresses\":[{\"type\":\"Hostname\","
		 "\"address\":\"h\"},{\"type\":\"InternalIP\",\"address\":"
		 "\"10.0.0.9\"}]}}");
	assert_string_equal(n->name, "n1");
	assert_string_equal(n->pod_cidr4, "172.16.1.0/24");
	assert_string_equal(n->instance_id, "i-1");
	assert_string_equal(n->internal_ip, "10.0.0.9");
	assert_string_equal(n->provided_ip, "10.0.0.9");
	assert_int_equal(n->ready, WK_COND_UNKNOWN);
	assert_int_equal(n->network_unavailable, WK_COND_FALSE);
	assert_true(wk_node_has_taint(n, WK_TAINT_UNINITIALIZED));
	assert_string_equal(wk_node_label(n, "a"), "b");
	assert_true(wk_node_matches_selector(n, "a=b"));
	assert_false(wk_node_matches_selector(n, "a=c"));
	assert_true(wk_node_route_eligible(n));
	wk_node_free(n);

	n = node("{\"metadata\":{\"name\":\"vk\",\"labels\":{\"type\":"
		 "\"virtual-kubelet\"}},\"spec\":{\"podCIDR\":\"10.1.0.0/24\","
		 "\"providerID\":\"cn-hangzhou.i-2\"}}");
	assert_true(wk_node_is_virtual(n));
	assert_false(wk_node_route_eligible(n));
	wk_node_free(n);

	n = node("{\"metadata\":{\"name\":\"x\",\"labels\":{\"service.beta."
		 "kubernetes.io/exclude-node\":\"\"}},\"spec\":{\"podCIDR\":"
		 "\"10.1.0.0/24\",\"providerID\":\"cn-hangzhou.i-3\"}}");
	assert_true(wk_node_excluded(n));
	assert_true(wk_node_excluded_from_lb(n));
	assert_false(wk_node_route_eligible(n));
	wk_node_free(n);

	n = node("{\"metadata\":{\"name\":\"idc\"},\"spec\":{\"podCIDR\":"
		 "\"10.1.0.0/24\",\"providerID\":\"idc://rack1/host7\"}}");
	assert_false(wk_node_is_ecs(n));
	assert_false(wk_node_route_eligible(n));
	wk_node_free(n);

	n = node("{\"metadata\":{\"name\":\"m\",\"labels\":{\"node-role."
		 "kubernetes.io/master\":\"\",\"node.kubernetes.io/exclude-"
		 "from-external-load-balancers\":\"true\"}}}");
	assert_true(wk_node_is_master(n));
	assert_false(wk_node_excluded(n));
	assert_true(wk_node_excluded_from_lb(n));
	assert_false(wk_node_route_eligible(n));
	wk_node_free(n);
	wk_node_free(NULL);
}

static struct wk_node *node_opts(const char *text, const struct wk_node_opts *o)
{
	struct json *j = NULL;
	struct wk_node *n = NULL;

	assert_int_equal(json_parse(text, strlen(text), NULL, &j, NULL, 0), 0);
	assert_int_equal(wk_node_from_json_opts(j, o, &n), 0);
	json_free(j);
	return n;
}

/* A kubelet-style Node with 30 labels (24 of them k0..k23), three taints,
 * both addresses, a providerID and a pod CIDR. */
static void busy_node(char *out, size_t len, const char *pid,
		      const char *extra_label)
{
	char labels[2048] = "";
	size_t o = 0;
	int i;

	for (i = 0; i < 24; i++)
		o += (size_t)snprintf(labels + o, sizeof(labels) - o,
				      "\"k%d\":\"v%d\",", i, i);
	snprintf(out, len,
		 "{\"metadata\":{\"name\":\"n1\",\"uid\":\"u1\","
		 "\"resourceVersion\":\"7\",\"labels\":{%s"
		 "\"kubernetes.io/hostname\":\"h1\","
		 "\"topology.kubernetes.io/zone\":\"cn-hangzhou-h\","
		 "\"topology.kubernetes.io/region\":\"cn-hangzhou\","
		 "\"node.kubernetes.io/instance-type\":\"ecs.g6.large\","
		 "\"beta.kubernetes.io/os\":\"linux\"%s},"
		 "\"annotations\":{\"alpha.kubernetes.io/provided-node-ip\":"
		 "\"10.0.0.9\"}},\"spec\":{\"podCIDR\":\"172.16.1.0/24\","
		 "\"providerID\":\"%s\",\"unschedulable\":true,"
		 "\"taints\":[{\"key\":\"" WK_TAINT_UNINITIALIZED "\","
		 "\"effect\":\"NoSchedule\"},{\"key\":\"" WK_TAINT_CA_DELETE
		 "\",\"effect\":\"NoSchedule\"},{\"key\":\"dedicated\","
		 "\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]},"
		 "\"status\":{\"conditions\":[{\"type\":\"Ready\","
		 "\"status\":\"True\"},{\"type\":\"NetworkUnavailable\","
		 "\"status\":\"False\"}],\"addresses\":[{\"type\":"
		 "\"InternalIP\",\"address\":\"10.0.0.9\"}]}}",
		 labels, extra_label ? extra_label : "", pid);
}

/* The route worker keeps its strings and the predicates' labels only. */
static void test_route_keeps_little(void **state)
{
	char text[4096];
	struct wk_node *n;

	(void)state;
	busy_node(text, sizeof(text), "cn-hangzhou.i-1", NULL);
	n = node_opts(text, &wk_node_opts_route);
	assert_string_equal(n->name, "n1");
	assert_string_equal(n->uid, "u1");
	assert_string_equal(n->pod_cidr4, "172.16.1.0/24");
	assert_string_equal(n->instance_id, "i-1");
	assert_int_equal(n->network_unavailable, WK_COND_FALSE);
	assert_int_equal(n->ready, WK_COND_TRUE);
	assert_true(n->unschedulable);
	/* not read by the route worker: as for a Node without them */
	assert_null(n->resource_version);
	assert_null(n->provider_id);
	assert_string_equal(n->region, "");
	assert_string_equal(n->internal_ip, "");
	assert_string_equal(n->provided_ip, "");
	assert_int_equal(n->n_labels, 0);
	assert_int_equal(n->n_taints, 0);
	assert_null(wk_node_label(n, "kubernetes.io/hostname"));
	assert_true(wk_node_route_eligible(n));
	wk_node_free(n);

	/* labels a predicate reads stay, whatever else is dropped */
	busy_node(text, sizeof(text), "cn-hangzhou.i-1",
		  ",\"service.alibabacloud.com/exclude-node\":\"\"");
	n = node_opts(text, &wk_node_opts_route);
	assert_int_equal(n->n_labels, 1);
	assert_string_equal(
		wk_node_label(n, "service.alibabacloud.com/exclude-node"), "");
	assert_true(wk_node_excluded(n));
	assert_false(wk_node_route_eligible(n));
	wk_node_free(n);

	/* a hybrid providerID excludes without the providerID being kept */
	busy_node(text, sizeof(text), "ack-hybrid://idc/host7", NULL);
	n = node_opts(text, &wk_node_opts_route);
	assert_null(n->provider_id);
	assert_true(wk_node_excluded(n));
	assert_false(wk_node_route_eligible(n));
	wk_node_free(n);
}

/* service-lb selects by any label an annotation names: all stay; of the
 * taints only the autoscaler's. */
static void test_lb_keeps_all_labels(void **state)
{
	char text[4096];
	struct wk_node *n;

	(void)state;
	busy_node(text, sizeof(text), "cn-hangzhou.i-1",
		  ",\"node-role.kubernetes.io/master\":\"\"");
	n = node_opts(text, &wk_node_opts_lb);
	assert_int_equal(n->n_labels, 30);
	assert_string_equal(wk_node_label(n, "k0"), "v0");
	assert_string_equal(wk_node_label(n, "k23"), "v23");
	assert_true(wk_node_matches_selector(n, "beta.kubernetes.io/os=linux"));
	assert_string_equal(wk_node_label(n, "topology.kubernetes.io/zone"),
			    "cn-hangzhou-h");
	assert_int_equal(n->n_taints, 1);
	assert_true(wk_node_has_taint(n, WK_TAINT_CA_DELETE));
	assert_false(wk_node_has_taint(n, WK_TAINT_UNINITIALIZED));
	assert_false(wk_node_has_taint(n, "dedicated"));
	assert_true(wk_node_is_master(n));
	assert_string_equal(n->instance_id, "i-1");
	assert_int_equal(n->ready, WK_COND_TRUE);
	assert_true(n->unschedulable);
	assert_null(n->uid);
	assert_string_equal(n->pod_cidr4, "");
	wk_node_free(n);
}

/* Everything (tests, one-off reads): every label, taint and string. */
static void test_all_keeps_everything(void **state)
{
	char text[4096];
	struct wk_node *n;

	(void)state;
	busy_node(text, sizeof(text), "alicloud://cn-hangzhou.i-1", NULL);
	n = node_opts(text, NULL);
	assert_int_equal(n->n_labels, 29);
	assert_int_equal(n->n_taints, 3);
	assert_string_equal(n->taints[2].key, "dedicated");
	assert_string_equal(n->taints[2].val, "NoSchedule");
	assert_string_equal(n->provider_id, "alicloud://cn-hangzhou.i-1");
	assert_string_equal(n->region, "cn-hangzhou");
	assert_string_equal(n->resource_version, "7");
	assert_string_equal(n->internal_ip, "10.0.0.9");
	assert_string_equal(n->provided_ip, "10.0.0.9");
	wk_node_free(n);
}

/* Every worker's record answers every shared predicate alike. */
static void test_predicates_agree(void **state)
{
	static const char *const extra[] = {
		NULL,
		",\"type\":\"virtual-kubelet\"",
		",\"service.beta.kubernetes.io/exclude-node\":\"x\"",
		",\"node.kubernetes.io/exclude-from-external-load-balancers\":"
		"\"true\"",
		",\"alpha.service-controller.kubernetes.io/exclude-balancer\":"
		"\"true\"",
		",\"node-role.kubernetes.io/master\":\"\"",
	};
	static const char *const pids[] = {"cn-hangzhou.i-1", "idc://r/h",
					   "ack-hybrid://x/y"};
	const struct wk_node_opts *opts[] = {&wk_node_opts_route,
					     &wk_node_opts_lb};
	char text[4096];
	size_t e, p, k;

	(void)state;
	for (e = 0; e < sizeof(extra) / sizeof(*extra); e++)
		for (p = 0; p < sizeof(pids) / sizeof(*pids); p++) {
			struct wk_node *all, *n;

			busy_node(text, sizeof(text), pids[p], extra[e]);
			all = node_opts(text, NULL);
			for (k = 0; k < sizeof(opts) / sizeof(*opts); k++) {
				n = node_opts(text, opts[k]);
				assert_int_equal(wk_node_is_ecs(n),
						 wk_node_is_ecs(all));
				assert_int_equal(wk_node_is_virtual(n),
						 wk_node_is_virtual(all));
				assert_int_equal(wk_node_excluded(n),
						 wk_node_excluded(all));
				assert_int_equal(wk_node_excluded_from_lb(n),
						 wk_node_excluded_from_lb(all));
				assert_int_equal(wk_node_is_master(n),
						 wk_node_is_master(all));
				if (opts[k] == &wk_node_opts_route)
					assert_int_equal(
						wk_node_route_eligible(n),
						wk_node_route_eligible(all));
				wk_node_free(n);
			}
			wk_node_free(all);
		}
}

/* Values past what the fixed arrays held read "", as before. */
static void test_long_values_dropped(void **state)
{
	char text[1024], big[80];
	struct wk_node *n;

	(void)state;
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"n\",\"annotations\":{"
		 "\"alpha.kubernetes.io/provided-node-ip\":\"%s\"}},"
		 "\"spec\":{\"podCIDRs\":[\"10.0.0.0/24%s\","
		 "\"10.0.1.0/24\"],\"providerID\":\"cn.i-%s\"},"
		 "\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
		 "\"address\":\"%s\"},{\"type\":\"InternalIP\","
		 "\"address\":\"10.0.0.5\"}]}}",
		 big, big, big, big);
	n = node_opts(text, NULL);
	assert_string_equal(n->provided_ip, "");
	assert_string_equal(n->pod_cidr4, "10.0.1.0/24");
	assert_string_equal(n->instance_id, "");
	assert_string_equal(n->internal_ip, "10.0.0.5");
	assert_false(wk_node_is_ecs(n));
	wk_node_free(n);
}

/* The route predicate for a node whose providerID is about to be written
 * (node-init's NetworkUnavailable decision). */
static void test_route_eligible_as(void **state)
{
	struct wk_node *n;

	(void)state;
	n = node("{\"metadata\":{\"name\":\"new\"},\"spec\":{"
		 "\"podCIDR\":\"10.1.0.0/24\"}}");
	assert_false(wk_node_route_eligible(n));
	assert_false(wk_node_route_eligible_as(n, NULL));
	assert_false(wk_node_route_eligible_as(n, ""));
	assert_true(wk_node_route_eligible_as(n, "i-9"));
	wk_node_free(n);
}

static void test_rejects_nameless(void **state)
{
	struct json *j = NULL;
	struct wk_node *n = NULL;

	(void)state;
	assert_int_equal(json_parse("{\"spec\":{}}", 11, NULL, &j, NULL, 0), 0);
	assert_int_equal(wk_node_from_json(j, &n), -EINVAL);
	assert_null(n);
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provider_id),
		cmocka_unit_test(test_from_json_and_route_predicate),
		cmocka_unit_test(test_rejects_nameless),
		cmocka_unit_test(test_route_keeps_little),
		cmocka_unit_test(test_lb_keeps_all_labels),
		cmocka_unit_test(test_all_keeps_everything),
		cmocka_unit_test(test_predicates_agree),
		cmocka_unit_test(test_long_values_dropped),
		cmocka_unit_test(test_route_eligible_as),
	};

	return cmocka_run_group_tests_name("wk_node", tests, NULL, NULL);
}
