/*
 * Informer + watch against a scripted in-process HTTP server: paging,
 * oversize events, bookmarks, ERROR 410 relist with a synthesised delete,
 * an idle (frozen) watch, resume from the last resourceVersion, backoff
 * of at least Retry-After after a 429 on a LIST or a WATCH, and the
 * sync client's error mapping and fence exemption for Events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/kube_client.h"
#include "kube/kube_event.h"
#include "kube/kube_informer.h"
#include "lib/fence.h"

#define MAX_REQ 64

struct step {
	const char *status; /* "200 OK" */
	const char *body;
	int hang; /* keep the connection open after the body */
};

struct fake {
	int lfd;
	int port;
	pthread_t th;
	pthread_mutex_t mu;
	char reqs[MAX_REQ][1024]; /* "METHOD PATH" */
	char auth[MAX_REQ][128];  /* Authorization header */
	char body[MAX_REQ][1024];
	double at[MAX_REQ]; /* when each request arrived (monotonic s) */
	int n;
	const struct step *script;
	int nscript;
	int hang[MAX_REQ];
	int nhang;
	volatile int stop;
};

static void header_value(const char *buf, const char *name, char *out, size_t n)
{
	const char *h = strcasestr(buf, name);

	out[0] = '\0';
	if (h)
		snprintf(out, n, "%.*s", (int)strcspn(h + strlen(name), "\r"),
			 h + strlen(name));
}

static void read_request(int fd, char *line, size_t n, char *auth, size_t alen,
			 char *bodyout, size_t blen)
{
	char buf[8192];
	size_t len = 0;
	ssize_t k;
	char *end, *cl;
	long body = 0;

	while (len < sizeof(buf) - 1 &&
	       (k = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)k;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(buf, "Content-Length:");
		body = cl && cl < end ? atol(cl + 15) : 0;
		if ((long)(len - (size_t)(end + 4 - buf)) >= body)
			break;
	}
	buf[len] = '\0';
	header_value(buf, "Authorization: ", auth, alen);
	end = strstr(buf, "\r\n\r\n");
	snprintf(bodyout, blen, "%s", end ? end + 4 : "");
	k = (ssize_t)strcspn(buf, "\r");
	snprintf(line, n, "%.*s", (int)k, buf);
	end = strstr(line, " HTTP/");
	if (end)
		*end = '\0';
}

static void serve_one(struct fake *f, int fd)
{
	char head[256], line[1024], auth[128], body[1024];
	const struct step *s;
	struct timespec ts;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* outside the lock: the client sends from the loop that polls it */
	read_request(fd, line, sizeof(line), auth, sizeof(auth), body,
		     sizeof(body));
	pthread_mutex_lock(&f->mu);
	i = f->n < MAX_REQ ? f->n++ : MAX_REQ - 1;
	f->at[i] = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	memcpy(f->reqs[i], line, sizeof(line));
	memcpy(f->auth[i], auth, sizeof(auth));
	memcpy(f->body[i], body, sizeof(body));
	s = &f->script[i < f->nscript ? i : f->nscript - 1];
	pthread_mutex_unlock(&f->mu);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		 "Connection: close\r\n\r\n",
		 s->status);
	if (write(fd, head, strlen(head)) < 0 ||
	    write(fd, s->body, strlen(s->body)) < 0)
		s = NULL;
	if (s && s->hang && f->nhang < MAX_REQ)
		f->hang[f->nhang++] = fd;
	else
		close(fd);
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	struct pollfd p = {.fd = f->lfd, .events = POLLIN};

	while (!f->stop) {
		if (poll(&p, 1, 50) == 1) {
			int fd = accept(f->lfd, NULL, NULL);

			if (fd >= 0)
				serve_one(f, fd);
		}
	}
	return NULL;
}

static void fake_start(struct fake *f, const struct step *script, int n)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);

	memset(f, 0, sizeof(*f));
	f->script = script;
	f->nscript = n;
	pthread_mutex_init(&f->mu, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	getsockname(f->lfd, (struct sockaddr *)&a, &alen);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	int i;

	f->stop = 1;
	pthread_join(f->th, NULL);
	for (i = 0; i < f->nhang; i++)
		close(f->hang[i]);
	close(f->lfd);
	pthread_mutex_destroy(&f->mu);
}

static int fake_nreq(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->n;
	pthread_mutex_unlock(&f->mu);
	return n;
}

