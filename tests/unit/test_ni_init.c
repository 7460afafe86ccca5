/* node-init pure logic: models, classification, discovery, patches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workers/node_init/ni_classify.h"
#include "workers/node_init/ni_discover.h"
#include "workers/node_init/ni_init.h"
#include "workers/node_init/ni_model.h"

static struct json *parse(const char *s)
{
	struct json *j = NULL;
	char err[128];

	assert_int_equal(json_parse(s, strlen(s), &json_default_limits, &j, err,
				    sizeof(err)),
			 0);
	return j;
}

/* What the node-init worker's cache keeps, with the default
 * nonECSNodeSelector. */
static const struct ni_node_opts *ni_opts(void)
{
	static struct ni_node_opts o;

	ni_node_opts_init(&o, "type=virtual-kubelet");
	return &o;
}

static struct ni_node *node(const char *s)
{
	struct json *j = parse(s);
	struct ni_node *n = NULL;

	assert_int_equal(ni_node_from_json(j, ni_opts(), &n), 0);
	json_free(j);
	return n;
}

#define TAINTED                                                                \
	"{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"42\","           \
	"\"labels\":{\"kubernetes.io/hostname\":\"host-1\"}},"                 \
	"\"spec\":{\"podCIDR\":\"10.0.1.0/24\",\"taints\":["                   \
	"{\"key\":\"node.cloudprovider.kubernetes.io/uninitialized\","         \
	"\"value\":\"true\",\"effect\":\"NoSchedule\"},"                       \
	"{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoExecute\","   \
	"\"timeAdded\":\"2024-01-01T00:00:00Z\"}]},"                           \
	"\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":"     \
	"\"192.168.0.10\"},{\"type\":\"Hostname\",\"address\":\"host-1\"}]}}"

static const char *const instances_page =
	"{\"TotalCount\":2,\"NextToken\":\"\",\"Instances\":{\"Instance\":["
	"{\"InstanceId\":\"i-aaa1\",\"RegionId\":\"cn-hangzhou\","
	"\"ZoneId\":\"cn-hangzhou-h\",\"InstanceType\":\"ecs.g6.large\","
	"\"InstanceChargeType\":\"PostPaid\",\"Status\":\"Running\","
	"\"VpcAttributes\":{\"VpcId\":\"vpc-1\",\"PrivateIpAddress\":"
	"{\"IpAddress\":[\"192.168.0.10\"]}},"
	"\"PublicIpAddress\":{\"IpAddress\":[]},"
	"\"EipAddress\":{\"IpAddress\":\"47.1.2.3\"},"
	"\"NetworkInterfaces\":{\"NetworkInterface\":[{\"Type\":\"Secondary\","
	"\"NetworkInterfaceId\":\"eni-2\"},{\"Type\":\"Primary\","
	"\"NetworkInterfaceId\":\"eni-1\"}]}},"
	"{\"InstanceId\":\"i-bbb2\",\"RegionId\":\"cn-hangzhou\","
	"\"ZoneId\":\"cn-hangzhou-i\",\"Status\":\"Stopped\","
	"\"VpcAttributes\":{\"VpcId\":\"vpc-2\",\"PrivateIpAddress\":"
	"{\"IpAddress\":[\"192.168.0.10\"]}}}]}}";

static void parse_instances(struct ni_instance **v, size_t *n)
{
	struct json *j = parse(instances_page);
	char next[64];
	long long total;

	*v = NULL;
	*n = 0;
	assert_int_equal(
		ni_instances_parse(j, v, n, next, sizeof(next), &total), 0);
	assert_int_equal(total, 2);
	assert_string_equal(next, "");
	json_free(j);
}

static void instances_parsed(void **st)
{
	struct ni_instance *v;
	size_t n;
	struct json *bad;

	(void)st;
	parse_instances(&v, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].eni_id, "eni-1");
	assert_string_equal(v[0].vpc_id, "vpc-1");
	assert_int_equal(v[0].n_private, 1);
	assert_int_equal(v[0].n_public, 1);
	assert_string_equal(v[0].public_ips[0], "47.1.2.3");
	assert_string_equal(v[1].status, "Stopped");
	assert_non_null(ni_instance_find(v, n, "i-bbb2"));
	assert_null(ni_instance_find(v, n, "i-none"));
	free(v);
	v = NULL;
	n = 0;
	bad = parse("{\"Instances\":{\"Instance\":[{\"Status\":\"x\"}]}}");
	{
		char next[8];
		long long t;

		assert_int_equal(
			ni_instances_parse(bad, &v, &n, next, sizeof(next), &t),
			-EPROTO);
	}
	json_free(bad);
	free(v);
}

