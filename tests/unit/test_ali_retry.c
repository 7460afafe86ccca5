/* Retry decisions, error-body parsing, tokens, clock skew, pacing and
 * redaction of the Alibaba Cloud client, tested as pure functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alicloud/ali_calllog.h"
#include "alicloud/ali_client.h"
#include "alicloud/ali_cred.h"
#include "alicloud/ali_error.h"
#include "alicloud/ali_rate.h"
#include "alicloud/ali_retry.h"
#include "alicloud/ali_slb.h"

static enum ali_verdict api(int status, const char *code, enum ali_idem idem)
{
	struct ali_outcome o = {.http_status = status, .code = code};

	return ali_retry_decide(&o, idem, 0);
}

static void test_retryable_codes(void **state)
{
	static const char *const yes[] = {"Throttling",
					  "Throttling.User",
					  "Throttling.Api",
					  "ServiceUnavailable",
					  "InternalError",
					  "SystemBusy",
					  "OperationBusy",
					  "ServiceIsConfiguring",
					  "VServerGroupProcessing",
					  "BackendServer.configuring",
					  "TaskConflict",
					  "IncorrectRouteEntryStatus",
					  "InvalidStatus.RouteEntry",
					  NULL};
	static const char *const no[] = {
		"SignatureDoesNotMatch",   "InvalidAccessKeyId.NotFound",
		"InvalidParameter",	   "MissingParameter",
		"Forbidden.RAM",	   "InvalidLoadBalancerId.NotFound",
		"ListenerAlreadyExists",   "TooManyBackendServers",
		"InvalidTimeStamp.Format", NULL};
	size_t i;

	(void)state;
	for (i = 0; yes[i]; i++)
		assert_true(ali_code_retryable(yes[i]));
	for (i = 0; no[i]; i++) {
		assert_false(ali_code_retryable(no[i]));
		assert_int_equal(api(400, no[i], ALI_IDEM_SAFE), ALI_FAIL);
	}
	assert_int_equal(api(400, "Throttling.User", ALI_IDEM_NONE),
			 ALI_RETRY_THROTTLED);
	assert_int_equal(api(449, "SystemBusy", ALI_IDEM_SAFE), ALI_RETRY);
	assert_int_equal(api(409, "BackendServer.configuring", ALI_IDEM_NONE),
			 ALI_RETRY);
}

static void test_5xx_and_idempotency(void **state)
{
	(void)state;
	assert_int_equal(api(500, "InternalError", ALI_IDEM_SAFE), ALI_RETRY);
	assert_int_equal(api(503, "ServiceUnavailable", ALI_IDEM_TOKEN),
			 ALI_RETRY);
	/* A create without ClientToken may have been committed. */
	assert_int_equal(api(500, "InternalError", ALI_IDEM_NONE),
			 ALI_AMBIGUOUS);
	assert_int_equal(api(502, NULL, ALI_IDEM_NONE), ALI_AMBIGUOUS);
}

static void test_transport(void **state)
{
	struct ali_outcome o = {.transport_err = -ETIMEDOUT, .sent = 1};

	(void)state;
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_NONE, 0), ALI_AMBIGUOUS);
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_TOKEN, 0), ALI_RETRY);
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_SAFE, 0), ALI_RETRY);
	o.sent = 0; /* connection refused: nothing reached the server */
	o.transport_err = -ECONNREFUSED;
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_NONE, 0), ALI_RETRY);
}

static void test_skew_and_refresh_once(void **state)
{
	struct ali_outcome o = {.http_status = 400,
				.code = "InvalidTimeStamp.Expired"};

	(void)state;
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_NONE, 0),
			 ALI_RETRY_SKEW);
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_NONE, 1), ALI_FAIL);
	o.code = "InvalidSecurityToken.Expired";
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_SAFE, 0),
			 ALI_RETRY_REFRESH);
	assert_int_equal(ali_retry_decide(&o, ALI_IDEM_SAFE, 1), ALI_FAIL);
}

static void test_action_classes(void **state)
{
	struct ali_params p;

	(void)state;
	ali_params_init(&p);
	assert_false(ali_action_mutating("DescribeLoadBalancers"));
	assert_false(ali_action_mutating("ListTagResources"));
	assert_true(ali_action_mutating("CreateVServerGroup"));
	assert_true(ali_action_mutating("SetLoadBalancerName"));
	assert_int_equal(ali_action_idem("CreateVServerGroup", &p),
			 ALI_IDEM_NONE);
	assert_int_equal(ali_action_idem("DeleteVServerGroup", &p),
			 ALI_IDEM_SAFE);
	ali_params_set(&p, "ClientToken", "t");
	assert_int_equal(ali_action_idem("CreateLoadBalancer", &p),
			 ALI_IDEM_TOKEN);
	ali_params_done(&p);
}

