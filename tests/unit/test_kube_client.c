/* kube client pieces without a server: error mapping, rate limiter, line
 * splitter, informer store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "kube/kube_client.h"
#include "kube/kube_internal.h"
#include "kube/kube_lines.h"
#include "kube/kube_ratelimit.h"
#include "kube/kube_store.h"
#include "lib/clock.h"
#include "lib/fence.h"

static void test_status_mapping(void **state)
{
	(void)state;
	assert_int_equal(kube_map_status(200, 0), 0);
	assert_int_equal(kube_map_status(201, 1), 0);
	assert_int_equal(kube_map_status(404, 0), -ENOENT);
	assert_int_equal(kube_map_status(409, 1), -EEXIST);
	assert_int_equal(kube_map_status(409, 0), -EAGAIN);
	assert_int_equal(kube_map_status(401, 0), -EACCES);
	assert_int_equal(kube_map_status(403, 1), -EACCES);
	assert_int_equal(kube_map_status(410, 0), -EGONE);
	assert_int_equal(kube_map_status(500, 0), -EIO);
	assert_int_equal(kube_map_status(429, 0), -EIO);
	assert_int_equal(kube_map_curl(CURLE_OK), 0);
	assert_int_equal(kube_map_curl(CURLE_OPERATION_TIMEDOUT), -ETIMEDOUT);
	assert_int_equal(kube_map_curl(CURLE_COULDNT_CONNECT), -ECONNREFUSED);
	assert_int_equal(kube_map_curl(CURLE_SSL_CACERT_BADFILE),
			 -ECONNREFUSED);
}

static void test_ratelimit(void **state)
{
	struct kube_rl rl;
	int i;

	(void)state;
	kube_rl_init(&rl, 10, 3); /* 10 qps, burst 3 */
	for (i = 0; i < 3; i++)
		assert_int_equal(kube_rl_reserve(&rl), 0);
	/* the 4th and 5th borrow ahead: 100 ms and 200 ms */
	assert_in_range(kube_rl_reserve(&rl), 99, 101);
	assert_in_range(kube_rl_reserve(&rl), 199, 201);
	clock_test_advance(1000);
	/* refilled to the burst, not beyond */
	for (i = 0; i < 3; i++)
		assert_int_equal(kube_rl_reserve(&rl), 0);
	assert_true(kube_rl_reserve(&rl) > 0);

	kube_rl_init(&rl, 1.0 / 300, 2); /* spam-filter shape */
	assert_int_equal(kube_rl_try(&rl), 1);
	assert_int_equal(kube_rl_try(&rl), 1);
	assert_int_equal(kube_rl_try(&rl), 0);
	clock_test_advance(299 * 1000);
	assert_int_equal(kube_rl_try(&rl), 0);
	clock_test_advance(2 * 1000);
	assert_int_equal(kube_rl_try(&rl), 1);
	assert_int_equal(kube_rl_try(&rl), 0);

	kube_rl_init(&rl, 0, 0); /* unlimited */
	for (i = 0; i < 1000; i++)
		assert_int_equal(kube_rl_reserve(&rl), 0);
}

static void test_ratelimit_adapts_to_429(void **state)
{
	struct kube_rl rl;
	int i;

	(void)state;
	kube_rl_init(&rl, 20, 5);
	/* a burst of 429s halves once; the saved-up burst is spent */
	kube_rl_overloaded(&rl);
	kube_rl_overloaded(&rl);
	assert_true(rl.qps == 10);
	assert_true(kube_rl_reserve(&rl) > 0);
	clock_test_advance(KUBE_RL_HOLD_MS);
	kube_rl_overloaded(&rl);
	assert_true(rl.qps == 5);
	/* never below the floor */
	for (i = 0; i < 20; i++) {
		clock_test_advance(KUBE_RL_HOLD_MS);
		kube_rl_overloaded(&rl);
	}
	assert_true(rl.qps > 20 * KUBE_RL_FLOOR_FRAC - 1e-9 &&
		    rl.qps < 20 * KUBE_RL_FLOOR_FRAC + 1e-9);
	/* successes add back a fixed step, up to --kube-api-qps */
	kube_rl_ok(&rl);
	assert_true(
		rl.qps > 20 * (KUBE_RL_FLOOR_FRAC + KUBE_RL_STEP_FRAC) - 1e-9 &&
		rl.qps < 20 * (KUBE_RL_FLOOR_FRAC + KUBE_RL_STEP_FRAC) + 1e-9);
	for (i = 0; i < 100; i++)
		kube_rl_ok(&rl);
	assert_true(rl.qps == 20);
	/* the 429's wait is paced at the lower rate: 5 qps = 200 ms apart */
	clock_test_advance(10000);
	for (i = 0; i < 3; i++) {
		clock_test_advance(KUBE_RL_HOLD_MS);
		kube_rl_overloaded(&rl);
	}
	assert_true(rl.qps == 2.5);
	clock_test_advance(10000);
	for (i = 0; i < 5; i++)
		assert_int_equal(kube_rl_reserve(&rl), 0);
	assert_in_range(kube_rl_reserve(&rl), 399, 401);
	/* unlimited stays unlimited */
	kube_rl_init(&rl, 0, 0);
	kube_rl_overloaded(&rl);
	assert_int_equal(kube_rl_reserve(&rl), 0);
}