static void classify(void **st)
{
	struct cfg_cloud cc;
	struct ni_node *n;

	(void)st;
	memset(&cc, 0, sizeof(cc));
	strcpy(cc.non_ecs_node_selector, "type=virtual-kubelet");
	n = node("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"providerID\":"
		 "\"cn-hangzhou.i-abc\"}}");
	assert_int_equal(ni_classify(n->wk, &cc), NI_KIND_ECS);
	ni_node_free(n);
	n = node("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"providerID\":"
		 "\"ack-hybrid://idc-1\"}}");
	assert_int_equal(ni_classify(n->wk, &cc), NI_KIND_NON_ECS);
	ni_node_free(n);
	n = node("{\"metadata\":{\"name\":\"vk\",\"labels\":{\"type\":"
		 "\"virtual-kubelet\"}}}");
	assert_int_equal(ni_classify(n->wk, &cc), NI_KIND_NON_ECS);
	ni_node_free(n);
	n = node("{\"metadata\":{\"name\":\"a\"},\"spec\":{}}");
	assert_int_equal(ni_classify(n->wk, &cc), NI_KIND_DISCOVER);
	assert_int_equal(ni_discovery_none_is_non_ecs(&cc), 0);
	cc.initialize_non_ecs_nodes = 1;
	assert_int_equal(ni_discovery_none_is_non_ecs(&cc), 1);
	assert_string_equal(ni_kind_name(NI_KIND_NON_ECS), "non-ecs");
	ni_node_free(n);
	ni_node_free(NULL);
}

static void discover_by_ip_in_vpc(void **st)
{
	struct ni_instance *v;
	const struct ni_instance *out;
	struct ni_node *n = node(TAINTED);
	size_t cnt;
	char cands[256];

	(void)st;
	parse_instances(&v, &cnt);
	/* Same IP in two VPCs: the cluster's VPC decides. */
	assert_int_equal(ni_discover_match(n, v, cnt, "vpc-1", &out, cands,
					   sizeof(cands)),
			 NI_DISC_FOUND);
	assert_string_equal(out->id, "i-aaa1");
	assert_int_equal(ni_discover_match(n, v, cnt, "vpc-2", &out, cands,
					   sizeof(cands)),
			 NI_DISC_FOUND);
	assert_string_equal(out->id, "i-bbb2");
	/* Without a VPC: ambiguous, never a guess. */
	assert_int_equal(
		ni_discover_match(n, v, cnt, "", &out, cands, sizeof(cands)),
		NI_DISC_AMBIGUOUS);
	assert_null(out);
	assert_string_equal(cands, "i-aaa1,i-bbb2");
	assert_int_equal(ni_discover_match(n, v, cnt, "vpc-9", &out, cands,
					   sizeof(cands)),
			 NI_DISC_NONE);
	free(v);
	ni_node_free(n);
}

static void discover_by_name(void **st)
{
	struct ni_instance *v;
	const struct ni_instance *out;
	struct ni_node *n;
	size_t cnt;
	char cands[256], pid[128];

	(void)st;
	parse_instances(&v, &cnt);
	n = node("{\"metadata\":{\"name\":\"i-bbb2\"}}");
	assert_string_equal(ni_discover_id_hint(n), "i-bbb2");
	assert_int_equal(ni_discover_match(n, v, cnt, "vpc-2", &out, cands,
					   sizeof(cands)),
			 NI_DISC_FOUND);
	assert_string_equal(out->id, "i-bbb2");
	ni_node_free(n);
	n = node("{\"metadata\":{\"name\":\"x\",\"labels\":{"
		 "\"kubernetes.io/hostname\":\"i-aaa1\"}}}");
	assert_string_equal(ni_discover_id_hint(n), "i-aaa1");
	ni_node_free(n);
	n = node("{\"metadata\":{\"name\":\"i-UPPER\"}}");
	assert_null(ni_discover_id_hint(n));
	ni_node_free(n);
	assert_int_equal(
		ni_provider_id("cn-hangzhou", "i-aaa1", pid, sizeof(pid)), 0);
	assert_string_equal(pid, "cn-hangzhou.i-aaa1");
	assert_int_equal(ni_provider_id("", "i-aaa1", pid, sizeof(pid)),
			 -EINVAL);
	free(v);
}