static void test_client_token(void **state)
{
	const char *a[] = {"cluster", "svc-uid", "80"};
	const char *b[] = {"cluster", "svc-ui", "d80"};
	char t1[64], t2[64], t3[64];

	(void)state;
	assert_int_equal(ali_client_token(a, 3, t1), 0);
	assert_int_equal(ali_client_token(a, 3, t2), 0);
	assert_int_equal(ali_client_token(b, 3, t3), 0);
	assert_string_equal(t1, t2);
	assert_string_not_equal(t1, t3);
	assert_int_equal(strlen(t1), 32);
}

static void test_skew_from_date(void **state)
{
	int64_t skew = 0;

	(void)state;
	/* 2024-01-02T03:04:05Z = 1704164645 */
	assert_int_equal(ali_skew_from_date("Tue, 02 Jan 2024 03:04:05 GMT",
					    1704164645000LL - 3600000, &skew),
			 0);
	assert_int_equal(skew, 3600000);
	assert_int_equal(ali_skew_from_date("garbage", 0, &skew), -EINVAL);
	assert_int_equal(ali_skew_from_date("", 0, &skew), -EINVAL);
}

static void test_backoff(void **state)
{
	uint32_t r;

	(void)state;
	for (r = 0; r < 1000; r += 37) {
		assert_true(ali_backoff_ms(0, 100, 5000, r) <= 100);
		assert_true(ali_backoff_ms(3, 100, 5000, r) <= 800);
		assert_true(ali_backoff_ms(30, 100, 5000, r) <= 5000);
	}
	assert_int_equal(ali_backoff_ms(3, 100, 5000, 800), 800);
}

static void test_error_parse(void **state)
{
	static const char body[] =
		"{\"RequestId\":\"7B7AB375\",\"HostId\":\"slb.aliyuncs.com\","
		"\"Code\":\"OperationDenied.DeleteProtectionIsOn\","
		"\"Message\":\"The loadbalancer can't be deleted\"}";
	struct ali_error e;

	(void)state;
	ali_error_parse(400, body, strlen(body), &e);
	assert_int_equal(e.http_status, 400);
	assert_string_equal(e.code, "OperationDenied.DeleteProtectionIsOn");
	assert_string_equal(e.request_id, "7B7AB375");
	assert_string_equal(e.message, "The loadbalancer can't be deleted");
	assert_true(ali_error_is(&e, "OperationDenied.DeleteProtectionIsOn"));
	ali_error_parse(502, "<html>bad\ngateway</html>", 24, &e);
	assert_string_equal(e.code, "HTTP502");
	assert_null(strchr(e.message, '\n'));
	ali_error_parse(500, NULL, 0, &e);
	assert_string_equal(e.code, "HTTP500");
}

static void test_error_strips_string_to_sign(void **state)
{
	static const char body[] =
		"{\"Code\":\"SignatureDoesNotMatch\",\"Message\":\"Specified "
		"signature is not matched with our calculation. server string "
		"to sign is:POST&%2F&SecurityToken%3DCAISsecret\"}";
	struct ali_error e;

	(void)state;
	ali_error_parse(400, body, strlen(body), &e);
	assert_string_equal(e.code, "SignatureDoesNotMatch");
	assert_null(strstr(e.message, "CAISsecret"));
	assert_non_null(strstr(e.message, "not matched"));
	snprintf(e.message, sizeof(e.message), "key mysecret1 leaked");
	ali_error_redact(&e, "mysecret1");
	assert_string_equal(e.message, "key *** leaked");
}

static void test_redacted_params(void **state)
{
	struct ali_params p;
	struct buf b;

	(void)state;
	ali_params_init(&p);
	ali_params_set(&p, "AccessKeyId", "LTAI5tSecretish");
	ali_params_set(&p, "SecurityToken", "CAIStoken");
	ali_params_set(&p, "Signature", "sig=");
	ali_params_set(&p, "LoadBalancerId", "lb-1");
	buf_init(&b, 4096);
	assert_int_equal(ali_params_redacted(&p, &b), 0);
	assert_string_equal(b.data, "AccessKeyId=LTAI*** LoadBalancerId=lb-1");
	buf_done(&b);
	ali_params_done(&p);
}

static void test_bucket(void **state)
{
	struct ali_bucket b;

	(void)state;
	ali_bucket_init(&b, 2, 0);
	assert_int_equal(ali_bucket_take(&b, 0), 0);
	assert_int_equal(ali_bucket_take(&b, 0), 0);
	assert_true(ali_bucket_take(&b, 0) > 0);
	assert_int_equal(ali_bucket_take(&b, 500), 0);
	assert_true(ali_bucket_take(&b, 600) > 0);
	ali_bucket_init(&b, -1, 0);
	assert_int_equal(ali_bucket_take(&b, 0), 0);
}

