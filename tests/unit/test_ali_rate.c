/* The per-action adaptive budget of the Alibaba Cloud client (AIMD under
 * the product's ceiling), driven with explicit times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "alicloud/ali_rate.h"

/* Calls the action as fast as its budget allows from t for ms; returns
 * the number of calls made and advances *t. */
static int drain(struct ali_rate *r, const char *action, int64_t *t, int64_t ms,
		 int ok)
{
	int64_t end = *t + ms, w;
	int n = 0;

	while (*t < end) {
		w = ali_rate_take(r, action, *t);
		if (w > 0) {
			*t += w;
			continue;
		}
		n++;
		if (ok)
			ali_rate_ok(r, action, *t);
	}
	return n;
}

/* One call of the action sent as soon as its budget allows, then refused. */
static void reject(struct ali_rate *r, const char *action, int64_t *t)
{
	int64_t w;

	while ((w = ali_rate_take(r, action, *t)) > 0)
		*t += w;
	ali_rate_throttled(r, action, *t);
}

static void test_conservative_start(void **state)
{
	struct ali_rate r;

	(void)state;
	ali_rate_init(&r, 10, 0);
	assert_true(ali_rate_of(&r, "CreateLoadBalancer") ==
		    10 * ALI_RATE_START_FRAC);
	ali_rate_init(&r, 0.1, 0);
	/* below the floor the ceiling still wins */
	assert_true(ali_rate_of(&r, "X") == 0.1);
}

static void test_additive_increase_to_ceiling(void **state)
{
	struct ali_rate r;
	int i;

	(void)state;
	ali_rate_init(&r, 10, 0);
	/* before any throttle the step is 1/ALI_RATE_AI_DIV of the ceiling */
	ali_rate_ok(&r, "A", 0);
	assert_true(ali_rate_of(&r, "A") == 5 + 10.0 / ALI_RATE_AI_DIV);
	ali_rate_ok(&r, "A", 0);
	assert_true(ali_rate_of(&r, "A") == 5 + 20.0 / ALI_RATE_AI_DIV);
	for (i = 0; i < ALI_RATE_AI_DIV; i++)
		ali_rate_ok(&r, "A", i);
	assert_true(ali_rate_of(&r, "A") == 10);
}

static void test_multiplicative_decrease_and_floor(void **state)
{
	struct ali_rate r;
	int64_t t = 0;
	int i;

	(void)state;
	ali_rate_init(&r, 10, 0);
	for (i = 0; i < 1000; i++)
		ali_rate_ok(&r, "A", 0);
	/* two calls in flight, both refused: the burst counts once */
	t = 5000;
	assert_int_equal(ali_rate_take(&r, "A", t), 0);
	assert_int_equal(ali_rate_take(&r, "A", t), 0);
	ali_rate_throttled(&r, "A", t);
	assert_true(ali_rate_of(&r, "A") == 5);
	ali_rate_throttled(&r, "A", t + ALI_RATE_HOLD_MS);
	assert_true(ali_rate_of(&r, "A") == 5);
	/* a call sent at the new rate and refused cuts again */
	reject(&r, "A", &t);
	assert_true(t >= 5000 + ALI_RATE_HOLD_MS);
	assert_true(ali_rate_of(&r, "A") == 2.5);
	for (i = 0; i < 20; i++)
		reject(&r, "A", &t);
	assert_true(ali_rate_of(&r, "A") == ALI_RATE_FLOOR);
	/* after a throttle the action waits: the server's bucket is empty */
	assert_true(ali_rate_take(&r, "A", t) > 0);
}

static void test_ceiling_caps_the_sum(void **state)
{
	struct ali_rate r;
	int64_t t = 0, w;
	int n = 0, i;
	static const char *const acts[] = {"A", "B", "C", "D"};

	(void)state;
	ali_rate_init(&r, 4, 0);
	for (i = 0; i < 1000; i++) {
		ali_rate_ok(&r, "A", 0);
		ali_rate_ok(&r, "B", 0);
		ali_rate_ok(&r, "C", 0);
		ali_rate_ok(&r, "D", 0);
	}
	/* each action may run at 4/s, together no more than 4/s either */
	while (t < 10000) {
		w = ali_rate_take(&r, acts[n % 4], t);
		if (w > 0)
			t += w;
		else
			n++;
	}
	assert_in_range(n, 38, 45); /* 10 s at 4/s plus the burst */
}