static struct kube_client *client_timeout(struct fake *f, char *kc, size_t n,
					  int64_t timeout_ms)
{
	struct kube_client_opts o = {.role = "test", .timeout_ms = timeout_ms};
	struct kube_client *c = NULL;
	char err[256];
	FILE *fp;

	snprintf(kc, n, "/tmp/kube-watch-test-%d.yaml", (int)getpid());
	fp = fopen(kc, "w");
	assert_non_null(fp);
	fprintf(fp,
		"clusters:\n- name: f\n  cluster:\n"
		"    server: http://127.0.0.1:%d\n"
		"users:\n- name: u\n  user:\n    token: t0k3n\n"
		"contexts:\n- name: c\n  context: {\"cluster\": \"f\", "
		"\"user\": \"u\"}\n"
		"current-context: c\n",
		f->port);
	fclose(fp);
	o.kubeconfig = kc;
	assert_int_equal(kube_client_new(&o, &c, err, sizeof(err)), 0);
	return c;
}

static struct kube_client *client_for(struct fake *f, char *kc, size_t n)
{
	return client_timeout(f, kc, n, 5000);
}

/* ---- informer scenario ---- */

static char oversize_stream[4096];

static const struct step informer_script[] = {
	/* 0: first page */
	{"200 OK",
	 "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"10\","
	 "\"continue\":\"abc+/=\"},\"items\":[{\"metadata\":{\"name\":\"n1\","
	 "\"uid\":\"u1\",\"resourceVersion\":\"5\"}}]}",
	 0},
	/* 1: second page */
	{"200 OK",
	 "{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"10\"},"
	 "\"items\":[{\"metadata\":{\"name\":\"n2\",\"uid\":\"u2\","
	 "\"resourceVersion\":\"6\"}}]}",
	 0},
	/* 2: watch: add, oversize, bookmark, 410 (filled in at run time) */
	{"200 OK", oversize_stream, 0},
	/* 3: relist page: n2 is gone, n3 stays, n1 changed */
	{"200 OK",
	 "{\"metadata\":{\"resourceVersion\":\"20\"},\"items\":["
	 "{\"metadata\":{\"name\":\"n1\",\"uid\":\"u1\","
	 "\"resourceVersion\":\"15\"}},"
	 "{\"metadata\":{\"name\":\"n3\",\"uid\":\"u3\","
	 "\"resourceVersion\":\"11\"}}]}",
	 0},
	/* 4: a watch that goes silent without FIN */
	{"200 OK", "", 1},
	/* 5: a watch that delivers one event and ends normally */
	{"200 OK",
	 "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"n3\","
	 "\"uid\":\"u3\",\"resourceVersion\":\"21\"}}}\n",
	 0},
	/* 6: then stays open and quiet */
	{"200 OK", "", 1},
};

struct rec {
	char log[64][96];
	int n;
	int synced;
	struct kube_informer *inf;
};

static void rec_add(struct rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rec_add(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n >= 64)
		return;
	va_start(ap, fmt);
	vsnprintf(r->log[r->n++], sizeof(r->log[0]), fmt, ap);
	va_end(ap);
}

static void on_add(void *ctx, const struct kube_item *it)
{
	rec_add(ctx, "add %s %s", it->name, it->rv);
}

static void on_update(void *ctx, const struct kube_item *old,
		      const struct kube_item *cur)
{
	rec_add(ctx, "update %s %s->%s", cur->name, old->rv, cur->rv);
}

static void on_delete(void *ctx, const struct kube_item *it)
{
	rec_add(ctx, "delete %s %s", it->name, it->rv);
}

static void on_synced(void *ctx)
{
	struct rec *r = ctx;

	r->synced++;
	rec_add(ctx, "synced");
}

static const struct kube_informer_ops ops = {
	.on_add = on_add,
	.on_update = on_update,
	.on_delete = on_delete,
	.on_synced = on_synced,
};

struct waiter {
	struct fake *f;
	struct event_base *base;
	int want_requests;
};

static void check_done(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;

	(void)fd;
	(void)what;
	if (fake_nreq(w->f) >= w->want_requests)
		event_base_loopbreak(w->base);
}

/* Runs the loop until the server saw n requests (or a generous guard). */
static void run_until(struct event_base *base, struct fake *f, int n)
{
	struct waiter w = {f, base, n};
	struct timeval poll_tv = {0, 20000}, guard = {30, 0};
	struct event *ev = event_new(base, -1, EV_PERSIST, check_done, &w);

	event_add(ev, &poll_tv);
	event_base_loopexit(base, &guard);
	event_base_dispatch(base);
	event_free(ev);
	/* let the last request's response be processed */
	poll_tv.tv_usec = 200000;
	event_base_loopexit(base, &poll_tv);
	event_base_dispatch(base);
}