static struct json *patch_json(struct buf *b)
{
	return parse(b->data);
}

static void spec_patch_initializes(void **st)
{
	struct ni_instance *v;
	struct ni_node *n = node(TAINTED);
	struct ni_want w = {.provider_id = "cn-hangzhou.i-aaa1",
			    .remove_uninit = 1,
			    .labels = 1};
	struct buf b;
	struct json *p;
	const struct json *taints;
	size_t cnt;

	(void)st;
	parse_instances(&v, &cnt);
	buf_init(&b, 1 << 20);
	assert_int_equal(ni_spec_patch(n, &v[0], &w, &b), 1);
	p = patch_json(&b);
	assert_string_equal(json_path_str(p, "metadata.resourceVersion"), "42");
	assert_string_equal(json_path_str(p, "spec.providerID"),
			    "cn-hangzhou.i-aaa1");
	assert_string_equal(json_str(json_get(json_path(p, "metadata.labels"),
					      "topology.kubernetes.io/zone")),
			    "cn-hangzhou-h");
	assert_string_equal(
		json_str(json_get(json_path(p, "metadata.labels"),
				  "beta.kubernetes.io/instance-type")),
		"ecs.g6.large");
	assert_string_equal(json_str(json_get(json_path(p, "metadata.labels"),
					      "node.alibabacloud.com/"
					      "instance-charge-type")),
			    "PostPaid");
	taints = json_path(p, "spec.taints");
	assert_int_equal(json_len(taints), 1);
	assert_string_equal(json_path_str(json_at(taints, 0), "key"),
			    "dedicated");
	assert_string_equal(json_path_str(json_at(taints, 0), "timeAdded"),
			    "2024-01-01T00:00:00Z");
	json_free(p);
	buf_done(&b);
	free(v);
	ni_node_free(n);
}

static void spec_patch_noop_and_shutdown(void **st)
{
	struct ni_instance *v;
	struct ni_node *n;
	struct ni_want w = {.labels = 1};
	struct buf b;
	struct json *p;
	size_t cnt;

	(void)st;
	parse_instances(&v, &cnt);
	n = node("{\"metadata\":{\"name\":\"n\",\"resourceVersion\":\"7\","
		 "\"labels\":{"
		 "\"topology.kubernetes.io/region\":\"cn-hangzhou\","
		 "\"failure-domain.beta.kubernetes.io/region\":\"cn-hangzhou\","
		 "\"topology.kubernetes.io/zone\":\"cn-hangzhou-i\","
		 "\"failure-domain.beta.kubernetes.io/zone\":\"cn-hangzhou-i\""
		 "}},\"spec\":{\"providerID\":\"cn-hangzhou.i-bbb2\"}}");
	buf_init(&b, 1 << 20);
	assert_int_equal(ni_spec_patch(n, &v[1], &w, &b), 0);
	assert_int_equal(b.len, 0);
	/* providerID is immutable: never rewritten. */
	w.provider_id = "cn-hangzhou.i-other";
	assert_int_equal(ni_spec_patch(n, &v[1], &w, &b), 0);
	w.shutdown = NI_SHUTDOWN_ADD;
	assert_int_equal(ni_spec_patch(n, &v[1], &w, &b), 1);
	p = patch_json(&b);
	assert_null(json_path(p, "spec.providerID"));
	assert_string_equal(
		json_path_str(json_at(json_path(p, "spec.taints"), 0), "key"),
		WK_TAINT_SHUTDOWN);
	assert_string_equal(
		json_path_str(json_at(json_path(p, "spec.taints"), 0),
			      "effect"),
		"NoSchedule");
	json_free(p);
	/* Removing an absent taint is no change. */
	w.shutdown = NI_SHUTDOWN_REMOVE;
	assert_int_equal(ni_spec_patch(n, &v[1], &w, &b), 0);
	buf_done(&b);
	free(v);
	ni_node_free(n);
}

