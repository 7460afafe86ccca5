/*
 * prog_kube - drives kube/ against a real API server for tests/integ.
 *
 *   prog_kube list PATH LIMIT
 *   prog_kube req METHOD PATH [merge|strategic|json BODY | BODY]
 *   prog_kube watch PATH [LABEL_SELECTOR]     (runs until SIGTERM)
 *   prog_kube event KIND NS NAME UID TYPE REASON MESSAGE REPEAT [PAUSE_MS]
 *                   (with PAUSE_MS: sleep that long, then repeat once more)
 *   prog_kube delnode NAME UID RESOURCE_VERSION   (node-init's judged
 *                                                  delete, preconditions)
 *
 * The connection comes from --kubeconfig=PATH (first argument) or the
 * usual $KUBECONFIG / in-cluster resolution. For the fence tests,
 * PROG_KUBE_QPS (burst 1) and PROG_KUBE_TIMEOUT_MS tune the client,
 * PROG_KUBE_FENCE_MS opens a fence window of that lease from start,
 * PROG_KUBE_REPEAT repeats "req", and "progress N" counts the progress
 * callbacks. Results are printed as
 * "key value" lines on stdout (line-buffered) for the test to parse.
 */
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/kube_client.h"
#include "kube/kube_event.h"
#include "kube/kube_informer.h"
#include "lib/clock.h"
#include "lib/fence.h"
#include "lib/log.h"
#include "workers/node_init/ni_ctl.h"

static int print_item(void *ctx, const struct json *item)
{
	const char *ns = json_path_str(item, "metadata.namespace");

	(void)ctx;
	printf("item %s/%s\n", ns ? ns : "",
	       json_path_str(item, "metadata.name"));
	return 0;
}

static int cmd_list(struct kube_client *c, int argc, char **argv)
{
	struct kube_client_stats st;
	char rv[64] = "";
	int r;

	if (argc < 2)
		return 2;
	r = kube_list(c, argv[0], atoi(argv[1]), print_item, NULL, rv,
		      sizeof(rv));
	kube_client_get_stats(c, &st);
	printf("pages %d\nrv %s\nresult %d\n", st.last_list_pages, rv, r);
	return r < 0;
}

static const char *errname(int r)
{
	const char *n;

	if (r == 0)
		return "0";
	if (r == -EGONE)
		return "EGONE";
	n = strerrorname_np(-r);
	return n ? n : "?";
}

static int cmd_req(struct kube_client *c, int argc, char **argv)
{
	struct kube_client_stats st;
	struct kube_resp resp;
	const char *m, *path, *body = NULL;
	enum kube_patch_type pt = KUBE_PATCH_MERGE;
	int r;

	if (argc < 2)
		return 2;
	m = argv[0];
	path = argv[1];
	if (!strcmp(m, "PATCH") && argc >= 4) {
		pt = !strcmp(argv[2], "strategic") ? KUBE_PATCH_STRATEGIC
		     : !strcmp(argv[2], "json")	   ? KUBE_PATCH_JSON
						   : KUBE_PATCH_MERGE;
		body = argv[3];
	} else if (argc >= 3) {
		body = argv[2];
	}
	kube_resp_init(&resp);
	if (!strcmp(m, "GET"))
		r = kube_get(c, path, &resp);
	else if (!strcmp(m, "POST"))
		r = kube_create(c, path, body, &resp);
	else if (!strcmp(m, "PUT"))
		r = kube_update(c, path, body, &resp);
	else if (!strcmp(m, "PATCH"))
		r = kube_patch(c, path, pt, body, &resp);
	else if (!strcmp(m, "DELETE"))
		r = kube_delete(c, path, &resp);
	else
		r = -EINVAL;
	printf("status %ld\nresult %d\nerrno %s\n", resp.status, r, errname(r));
	kube_client_get_stats(c, &st);
	printf("overloaded %llu\nqps %g\n", (unsigned long long)st.overloaded,
	       st.qps);
	printf("body %s\n", resp.body.data ? resp.body.data : "");
	kube_resp_done(&resp);
	return 0;
}

/* node-init's request: DeleteOptions with the judged uid/resourceVersion */
static int cmd_delnode(struct kube_client *c, int argc, char **argv)
{
	struct wk_node n = {0};
	struct kube_resp resp;
	struct buf body;
	char path[512];
	int r;

	if (argc < 3)
		return 2;
	n.uid = argv[1];
	n.resource_version = argv[2];
	buf_init(&body, 4096);
	r = ni_delete_options(&n, &body);
	kube_resp_init(&resp);
	if (r == 0) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", argv[0]);
		r = kube_delete_opts(c, path, body.data, &resp);
	}
	printf("status %ld\nresult %d\nerrno %s\n", resp.status, r, errname(r));
	kube_resp_done(&resp);
	buf_done(&body);
	return 0;
}

/* ---- watch ---- */

struct wctx {
	struct kube_informer *inf;
	struct kube_informer_stats last;
};

static void on_add(void *ctx, const struct kube_item *it)
{
	(void)ctx;
	printf("add %s/%s %s\n", it->ns, it->name, it->rv);
}

static void on_update(void *ctx, const struct kube_item *old,
		      const struct kube_item *cur)
{
	(void)ctx;
	printf("update %s/%s %s -> %s\n", cur->ns, cur->name, old->rv, cur->rv);
}

static void on_delete(void *ctx, const struct kube_item *it)
{
	(void)ctx;
	printf("delete %s/%s %s\n", it->ns, it->name, it->rv);
}

static void on_synced(void *ctx)
{
	struct wctx *w = ctx;

	printf("synced %zu\n", kube_informer_len(w->inf));
}

