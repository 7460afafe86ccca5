/* Lock decisions without a server: expiry by own observation with the
 * record's lease duration (capped), the writes for acquire, renew and
 * release, and conflicts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "supervisor/sup_lock.h"

#define OWN 15000 /* our --leader-elect-lease-duration */

static struct json *lease(const char *holder, int dur, const char *renew,
			  const char *rv)
{
	char text[1024];
	struct json *j = NULL;

	snprintf(
		text, sizeof(text),
		"{\"kind\":\"Lease\",\"metadata\":{\"name\":\"ccm\","
		"\"namespace\":\"kube-system\",\"resourceVersion\":\"%s\","
		"\"labels\":{\"a\":\"b\"}},\"spec\":{\"holderIdentity\":\"%s\","
		"\"leaseDurationSeconds\":%d,\"renewTime\":\"%s\","
		"\"leaseTransitions\":3}}",
		rv, holder, dur, renew);
	assert_int_equal(json_parse(text, strlen(text), NULL, &j, NULL, 0), 0);
	return j;
}

static struct sup_lock *new_lease(void)
{
	struct sup_lock *l = NULL;

	assert_int_equal(sup_lock_new(SUP_LOCK_LEASE, "kube-system", "ccm", &l),
			 0);
	return l;
}

static void test_expiry_uses_longer_record(void **st)
{
	struct sup_lock *l = new_lease();

	(void)st;
	/* an old leader with a 60 s lease: 60 s from our observation */
	assert_int_equal(sup_lock_got(l, 0,
				      lease("old", 60,
					    "2021-01-01T00:00:00.000000Z", "1"),
				      1000),
			 0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 1000) == 60000);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 1000 + 30000) == 30000);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 1000 + 59999) == 1);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 1000 + 60000) == 0);
	/* the same record seen again does not restart the clock */
	assert_int_equal(sup_lock_got(l, 0,
				      lease("old", 60,
					    "2021-01-01T00:00:00.000000Z", "1"),
				      50000),
			 0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 61000) == 0);
	/* a renew (changed record) does */
	assert_int_equal(sup_lock_got(l, 0,
				      lease("old", 60,
					    "2021-01-01T00:00:10.000000Z", "2"),
				      61000),
			 0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 61000) == 60000);
	sup_lock_free(l);
}

static void test_expiry_own_floor_and_cap(void **st)
{
	struct sup_lock *l = new_lease();

	(void)st;
	/* a shorter record never shortens our own lease */
	sup_lock_got(l, 0, lease("old", 5, "2021-01-01T00:00:00.000000Z", "1"),
		     0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 0) == OWN);
	/* a huge record is capped */
	sup_lock_got(l, 0,
		     lease("old", 86400, "2021-01-01T00:00:01.000000Z", "2"),
		     0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 0) ==
		    SUP_LOCK_RECORD_CAP_MS);
	/* zero/negative durations fall back to our own */
	sup_lock_got(l, 0, lease("old", 0, "2021-01-01T00:00:02.000000Z", "3"),
		     0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 0) == OWN);
	sup_lock_free(l);
}

static void test_free_now(void **st)
{
	struct sup_lock *l = new_lease();
	struct sup_lock_write w;
	struct buf b;

	(void)st;
	buf_init(&b, 1 << 16);
	/* missing: POST to the collection */
	assert_int_equal(sup_lock_got(l, -ENOENT, NULL, 0), 0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 0) == 0);
	assert_int_equal(sup_lock_write_req(l, "me", OWN, &b, &w), 0);
	assert_string_equal(w.method, "POST");
	assert_string_equal(
		w.path,
		"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
	assert_non_null(strstr(b.data, "\"holderIdentity\":\"me\""));
	/* released (holder ""): free at once */
	sup_lock_got(l, 0, lease("", 1, "2021-01-01T00:00:00.000000Z", "7"), 0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 0) == 0);
	/* ours: renew with a PUT carrying the resourceVersion and labels */
	sup_lock_got(l, 0, lease("me", 15, "2021-01-01T00:00:00.000000Z", "8"),
		     0);
	assert_true(sup_lock_wait_ms(l, "me", OWN, 0) == 0);
	assert_int_equal(sup_lock_write_req(l, "me", OWN, &b, &w), 0);
	assert_string_equal(w.method, "PUT");
	assert_string_equal(w.path, sup_lock_path(l));
	assert_non_null(strstr(b.data, "\"resourceVersion\":\"8\""));
	assert_non_null(strstr(b.data, "\"labels\":{\"a\":\"b\"}"));
	assert_non_null(strstr(b.data, "\"leaseTransitions\":3"));
	/* errors observe nothing */
	assert_int_equal(sup_lock_got(l, -ETIMEDOUT, NULL, 5), -ETIMEDOUT);
	assert_int_equal(sup_lock_got(l, 0, NULL, 5), -EPROTO);
	buf_done(&b);
	sup_lock_free(l);
}