static void addresses_and_condition(void **st)
{
	struct ni_instance *v;
	struct ni_node *n = node(TAINTED);
	struct ni_want w = {.network_unavailable = 1};
	struct buf b;
	struct json *p;
	const struct json *a;
	char err[128];
	size_t cnt;

	(void)st;
	parse_instances(&v, &cnt);
	buf_init(&b, 1 << 20);
	assert_int_equal(ni_status_patch(n, &v[0], &w, "2024-01-01T00:00:00Z",
					 &b, err, sizeof(err)),
			 1);
	p = patch_json(&b);
	a = json_path(p, "status.addresses");
	assert_int_equal(json_len(a), 4);
	assert_string_equal(json_path_str(json_at(a, 0), "type"), "InternalIP");
	assert_string_equal(json_path_str(json_at(a, 1), "address"),
			    "47.1.2.3");
	assert_string_equal(json_path_str(json_at(a, 2), "address"), "host-1");
	assert_string_equal(json_path_str(json_at(a, 3), "$patch"), "replace");
	assert_string_equal(
		json_path_str(json_at(json_path(p, "status.conditions"), 0),
			      "reason"),
		"NoRouteCreated");
	json_free(p);
	buf_done(&b);
	free(v);
	ni_node_free(n);
}

static void condition_kept_when_false(void **st)
{
	struct ni_instance *v;
	struct ni_node *n;
	struct ni_want w = {.network_unavailable = 1};
	struct buf b;
	char err[128];
	size_t cnt;

	(void)st;
	parse_instances(&v, &cnt);
	n = node("{\"metadata\":{\"name\":\"n\"},\"status\":{\"conditions\":"
		 "[{\"type\":\"NetworkUnavailable\",\"status\":\"False\"}],"
		 "\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
		 "\"192.168.0.10\"},{\"type\":\"ExternalIP\",\"address\":"
		 "\"47.1.2.3\"}]}}");
	buf_init(&b, 1 << 20);
	assert_int_equal(
		ni_status_patch(n, &v[0], &w, "t", &b, err, sizeof(err)), 0);
	buf_done(&b);
	free(v);
	ni_node_free(n);
}

static void addrs_compared_by_type_order(void **st)
{
	const struct ni_addr want[] = {
		{"InternalIP", "10.0.0.1"},
		{"InternalIP", "10.0.0.2"},
		{"ExternalIP", "47.1.2.3"},
		{"Hostname", "host-1"},
	};
	/* kubelet's order across types: the same list */
	const struct ni_addr mixed[] = {
		{"Hostname", "host-1"},
		{"InternalIP", "10.0.0.1"},
		{"ExternalIP", "47.1.2.3"},
		{"InternalIP", "10.0.0.2"},
	};
	/* another node IP: the first InternalIP differs */
	const struct ni_addr swapped[] = {
		{"InternalIP", "10.0.0.2"},
		{"InternalIP", "10.0.0.1"},
		{"ExternalIP", "47.1.2.3"},
		{"Hostname", "host-1"},
	};
	/* what the API server made of a directive against no list */
	const struct ni_addr junk[] = {
		{"InternalIP", "10.0.0.1"},
		{"", ""},
	};
	const struct ni_addr twice[] = {
		{"InternalIP", "10.0.0.1"},
		{"InternalIP", "10.0.0.1"},
		{"ExternalIP", "47.1.2.3"},
		{"Hostname", "host-1"},
	};

	(void)st;
	assert_true(ni_addrs_same(want, 4, want, 4));
	assert_true(ni_addrs_same(mixed, 4, want, 4));
	assert_false(ni_addrs_same(swapped, 4, want, 4));
	assert_false(ni_addrs_same(want, 3, want, 4));
	assert_false(ni_addrs_same(junk, 2, want, 1));
	assert_false(ni_addrs_same(twice, 4, want, 4));
	assert_false(ni_addrs_same(want, 4, twice, 4));
	assert_true(ni_addrs_same(NULL, 0, NULL, 0));
}

