/* Worker-reported metrics and backoff policy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc/ipc_proto.h"
#include "lib/backoff.h"
#include "supervisor/sup_metrics.h"

static struct ipc_metric m(int op, const char *name, const char *labels,
			   double v)
{
	struct ipc_metric r;

	memset(&r, 0, sizeof(r));
	r.op = (uint8_t)op;
	r.value = v;
	strcpy(r.name, name);
	strcpy(r.labels, labels);
	return r;
}

static void test_render(void **st)
{
	struct sup_metrics *s;
	struct ipc_metric r;
	struct buf b;

	(void)st;
	assert_int_equal(sup_metrics_new(&s), 0);
	r = m(IPC_METRIC_COUNTER_ADD, "ccm_sync_total", "code=\"ok\"", 2);
	assert_int_equal(sup_metrics_apply(s, "route", &r), 0);
	assert_int_equal(sup_metrics_apply(s, "route", &r), 0);
	r.value = -5; /* counters never go down */
	assert_int_equal(sup_metrics_apply(s, "route", &r), 0);
	r = m(IPC_METRIC_HIST_OBSERVE, "ccm_sync_seconds", "", 0.2);
	assert_int_equal(sup_metrics_apply(s, "service-lb", &r), 0);
	r = m(IPC_METRIC_GAUGE_SET, "ccm_sync_total", "", 1);
	assert_int_equal(sup_metrics_apply(s, "route", &r), -EINVAL);
	buf_init(&b, 1 << 20);
	assert_int_equal(sup_metrics_render(s, &b), 0);
	assert_non_null(strstr(b.data, "# TYPE ccm_sync_total counter\n"
				       "ccm_sync_total{worker=\"route\","
				       "code=\"ok\"} 4\n"));
	assert_non_null(strstr(b.data, "# TYPE ccm_sync_seconds histogram\n"));
	assert_non_null(strstr(b.data, "ccm_sync_seconds_bucket{worker=\""
				       "service-lb\",le=\"0.25\"} 1\n"));
	assert_non_null(strstr(b.data, "ccm_sync_seconds_bucket{worker=\""
				       "service-lb\",le=\"0.1\"} 0\n"));
	assert_non_null(strstr(b.data, "ccm_sync_seconds_count{worker=\""
				       "service-lb\"} 1\n"));
	buf_done(&b);
	sup_metrics_free(s);
}

static void test_store_is_bounded(void **st)
{
	struct sup_metrics *s;
	struct ipc_metric r;
	char l[32];

	(void)st;
	assert_int_equal(sup_metrics_new(&s), 0);
	for (int i = 0; i < SUP_METRICS_MAX; i++) {
		snprintf(l, sizeof(l), "i=\"%d\"", i);
		r = m(IPC_METRIC_GAUGE_SET, "g", l, i);
		assert_int_equal(sup_metrics_apply(s, "w", &r), 0);
	}
	r = m(IPC_METRIC_GAUGE_SET, "g", "i=\"x\"", 1);
	assert_int_equal(sup_metrics_apply(s, "w", &r), -ENOSPC);
	sup_metrics_free(s);
}

static void test_backoff(void **st)
{
	struct backoff b;
	int64_t prev = 0;

	(void)st;
	backoff_init(&b, 1000, 60000, 1000, 7);
	for (int i = 0; i < 12; i++) {
		int64_t d = backoff_next(&b);

		assert_true(d >= 1000 && d < 72000);
		if (i < 6)
			assert_true(d > prev); /* doubling beats the jitter */
		prev = d;
	}
	assert_true(prev >= 48000); /* capped at 60 s +- 20 % */
	backoff_reset(&b);
	assert_true(backoff_next(&b) < 1200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_store_is_bounded),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
