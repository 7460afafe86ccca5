#include "kube/kube_informer.h"

#include <errno.h>
#include <event2/event.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_internal.h"
#include "kube/kube_store.h"
#include "kube/kube_watch.h"
#include "lib/backoff.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"

#define PAGE_LIMIT	  500
#define SHORT_WATCH_MS	  1000
#define BACKOFF_BASE_MS	  800
#define BACKOFF_CAP_MS	  30000
#define RV_MAX		  64
#define WATCH_MIN_TIMEOUT 300

struct kube_informer {
	struct kube_client *c;
	struct event_base *base;
	char *list_path; /* path with selectors */
	struct kube_informer_opts o;
	struct kube_informer_ops ops; /* copied: callers pass stack structs */
	void *ctx;
	struct kube_store *store;
	unsigned gen;
	char rv[RV_MAX];
	struct kube_watch *w;
	struct event *kick;
	struct event *resync;
	int need_list;
	int synced;
	struct backoff bo;
	int64_t watch_started_ms;
	unsigned seed;
	struct kube_informer_stats st;
};

static const struct kube_watch_ops watch_ops;

static void schedule(struct kube_informer *inf, int64_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(inf->kick, &tv);
}

/* The usual backoff, but never sooner than an overloaded server asked
 * (retry_after_ms, 0 when it did not). */
static void schedule_backoff(struct kube_informer *inf, int64_t retry_after_ms)
{
	int64_t ms = backoff_next(&inf->bo);

	if (ms < retry_after_ms)
		ms = retry_after_ms;
	log_v(4, "informer %s: retry in %lld ms", inf->list_path,
	      (long long)ms);
	schedule(inf, ms);
}

static uint64_t client_overloaded(const struct kube_informer *inf)
{
	struct kube_client_stats cs;

	kube_client_get_stats(inf->c, &cs);
	return cs.overloaded;
}

static void free_obj(struct kube_informer *inf, void *obj)
{
	if (obj && inf->o.free_obj)
		inf->o.free_obj(inf->ctx, obj);
}

struct meta {
	const char *ns, *name, *uid, *rv;
};

static int get_meta(const struct json *obj, struct meta *m)
{
	const struct json *md = json_get(obj, "metadata");

	m->ns = json_path_str(md, "namespace");
	m->name = json_path_str(md, "name");
	m->uid = json_path_str(md, "uid");
	m->rv = json_path_str(md, "resourceVersion");
	if (!m->ns)
		m->ns = "";
	return m->name && *m->name ? 0 : -EINVAL;
}

/* Adds or replaces one object, calling on_add/on_update. */
static int upsert(struct kube_informer *inf, const struct json *obj,
		  const struct meta *m)
{
	struct kube_entry *old = kube_store_find(inf->store, m->ns, m->name);
	struct kube_entry *e;
	void *x = NULL;
	int r;

	if (old && m->rv && !strcmp(old->it.rv, m->rv)) {
		old->gen = inf->gen; /* unchanged since we saw it */
		return 0;
	}
	if (inf->o.extract) {
		r = inf->o.extract(inf->ctx, obj, &x);
		if (r < 0) {
			log_v(4, "informer %s: skipping %s/%s (%d)",
			      inf->list_path, m->ns, m->name, r);
			return 0;
		}
	}
	r = kube_entry_new(m->ns, m->name, m->uid, m->rv, x, &e);
	if (r < 0) {
		free_obj(inf, x);
		return r;
	}
	e->gen = inf->gen;
	old = kube_store_take(inf->store, m->ns, m->name);
	kube_store_put(inf->store, e);
	if (old && inf->ops.on_update)
		inf->ops.on_update(inf->ctx, &old->it, &e->it);
	else if (!old && inf->ops.on_add)
		inf->ops.on_add(inf->ctx, &e->it);
	kube_entry_free(old, inf->o.free_obj, inf->ctx);
	return 0;
}

static void remove_item(struct kube_informer *inf, const struct meta *m)
{
	struct kube_entry *e = kube_store_take(inf->store, m->ns, m->name);

	if (!e)
		return;
	if (inf->ops.on_delete)
		inf->ops.on_delete(inf->ctx, &e->it);
	kube_entry_free(e, inf->o.free_obj, inf->ctx);
}

static int list_item(void *ctx, const struct json *item)
{
	struct kube_informer *inf = ctx;
	struct meta m;

	if (get_meta(item, &m) < 0)
		return 0;
	return upsert(inf, item, &m);
}

/* Objects not seen by the last LIST were deleted while we were away. */
static void sweep(struct kube_informer *inf)
{
	struct kube_entry *e = kube_store_sweep(inf->store, inf->gen), *next;

	for (; e; e = next) {
		next = e->next;
		if (inf->ops.on_delete)
			inf->ops.on_delete(inf->ctx, &e->it);
		kube_entry_free(e, inf->o.free_obj, inf->ctx);
	}
}

