/* kube_async against a tiny local HTTP server (one thread per
 * connection): concurrent requests, per-request deadlines, cancel, status
 * mapping, freeing with requests in flight, and 429 with Retry-After
 * (retried within the deadline, else failed at once). */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/kube_async.h"
#include "kube/kube_client.h"
#include "tests/unit/httpd_fixture.h"

static int port;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int active, max_active, release_hang;
/* /busy/<retry-after s, -1 none>/<n>: the first n hits answer 429 */
#define BUSY_MAX 8
static int busy_hits;
static double busy_at[BUSY_MAX]; /* when each hit arrived (monotonic s) */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when this hit of /busy/ is to be refused; *ra its Retry-After. */
static int busy(const char *path, int *ra)
{
	int n, hit;

	if (sscanf(path, "/busy/%d/%d", ra, &n) != 2)
		return 0;
	pthread_mutex_lock(&mu);
	hit = busy_hits++;
	if (hit < BUSY_MAX)
		busy_at[hit] = now_s();
	pthread_mutex_unlock(&mu);
	return hit < n;
}

static void serve(int fd)
{
	char req[8192] = "", resp[512], method[16] = "", path[256] = "";
	size_t n;
	ssize_t r;
	long got, ms = 0;
	int code = 200, len, ra = -1;
	char extra[64] = "";
	const char *cl;

	got = httpd_fixture_read_head(fd, req, sizeof(req));
	if (got < 0)
		return;
	n = (size_t)got;
	sscanf(req, "%15s %255s", method, path);
	cl = strcasestr(req, "Content-Length:");
	if (cl) /* drain the body so the answer is not a reset */
		for (long want = atol(cl + 15) -
				 (long)(n - (size_t)(strstr(req, "\r\n\r\n") +
						     4 - req));
		     want > 0 && (r = read(fd, req, sizeof(req))) > 0;
		     want -= r)
			;
	pthread_mutex_lock(&mu);
	if (++active > max_active)
		max_active = active;
	pthread_cond_broadcast(&cv);
	if (strcmp(path, "/hang") == 0)
		while (!release_hang)
			pthread_cond_wait(&cv, &mu);
	if (strncmp(path, "/wait/", 6) == 0) /* until N are in flight */
		while (max_active < atoi(path + 6) && !release_hang)
			pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (sscanf(path, "/status/%d", &code) != 1)
		code = 200;
	if (busy(path, &ra)) {
		code = 429;
		if (ra >= 0)
			snprintf(extra, sizeof(extra), "Retry-After: %d\r\n",
				 ra);
	}
	if (sscanf(path, "/delay/%ld", &ms) == 1)
		usleep((useconds_t)ms * 1000);
	len = snprintf(resp + 200, 300, "{\"method\":\"%s\",\"path\":\"%s\"}",
		       method, path);
	n = (size_t)snprintf(resp, 200,
			     "HTTP/1.1 %d X\r\nContent-Type: application/json"
			     "\r\n%sContent-Length: %d\r\n\r\n",
			     code, extra, len);
	memmove(resp + n, resp + 200, (size_t)len);
	(void)!write(fd, resp, n + (size_t)len);
	pthread_mutex_lock(&mu);
	active--;
	pthread_mutex_unlock(&mu);
}

struct fix {
	struct event_base *base;
	struct kube_client *kc;
	struct kube_async *a;
	char kubeconfig[64];
};

static int setup(void **state)
{
	static struct fix f;
	struct kube_client_opts o = {0};
	char err[256];
	FILE *k;

	memset(&f, 0, sizeof(f));
	snprintf(f.kubeconfig, sizeof(f.kubeconfig), "/tmp/kasync-%d.yaml",
		 (int)getpid());
	k = fopen(f.kubeconfig, "w");
	assert_non_null(k);
	fprintf(k,
		"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  "
		"cluster:\n    server: http://127.0.0.1:%d\nusers:\n- name: "
		"u\n  user:\n    token: t0k3n\ncontexts:\n- name: x\n  "
		"context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
		port);
	fclose(k);
	o.kubeconfig = f.kubeconfig;
	o.role = "test";
	o.qps = 50; /* not pacing async sends; it learns from their 429s */
	o.burst = 100;
	assert_int_equal(kube_client_new(&o, &f.kc, err, sizeof(err)), 0);
	f.base = event_base_new();
	assert_non_null(f.base);
	assert_int_equal(kube_async_new(f.kc, f.base, &f.a), 0);
	pthread_mutex_lock(&mu);
	max_active = active = release_hang = busy_hits = 0;
	pthread_mutex_unlock(&mu);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	pthread_mutex_lock(&mu);
	release_hang = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	kube_async_free(f->a);
	kube_client_free(f->kc);
	event_base_free(f->base);
	unlink(f->kubeconfig);
	return 0;
}