static void test_endpoint(void **state)
{
	char h[256];

	(void)state;
	assert_int_equal(ali_endpoint_host(ALI_SLB, "cn-beijing", CFG_NET_VPC,
					   NULL, h, sizeof(h)),
			 0);
	assert_string_equal(h, "slb-vpc.cn-beijing.aliyuncs.com");
	assert_int_equal(ali_endpoint_host(ALI_ECS, "cn-beijing",
					   CFG_NET_PUBLIC, "", h, sizeof(h)),
			 0);
	assert_string_equal(h, "ecs.cn-beijing.aliyuncs.com");
	assert_int_equal(ali_endpoint_host(ALI_VPC, "x", CFG_NET_VPC,
					   "http://127.0.0.1:8080/", h,
					   sizeof(h)),
			 0);
	assert_string_equal(h, "127.0.0.1:8080");
	assert_int_equal(
		ali_endpoint_host(ALI_VPC, "", CFG_NET_VPC, NULL, h, sizeof(h)),
		-EINVAL);
}

static void test_role_json(void **state)
{
	static const char ok[] =
		"{\"AccessKeyId\":\"STS.x\",\"AccessKeySecret\":\"s\","
		"\"Expiration\":\"2024-01-02T03:04:05Z\",\"SecurityToken\":"
		"\"tok\",\"Code\":\"Success\"}";
	static const char bad[] = "{\"Code\":\"Failed\"}";
	struct ali_credential c;

	(void)state;
	assert_int_equal(ali_cred_parse_role(ok, strlen(ok), &c), 0);
	assert_string_equal(c.id, "STS.x");
	assert_string_equal(c.token, "tok");
	assert_int_equal(c.expire_ms, 1704164645000LL);
	assert_int_equal(ali_cred_parse_role(bad, strlen(bad), &c), -EACCES);
	assert_int_equal(ali_cred_parse_role("{", 1, &c), -EBADMSG);
}

static void test_listener_params(void **state)
{
	struct ali_listener l;
	struct ali_params p;

	(void)state;
	ali_listener_init(&l);
	snprintf(l.lb_id, sizeof(l.lb_id), "lb-1");
	snprintf(l.protocol, sizeof(l.protocol), "tcp");
	l.port = 80;
	l.health_check_interval = 3;
	l.bandwidth = -1;
	snprintf(l.vserver_group_id, sizeof(l.vserver_group_id), "rsp-1");
	ali_params_init(&p);
	assert_int_equal(ali_slb_listener_params(&l, 1, &p), 0);
	assert_string_equal(ali_params_get(&p, "healthCheckInterval"), "3");
	assert_string_equal(ali_params_get(&p, "Bandwidth"), "-1");
	assert_null(ali_params_get(&p, "VServerGroup"));
	assert_null(ali_params_get(&p, "PersistenceTimeout"));
	ali_params_done(&p);
	ali_params_init(&p);
	assert_int_equal(ali_slb_listener_params(&l, 0, &p), 0);
	assert_string_equal(ali_params_get(&p, "HealthCheckInterval"), "3");
	assert_string_equal(ali_params_get(&p, "VServerGroup"), "on");
	ali_params_done(&p);
}

static void test_backends_json(void **state)
{
	struct ali_backend b[2] = {
		{.server_id = "i-1", .port = 80, .weight = 100},
		{.server_id = "eni-\"x",
		 .port = 81,
		 .weight = 0,
		 .type = "eni",
		 .server_ip = "10.0.0.1"},
	};
	struct buf out;

	(void)state;
	buf_init(&out, 4096);
	assert_int_equal(ali_backends_json(b, 2, &out), 0);
	assert_string_equal(
		out.data,
		"[{\"ServerId\":\"i-1\",\"Port\":80,\"Weight\":100,\"Type\":"
		"\"ecs\"},{\"ServerId\":\"eni-\\\"x\",\"Port\":81,\"Weight\":0,"
		"\"Type\":\"eni\",\"ServerIp\":\"10.0.0.1\"}]");
	buf_done(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retryable_codes),
		cmocka_unit_test(test_5xx_and_idempotency),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_skew_and_refresh_once),
		cmocka_unit_test(test_action_classes),
		cmocka_unit_test(test_client_token),
		cmocka_unit_test(test_skew_from_date),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_error_parse),
		cmocka_unit_test(test_error_strips_string_to_sign),
		cmocka_unit_test(test_redacted_params),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_role_json),
		cmocka_unit_test(test_listener_params),
		cmocka_unit_test(test_backends_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
