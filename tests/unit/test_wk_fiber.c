/* workers/wk_fiber: cloud transfers of several fibers are in flight at
 * once on the loop (a local server holds each answer until N requests
 * are open), sleeps overlap, code outside a fiber still blocks, and stop
 * ends every wait with the cancellation results while done still runs. */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "tests/unit/httpd_fixture.h"
#include "workers/wk_fiber.h"

static int port;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int open_now, open_max, release;

/* "GET /n/<N>": answered once N requests were open at the same time
 * (or when released); "/hang": only when released. */
static void serve(int fd)
{
	int want = 1;
	char req[2048] = "";
	static const char ok[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	if (httpd_fixture_read_head(fd, req, sizeof(req)) < 0)
		return;
	if (sscanf(req, "GET /n/%d", &want) != 1)
		want = strstr(req, "/hang") ? 1 << 20 : 1;
	pthread_mutex_lock(&mu);
	if (++open_now > open_max)
		open_max = open_now;
	pthread_cond_broadcast(&cv);
	while (open_max < want && !release)
		pthread_cond_wait(&cv, &mu);
	open_now--;
	pthread_mutex_unlock(&mu);
	(void)!write(fd, ok, sizeof(ok) - 1);
}

static int start_server(void **st)
{
	(void)st;
	return httpd_fixture_start(serve, &port);
}

struct job {
	struct ali_client_io io;
	char url[64];
	long timeout_ms;
	int sleep_ms;
	CURLcode cc;
	int slept;
	int finished, done;
};

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static CURL *easy(const char *url)
{
	CURL *h = curl_easy_init();

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	return h;
}

static void job_run(void *arg)
{
	struct job *j = arg;
	CURL *h;

	if (j->sleep_ms) {
		j->slept = j->io.sleep(j->io.arg, j->sleep_ms);
	} else {
		h = easy(j->url);
		if (j->timeout_ms)
			curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, j->timeout_ms);
		j->cc = j->io.perform(j->io.arg, h);
		curl_easy_cleanup(h);
	}
	j->finished = 1;
}

static void job_done(void *arg)
{
	((struct job *)arg)->done = 1;
}

static void reset_server(void)
{
	pthread_mutex_lock(&mu);
	open_max = 0;
	release = 0;
	pthread_mutex_unlock(&mu);
}

static void run_until_done(struct event_base *base, struct job *j, int n)
{
	int64_t until = clock_mono_ms() + 20000;
	int all;

	do {
		event_base_loop(base, EVLOOP_ONCE);
		all = 1;
		for (int i = 0; i < n; i++)
			all = all && j[i].done;
	} while (!all && clock_mono_ms() < until);
}

static void test_transfers_overlap(void **st)
{
	struct event_base *base = event_base_new();
	struct wk_fibers *f;
	struct job j[4];

	(void)st;
	reset_server();
	assert_int_equal(wk_fibers_new(base, &f), 0);
	memset(j, 0, sizeof(j));
	for (int i = 0; i < 4; i++) {
		j[i].io = wk_fibers_io(f);
		snprintf(j[i].url, sizeof(j[i].url), "http://127.0.0.1:%d/n/4",
			 port);
		assert_int_equal(wk_fibers_spawn(f, job_run, job_done, &j[i]),
				 0);
	}
	assert_int_equal(wk_fibers_running(f), 4);
	run_until_done(base, j, 4);
	/* none is answered before all four are open at once */
	for (int i = 0; i < 4; i++) {
		assert_true(j[i].done);
		assert_int_equal(j[i].cc, CURLE_OK);
	}
	assert_int_equal(open_max, 4);
	assert_int_equal(wk_fibers_running(f), 0);
	wk_fibers_free(f);
	event_base_free(base);
}

static void test_sleeps_overlap_and_outside_blocks(void **st)
{
	struct event_base *base = event_base_new();
	struct wk_fibers *f;
	struct ali_client_io io;
	struct job j[3];
	CURL *h;
	char url[64];

	(void)st;
	reset_server();
	assert_int_equal(wk_fibers_new(base, &f), 0);
	memset(j, 0, sizeof(j));
	for (int i = 0; i < 3; i++) {
		j[i].io = wk_fibers_io(f);
		j[i].sleep_ms = 30;
		assert_int_equal(wk_fibers_spawn(f, job_run, job_done, &j[i]),
				 0);
		assert_false(j[i].finished); /* it waits on a timer */
	}
	run_until_done(base, j, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(j[i].slept, 0);
	/* outside a fiber the same hooks block and still work */
	io = wk_fibers_io(f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/n/1", port);
	h = easy(url);
	assert_int_equal(io.perform(io.arg, h), CURLE_OK);
	assert_int_equal(io.sleep(io.arg, 1), 0);
	curl_easy_cleanup(h);
	wk_fibers_free(f);
	event_base_free(base);
}

/* The fence allows a request for its timeout from the moment it is handed
 * over: a loop busy with other work right after must not move that start
 * later (the answer here is immediate, so only a late start succeeds). */
static void test_timeout_runs_from_hand_over(void **st)
{
	struct event_base *base = event_base_new();
	struct wk_fibers *f;
	struct job j;

	(void)st;
	reset_server();
	assert_int_equal(wk_fibers_new(base, &f), 0);
	memset(&j, 0, sizeof(j));
	j.io = wk_fibers_io(f);
	j.timeout_ms = 200;
	snprintf(j.url, sizeof(j.url), "http://127.0.0.1:%d/n/1", port);
	assert_int_equal(wk_fibers_spawn(f, job_run, job_done, &j), 0);
	usleep(400 * 1000); /* the loop is held by something else */
	run_until_done(base, &j, 1);
	assert_true(j.done);
	assert_int_equal(j.cc, CURLE_OPERATION_TIMEDOUT);
	wk_fibers_free(f);
	event_base_free(base);
}

static void test_stop_cancels_waits(void **st)
{
	struct event_base *base = event_base_new();
	struct wk_fibers *f;
	struct job j[2];

	(void)st;
	reset_server();
	assert_int_equal(wk_fibers_new(base, &f), 0);
	memset(j, 0, sizeof(j));
	j[0].io = j[1].io = wk_fibers_io(f);
	snprintf(j[0].url, sizeof(j[0].url), "http://127.0.0.1:%d/hang", port);
	j[1].sleep_ms = 60000;
	assert_int_equal(wk_fibers_spawn(f, job_run, job_done, &j[0]), 0);
	assert_int_equal(wk_fibers_spawn(f, job_run, job_done, &j[1]), 0);
	/* until the hanging request is open on the server */
	for (int64_t until = clock_mono_ms() + 10000;
	     clock_mono_ms() < until;) {
		pthread_mutex_lock(&mu);
		int open = open_now;

		pthread_mutex_unlock(&mu);
		if (open)
			break;
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	assert_int_equal(open_max, 1);
	wk_fibers_stop(f);
	assert_true(j[0].done && j[1].done);
	assert_int_equal(j[0].cc, CURLE_ABORTED_BY_CALLBACK);
	assert_int_equal(j[1].slept, -ECANCELED);
	assert_int_equal(wk_fibers_spawn(f, job_run, job_done, &j[1]),
			 -ECANCELED);
	wk_fibers_free(f);
	event_base_free(base);
	pthread_mutex_lock(&mu);
	release = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transfers_overlap),
		cmocka_unit_test(test_sleeps_overlap_and_outside_blocks),
		cmocka_unit_test(test_timeout_runs_from_hand_over),
		cmocka_unit_test(test_stop_cancels_waits),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, start_server, NULL);
}