struct got {
	int calls, rc;
	long status;
	int64_t retry_after_ms;
	char path[64];
	char method[16];
};

static void on_done(void *ctx, int rc, struct kube_resp *resp)
{
	struct got *g = ctx;
	const char *p = json_path_str(resp->obj, "path");
	const char *m = json_path_str(resp->obj, "method");

	g->calls++;
	g->rc = rc;
	g->status = resp->status;
	g->retry_after_ms = resp->retry_after_ms;
	snprintf(g->path, sizeof(g->path), "%s", p ? p : "");
	snprintf(g->method, sizeof(g->method), "%s", m ? m : "");
}

static void start(struct fix *f, const char *method, const char *path,
		  const char *body, int64_t timeout, struct got *g,
		  struct kube_async_req **q)
{
	struct kube_async_call c = {.method = method,
				    .path = path,
				    .body = body,
				    .timeout_ms = timeout};

	assert_int_equal(kube_async_send(f->a, &c, on_done, g, q), 0);
}

/* Runs the loop until every given request ended (bounded). */
static void run_until(struct fix *f, struct got *g, int n)
{
	for (int spins = 0; spins < 600; spins++) {
		int left = 0;

		for (int i = 0; i < n; i++)
			left += g[i].calls == 0;
		if (left == 0)
			return;
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	fail_msg("requests did not end");
}

static void test_concurrent(void **state)
{
	struct fix *f = *state;
	struct got g[3] = {{0}};

	/* each answer waits until all three are in the server at once, so
	 * they can only complete if they were in flight together */
	for (int i = 0; i < 3; i++)
		start(f, "GET", "/wait/3", NULL, 20000, &g[i], NULL);
	assert_int_equal(kube_async_pending(f->a), 3);
	run_until(f, g, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].rc, 0);
		assert_string_equal(g[i].path, "/wait/3");
	}
	assert_int_equal(max_active, 3);
	assert_int_equal(kube_async_pending(f->a), 0);
}

static void test_deadline_delays_only_itself(void **state)
{
	struct fix *f = *state;
	struct got g[2] = {{0}};

	start(f, "GET", "/hang", NULL, 300, &g[0], NULL);
	start(f, "GET", "/delay/10", NULL, 20000, &g[1], NULL);
	run_until(f, &g[1], 1);
	assert_int_equal(g[1].rc, 0);
	assert_int_equal(g[0].calls, 0); /* still waiting on its own */
	run_until(f, g, 1);
	assert_int_equal(g[0].rc, -ETIMEDOUT);
	assert_int_equal(g[0].status, 0);
}

static void test_cancel(void **state)
{
	struct fix *f = *state;
	struct got g[2] = {{0}};
	struct kube_async_req *q = NULL;
	struct kube_async_stats st;

	start(f, "GET", "/delay/200", NULL, 20000, &g[0], &q);
	start(f, "GET", "/delay/400", NULL, 20000, &g[1], NULL);
	assert_non_null(q);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	kube_async_cancel(q);
	assert_int_equal(kube_async_pending(f->a), 1);
	run_until(f, &g[1], 1);
	assert_int_equal(g[1].rc, 0);
	assert_int_equal(g[0].calls, 0);
	kube_async_get_stats(f->a, &st);
	assert_int_equal(st.cancelled, 1);
	assert_int_equal(st.sent, 2);
}

static void test_status_and_methods(void **state)
{
	struct fix *f = *state;
	struct got g[5] = {{0}};

	start(f, "POST", "/status/409", "{}", 20000, &g[0], NULL);
	start(f, "PUT", "/status/409", "{\"a\":1}", 20000, &g[1], NULL);
	start(f, "GET", "/status/404", NULL, 20000, &g[2], NULL);
	start(f, "DELETE", "/status/500", NULL, 20000, &g[3], NULL);
	start(f, "PATCH", "/status/201", "{}", 20000, &g[4], NULL);
	run_until(f, g, 5);
	assert_int_equal(g[0].rc, -EEXIST);
	assert_int_equal(g[1].rc, -EAGAIN);
	assert_int_equal(g[2].rc, -ENOENT);
	assert_int_equal(g[3].rc, -EIO);
	assert_int_equal(g[4].rc, 0);
	assert_int_equal(g[0].status, 409);
	assert_string_equal(g[2].path, "/status/404");
}

