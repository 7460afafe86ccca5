/* Unit tests: Service extraction, qualification and annotation parsing of
 * the service-LB worker (pure logic, JSON fixtures). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "workers/service_lb/slb_annot.h"
#include "workers/service_lb/slb_endpoints.h"
#include "workers/service_lb/slb_svc.h"

#define PFX "service.beta.kubernetes.io/alibaba-cloud-"
#define LEG "service.beta.kubernetes.io/alicloud-"

static struct slb_svc *svc_json(const char *annots, const char *spec_extra)
{
	char text[8192], err[128];
	struct json *j = NULL;
	struct slb_svc *s = NULL;

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
		 "\"uid\":\"1234-abcd-5678\",\"annotations\":{%s}},"
		 "\"spec\":{\"type\":\"LoadBalancer\",\"ports\":["
		 "{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,"
		 "\"targetPort\":8080,\"nodePort\":30080},"
		 "{\"name\":\"https\",\"protocol\":\"TCP\",\"port\":443,"
		 "\"targetPort\":\"web\",\"nodePort\":30443}]%s}}",
		 annots, spec_extra);
	assert_int_equal(json_parse(text, strlen(text), &json_default_limits,
				    &j, err, sizeof(err)),
			 0);
	assert_int_equal(slb_svc_from_json(j, &s), 0);
	json_free(j);
	return s;
}

static int parse(const char *annots, struct slb_annot *a, char *err)
{
	struct slb_svc *s = svc_json(annots, "");
	int r = slb_annot_parse(s, NULL, a, err, 256);

	slb_svc_free(s);
	return r;
}

static void test_svc_fields(void **st)
{
	struct slb_svc *s = svc_json("", ",\"loadBalancerIP\":\"10.0.0.9\"");
	char name[33];

	(void)st;
	assert_string_equal(s->ns, "shop");
	assert_int_equal(s->n_ports, 2);
	assert_int_equal(s->ports[0].target_port, 8080);
	assert_string_equal(s->ports[1].target_name, "web");
	assert_int_equal(s->ports[1].node_port, 30443);
	assert_true(slb_svc_wants_lb(s));
	assert_false(slb_svc_needs_cleanup(s));
	slb_svc_default_name(s, name);
	assert_string_equal(name, "a1234abcd5678");
	slb_svc_free(s);
}

/* A Service with n ports (port 1..n; port bad_at, if > 0, is 0 and so
 * refused), parsed. */
static struct slb_svc *svc_ports(int n, int bad_at)
{
	char text[16384], err[128];
	struct json *j = NULL;
	struct slb_svc *s = NULL;
	size_t l;
	int i;

	l = (size_t)snprintf(text, sizeof(text),
			     "{\"metadata\":{\"name\":\"many\"},\"spec\":"
			     "{\"type\":\"LoadBalancer\",\"ports\":[");
	for (i = 1; i <= n; i++)
		l += (size_t)snprintf(text + l, sizeof(text) - l,
				      "%s{\"name\":\"p%d\",\"port\":%d,"
				      "\"nodePort\":%d}",
				      i > 1 ? "," : "", i, i == bad_at ? 0 : i,
				      30000 + i);
	snprintf(text + l, sizeof(text) - l, "]}}");
	assert_int_equal(json_parse(text, strlen(text), &json_default_limits,
				    &j, err, sizeof(err)),
			 0);
	assert_int_equal(slb_svc_from_json(j, &s), 0);
	json_free(j);
	return s;
}

/* ports is sized to the Service (ASan checks every index used), with the
 * same bound and refusals as before. */