static void build_oversize_stream(void)
{
	char big[2048];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(oversize_stream, sizeof(oversize_stream),
		 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
		 "\"n3\",\"uid\":\"u3\",\"resourceVersion\":\"11\"}}}\n"
		 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
		 "\"big\",\"annotations\":{\"a\":\"%s\"}}}}\n"
		 "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
		 "{\"resourceVersion\":\"12\"}}}\n"
		 "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
		 "\"code\":410,\"reason\":\"Expired\",\"message\":\"too old "
		 "resource version: 12 (19)\"}}\n",
		 big);
}

static int find(const struct rec *r, const char *line)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->log[i], line))
			return i;
	return -1;
}

static void test_informer(void **state)
{
	struct kube_informer_opts o = {.page_limit = 1,
				       .idle_ms = 300,
				       .watch_timeout_s = 300,
				       .max_event = 1024,
				       .label_selector = "a=b"};
	struct kube_informer_stats st;
	struct event_base *base = event_base_new();
	struct rec r = {0};
	struct fake f;
	struct kube_client *c;
	char kc[128];

	(void)state;
	build_oversize_stream();
	fake_start(&f, informer_script,
		   (int)(sizeof(informer_script) / sizeof(informer_script[0])));
	c = client_for(&f, kc, sizeof(kc));
	assert_int_equal(kube_informer_new(c, base, "/api/v1/nodes", &o, &ops,
					   &r, &r.inf),
			 0);
	run_until(base, &f, 7);

	/* paging: limit and the escaped continue token, selector kept */
	assert_string_equal(f.reqs[0],
			    "GET /api/v1/nodes?labelSelector=a%3Db&limit=1");
	assert_string_equal(f.reqs[1], "GET /api/v1/nodes?labelSelector=a%3Db"
				       "&limit=1&continue=abc%2B%2F%3D");
	assert_non_null(strstr(f.reqs[2], "watch=1"));
	assert_non_null(strstr(f.reqs[2], "allowWatchBookmarks=true"));
	assert_non_null(strstr(f.reqs[2], "resourceVersion=10&"));
	assert_non_null(strstr(f.reqs[2], "timeoutSeconds=300"));
	/* the relist after 410 is a fresh consistent list */
	assert_string_equal(f.reqs[3],
			    "GET /api/v1/nodes?labelSelector=a%3Db&limit=1");
	assert_non_null(strstr(f.reqs[4], "resourceVersion=20&"));
	/* after the idle teardown the watch resumes from the same RV */
	assert_non_null(strstr(f.reqs[5], "resourceVersion=20&"));
	/* after a normal end it resumes from the last event's RV */
	assert_non_null(strstr(f.reqs[6], "resourceVersion=21&"));

	assert_int_equal(r.synced, 1);
	assert_true(find(&r, "add n1 5") >= 0);
	assert_true(find(&r, "add n2 6") < find(&r, "synced"));
	assert_true(find(&r, "add n3 11") > find(&r, "synced"));
	assert_int_equal(find(&r, "add big"), -1);
	assert_true(find(&r, "delete n2 6") >= 0);
	assert_true(find(&r, "update n1 5->15") >= 0);
	assert_true(find(&r, "update n3 11->21") >= 0);
	assert_int_equal(kube_informer_len(r.inf), 2);
	assert_non_null(kube_informer_get(r.inf, "", "n1"));
	assert_null(kube_informer_get(r.inf, NULL, "n2"));
	assert_string_equal(kube_informer_get(r.inf, "", "n3")->uid, "u3");

	kube_informer_get_stats(r.inf, &st);
	assert_int_equal(st.relists, 1);
	assert_int_equal(st.oversize_events, 1);
	assert_int_equal(st.idle_timeouts, 1);
	assert_int_equal(st.lists, 2);
	assert_true(st.reconnects >= 1);

	kube_informer_free(r.inf);
	kube_client_free(c);
	event_base_free(base);
	fake_stop(&f);
	unlink(kc);
}

/* ---- 429 on a LIST and on a WATCH ---- */

