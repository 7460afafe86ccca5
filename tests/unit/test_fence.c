/* lib/fence.c: the window arithmetic, stale records, lease changes and
 * the modes that never or always allow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "lib/clock.h"
#include "lib/fence.h"

#define LEASE	 15000
#define DEADLINE 10000
#define TIMEOUT	 2000

/* The fence is process state: each test starts from a renew later than
 * any before it, so earlier tests' records are stale for it. */
static int64_t fresh_base(void)
{
	static int64_t base;

	if (!base)
		base = clock_boot_ms();
	base += 1000000;
	return base;
}

static void test_window_edges(void **st)
{
	int64_t t = fresh_base();
	/* the last start whose attempt (5 s) ends before
	 * renew_sent + lease - slack; it is inside the renew deadline */
	int64_t last = t + LEASE - FENCE_SLACK_MS - 5000 - 1;

	(void)st;
	fence_set_lease(t, LEASE, DEADLINE);
	assert_int_equal(fence_mode(), FENCE_LEASED);
	assert_int_equal(fence_allow_at(t, 5000), 0);
	assert_true(last < t + DEADLINE);
	assert_int_equal(fence_allow_at(last, 5000), 0);
	/* ending exactly at renew_sent + lease - slack is too late */
	assert_int_equal(fence_allow_at(last + 1, 5000), -ETIMEDOUT);
	/* a short attempt may start later, but never at the renew deadline */
	assert_int_equal(fence_allow_at(t + DEADLINE - 1, 1), 0);
	assert_int_equal(fence_allow_at(t + DEADLINE, 1), -ETIMEDOUT);
	assert_int_equal(fence_allow_at(t + DEADLINE, 0), -ETIMEDOUT);
	assert_int_equal(fence_deadline_ms(), t + DEADLINE);
}

static void test_timeout_longer_than_lease(void **st)
{
	int64_t t = fresh_base();

	(void)st;
	fence_set_lease(t, LEASE, DEADLINE);
	assert_int_equal(fence_allow_at(t, LEASE - FENCE_SLACK_MS), -ETIMEDOUT);
	assert_int_equal(fence_allow_at(t, LEASE - FENCE_SLACK_MS - 1), 0);
}

static void test_stale_record_never_extends(void **st)
{
	int64_t t = fresh_base();

	(void)st;
	fence_set_lease(t, LEASE, DEADLINE);
	/* a record of an older renew, even with a longer lease */
	fence_set_lease(t - 5000, 10 * LEASE, 10 * DEADLINE);
	assert_int_equal(fence_deadline_ms(), t + DEADLINE);
	assert_int_equal(fence_allow_at(t + DEADLINE, 0), -ETIMEDOUT);
	/* a repeat of the same renew cannot widen it either */
	fence_set_lease(t, 10 * LEASE, 10 * DEADLINE);
	assert_int_equal(fence_deadline_ms(), t + DEADLINE);
	assert_int_equal(
		fence_allow_at(t + LEASE - FENCE_SLACK_MS - TIMEOUT, TIMEOUT),
		-ETIMEDOUT);
}

static void test_stale_record_never_reopens(void **st)
{
	int64_t t = fresh_base();

	(void)st;
	fence_set_lease(t, LEASE, DEADLINE);
	fence_set_mode(FENCE_CLOSED);
	fence_set_lease(t - 1, LEASE, DEADLINE);
	assert_int_equal(fence_mode(), FENCE_CLOSED);
	fence_set_lease(t, LEASE, DEADLINE);
	assert_int_equal(fence_mode(), FENCE_CLOSED);
	assert_int_equal(fence_allow_at(t, TIMEOUT), -ETIMEDOUT);
	/* a renew sent after it closed opens it again */
	fence_set_lease(t + 1, LEASE, DEADLINE);
	assert_int_equal(fence_allow_at(t + 1, TIMEOUT), 0);
}

static void test_lease_shrinks_and_grows(void **st)
{
	int64_t t = fresh_base();

	(void)st;
	fence_set_lease(t, LEASE, DEADLINE);
	/* the next renew carries a shorter lease: it applies at once */
	fence_set_lease(t + 2000, 6000, 4000);
	assert_int_equal(fence_allow_at(t + 2000, TIMEOUT), 0);
	assert_int_equal(
		fence_allow_at(t + 2000 + 6000 - FENCE_SLACK_MS - TIMEOUT,
			       TIMEOUT),
		-ETIMEDOUT);
	assert_int_equal(fence_allow_at(t + 2000 + 4000, 0), -ETIMEDOUT);
	assert_int_equal(fence_deadline_ms(), t + 6000);
	/* a later renew with a longer lease widens it from that renew */
	fence_set_lease(t + 5000, 30000, 20000);
	assert_int_equal(fence_allow_at(t + 5000 + 19999, 1), 0);
	assert_int_equal(fence_allow_at(t + 5000 + 20000, 0), -ETIMEDOUT);
	/* a repeat of that renew may narrow it */
	fence_set_lease(t + 5000, 8000, 5000);
	assert_int_equal(fence_allow_at(t + 5000 + 5000, 0), -ETIMEDOUT);
	assert_int_equal(fence_allow_at(t + 5000 + 4999, 1), 0);
}

static void test_modes(void **st)
{
	int64_t t = fresh_base();

	(void)st;
	fence_set_mode(FENCE_DRY_RUN);
	assert_int_equal(fence_allow_at(t, 0), -EPERM);
	assert_int_equal(fence_allow(0), -EPERM);
	assert_int_equal(fence_deadline_ms(), 0);
	fence_set_mode(FENCE_CLOSED);
	assert_int_equal(fence_allow_at(t, 0), -ETIMEDOUT);
	fence_set_mode(FENCE_OPEN);
	assert_int_equal(fence_allow_at(t, 1000000), 0);
	assert_int_equal(fence_allow(1000000), 0);
}

/* fence_allow() reads the boot clock the supervisor stamps renews with. */
static void test_boot_clock(void **st)
{
	int64_t now = clock_boot_ms();

	(void)st;
	assert_true(now > 0);
	assert_true(clock_boot_ms() >= now);
	fence_set_lease(now, LEASE, DEADLINE);
	assert_int_equal(fence_allow(TIMEOUT), 0);
	fence_set_lease(now + 1, 100, 100);
	assert_int_equal(fence_allow(TIMEOUT), -ETIMEDOUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: it stamps renews with the real clock */
		cmocka_unit_test(test_boot_clock),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_timeout_longer_than_lease),
		cmocka_unit_test(test_stale_record_never_extends),
		cmocka_unit_test(test_stale_record_never_reopens),
		cmocka_unit_test(test_lease_shrinks_and_grows),
		cmocka_unit_test(test_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
