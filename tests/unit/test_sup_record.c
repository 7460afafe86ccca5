/* Leader records: MicroTime and metav1.Time formats, both wire forms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/json.h"
#include "supervisor/sup_record.h"

/* 2021-03-04T10:11:12.123Z */
#define T0 1614852672123LL

static void test_times(void **st)
{
	char b[40];
	int64_t ms;

	(void)st;
	sup_time_micro(T0, b, sizeof(b));
	assert_string_equal(b, "2021-03-04T10:11:12.123000Z");
	sup_time_micro(T0 - 123, b, sizeof(b));
	assert_string_equal(b, "2021-03-04T10:11:12.000000Z");
	sup_time_rfc3339(T0, b, sizeof(b));
	assert_string_equal(b, "2021-03-04T10:11:12Z");
	assert_int_equal(sup_time_parse("2021-03-04T10:11:12.123456Z", &ms), 0);
	assert_true(ms == T0);
	assert_int_equal(sup_time_parse("2021-03-04T10:11:12Z", &ms), 0);
	assert_true(ms == T0 - 123);
	assert_int_equal(sup_time_parse("2021-03-04T11:11:12+01:00", &ms), 0);
	assert_true(ms == T0 - 123);
	assert_int_equal(sup_time_parse("2021-03-04T10:11:12", &ms), -EINVAL);
	assert_int_equal(sup_time_parse("2021-03-04T10:11:12.Z", &ms), -EINVAL);
	assert_int_equal(sup_time_parse("yesterday", &ms), -EINVAL);
}

static struct json *parse(const char *s)
{
	struct json *j = NULL;
	char err[64];

	assert_int_equal(json_parse(s, strlen(s), &json_default_limits, &j, err,
				    sizeof(err)),
			 0);
	return j;
}

static void test_lease_roundtrip(void **st)
{
	struct sup_record r = {.duration_s = 15,
			       .acquire_ms = T0,
			       .renew_ms = T0 + 2000,
			       .transitions = 3},
			  o;
	struct buf b;
	struct json *j;
	char k1[512], k2[512];

	(void)st;
	strcpy(r.holder, "host_6f1c2c7e-1d2b-4b9e-9d0e-3f9c0b1a2d3e");
	buf_init(&b, 4096);
	buf_puts(&b, "{\"spec\":");
	assert_int_equal(sup_record_lease_spec(&b, &r), 0);
	buf_puts(&b, "}");
	assert_non_null(strstr(b.data, "\"acquireTime\":"
				       "\"2021-03-04T10:11:12.123000Z\""));
	assert_non_null(strstr(b.data, "\"leaseTransitions\":3"));
	j = parse(b.data);
	sup_record_from_lease(j, &o);
	sup_record_key(&r, k1, sizeof(k1));
	sup_record_key(&o, k2, sizeof(k2));
	assert_string_equal(k1, k2);
	json_free(j);
	buf_done(&b);
}

static void test_annotation(void **st)
{
	struct sup_record r = {.duration_s = 15,
			       .acquire_ms = T0,
			       .renew_ms = T0,
			       .transitions = 1},
			  o;
	struct buf b;

	(void)st;
	strcpy(r.holder, "old-ccm");
	buf_init(&b, 4096);
	assert_int_equal(sup_record_annotation(&b, &r), 0);
	assert_string_equal(b.data, "{\"holderIdentity\":\"old-ccm\","
				    "\"leaseDurationSeconds\":15,"
				    "\"acquireTime\":\"2021-03-04T10:11:12Z\","
				    "\"renewTime\":\"2021-03-04T10:11:12Z\","
				    "\"leaderTransitions\":1}");
	assert_int_equal(sup_record_from_annotation(b.data, &o), 0);
	assert_string_equal(o.holder, "old-ccm");
	assert_int_equal(o.transitions, 1);
	assert_true(o.renew_ms == T0 - 123);
	assert_int_equal(sup_record_from_annotation("[1]", &o), -EINVAL);
	assert_int_equal(sup_record_from_annotation("{", &o), -EINVAL);
	buf_done(&b);
}

static void test_missing_fields(void **st)
{
	struct sup_record o;
	struct json *j = parse("{\"spec\":{\"holderIdentity\":\"\","
			       "\"acquireTime\":null}}");

	(void)st;
	sup_record_from_lease(j, &o);
	assert_string_equal(o.holder, "");
	assert_true(o.acquire_ms == 0 && o.transitions == 0);
	json_free(j);
	j = parse("{}");
	sup_record_from_lease(j, &o);
	assert_string_equal(o.holder, "");
	json_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_lease_roundtrip),
		cmocka_unit_test(test_annotation),
		cmocka_unit_test(test_missing_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