static void test_bad_calls_and_refused(void **state)
{
	struct fix *f = *state;
	struct kube_async_call c = {
		.method = "GET", .path = "x", .timeout_ms = 100};
	struct got g = {0};

	assert_int_equal(kube_async_send(f->a, &c, on_done, &g, NULL), -EINVAL);
	c.path = "/x";
	c.timeout_ms = 0;
	assert_int_equal(kube_async_send(f->a, &c, on_done, &g, NULL), -EINVAL);
	assert_int_equal(g.calls, 0);
}

static void test_free_in_flight(void **state)
{
	struct fix *f = *state;
	struct got g[2] = {{0}};

	start(f, "GET", "/hang", NULL, 20000, &g[0], NULL);
	start(f, "POST", "/hang", "{}", 20000, &g[1], NULL);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	kube_async_free(f->a);
	f->a = NULL;
	assert_int_equal(g[0].calls + g[1].calls, 0);
	kube_async_free(NULL);
}

static int hits(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = busy_hits;
	pthread_mutex_unlock(&mu);
	return n;
}

static void test_429_retried_after_retry_after(void **state)
{
	struct fix *f = *state;
	struct kube_client_stats cs;
	struct kube_async_stats st;
	struct got g = {0};

	start(f, "POST", "/busy/1/1", "{\"a\":1}", 20000, &g, NULL);
	run_until(f, &g, 1);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.method, "POST"); /* the retry kept its body */
	assert_int_equal(g.retry_after_ms, 0);
	assert_int_equal(hits(), 2);
	/* the server saw the retry no sooner than it asked */
	assert_true(busy_at[1] - busy_at[0] >= 0.95);
	kube_async_get_stats(f->a, &st);
	assert_int_equal(st.retried, 1);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 0);
	/* the client's shared limiter learned from it */
	kube_client_get_stats(f->kc, &cs);
	assert_int_equal(cs.overloaded, 1);
	assert_true(cs.qps < 50);
}

static void test_429_without_retry_after_waits_1s(void **state)
{
	struct fix *f = *state;
	struct got g = {0};

	start(f, "GET", "/busy/-1/2", NULL, 20000, &g, NULL);
	run_until(f, &g, 1);
	assert_int_equal(g.rc, 0);
	assert_int_equal(hits(), 3);
	assert_true(busy_at[1] - busy_at[0] >= 0.95);
	assert_true(busy_at[2] - busy_at[1] >= 0.95);
}

static void test_429_past_the_deadline_fails_at_once(void **state)
{
	struct fix *f = *state;
	struct kube_async_stats st;
	struct got g[2] = {{0}};

	/* 2 s + 1 s for the retry itself do not fit in 2.5 s */
	start(f, "PUT", "/busy/2/1", "{}", 2500, &g[0], NULL);
	run_until(f, g, 1);
	assert_int_equal(g[0].rc, -EIO);
	assert_int_equal(g[0].status, 429);
	assert_int_equal(g[0].retry_after_ms, 2000);
	assert_int_equal(hits(), 1);
	/* an hour is bounded to 30 s, still past a 20 s deadline */
	start(f, "GET", "/busy/3600/2", NULL, 20000, &g[1], NULL);
	run_until(f, &g[1], 1);
	assert_int_equal(g[1].rc, -EIO);
	assert_int_equal(g[1].retry_after_ms, 30000);
	assert_int_equal(hits(), 2);
	kube_async_get_stats(f->a, &st);
	assert_int_equal(st.retried, 0);
	assert_int_equal(st.failed, 2);
}

static void test_429_cancel_or_free_while_waiting(void **state)
{
	struct fix *f = *state;
	struct kube_async_req *q = NULL;
	struct got g[3] = {{0}};

	start(f, "GET", "/busy/5/9", NULL, 20000, &g[0], &q);
	start(f, "GET", "/busy/5/9", NULL, 20000, &g[1], NULL);
	for (int spins = 0; spins < 600 && hits() < 2; spins++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(hits(), 2);
	/* both wait out their Retry-After on a timer now; a request that
	 * ends meanwhile proves the loop ran with them armed */
	start(f, "GET", "/delay/10", NULL, 20000, &g[2], NULL);
	run_until(f, &g[2], 1);
	assert_int_equal(kube_async_pending(f->a), 2);
	kube_async_cancel(q);
	assert_int_equal(kube_async_pending(f->a), 1);
	kube_async_free(f->a); /* frees the other one's timer */
	f->a = NULL;
	assert_int_equal(g[0].calls + g[1].calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_deadline_delays_only_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_and_methods, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_calls_and_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_429_retried_after_retry_after, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_429_without_retry_after_waits_1s, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_429_past_the_deadline_fails_at_once, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_429_cancel_or_free_while_waiting, setup, teardown),
	};

	if (httpd_fixture_start(serve, &port) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