static void test_takeover_and_write_observed(void **st)
{
	struct sup_lock *l = new_lease();
	struct sup_lock_write w;
	struct buf b;

	(void)st;
	buf_init(&b, 1 << 16);
	sup_lock_got(l, 0, lease("old", 15, "2021-01-01T00:00:00.000000Z", "1"),
		     0);
	assert_int_equal(sup_lock_write_req(l, "me", OWN, &b, &w), 0);
	/* taking over counts a transition */
	assert_non_null(strstr(b.data, "\"leaseTransitions\":4"));
	/* a failed write (409) observes nothing of ours */
	sup_lock_wrote(l, -EAGAIN, 20000);
	assert_string_equal(sup_lock_observed(l)->holder, "old");
	sup_lock_wrote(l, 0, 20000);
	assert_string_equal(sup_lock_observed(l)->holder, "me");
	buf_done(&b);
	sup_lock_free(l);
}

static void test_release(void **st)
{
	struct sup_lock *l = new_lease();
	struct sup_lock_write w;
	struct buf b;

	(void)st;
	buf_init(&b, 1 << 16);
	sup_lock_got(l, 0,
		     lease("other", 15, "2021-01-01T00:00:00.000000Z", "1"), 0);
	assert_int_equal(sup_lock_release_req(l, "me", &b, &w), 0);
	sup_lock_got(l, -ENOENT, NULL, 0);
	assert_int_equal(sup_lock_release_req(l, "me", &b, &w), 0);
	sup_lock_got(l, 0, lease("me", 15, "2021-01-01T00:00:00.000000Z", "2"),
		     0);
	assert_int_equal(sup_lock_release_req(l, "me", &b, &w), 1);
	assert_string_equal(w.method, "PUT");
	assert_non_null(strstr(b.data, "\"holderIdentity\":\"\""));
	assert_non_null(strstr(b.data, "\"leaseDurationSeconds\":1"));
	assert_non_null(strstr(b.data, "\"resourceVersion\":\"2\""));
	buf_done(&b);
	sup_lock_free(l);
	sup_lock_free(NULL);
}

static void test_endpoints_lock(void **st)
{
	const char *text =
		"{\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"ccm\","
		"\"resourceVersion\":\"5\",\"annotations\":{\"control-plane."
		"alpha.kubernetes.io/leader\":\"{\\\"holderIdentity\\\":"
		"\\\"old\\\",\\\"leaseDurationSeconds\\\":40,"
		"\\\"renewTime\\\":\\\"2021-01-01T00:00:00Z\\\"}\","
		"\"keep\":\"me\"}}}";
	struct sup_lock *l = NULL;
	struct sup_lock_write w;
	struct json *j = NULL;
	struct buf b;

	(void)st;
	buf_init(&b, 1 << 16);
	assert_int_equal(
		sup_lock_new(SUP_LOCK_ENDPOINTS, "kube-system", "ccm", &l), 0);
	assert_int_equal(json_parse(text, strlen(text), NULL, &j, NULL, 0), 0);
	assert_int_equal(sup_lock_got(l, 0, j, 100), 0);
	assert_string_equal(sup_lock_observed(l)->holder, "old");
	assert_true(sup_lock_wait_ms(l, "me", OWN, 100) == 40000);
	assert_int_equal(sup_lock_write_req(l, "me", OWN, &b, &w), 0);
	assert_non_null(strstr(b.data, "\"keep\":\"me\""));
	buf_done(&b);
	sup_lock_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry_uses_longer_record),
		cmocka_unit_test(test_expiry_own_floor_and_cap),
		cmocka_unit_test(test_free_now),
		cmocka_unit_test(test_takeover_and_write_observed),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_endpoints_lock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