static void test_retry_fits_the_deadline(void **state)
{
	(void)state;
	/* the wait and KUBE_RETRY_MIN_MS for the retry itself must fit */
	assert_true(kube_retry_fits(0, 1000, 1000 + KUBE_RETRY_MIN_MS));
	assert_false(kube_retry_fits(0, 1000, 999 + KUBE_RETRY_MIN_MS));
	assert_true(kube_retry_fits(5000, 0, 5000 + KUBE_RETRY_MIN_MS));
	assert_false(kube_retry_fits(5000, 2000, 7500));
	/* already past the deadline */
	assert_false(kube_retry_fits(9000, 0, 8000));
}

static void test_retry_after_bounds(void **state)
{
	(void)state;
	assert_int_equal(kube_retry_after_ms(200, 5), 0);
	assert_int_equal(kube_retry_after_ms(503, 5), 0);
	assert_int_equal(kube_retry_after_ms(429, 0),
			 KUBE_RETRY_AFTER_DEFAULT_MS);
	assert_int_equal(kube_retry_after_ms(429, 3), 3000);
	assert_int_equal(kube_retry_after_ms(429, 29), 29000);
	assert_int_equal(kube_retry_after_ms(429, 3600),
			 KUBE_RETRY_AFTER_MAX_MS);
	assert_int_equal(kube_retry_after_ms(429, -1),
			 KUBE_RETRY_AFTER_DEFAULT_MS);
}

struct got {
	char lines[8][64];
	int n;
	int stop_at;
};

static int collect(void *ctx, const char *line, size_t len)
{
	struct got *g = ctx;

	assert_true(len < sizeof(g->lines[0]));
	assert_true(g->n < 8);
	memcpy(g->lines[g->n], line, len);
	g->lines[g->n][len] = '\0';
	g->n++;
	return g->n == g->stop_at ? -EINTR : 0;
}