static int do_list(struct kube_informer *inf)
{
	char rv[RV_MAX] = "";
	int limit = inf->o.page_limit > 0 ? inf->o.page_limit : PAGE_LIMIT;
	uint64_t ov = client_overloaded(inf), retried;
	int r;

	inf->gen++;
	r = kube_list(inf->c, inf->list_path, limit, list_item, inf, rv,
		      sizeof(rv));
	/* kube_list is synchronous: every 429 of the client meanwhile was
	 * one of its pages; those it waited out and retried are errors too */
	ov = client_overloaded(inf) - ov;
	inf->st.overloaded += ov;
	retried = r < 0 && kube_client_last_retry_after_ms(inf->c) > 0 && ov
			  ? ov - 1
			  : ov;
	inf->st.errors += retried;
	if (r < 0) {
		inf->st.errors++;
		log_v(4, "informer %s: list failed: %d", inf->list_path, r);
		return r;
	}
	sweep(inf);
	snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
	inf->st.lists++;
#ifdef __GLIBC__
	/* the pages' trees are freed, interleaved with the entries kept:
	 * give the free pages between them back */
	malloc_trim(0);
#endif
	if (!inf->synced) {
		inf->synced = 1;
		if (inf->ops.on_synced)
			inf->ops.on_synced(inf->ctx);
	}
	return 0;
}

static int64_t idle_ms(const struct kube_informer *inf, int timeout_s)
{
	if (inf->o.idle_ms > 0)
		return inf->o.idle_ms;
#ifdef CCM_TEST_HOOKS
	{
		const char *env = getenv("CCM_WATCH_IDLE_MS");
		long long v;

		if (env && (v = atoll(env)) > 0)
			return v;
	}
#endif
	return (int64_t)timeout_s * 2000;
}

static int start_watch(struct kube_informer *inf)
{
	struct kube_watch_opts wo = {0};
	int t = inf->o.watch_timeout_s;
	struct buf p;
	int r;

	if (t <= 0)
		t = WATCH_MIN_TIMEOUT +
		    (int)(rand_r(&inf->seed) % (WATCH_MIN_TIMEOUT + 1));
	buf_init(&p, 64u << 10);
	r = buf_printf(&p,
		       "%s%cwatch=1&allowWatchBookmarks=true"
		       "&resourceVersion=%s&timeoutSeconds=%d",
		       inf->list_path, strchr(inf->list_path, '?') ? '&' : '?',
		       inf->rv, t);
	wo.idle_ms = idle_ms(inf, t);
	wo.max_event = inf->o.max_event;
	if (!r)
		r = kube_watch_start(inf->c, inf->base, p.data, &wo, &watch_ops,
				     inf, &inf->w);
	buf_done(&p);
	if (r < 0)
		return r;
	inf->st.watches++;
	inf->watch_started_ms = clock_mono_ms();
	return 0;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct kube_informer *inf = arg;

	(void)fd;
	(void)what;
	if (inf->need_list) {
		if (do_list(inf) < 0) {
			schedule_backoff(
				inf, kube_client_last_retry_after_ms(inf->c));
			return;
		}
		inf->need_list = 0;
	}
	if (start_watch(inf) < 0) {
		inf->st.errors++;
		schedule_backoff(inf, 0);
	}
}

static int watch_error(struct kube_informer *inf, const struct json *st)
{
	long long code = 0;

	json_int(json_get(st, "code"), &code);
	log_v(4, "informer %s: watch error %lld: %s", inf->list_path, code,
	      json_path_str(st, "message") ? json_path_str(st, "message") : "");
	return code == 410 ? -EGONE : -EIO;
}

static int on_event(void *ctx, const char *type, const struct json *obj)
{
	struct kube_informer *inf = ctx;
	struct meta m;
	int r = 0;

	if (!strcmp(type, "ERROR"))
		return watch_error(inf, obj);
	backoff_reset(&inf->bo);
	if (get_meta(obj, &m) < 0 && strcmp(type, "BOOKMARK") != 0)
		return -EPROTO;
	if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED"))
		r = upsert(inf, obj, &m);
	else if (!strcmp(type, "DELETED"))
		remove_item(inf, &m);
	if (m.rv && *m.rv)
		snprintf(inf->rv, sizeof(inf->rv), "%s", m.rv);
	inf->st.events++;
	return r;
}

static void on_end(void *ctx, int err)
{
	struct kube_informer *inf = ctx;
	uint64_t events = kube_watch_events(inf->w);
	int64_t lasted = clock_mono_ms() - inf->watch_started_ms;
	int idled = kube_watch_idled(inf->w);
	int64_t retry_after = kube_watch_retry_after_ms(inf->w);

	inf->st.oversize_events += kube_watch_oversize(inf->w);
	kube_watch_free(inf->w);
	inf->w = NULL;
	if (err == -EGONE) {
		inf->st.relists++;
		inf->need_list = 1;
		schedule(inf, 0);
		return;
	}
	if (err == 0 && (lasted >= SHORT_WATCH_MS || events)) {
		schedule(inf, 0); /* the server's timeoutSeconds ended it */
		return;
	}
	inf->st.errors++;
	inf->st.reconnects++;
	if (idled)
		inf->st.idle_timeouts++;
	if (retry_after > 0)
		inf->st.overloaded++;
	log_v(4, "informer %s: watch ended (%d) after %lld ms", inf->list_path,
	      err, (long long)lasted);
	schedule_backoff(inf, retry_after);
}

