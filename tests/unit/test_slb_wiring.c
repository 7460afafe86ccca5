/* Unit tests: the pure parts of the service-LB worker's wiring: finalizer
 * and status patch bodies, the resync jitter, ClientToken salts and the
 * group naming by Service port. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workers/service_lb/slb_apply.h"
#include "workers/service_lb/slb_ctl.h"
#include "workers/service_lb/slb_svc.h"

static void test_finalizer_bodies(void **st)
{
	char b[256];

	(void)st;
	/* strategic merge of a primitive list: adds, keeps foreign ones */
	assert_int_equal(slb_finalizer_body(1, NULL, NULL, b, sizeof(b)), 0);
	assert_string_equal(
		b, "{\"metadata\":{\"finalizers\":[\"service.k8s.alibaba/"
		   "resources\"]}}");
	assert_int_equal(slb_finalizer_body(0, "", "", b, sizeof(b)), 0);
	assert_string_equal(b, "{\"metadata\":{\"$deleteFromPrimitiveList/"
			       "finalizers\":[\"service.k8s.alibaba/"
			       "resources\"]}}");
	assert_int_equal(slb_finalizer_body(1, NULL, NULL, b, 10), -E2BIG);
	/* preconditions: the UID and version that were judged */
	assert_int_equal(slb_finalizer_body(0, "u-1", "42", b, sizeof(b)), 0);
	assert_string_equal(b, "{\"metadata\":{\"uid\":\"u-1\","
			       "\"resourceVersion\":\"42\","
			       "\"$deleteFromPrimitiveList/finalizers\":["
			       "\"service.k8s.alibaba/resources\"]}}");
	assert_int_equal(slb_finalizer_body(1, "u-1", NULL, b, sizeof(b)), 0);
	assert_string_equal(b, "{\"metadata\":{\"uid\":\"u-1\","
			       "\"finalizers\":[\"service.k8s.alibaba/"
			       "resources\"]}}");
}

static void test_status_bodies(void **st)
{
	char b[256];

	(void)st;
	assert_int_equal(slb_status_body("192.168.0.4", "", b, sizeof(b)), 0);
	assert_string_equal(b, "{\"status\":{\"loadBalancer\":{\"ingress\":"
			       "[{\"ip\":\"192.168.0.4\"}]}}}");
	/* the hostname annotation wins over the address */
	assert_int_equal(
		slb_status_body("1.2.3.4", "a\"b.example", b, sizeof(b)), 0);
	assert_string_equal(b, "{\"status\":{\"loadBalancer\":{\"ingress\":"
			       "[{\"hostname\":\"a\\\"b.example\"}]}}}");
	assert_int_equal(slb_status_body("", "", b, sizeof(b)), 0);
	assert_string_equal(
		b, "{\"status\":{\"loadBalancer\":{\"ingress\":null}}}");
	assert_int_equal(slb_status_body("1.2.3.4", "", b, 20), -E2BIG);
	/* external-ip-type eip: every EIP bound to the CLB */
	assert_int_equal(slb_status_body("47.1.1.1,47.1.1.2", "", b, sizeof(b)),
			 0);
	assert_string_equal(b,
			    "{\"status\":{\"loadBalancer\":{\"ingress\":"
			    "[{\"ip\":\"47.1.1.1\"},{\"ip\":\"47.1.1.2\"}]}}}");
}

static void test_resync_jitter(void **st)
{
	unsigned seed = 7;
	int64_t lo = -1, hi = -1;
	int i;

	(void)st;
	for (i = 0; i < 2000; i++) {
		int64_t t = slb_resync_at(1000, 600000, &seed) - 1000;

		assert_true(t >= 540000 && t <= 660000);
		if (lo < 0 || t < lo)
			lo = t;
		if (t > hi)
			hi = t;
	}
	/* spread over the window, not one instant */
	assert_true(lo < 560000);
	assert_true(hi > 640000);
	assert_int_equal(slb_resync_at(0, 1, &seed), 1);
}

static struct slb_svc *svc(const char *uid)
{
	char t[512];
	struct json *j = NULL;
	struct slb_svc *s = NULL;
	char err[64];

	snprintf(t, sizeof(t),
		 "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
		 "\"uid\":\"%s\"},\"spec\":{\"type\":\"LoadBalancer\","
		 "\"ports\":[{\"port\":80,\"nodePort\":30080}]}}",
		 uid);
	assert_int_equal(json_parse(t, strlen(t), &json_default_limits, &j, err,
				    sizeof(err)),
			 0);
	assert_int_equal(slb_svc_from_json(j, &s), 0);
	json_free(j);
	return s;
}

static void test_client_token_salt(void **st)
{
	struct slb_svc *s = svc("u-1");
	struct slb_want w;
	char a[64], b[64], c[64];

	(void)st;
	memset(&w, 0, sizeof(w));
	w.svc = s;
	snprintf(w.cluster_id, sizeof(w.cluster_id), "c1");
	assert_int_equal(slb_client_token(&w, "41.1", a), 0);
	assert_int_equal(slb_client_token(&w, "41.1", b), 0);
	assert_int_equal(slb_client_token(&w, "57.2", c), 0);
	/* a retry reuses the token; a later CLB of the Service does not */
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_true(strlen(a) <= 64);
	slb_svc_free(s);
}

static void test_group_named_by_service_port(void **st)
{
	struct slb_svc *s = svc("u-2");
	struct slb_annot an;
	struct slb_eps eps = {0};
	struct slb_want *w = NULL;
	struct slb_be_in in;
	char err[256];

	(void)st;
	assert_int_equal(slb_annot_parse(s, NULL, &an, err, sizeof(err)), 0);
	in = (struct slb_be_in){.svc = s,
				.annot = &an,
				.cluster_id = "c1",
				.nodes = NULL,
				.n_nodes = 0,
				.eps = &eps};
	assert_int_equal(slb_model_build(&in, &w, err, sizeof(err)), 0);
	assert_string_equal(w->ports[0].vg_name, "k8s/80/web/shop/c1");
	assert_string_equal(w->ports[0].ldesc, "k8s/80/web/shop/c1");
	slb_model_free(w);
	slb_svc_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finalizer_bodies),
		cmocka_unit_test(test_status_bodies),
		cmocka_unit_test(test_resync_jitter),
		cmocka_unit_test(test_client_token_salt),
		cmocka_unit_test(test_group_named_by_service_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