static const struct kube_informer_ops wops = {
	.on_add = on_add,
	.on_update = on_update,
	.on_delete = on_delete,
	.on_synced = on_synced,
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wctx *w = arg;
	struct kube_informer_stats s;

	(void)fd;
	(void)what;
	if (!w->inf)
		return;
	kube_informer_get_stats(w->inf, &s);
	if (!memcmp(&s, &w->last, sizeof(s)))
		return;
	w->last = s;
	printf("stats lists=%llu relists=%llu watches=%llu reconnects=%llu "
	       "idle=%llu oversize=%llu events=%llu errors=%llu "
	       "overloaded=%llu rv=%s\n",
	       (unsigned long long)s.lists, (unsigned long long)s.relists,
	       (unsigned long long)s.watches, (unsigned long long)s.reconnects,
	       (unsigned long long)s.idle_timeouts,
	       (unsigned long long)s.oversize_events,
	       (unsigned long long)s.events, (unsigned long long)s.errors,
	       (unsigned long long)s.overloaded, kube_informer_rv(w->inf));
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static int cmd_watch(struct kube_client *c, int argc, char **argv)
{
	struct kube_informer_opts o = {0};
	struct event_base *base = event_base_new();
	struct timeval tv = {0, 100000};
	struct wctx w = {0};
	struct event *tick, *term;
	int r;

	if (argc < 1 || !base)
		return 2;
	o.label_selector = argc > 1 ? argv[1] : NULL;
	o.page_limit = 2;
	tick = event_new(base, -1, EV_PERSIST, on_tick, &w);
	term = evsignal_new(base, SIGTERM, on_term, base);
	event_add(tick, &tv);
	event_add(term, NULL);
	r = kube_informer_new(c, base, argv[0], &o, &wops, &w, &w.inf);
	printf("start %d\n", r);
	if (r == 0)
		event_base_dispatch(base);
	kube_informer_free(w.inf);
	event_free(tick);
	event_free(term);
	event_base_free(base);
	printf("stopped\n");
	return r < 0;
}

static int cmd_event(struct kube_client *c, int argc, char **argv)
{
	struct kube_objref ref = {0};
	struct kube_recorder *rec = NULL;
	int i, n, r;

	if (argc < 8)
		return 2;
	ref.kind = argv[0];
	ref.namespace = argv[1];
	ref.name = argv[2];
	ref.uid = argv[3];
	ref.api_version = "v1";
	n = atoi(argv[7]);
	r = kube_recorder_new(c, "prog-kube", "testhost", &rec);
	for (i = 0; r == 0 && i < n; i++)
		kube_event(rec, &ref, argv[4], argv[5], "%s", argv[6]);
	if (r == 0 && argc > 8) {
		struct timespec ts = {atoi(argv[8]) / 1000,
				      (atoi(argv[8]) % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		kube_event(rec, &ref, argv[4], argv[5], "%s", argv[6]);
	}
	if (rec) {
		struct kube_recorder_stats st;

		kube_recorder_get_stats(rec, &st);
		printf("created %llu\npatched %llu\nfailed %llu\nfiltered "
		       "%llu\ndeferred %llu\nqueued %llu\n",
		       (unsigned long long)st.created,
		       (unsigned long long)st.patched,
		       (unsigned long long)st.failed,
		       (unsigned long long)st.filtered,
		       (unsigned long long)st.deferred,
		       (unsigned long long)st.queued);
	}
	kube_recorder_free(rec);
	printf("result %d\n", r);
	return r < 0;
}

static int progress_calls;

static void on_progress(void *arg)
{
	(void)arg;
	progress_calls++;
}

/* The fence-test knobs (see the header). */
static void fence_knobs(struct kube_client_opts *o)
{
	const char *v;

	if ((v = getenv("PROG_KUBE_QPS"))) {
		o->qps = atof(v);
		o->burst = 1;
	}
	if ((v = getenv("PROG_KUBE_TIMEOUT_MS")))
		o->timeout_ms = atol(v);
	if ((v = getenv("PROG_KUBE_FENCE_MS")))
		fence_set_lease(clock_boot_ms(), atol(v), atol(v));
}

static int repeat_req(struct kube_client *c, int argc, char **argv)
{
	const char *v = getenv("PROG_KUBE_REPEAT");
	int n = v ? atoi(v) : 1, r = 0;

	kube_client_set_progress(c, on_progress, NULL);
	for (int i = 0; i < n && r == 0; i++)
		r = cmd_req(c, argc, argv);
	printf("progress %d\n", progress_calls);
	return r;
}

int main(int argc, char **argv)
{
	struct kube_client_opts o = {.role = "prog-kube",
				     .qps = 50,
				     .burst = 100,
				     .timeout_ms = 10000};
	struct kube_client *c = NULL;
	char err[256];
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("PROG_KUBE_V"))
		log_set_verbosity(atoi(getenv("PROG_KUBE_V")));
	if (argc > 1 && !strncmp(argv[1], "--kubeconfig=", 13)) {
		o.kubeconfig = argv[1] + 13;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: prog_kube list|req|watch|event ...\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fence_knobs(&o);
	r = kube_client_new(&o, &c, err, sizeof(err));
	if (r < 0) {
		printf("client-error %d %s\n", r, err);
		return 3;
	}
	if (!strcmp(argv[1], "list"))
		r = cmd_list(c, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "req"))
		r = repeat_req(c, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "watch"))
		r = cmd_watch(c, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "event"))
		r = cmd_event(c, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "delnode"))
		r = cmd_delnode(c, argc - 2, argv + 2);
	else
		r = 2;
	kube_client_free(c);
	curl_global_cleanup();
	return r;
}