static const struct kube_watch_ops watch_ops = {
	.on_event = on_event,
	.on_end = on_end,
};

static int resync_one(void *ctx, const struct kube_item *it)
{
	struct kube_informer *inf = ctx;

	inf->ops.on_update(inf->ctx, it, it);
	return 0;
}

static void on_resync(evutil_socket_t fd, short what, void *arg)
{
	struct kube_informer *inf = arg;

	(void)fd;
	(void)what;
	if (inf->synced && inf->ops.on_update)
		kube_store_foreach(inf->store, resync_one, inf);
}

static int add_selector(struct kube_client *c, struct buf *p, const char *key,
			const char *sel)
{
	CURL *e;
	char *esc;
	int r;

	if (!sel || !*sel)
		return 0;
	e = curl_easy_init();
	esc = e ? curl_easy_escape(e, sel, 0) : NULL;
	r = esc ? buf_printf(p, "%c%s=%s", strchr(p->data, '?') ? '&' : '?',
			     key, esc)
		: -ENOMEM;
	curl_free(esc);
	if (e)
		curl_easy_cleanup(e);
	(void)c;
	return r;
}

static int build_list_path(struct kube_informer *inf, const char *path)
{
	struct buf p;
	int r;

	buf_init(&p, 16u << 10);
	r = buf_puts(&p, path);
	if (!r)
		r = add_selector(inf->c, &p, "labelSelector",
				 inf->o.label_selector);
	if (!r)
		r = add_selector(inf->c, &p, "fieldSelector",
				 inf->o.field_selector);
	if (r < 0) {
		buf_done(&p);
		return r;
	}
	inf->list_path = p.data;
	return 0;
}

static int setup_timers(struct kube_informer *inf)
{
	struct timeval tv;

	inf->kick = evtimer_new(inf->base, on_kick, inf);
	if (!inf->kick)
		return -ENOMEM;
	if (inf->o.resync_ms > 0) {
		inf->resync =
			event_new(inf->base, -1, EV_PERSIST, on_resync, inf);
		if (!inf->resync)
			return -ENOMEM;
		tv.tv_sec = inf->o.resync_ms / 1000;
		tv.tv_usec = (inf->o.resync_ms % 1000) * 1000;
		event_add(inf->resync, &tv);
	}
	inf->need_list = 1;
	schedule(inf, 0);
	return 0;
}

int kube_informer_new(struct kube_client *c, struct event_base *base,
		      const char *path, const struct kube_informer_opts *o,
		      const struct kube_informer_ops *ops, void *ctx,
		      struct kube_informer **ret)
{
	struct kube_informer *inf = calloc(1, sizeof(*inf));
	int r;

	if (!inf)
		return -ENOMEM;
	inf->c = c;
	inf->base = base;
	if (o)
		inf->o = *o;
	if (ops)
		inf->ops = *ops;
	inf->ctx = ctx;
	inf->seed = (unsigned)(clock_wall_ms() ^ getpid()) ^
		    (unsigned)(uintptr_t)inf;
	backoff_init(&inf->bo, BACKOFF_BASE_MS, BACKOFF_CAP_MS, 0, inf->seed);
	r = build_list_path(inf, path);
	if (!r)
		r = kube_store_new(&inf->store);
	if (!r)
		r = setup_timers(inf);
	/* selectors were copied into list_path; do not keep borrowed ones */
	inf->o.label_selector = inf->o.field_selector = NULL;
	if (r < 0) {
		kube_informer_free(inf);
		return r;
	}
	*ret = inf;
	return 0;
}

void kube_informer_free(struct kube_informer *inf)
{
	if (!inf)
		return;
	kube_watch_free(inf->w);
	if (inf->kick)
		event_free(inf->kick);
	if (inf->resync)
		event_free(inf->resync);
	kube_store_free(inf->store, inf->o.free_obj, inf->ctx);
	free(inf->list_path);
	free(inf);
}

int kube_informer_synced(const struct kube_informer *inf)
{
	return inf->synced;
}

const struct kube_item *kube_informer_get(const struct kube_informer *inf,
					  const char *ns, const char *name)
{
	const struct kube_entry *e = kube_store_find(inf->store, ns, name);

	return e ? &e->it : NULL;
}

size_t kube_informer_len(const struct kube_informer *inf)
{
	return kube_store_len(inf->store);
}

int kube_informer_foreach(const struct kube_informer *inf,
			  int (*cb)(void *ctx, const struct kube_item *it),
			  void *ctx)
{
	return kube_store_foreach(inf->store, cb, ctx);
}

void kube_informer_get_stats(const struct kube_informer *inf,
			     struct kube_informer_stats *out)
{
	*out = inf->st;
	if (inf->w)
		out->oversize_events += kube_watch_oversize(inf->w);
}

const char *kube_informer_rv(const struct kube_informer *inf)
{
	return inf->rv;
}
