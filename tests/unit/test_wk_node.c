/* The shared Node model and predicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
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
	};

	return cmocka_run_group_tests_name("wk_node", tests, NULL, NULL);
}