/* the status line carries the extra header */
#define TOO_MANY(s) "429 Too Many Requests\r\nRetry-After: " #s
#define STATUS_429  "{\"kind\":\"Status\",\"code\":429}"
#define NODE_LIST                                                              \
	"{\"kind\":\"NodeList\",\"metadata\":{\"resourceVersion\":\"10\"},"    \
	"\"items\":[{\"metadata\":{\"name\":\"n1\",\"uid\":\"u1\","            \
	"\"resourceVersion\":\"5\"}}]}"

static const struct step overload_script[] = {
	{TOO_MANY(2), STATUS_429, 0}, /* LIST: 2 s + 1 s > the 1.5 s timeout */
	{"200 OK", NODE_LIST, 0},
	{TOO_MANY(2), STATUS_429, 0}, /* WATCH */
	{"200 OK", "", 1},
};

/* A Node informer against a scripted server until n requests were
 * answered; the informer's stats and the fake's request log go to the
 * caller, everything else is freed. */
static void run_overload(const struct step *script, int n_steps,
			 int64_t timeout_ms, int n_reqs, struct fake *f,
			 struct kube_informer_stats *st, int *synced)
{
	struct kube_informer_opts o = {.watch_timeout_s = 300};
	struct event_base *base = event_base_new();
	struct rec r = {0};
	struct kube_client *c;
	char kc[128];

	fake_start(f, script, n_steps);
	c = client_timeout(f, kc, sizeof(kc), timeout_ms);
	assert_int_equal(kube_informer_new(c, base, "/api/v1/nodes", &o, &ops,
					   &r, &r.inf),
			 0);
	run_until(base, f, n_reqs);
	kube_informer_get_stats(r.inf, st);
	*synced = r.synced;
	kube_informer_free(r.inf);
	kube_client_free(c);
	event_base_free(base);
	fake_stop(f);
	unlink(kc);
}

static void test_informer_backs_off_for_retry_after(void **state)
{
	struct kube_informer_stats st;
	struct fake f;
	int synced;

	(void)state;
	run_overload(
		overload_script,
		(int)(sizeof(overload_script) / sizeof(overload_script[0])),
		1500, 4, &f, &st, &synced);
	assert_null(strstr(f.reqs[1], "watch=1"));
	assert_non_null(strstr(f.reqs[2], "watch=1"));
	assert_non_null(strstr(f.reqs[3], "watch=1"));
	/* not the usual 800 ms (jittered) but what the server asked */
	assert_true(f.at[1] - f.at[0] >= 1.95);
	assert_true(f.at[3] - f.at[2] >= 1.95);
	assert_int_equal(synced, 1);
	assert_int_equal(st.errors, 2);
	assert_int_equal(st.overloaded, 2);
	assert_int_equal(st.lists, 1);
}

static const struct step page_retry_script[] = {
	{TOO_MANY(1), STATUS_429, 0}, /* fits the 5 s timeout: retried */
	{"200 OK", NODE_LIST, 0},
	{"200 OK", "", 1},
};

static void test_informer_list_page_429_retried(void **state)
{
	struct kube_informer_stats st;
	struct fake f;
	int synced;

	(void)state;
	run_overload(
		page_retry_script,
		(int)(sizeof(page_retry_script) / sizeof(page_retry_script[0])),
		5000, 3, &f, &st, &synced);
	assert_true(f.at[1] - f.at[0] >= 0.95);
	assert_non_null(strstr(f.reqs[2], "watch=1"));
	/* the LIST itself succeeded; its page's 429 is still an error */
	assert_int_equal(st.lists, 1);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.overloaded, 1);
}

/* ---- sync client against scripted statuses ---- */

static const struct step sync_script[] = {
	{"404 Not Found", "{\"kind\":\"Status\",\"code\":404}", 0},
	{"409 Conflict", "{\"kind\":\"Status\",\"code\":409}", 0},
	{"409 Conflict", "{\"kind\":\"Status\",\"code\":409}", 0},
	{"410 Gone", "{\"kind\":\"Status\",\"code\":410}", 0},
	{"201 Created", "{\"kind\":\"Event\"}", 0},
	{"500 Internal Server Error", "oops", 0},
};