static void test_actions_independent(void **state)
{
	struct ali_rate r;
	int64_t t = 0;
	int i;

	(void)state;
	ali_rate_init(&r, 8, 0);
	for (i = 0; i < 1000; i++)
		ali_rate_ok(&r, "B", 0);
	reject(&r, "A", &t);
	assert_true(ali_rate_of(&r, "A") == 8 * ALI_RATE_START_FRAC / 2);
	assert_true(ali_rate_of(&r, "B") == 8);
	assert_true(ali_rate_take(&r, "A", t) > 0);
	assert_int_equal(ali_rate_take(&r, "B", t), 0);
	/* and B keeps its pace while A is slow */
	t++;
	assert_in_range(drain(&r, "B", &t, 5000, 1), 40, 48);
}

static void test_recovery(void **state)
{
	struct ali_rate r;
	int64_t t = 0;
	int i, first, last;
	double peak;

	(void)state;
	ali_rate_init(&r, 10, 0);
	for (i = 0; i < ALI_RATE_AI_DIV; i++)
		ali_rate_ok(&r, "A", 0);
	ali_rate_set_ceiling(&r, 100, 0);
	/* above the old limit the step grows with the rate */
	for (i = 0; i < 12; i++)
		ali_rate_ok(&r, "A", 0);
	peak = ali_rate_of(&r, "A");
	assert_true(peak > 10 + 12 * 10.0 / ALI_RATE_AI_DIV);
	/* throttled at peak: cut to half, then steps of peak/ALI_RATE_AI_DIV */
	reject(&r, "A", &t);
	assert_true(ali_rate_of(&r, "A") == peak / 2);
	for (i = 0; i < ALI_RATE_AI_DIV / 2 - 1; i++)
		ali_rate_ok(&r, "A", 0);
	assert_true(ali_rate_of(&r, "A") < peak);
	ali_rate_ok(&r, "A", 0);
	assert_true(ali_rate_of(&r, "A") > peak - 1e-9);
	/* cut to the floor, successes bring it back up to the ceiling */
	ali_rate_set_ceiling(&r, 10, 0);
	for (i = 0; i < 10; i++)
		reject(&r, "A", &t);
	assert_true(ali_rate_of(&r, "A") == ALI_RATE_FLOOR);
	first = drain(&r, "A", &t, 5000, 1);
	t += 1000;
	(void)drain(&r, "A", &t, 300000, 1);
	last = drain(&r, "A", &t, 5000, 1);
	assert_true(ali_rate_of(&r, "A") == 10);
	assert_true(last > 3 * first);
}

static void test_ceiling_change_and_unlimited(void **state)
{
	struct ali_rate r;
	int i;

	(void)state;
	ali_rate_init(&r, 10, 0);
	for (i = 0; i < 1000; i++)
		ali_rate_ok(&r, "A", 0);
	ali_rate_set_ceiling(&r, 4, 0);
	assert_true(ali_rate_of(&r, "A") == 4);
	ali_rate_set_ceiling(&r, 0, 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(ali_rate_take(&r, "A", 0), 0);
	ali_rate_throttled(&r, "A", 0);
	assert_int_equal(ali_rate_take(&r, "A", 0), 0);
	ali_rate_set_ceiling(&r, 6, 0);
	assert_true(ali_rate_of(&r, "A") == 6 * ALI_RATE_START_FRAC);
}

static void test_many_actions_share_overflow(void **state)
{
	struct ali_rate r;
	char name[16];
	int64_t t = 0;
	int i;

	(void)state;
	ali_rate_init(&r, 10, 0);
	for (i = 0; i < ALI_RATE_MAX_ACTIONS + 10; i++) {
		snprintf(name, sizeof(name), "Act%d", i);
		ali_rate_ok(&r, name, 0);
	}
	assert_int_equal(r.n_act, ALI_RATE_MAX_ACTIONS);
	reject(&r, "Act200", &t);
	assert_true(ali_rate_of(&r, "Act201") == ali_rate_of(&r, "Act200"));
	assert_true(ali_rate_of(&r, "Act0") > ali_rate_of(&r, "Act200"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conservative_start),
		cmocka_unit_test(test_additive_increase_to_ceiling),
		cmocka_unit_test(test_multiplicative_decrease_and_floor),
		cmocka_unit_test(test_ceiling_caps_the_sum),
		cmocka_unit_test(test_actions_independent),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_ceiling_change_and_unlimited),
		cmocka_unit_test(test_many_actions_share_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
