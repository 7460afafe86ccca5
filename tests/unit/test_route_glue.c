/* Route worker glue that needs no network: how cloud answers are read
 * and the NetworkUnavailable patch body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "alicloud/ali_client.h"
#include "lib/json.h"
#include "workers/route/rt_ctl.h"

static void test_row_results(void **state)
{
	(void)state;
	assert_int_equal(rt_row_result(NULL, 0), RT_RES_OK);
	assert_int_equal(
		rt_row_result("VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE", 0),
		RT_RES_OK);
	assert_int_equal(rt_row_result("InvalidCIDRBlock.Duplicate", 0),
			 RT_RES_OK);
	assert_int_equal(rt_row_result("VPC_ROUTER_ENTRY_NOT_EXIST", 1),
			 RT_RES_OK);
	assert_int_equal(rt_row_result("InvalidRouteEntry.NotFound", 1),
			 RT_RES_OK);
	/* not found on create and duplicate on delete are real failures */
	assert_int_equal(rt_row_result("InvalidRouteEntry.NotFound", 0),
			 RT_RES_FAIL);
	assert_int_equal(rt_row_result("InvalidCIDRBlock.Duplicate", 1),
			 RT_RES_FAIL);
	assert_int_equal(rt_row_result("TaskConflict", 0), RT_RES_BUSY);
	assert_int_equal(rt_row_result("IncorrectRouteEntryStatus", 1),
			 RT_RES_BUSY);
	assert_int_equal(rt_row_result("VPC_ROUTE_ENTRY_STATUS_ERROR", 1),
			 RT_RES_BUSY);
	assert_int_equal(rt_row_result("Throttling.User", 0), RT_RES_BUSY);
	assert_int_equal(rt_row_result("QuotaExceeded", 0), RT_RES_FAIL);
	assert_int_equal(rt_row_result("InvalidNextHop.NotFound", 0),
			 RT_RES_FAIL);
}

static void test_call_results(void **state)
{
	struct ali_error e;

	(void)state;
	ali_error_clear(&e);
	assert_int_equal(rt_result_of(0, &e), RT_RES_OK);
	assert_int_equal(rt_result_of(-EPERM, &e), RT_RES_DRY_RUN);
	ali_error_set(&e, 0, "Fenced", "not leading");
	assert_int_equal(rt_result_of(-ETIMEDOUT, &e), RT_RES_FENCED);
	ali_error_set(&e, 0, "Transport", "timeout");
	assert_int_equal(rt_result_of(-ETIMEDOUT, &e), RT_RES_RETRY);
	assert_int_equal(rt_result_of(ALI_E_AMBIGUOUS, &e), RT_RES_RETRY);
	assert_int_equal(rt_result_of(-ECONNREFUSED, &e), RT_RES_RETRY);
}

static void test_cond_body(void **state)
{
	char body[512];
	struct json *j = NULL;
	const struct json *c;

	(void)state;
	assert_int_equal(rt_cond_body(body, sizeof(body), 0, 1614852672000LL),
			 0);
	assert_int_equal(json_parse(body, strlen(body), NULL, &j, NULL, 0), 0);
	c = json_at(json_path(j, "status.conditions"), 0);
	assert_string_equal(json_path_str(c, "type"), "NetworkUnavailable");
	assert_string_equal(json_path_str(c, "status"), "False");
	assert_string_equal(json_path_str(c, "reason"), "RouteCreated");
	assert_string_equal(json_path_str(c, "lastTransitionTime"),
			    "2021-03-04T10:11:12Z");
	json_free(j);
	assert_int_equal(rt_cond_body(body, sizeof(body), 1, 0), 0);
	assert_non_null(strstr(body, "\"NoRouteCreated\""));
	assert_non_null(strstr(body, "\"True\""));
	assert_int_equal(rt_cond_body(body, 20, 1, 0), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_results),
		cmocka_unit_test(test_call_results),
		cmocka_unit_test(test_cond_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