/* issue 13: each sync rewrote Nodes first seen without addresses */
static void status_patch_settles(void **st)
{
	struct ni_instance *v;
	struct ni_node *n;
	struct ni_want w = {0};
	struct buf b;
	struct json *p;
	const struct json *a;
	char err[128];
	size_t cnt;

	(void)st;
	parse_instances(&v, &cnt);
	buf_init(&b, 1 << 20);
	/* No list yet: nothing to replace, so no directive to be stored. */
	n = node("{\"metadata\":{\"name\":\"n\"},\"status\":{}}");
	assert_int_equal(
		ni_status_patch(n, &v[0], &w, "t", &b, err, sizeof(err)), 1);
	p = patch_json(&b);
	a = json_path(p, "status.addresses");
	assert_int_equal(json_len(a), 2);
	assert_null(json_path_str(json_at(a, 1), "$patch"));
	assert_string_equal(json_path_str(json_at(a, 1), "address"),
			    "47.1.2.3");
	json_free(p);
	ni_node_free(n);
	/* The stored empty address of such a patch is replaced once. */
	n = node("{\"metadata\":{\"name\":\"n\"},\"status\":{\"addresses\":["
		 "{\"type\":\"InternalIP\",\"address\":\"192.168.0.10\"},"
		 "{\"type\":\"ExternalIP\",\"address\":\"47.1.2.3\"},"
		 "{\"type\":\"\",\"address\":\"\"}]}}");
	assert_int_equal(
		ni_status_patch(n, &v[0], &w, "t", &b, err, sizeof(err)), 1);
	p = patch_json(&b);
	a = json_path(p, "status.addresses");
	assert_int_equal(json_len(a), 3);
	assert_string_equal(json_path_str(json_at(a, 2), "$patch"), "replace");
	json_free(p);
	ni_node_free(n);
	/* What the patch wrote, in any order across types: no change. */
	n = node("{\"metadata\":{\"name\":\"n\"},\"status\":{\"addresses\":["
		 "{\"type\":\"ExternalIP\",\"address\":\"47.1.2.3\"},"
		 "{\"type\":\"InternalIP\",\"address\":\"192.168.0.10\"}]}}");
	assert_int_equal(
		ni_status_patch(n, &v[0], &w, "t", &b, err, sizeof(err)), 0);
	ni_node_free(n);
	buf_done(&b);
	free(v);
}

static void provided_ip(void **st)
{
	struct ni_instance *v;
	struct ni_node *n;
	struct ni_addr *a;
	size_t cnt, na;
	char err[128];

	(void)st;
	parse_instances(&v, &cnt);
	n = node("{\"metadata\":{\"name\":\"n\",\"annotations\":{"
		 "\"alpha.kubernetes.io/provided-node-ip\":\"47.1.2.3\"}}}");
	assert_int_equal(ni_addresses(n, &v[0], &a, &na, err, sizeof(err)), 0);
	assert_int_equal(na, 2);
	assert_string_equal(a[0].address, "47.1.2.3");
	assert_string_equal(a[1].type, "InternalIP");
	free(a);
	ni_node_free(n);
	n = node("{\"metadata\":{\"name\":\"n\",\"annotations\":{"
		 "\"alpha.kubernetes.io/provided-node-ip\":\"10.9.9.9\"}}}");
	assert_int_equal(ni_addresses(n, &v[0], &a, &na, err, sizeof(err)),
			 -EINVAL);
	assert_null(a);
	assert_non_null(strstr(err, "10.9.9.9"));
	ni_node_free(n);
	free(v);
}

/* issue 11: node addresses and instance IPs are read whole, never cut */
static void addresses_read_whole(void **st)
{
	char js[8192], inst[8192];
	size_t i, len = 0, cnt = 0, na;
	struct ni_instance *v = NULL;
	struct ni_node *n;
	struct ni_addr *a;
	struct json *j;
	char next[64], err[160];
	long long total;

	(void)st;
	len += (size_t)snprintf(js + len, sizeof(js) - len,
				"{\"metadata\":{\"name\":\"n\"},"
				"\"status\":{\"addresses\":[");
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(js + len, sizeof(js) - len,
					"%s{\"type\":\"Hostname\","
					"\"address\":\"h%zu\"}",
					i ? "," : "", i);
	snprintf(js + len, sizeof(js) - len, "]}}");
	n = node(js);
	assert_int_equal(n->n_addrs, 40);
	assert_string_equal(n->addrs[39].address, "h39");

	len = (size_t)snprintf(inst, sizeof(inst),
			       "{\"Instances\":{\"Instance\":[{"
			       "\"InstanceId\":\"i-1\",\"VpcAttributes\":{"
			       "\"PrivateIpAddress\":{\"IpAddress\":[");
	for (i = 0; i < 20; i++)
		len += (size_t)snprintf(inst + len, sizeof(inst) - len,
					"%s\"10.0.0.%zu\"", i ? "," : "", i);
	snprintf(inst + len, sizeof(inst) - len, "]}}}]}}");
	j = parse(inst);
	assert_int_equal(
		ni_instances_parse(j, &v, &cnt, next, sizeof(next), &total), 0);
	json_free(j);
	assert_int_equal(v[0].n_private, 20);
	assert_false(v[0].ips_overflow);
	assert_int_equal(ni_addresses(n, &v[0], &a, &na, err, sizeof(err)), 0);
	assert_int_equal(na, 20 + 40); /* every IP, every Hostname */
	assert_string_equal(a[19].address, "10.0.0.19");
	assert_string_equal(a[59].address, "h39");
	free(a);
	/* more than the model holds: refused loudly, nothing cut */
	v[0].ips_overflow = 1;
	assert_int_equal(ni_addresses(n, &v[0], &a, &na, err, sizeof(err)),
			 -E2BIG);
	assert_non_null(strstr(err, "i-1"));
	free(v);
	ni_node_free(n);
}