static void test_svc_port_counts(void **st)
{
	struct slb_svc *s;

	(void)st;
	s = svc_ports(0, 0);
	assert_int_equal(s->n_ports, 0);
	assert_false(s->too_many_ports);
	slb_svc_free(s);

	s = svc_ports(SLB_MAX_PORTS, 0);
	assert_int_equal(s->n_ports, SLB_MAX_PORTS);
	assert_false(s->too_many_ports);
	assert_int_equal(s->ports[SLB_MAX_PORTS - 1].port, SLB_MAX_PORTS);
	assert_int_equal(s->ports[SLB_MAX_PORTS - 1].node_port,
			 30000 + SLB_MAX_PORTS);
	slb_svc_free(s);

	s = svc_ports(SLB_MAX_PORTS + 1, 0);
	assert_int_equal(s->n_ports, SLB_MAX_PORTS);
	assert_true(s->too_many_ports);
	slb_svc_free(s);

	/* a refused port leaves its slot to the next one */
	s = svc_ports(3, 2);
	assert_int_equal(s->n_ports, 2);
	assert_int_equal(s->ports[0].port, 1);
	assert_int_equal(s->ports[1].port, 3);
	assert_string_equal(s->ports[1].name, "p3");
	slb_svc_free(s);
}

/* A kept endpoint list holds no spare capacity; an empty one no block. */
static void test_eps_trim(void **st)
{
	struct slb_eps e = {0};
	struct slb_ep ep;
	int i;

	(void)st;
	memset(&ep, 0, sizeof(ep));
	for (i = 0; i < 3; i++) {
		ep.port = 80 + i;
		assert_int_equal(slb_eps_push(&e, &ep), 0);
	}
	assert_true(e.cap > e.n);
	slb_eps_trim(&e);
	assert_int_equal(e.cap, 3);
	assert_int_equal(e.v[2].port, 82);
	assert_int_equal(slb_eps_push(&e, &ep), 0); /* still growable */
	assert_int_equal(e.n, 4);
	slb_eps_done(&e);
	slb_eps_trim(&e);
	assert_null(e.v);
	assert_int_equal(e.cap, 0);
}

/* JSON fixture: spec.loadBalancerClass is dropped by a 1.20 server, so it
 * is only tested here. */
static void test_svc_class(void **st)
{
	struct slb_svc *s = svc_json("", ",\"loadBalancerClass\":\"x/y\"");

	(void)st;
	assert_false(slb_svc_wants_lb(s));
	slb_svc_free(s);
	s = svc_json("\"service.beta.kubernetes.io/class\":\"other\"", "");
	assert_false(slb_svc_wants_lb(s));
	slb_svc_free(s);
	/* tunnel Services belong to another controller, as in the Go CCM */
	s = svc_json("\"" PFX "loadbalancer-tunnel-type\":\"tunnel\"", "");
	assert_false(slb_svc_wants_lb(s));
	slb_svc_free(s);
}

static void test_defaults(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(parse("", &a, err), 0);
	assert_false(a.intranet);
	assert_int_equal(a.delete_protection, 1);
	assert_int_equal(a.weight, -1);
	assert_int_equal(a.default_weight, 100);
	assert_false(a.eni);
}

static void test_both_prefixes(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(parse("\"" LEG
			       "loadbalancer-address-type\":\"intranet\"",
			       &a, err),
			 0);
	assert_true(a.intranet);
	assert_int_equal(parse("\"" LEG "loadbalancer-address-type\":"
			       "\"intranet\",\"" PFX
			       "loadbalancer-address-type\":\"internet\"",
			       &a, err),
			 0);
	assert_false(a.intranet);
}