static void test_sync_mapping_and_fence(void **state)
{
	struct kube_resp resp;
	struct fake f;
	struct kube_client *c;
	char kc[128];

	(void)state;
	fake_start(&f, sync_script,
		   (int)(sizeof(sync_script) / sizeof(sync_script[0])));
	c = client_for(&f, kc, sizeof(kc));
	kube_resp_init(&resp);
	assert_int_equal(kube_get(c, "/api/v1/nodes/x", &resp), -ENOENT);
	assert_int_equal(resp.status, 404);
	assert_non_null(resp.obj);
	assert_int_equal(kube_create(c, "/api/v1/nodes", "{}", &resp), -EEXIST);
	assert_int_equal(kube_update(c, "/api/v1/nodes/x", "{}", &resp),
			 -EAGAIN);
	assert_int_equal(kube_get(c, "/api/v1/nodes?watch=1", &resp), -EGONE);

	/* dry-run: mutations refused without a request, Events still sent */
	fence_set_mode(FENCE_DRY_RUN);
	assert_int_equal(kube_delete(c, "/api/v1/nodes/x", &resp), -EPERM);
	assert_int_equal(fake_nreq(&f), 4);
	assert_int_equal(
		kube_create(c, "/api/v1/namespaces/d/events", "{}", &resp), 0);
	fence_set_mode(FENCE_OPEN);
	assert_int_equal(kube_patch(c, "/api/v1/nodes/x", KUBE_PATCH_STRATEGIC,
				    "{}", &resp),
			 -EIO);
	assert_int_equal(resp.status, 500);
	assert_null(resp.obj);
	assert_string_equal(resp.body.data, "oops");
	assert_string_equal(f.reqs[4], "POST /api/v1/namespaces/d/events");
	assert_string_equal(f.reqs[5], "PATCH /api/v1/nodes/x");
	kube_resp_done(&resp);
	kube_client_free(c);
	fake_stop(&f);
	unlink(kc);
}

/* ---- Event recorder ---- */

static const struct step event_script[] = {
	{"201 Created", "{}", 0},
	{"200 OK", "{}", 0},
	{"404 Not Found", "{}", 0}, /* the Event expired: create again */
	{"201 Created", "{}", 0},
	{"403 Forbidden", "{}", 0}, /* then everything fails quietly */
};

static void test_event_recorder(void **state)
{
	struct kube_objref ref = {
		.kind = "Node", .name = "n1", .uid = "u1", .api_version = "v1"};
	struct kube_recorder_stats st;
	struct kube_recorder *rec = NULL;
	struct kube_client *c;
	struct fake f;
	char kc[128], evpath[256];
	int i;

	(void)state;
	fake_start(&f, event_script,
		   (int)(sizeof(event_script) / sizeof(event_script[0])));
	c = client_for(&f, kc, sizeof(kc));
	assert_int_equal(kube_recorder_new(c, "route-controller", "h1", &rec),
			 0);
	fence_set_mode(FENCE_DRY_RUN); /* Events are exempt */
	kube_event(rec, &ref, "Normal", "Synced", "node %s ok", "n1");
	kube_event(rec, &ref, "Normal", "Synced", "node %s ok", "n1");
	assert_string_equal(f.reqs[0],
			    "POST /api/v1/namespaces/default/events");
	assert_non_null(strstr(f.body[0], "\"count\":1"));
	assert_non_null(strstr(f.body[0], "\"message\":\"node n1 ok\""));
	assert_non_null(
		strstr(f.body[0], "\"component\":\"route-controller\""));
	assert_non_null(strstr(f.body[0], "\"name\":\"n1."));
	snprintf(evpath, sizeof(evpath),
		 "PATCH /api/v1/namespaces/default/events/%.*s",
		 (int)strcspn(strstr(f.body[0], "\"name\":\"n1.") + 8, "\""),
		 strstr(f.body[0], "\"name\":\"n1.") + 8);
	assert_string_equal(f.reqs[1], evpath);
	assert_non_null(strstr(f.body[1], "\"count\":2"));
	kube_event(rec, &ref, "Normal", "Synced", "node %s ok", "n1");
	assert_string_equal(f.reqs[2], evpath);
	assert_string_equal(f.reqs[3],
			    "POST /api/v1/namespaces/default/events");
	/* spam filter: 25 per object, then dropped without a request */
	for (i = 0; i < 30; i++)
		kube_event(rec, &ref, "Warning", "Flap", "try %d", i);
	kube_recorder_get_stats(rec, &st);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.patched, 1);
	assert_int_equal(st.filtered, 3 + 30 - 25);
	assert_int_equal(st.failed, 25 - 3);
	assert_int_equal(fake_nreq(&f), 4 + 25 - 3);
	fence_set_mode(FENCE_OPEN);
	kube_recorder_free(rec);
	kube_client_free(c);
	fake_stop(&f);
	unlink(kc);
}