static void overlong_address_refused(void **st)
{
	char js[1024], big[300];
	struct ni_node *n = NULL;
	struct json *j;

	(void)st;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(js, sizeof(js),
		 "{\"metadata\":{\"name\":\"n\"},\"status\":{\"addresses\":["
		 "{\"type\":\"Hostname\",\"address\":\"%s\"}]}}",
		 big);
	j = parse(js);
	assert_int_equal(ni_node_from_json(j, ni_opts(), &n), -E2BIG);
	assert_null(n);
	json_free(j);
}

/* node-init keeps its cloud labels, the hostname, the nonECSNodeSelector's
 * keys and the predicates' labels of a 30-label Node; of the taints the
 * two it manages (ni_taint keeps all of them for the rewrite). */
static void cache_keeps_what_node_init_reads(void **state)
{
	static struct ni_node_opts o;
	char labels[2048] = "", js[4096];
	struct ni_node *n = NULL;
	struct json *j;
	size_t off = 0;
	int i;

	(void)state;
	for (i = 0; i < 24; i++)
		off += (size_t)snprintf(labels + off, sizeof(labels) - off,
					"\"k%d\":\"v%d\",", i, i);
	snprintf(js, sizeof(js),
		 "{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"4\","
		 "\"labels\":{%s\"kubernetes.io/hostname\":\"i-abc\","
		 "\"topology.kubernetes.io/zone\":\"cn-hangzhou-h\","
		 "\"pool\":\"idc\",\"rack\":\"r1\",\"type\":\"x\","
		 "\"node-role.kubernetes.io/master\":\"\"}},\"spec\":{"
		 "\"taints\":[{\"key\":\"" WK_TAINT_UNINITIALIZED "\","
		 "\"effect\":\"NoSchedule\"},{\"key\":\"" WK_TAINT_SHUTDOWN
		 "\",\"effect\":\"NoSchedule\"},{\"key\":\"dedicated\","
		 "\"effect\":\"NoSchedule\"}]}}",
		 labels);
	j = parse(js);
	ni_node_opts_init(&o, "pool=idc,rack=r1");
	assert_int_equal(ni_node_from_json(j, &o, &n), 0);
	assert_int_equal(n->wk->n_labels, 6);
	assert_null(wk_node_label(n->wk, "k0"));
	assert_string_equal(n->hostname_label, "i-abc");
	assert_string_equal(wk_node_label(n->wk, "topology.kubernetes.io/zone"),
			    "cn-hangzhou-h");
	assert_string_equal(wk_node_label(n->wk, "pool"), "idc");
	assert_string_equal(wk_node_label(n->wk, "rack"), "r1");
	assert_string_equal(wk_node_label(n->wk, "type"), "x");
	assert_true(wk_node_is_master(n->wk));
	assert_string_equal(n->wk->resource_version, "4");
	assert_int_equal(n->wk->n_taints, 2);
	assert_true(wk_node_has_taint(n->wk, WK_TAINT_UNINITIALIZED));
	assert_true(wk_node_has_taint(n->wk, WK_TAINT_SHUTDOWN));
	assert_int_equal(n->n_taints, 3);
	ni_node_free(n);

	/* a selector with more keys than kept apart: every label stays */
	ni_node_opts_init(&o, "a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1");
	assert_int_equal(ni_node_from_json(j, &o, &n), 0);
	assert_int_equal(n->wk->n_labels, 30);
	ni_node_free(n);
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(instances_parsed),
		cmocka_unit_test(classify),
		cmocka_unit_test(addresses_read_whole),
		cmocka_unit_test(overlong_address_refused),
		cmocka_unit_test(discover_by_ip_in_vpc),
		cmocka_unit_test(discover_by_name),
		cmocka_unit_test(spec_patch_initializes),
		cmocka_unit_test(spec_patch_noop_and_shutdown),
		cmocka_unit_test(addresses_and_condition),
		cmocka_unit_test(condition_kept_when_false),
		cmocka_unit_test(provided_ip),
		cmocka_unit_test(addrs_compared_by_type_order),
		cmocka_unit_test(status_patch_settles),
		cmocka_unit_test(cache_keeps_what_node_init_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