static void test_protocol_port(void **st)
{
	struct slb_annot a;
	struct slb_svc *s;
	char err[256];

	(void)st;
	s = svc_json("\"" PFX "loadbalancer-protocol-port\":\"https:443,"
		     "http:80\",\"" PFX "loadbalancer-cert-id\":\"c-1\"",
		     "");
	assert_int_equal(slb_annot_parse(s, NULL, &a, err, sizeof(err)), 0);
	assert_int_equal(slb_annot_port_proto(&a, &s->ports[0]), SLB_HTTP);
	assert_int_equal(slb_annot_port_proto(&a, &s->ports[1]), SLB_HTTPS);
	slb_svc_free(s);
	assert_int_equal(parse("\"" PFX "loadbalancer-protocol-port\":"
			       "\"ftp:80\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, PFX "loadbalancer-protocol-port"));
	assert_non_null(strstr(err, "unknown protocol"));
	assert_int_equal(parse("\"" PFX "loadbalancer-protocol-port\":"
			       "\"http:81\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "not in the Service"));
	assert_int_equal(parse("\"" PFX "loadbalancer-protocol-port\":"
			       "\"https:443\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "cert-id"));
}

static void test_bad_values(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(
		parse("\"" LEG "loadbalancer-weight\":\"abc\"", &a, err),
		-EINVAL);
	assert_non_null(strstr(err, LEG "loadbalancer-weight"));
	assert_non_null(strstr(err, "\"abc\""));
	assert_int_equal(
		parse("\"" PFX "loadbalancer-address-type\":\"x\"", &a, err),
		-EINVAL);
	assert_int_equal(parse("\"" PFX
			       "loadbalancer-health-check-interval\":\"99\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "1-50"));
	assert_int_equal(parse("\"service.beta.kubernetes.io/backend-type\":"
			       "\"vm\"",
			       &a, err),
			 -EINVAL);
	assert_int_equal(
		parse("\"" PFX "loadbalancer-backend-label\":\"a\"", &a, err),
		-EINVAL);
}

static void test_vgroup_port(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(parse("\"" PFX "loadbalancer-id\":\"lb-1\",\"" PFX
			       "loadbalancer-vgroup-port\":\"rsp-a:80,"
			       "rsp-b:443\",\"" PFX
			       "loadbalancer-weight\":\"60\"",
			       &a, err),
			 0);
	assert_string_equal(slb_annot_vg_for(&a, 443), "rsp-b");
	assert_int_equal(a.weight, 60);
	assert_int_equal(parse("\"" PFX "loadbalancer-id\":\"lb-1\",\"" PFX
			       "loadbalancer-vgroup-port\":\"rsp-a80\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "rsp-<id>:<port>"));
	assert_int_equal(parse("\"" PFX "loadbalancer-id\":\"lb-1\",\"" PFX
			       "loadbalancer-vgroup-port\":\"rsp-a:81\"",
			       &a, err),
			 -EINVAL);
	assert_int_equal(parse("\"" PFX "loadbalancer-vgroup-port\":"
			       "\"rsp-a:80\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "loadbalancer-id"));
}

static void test_lists(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(parse("\"" PFX "loadbalancer-backend-label\":"
			       "\"a=1,b=2\",\"" PFX
			       "loadbalancer-additional-resource-tags\":"
			       "\"K1=V1,K2=,K3\",\"" PFX
			       "loadbalancer-scheduler\":\"wrr\",\"" PFX
			       "loadbalancer-remove-unscheduled-backend\":"
			       "\"on\"",
			       &a, err),
			 0);
	assert_int_equal(a.n_backend_label, 2);
	assert_string_equal(a.backend_label[1].val, "2");
	assert_int_equal(a.n_tags, 3);
	assert_string_equal(a.tags[2].key, "K3");
	assert_int_equal(a.n_lparams, 1);
	assert_string_equal(a.lparams[0].key, "Scheduler");
	assert_true(a.remove_unscheduled);
}

/* JSON fixtures: discovery.k8s.io/v1 is not served by the 1.20 test
 * server, so the v1 parser is tested here only. */
static void test_slice_v1(void **st)
{
	const char *t =
		"{\"addressType\":\"IPv4\",\"endpoints\":["
		"{\"addresses\":[\"10.0.0.1\"],\"conditions\":{\"ready\":"
		"true},\"nodeName\":\"n1\"},"
		"{\"addresses\":[\"10.0.0.2\"],\"conditions\":{\"ready\":"
		"false},\"nodeName\":\"n2\"},"
		"{\"addresses\":[\"10.0.0.3\"],\"nodeName\":\"n3\"}],"
		"\"ports\":[{\"name\":\"http\",\"port\":8080}]}";
	struct slb_eps e = {0};
	struct json *j = NULL;
	char err[64];

	(void)st;
	assert_int_equal(json_parse(t, strlen(t), &json_default_limits, &j, err,
				    sizeof(err)),
			 0);
	assert_int_equal(slb_eps_from_slice(j, &e), 0);
	assert_int_equal(e.n, 3);
	assert_true(e.v[0].ready);
	assert_false(e.v[1].ready);
	assert_true(e.v[2].ready);
	assert_string_equal(e.v[2].node, "n3");
	assert_int_equal(e.v[0].port, 8080);
	slb_eps_done(&e);
	json_free(j);
}

static void test_endpoints_v1(void **st)
{
	const char *t = "{\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\","
			"\"nodeName\":\"n1\"}],\"notReadyAddresses\":[{\"ip\":"
			"\"10.0.0.2\"}],\"ports\":[{\"name\":\"a\",\"port\":1},"
			"{\"name\":\"b\",\"port\":2}]}]}";
	struct slb_eps e = {0};
	struct json *j = NULL;
	char err[64];

	(void)st;
	assert_int_equal(json_parse(t, strlen(t), &json_default_limits, &j, err,
				    sizeof(err)),
			 0);
	assert_int_equal(slb_eps_from_endpoints(j, &e), 0);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.v[1].port_name, "b");
	assert_false(e.v[3].ready);
	slb_eps_done(&e);
	json_free(j);
}

/* Go CCM keys of issue 14: forward-port, proxy-protocol, external-ip-type,
 * network-type, backend-ip-version. */
static void test_forward_port(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(parse("\"" PFX "loadbalancer-protocol-port\":"
			       "\"http:80,https:443\",\"" PFX
			       "loadbalancer-cert-id\":\"c1\",\"" PFX
			       "loadbalancer-forward-port\":\"80:443\"",
			       &a, err),
			 0);
	assert_int_equal(a.n_fwd, 1);
	assert_int_equal(slb_annot_fwd_for(&a, 80), 443);
	assert_int_equal(slb_annot_fwd_for(&a, 443), 0);
	/* format, direction and protocol errors name key, value, form */
	assert_int_equal(parse("\"" PFX "loadbalancer-protocol-port\":"
			       "\"http:80,https:443\",\"" PFX
			       "loadbalancer-cert-id\":\"c1\",\"" PFX
			       "loadbalancer-forward-port\":\"80-443\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, PFX "loadbalancer-forward-port"));
	assert_non_null(strstr(err, "\"80-443\""));
	assert_non_null(strstr(err, "<http port>:<https port>"));
	assert_int_equal(parse("\"" PFX "loadbalancer-protocol-port\":"
			       "\"http:80,https:443\",\"" PFX
			       "loadbalancer-cert-id\":\"c1\",\"" PFX
			       "loadbalancer-forward-port\":\"443:80\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "whose listener is http"));
	assert_int_equal(parse("\"" PFX
			       "loadbalancer-forward-port\":\"80:443\"",
			       &a, err),
			 -EINVAL); /* both ports are tcp listeners */
	assert_int_equal(
		parse("\"" PFX "loadbalancer-forward-port\":\"\"", &a, err),
		-EINVAL);
}

static void test_more_keys(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(
		parse("\"" PFX "loadbalancer-proxy-protocol\":\"on\","
		      "\"" PFX "loadbalancer-external-ip-type\":\"eip\","
		      "\"" PFX "loadbalancer-network-type\":\"classic\","
		      "\"" PFX "loadbalancer-backend-ip-version\":"
		      "\"ipv4\"",
		      &a, err),
		0);
	assert_int_equal(a.n_lparams, 1);
	assert_string_equal(a.lparams[0].key, "ProxyProtocolV2Enabled");
	assert_string_equal(a.lparams[0].val, "true");
	assert_int_equal(a.lparams[0].protos, SLB_LP_TCP | SLB_LP_UDP);
	assert_true(a.eip_status);
	assert_string_equal(a.network_type, "classic");
	assert_string_equal(a.backend_ip_version, "ipv4");
	assert_int_equal(parse("\"" PFX "loadbalancer-proxy-protocol\":\"off\"",
			       &a, err),
			 0);
	assert_string_equal(a.lparams[0].val, "false");
	assert_int_equal(parse("\"" PFX "loadbalancer-external-ip-type\":"
			       "\"fip\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "must be \"eip\""));
	assert_int_equal(parse("\"" PFX "loadbalancer-network-type\":"
			       "\"alibaba\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "\"classic\" or \"vpc\""));
	assert_int_equal(parse("\"" PFX "loadbalancer-network-type\":"
			       "\"classic\",\"" PFX
			       "loadbalancer-vswitch-id\":\"vsw-1\"",
			       &a, err),
			 -EINVAL);
	assert_int_equal(parse("\"" PFX "loadbalancer-backend-ip-version\":"
			       "\"ipv7\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "\"ipv4\" or \"ipv6\""));
	assert_int_equal(
		parse("\"" PFX "loadbalancer-proxy-protocol\":\"1\"", &a, err),
		-EINVAL);
	/* enum messages list what is allowed */
	assert_int_equal(
		parse("\"" PFX "loadbalancer-scheduler\":\"x\"", &a, err),
		-EINVAL);
	assert_non_null(strstr(err, "must be one of rr, wrr, wlc, sch"));
}

/* backend-ip-version ipv6: IPv6 pod ENI backends, only on an IPv6 CLB
 * and never with node (ecs) backends. */
static void test_backend_ipv6(void **st)
{
	struct slb_annot a;
	char err[256];

	(void)st;
	assert_int_equal(parse("\"" PFX "loadbalancer-ip-version\":\"ipv6\","
			       "\"" PFX "loadbalancer-backend-ip-version\":"
			       "\"ipv6\"",
			       &a, err),
			 0);
	assert_string_equal(a.backend_ip_version, "ipv6");
	assert_true(a.eni);
	assert_int_equal(parse("\"" PFX "loadbalancer-backend-ip-version\":"
			       "\"ipv6\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, PFX "loadbalancer-backend-ip-version"));
	assert_non_null(strstr(err, "\"ipv6\""));
	assert_non_null(strstr(err, "loadbalancer-ip-version: ipv6"));
	assert_int_equal(parse("\"" PFX "loadbalancer-ip-version\":\"ipv4\","
			       "\"" PFX "loadbalancer-backend-ip-version\":"
			       "\"ipv6\"",
			       &a, err),
			 -EINVAL);
	assert_int_equal(parse("\"" PFX "loadbalancer-ip-version\":\"ipv6\","
			       "\"" PFX "loadbalancer-backend-ip-version\":"
			       "\"ipv6\",\"service.beta.kubernetes.io/"
			       "backend-type\":\"ecs\"",
			       &a, err),
			 -EINVAL);
	assert_non_null(strstr(err, "backend-type ecs"));
	/* ipv4 keeps the backend-type choice */
	assert_int_equal(parse("\"" PFX "loadbalancer-ip-version\":\"ipv6\","
			       "\"" PFX "loadbalancer-backend-ip-version\":"
			       "\"ipv4\"",
			       &a, err),
			 0);
	assert_false(a.eni);
}

/* An IPv6 EndpointSlice yields its IPv6 addresses in canonical form,
 * the one the cloud reports backends in. */
static void test_slice_ipv6(void **st)
{
	const char *t = "{\"addressType\":\"IPv6\",\"endpoints\":[{"
			"\"addresses\":[\"2408:4005:03A0:0001:0:0:0:100\"],"
			"\"nodeName\":\"n1\"}],\"ports\":[{\"name\":"
			"\"a\",\"port\":8080}]}";
	struct json *j = NULL;
	struct slb_eps e = {0};
	char jerr[128];

	(void)st;
	assert_int_equal(json_parse(t, strlen(t), &json_default_limits, &j,
				    jerr, sizeof(jerr)),
			 0);
	assert_int_equal(slb_eps_from_slice(j, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].ip, "2408:4005:3a0:1::100");
	assert_int_equal(e.v[0].port, 8080);
	slb_eps_done(&e);
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_svc_fields),
		cmocka_unit_test(test_svc_port_counts),
		cmocka_unit_test(test_eps_trim),
		cmocka_unit_test(test_svc_class),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_both_prefixes),
		cmocka_unit_test(test_protocol_port),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_vgroup_port),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_slice_v1),
		cmocka_unit_test(test_endpoints_v1),
		cmocka_unit_test(test_forward_port),
		cmocka_unit_test(test_more_keys),
		cmocka_unit_test(test_backend_ipv6),
		cmocka_unit_test(test_slice_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