static const struct step outage_script[] = {
	{"503 Service Unavailable", "{}", 0}, /* create: kept */
	{"201 Created", "{}", 0},	      /* the kept one, resent */
	{"201 Created", "{}", 0},	      /* the new one */
	{"503 Service Unavailable", "{}", 0}, /* from here on: away */
};

static void test_event_queue(void **state)
{
	struct kube_objref ref = {
		.kind = "Node", .name = "n1", .uid = "u1", .api_version = "v1"};
	struct kube_recorder_stats st;
	struct kube_recorder *rec = NULL;
	struct kube_client *c;
	struct fake f;
	char kc[128], name[32];
	int i;

	(void)state;
	fake_start(&f, outage_script,
		   (int)(sizeof(outage_script) / sizeof(outage_script[0])));
	c = client_for(&f, kc, sizeof(kc));
	assert_int_equal(kube_recorder_new(c, "svc", "h1", &rec), 0);
	kube_event(rec, &ref, "Warning", "A", "first");
	kube_recorder_get_stats(rec, &st);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.created, 0);
	kube_event(rec, &ref, "Warning", "B", "second");
	assert_non_null(strstr(f.body[1], "\"message\":\"first\""));
	assert_non_null(strstr(f.body[2], "\"message\":\"second\""));
	kube_recorder_get_stats(rec, &st);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.queued, 0);
	/* a long outage: the queue stays bounded and drops the oldest */
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "obj%d", i);
		ref.name = name;
		kube_event(rec, &ref, "Normal", "X", "n%d", i);
	}
	kube_recorder_get_stats(rec, &st);
	assert_int_equal(st.queued, 256);
	assert_int_equal(st.dropped, 300 - 256);
	kube_recorder_free(rec);
	kube_client_free(c);
	fake_stop(&f);
	unlink(kc);
}

/* ---- token file rotation ---- */

static const struct step token_script[] = {
	{"200 OK", "{}", 0},
	{"401 Unauthorized", "{}", 0},
	{"200 OK", "{}", 0},
};

static void test_token_file_reread(void **state)
{
	struct kube_client_opts o = {.role = "test", .timeout_ms = 5000};
	struct kube_client *c = NULL;
	char kc[128], tok[128], err[256];
	struct fake f;
	FILE *fp;

	(void)state;
	fake_start(&f, token_script, 3);
	snprintf(kc, sizeof(kc), "/tmp/kube-token-test-%d.yaml", (int)getpid());
	snprintf(tok, sizeof(tok), "/tmp/kube-token-test-%d.tok",
		 (int)getpid());
	fp = fopen(tok, "w");
	fputs("first\n", fp);
	fclose(fp);
	fp = fopen(kc, "w");
	fprintf(fp,
		"{\"clusters\":[{\"name\":\"f\",\"cluster\":{\"server\":"
		"\"http://127.0.0.1:%d\"}}],\"users\":[{\"name\":\"u\","
		"\"user\":{\"tokenFile\":\"%s\"}}],\"contexts\":[{\"name\":"
		"\"c\",\"context\":{\"cluster\":\"f\",\"user\":\"u\"}}],"
		"\"current-context\":\"c\"}",
		f.port, tok);
	fclose(fp);
	o.kubeconfig = kc;
	assert_int_equal(kube_client_new(&o, &c, err, sizeof(err)), 0);
	assert_int_equal(kube_get(c, "/a", NULL), 0);
	fp = fopen(tok, "w");
	fputs("second\n", fp);
	fclose(fp);
	/* cached within the minute; a 401 forces a re-read */
	assert_int_equal(kube_get(c, "/b", NULL), -EACCES);
	assert_int_equal(kube_get(c, "/c", NULL), 0);
	assert_string_equal(f.auth[0], "Bearer first");
	assert_string_equal(f.auth[1], "Bearer first");
	assert_string_equal(f.auth[2], "Bearer second");
	/* a per-worker token overrides the file */
	assert_int_equal(kube_client_set_token(c, "override"), 0);
	assert_int_equal(kube_get(c, "/d", NULL), 0);
	assert_string_equal(f.auth[3], "Bearer override");
	kube_client_free(c);
	fake_stop(&f);
	unlink(kc);
	unlink(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_informer),
		cmocka_unit_test(test_informer_backs_off_for_retry_after),
		cmocka_unit_test(test_informer_list_page_429_retried),
		cmocka_unit_test(test_sync_mapping_and_fence),
		cmocka_unit_test(test_event_recorder),
		cmocka_unit_test(test_event_queue),
		cmocka_unit_test(test_token_file_reread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