static void test_lines_split(void **state)
{
	struct kube_lines l;
	struct got g = {0};

	(void)state;
	kube_lines_init(&l, 16);
	assert_int_equal(kube_lines_feed(&l, "ab", 2, collect, &g), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(kube_lines_feed(&l, "c\r\n\nde\nf", 8, collect, &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.lines[0], "abc");
	assert_string_equal(g.lines[1], "de");
	assert_int_equal(kube_lines_feed(&l, "\n", 1, collect, &g), 0);
	assert_string_equal(g.lines[2], "f");
	assert_int_equal(l.oversize, 0);
	kube_lines_done(&l);
}

static void test_lines_oversize(void **state)
{
	struct kube_lines l;
	struct got g = {0};
	char big[40];

	(void)state;
	memset(big, 'x', sizeof(big));
	kube_lines_init(&l, 16);
	/* an oversize line arriving in pieces is dropped whole... */
	assert_int_equal(kube_lines_feed(&l, big, 10, collect, &g), 0);
	assert_int_equal(kube_lines_feed(&l, big, 10, collect, &g), 0);
	assert_int_equal(l.oversize, 1);
	assert_int_equal(kube_lines_feed(&l, big, 30, collect, &g), 0);
	assert_int_equal(kube_lines_feed(&l, "tail\nok\n", 8, collect, &g), 0);
	/* ...and the stream resynchronises at the next newline */
	assert_int_equal(g.n, 1);
	assert_string_equal(g.lines[0], "ok");
	assert_int_equal(l.oversize, 1);
	/* exactly at the limit is fine */
	assert_int_equal(kube_lines_feed(&l, big, 16, collect, &g), 0);
	assert_int_equal(kube_lines_feed(&l, "\n", 1, collect, &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(strlen(g.lines[1]), 16);
	/* 17 bytes in one chunk with its newline */
	memcpy(big + 17, "\nz\n", 3);
	assert_int_equal(kube_lines_feed(&l, big, 20, collect, &g), 0);
	assert_int_equal(l.oversize, 2);
	assert_string_equal(g.lines[2], "z");
	kube_lines_done(&l);
}

static void test_lines_stop(void **state)
{
	struct kube_lines l;
	struct got g = {.stop_at = 1};

	(void)state;
	kube_lines_init(&l, 16);
	assert_int_equal(kube_lines_feed(&l, "a\nb\n", 4, collect, &g), -EINTR);
	assert_int_equal(g.n, 1);
	kube_lines_done(&l);
}

static int count_items(void *ctx, const struct kube_item *it)
{
	(void)it;
	(*(int *)ctx)++;
	return 0;
}

static void test_store(void **state)
{
	struct kube_store *s = NULL;
	struct kube_entry *e, *gone;
	char name[32];
	int i, n = 0;

	(void)state;
	assert_int_equal(kube_store_new(&s), 0);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(kube_entry_new(i % 2 ? "ns" : NULL, name,
						"uid", "1", NULL, &e),
				 0);
		e->gen = i < 200 ? 2 : 1;
		assert_int_equal(kube_store_put(s, e), 0);
	}
	assert_int_equal(kube_store_len(s), 300);
	assert_non_null(kube_store_find(s, "", "n0"));
	assert_non_null(kube_store_find(s, "ns", "n1"));
	assert_null(kube_store_find(s, "", "n1"));
	assert_int_equal(kube_entry_new("", "n0", "", "", NULL, &e), 0);
	assert_int_equal(kube_store_put(s, e), -EEXIST);
	kube_entry_free(e, NULL, NULL);
	gone = kube_store_sweep(s, 2);
	for (i = 0; gone; i++) {
		e = gone->next;
		kube_entry_free(gone, NULL, NULL);
		gone = e;
	}
	assert_int_equal(i, 100);
	assert_int_equal(kube_store_len(s), 200);
	e = kube_store_take(s, "ns", "n1");
	assert_non_null(e);
	kube_entry_free(e, NULL, NULL);
	kube_store_foreach(s, count_items, &n);
	assert_int_equal(n, 199);
	kube_store_free(s, NULL, NULL);
}

/* The hook stands in for a worker applying the lease renewal waiting on
 * its status channel. */
static int progress_calls;

static void renew_now(void *arg)
{
	(void)arg;
	progress_calls++;
	fence_set_lease(clock_mono_ms(), 15000, 10000);
}

static struct kube_client *refused_client(char *kc, size_t n)
{
	struct kube_client_opts o = {.role = "test", .timeout_ms = 2000};
	struct kube_client *c = NULL;
	char err[256];
	FILE *fp;

	/* port 1 on loopback: nothing listens, the connect is refused */
	snprintf(kc, n, "/tmp/kube-client-test-%d.yaml", (int)getpid());
	fp = fopen(kc, "w");
	assert_non_null(fp);
	fprintf(fp, "clusters:\n- name: f\n  cluster:\n"
		    "    server: http://127.0.0.1:1\n"
		    "users:\n- name: u\n  user:\n    token: t0k3n\n"
		    "contexts:\n- name: c\n  context: {\"cluster\": \"f\", "
		    "\"user\": \"u\"}\n"
		    "current-context: c\n");
	fclose(fp);
	o.kubeconfig = kc;
	assert_int_equal(kube_client_new(&o, &c, err, sizeof(err)), 0);
	return c;
}

/* A long run of requests outlives the fence window the worker last read;
 * the progress hook runs before the fence check, so a renewal it applies
 * lets the PATCH go out (refused by the closed port, not fenced). */
static void test_progress_before_fence(void **state)
{
	struct kube_client *c;
	char kc[128];

	(void)state;
	c = refused_client(kc, sizeof(kc));
	/* renewed 20 s ago: the window (renew + 15 s - 1 s - 2 s) is shut */
	fence_set_lease(clock_mono_ms() - 20000, 15000, 10000);
	assert_int_equal(
		kube_patch(c, "/api/v1/nodes/n1", KUBE_PATCH_MERGE, "{}", NULL),
		-ETIMEDOUT);
	kube_client_set_progress(c, renew_now, NULL);
	progress_calls = 0;
	assert_int_equal(
		kube_patch(c, "/api/v1/nodes/n1", KUBE_PATCH_MERGE, "{}", NULL),
		-ECONNREFUSED);
	assert_int_equal(progress_calls, 1);
	/* reads call it too (any request is a point of progress) */
	assert_int_equal(kube_get(c, "/api/v1/nodes", NULL), -ECONNREFUSED);
	assert_int_equal(progress_calls, 2);
	kube_client_set_progress(c, NULL, NULL);
	assert_int_equal(kube_get(c, "/api/v1/nodes", NULL), -ECONNREFUSED);
	assert_int_equal(progress_calls, 2);
	fence_set_mode(FENCE_OPEN);
	kube_client_free(c);
	unlink(kc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_mapping),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ratelimit_adapts_to_429),
		cmocka_unit_test(test_retry_after_bounds),
		cmocka_unit_test(test_retry_fits_the_deadline),
		cmocka_unit_test(test_lines_split),
		cmocka_unit_test(test_lines_oversize),
		cmocka_unit_test(test_lines_stop),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_progress_before_fence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
