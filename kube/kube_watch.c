#include "kube/kube_watch.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_curlev.h"
#include "kube/kube_internal.h"
#include "kube/kube_lines.h"
#include "lib/clock.h"
#include "lib/log.h"

#define ERRBODY_MAX (64u << 10)

/* The curl multi handle of one client, driven by one event_base. */
struct kube_mux {
	struct kube_client *c;
	struct kube_curlev *ev;
};

struct kube_watch {
	struct kube_client *c;
	struct kube_mux *m;
	CURL *easy;
	struct curl_slist *hdrs;
	char *path;
	struct kube_lines lines;
	struct buf errbody; /* body of a non-200 response */
	const struct kube_watch_ops *ops;
	void *ctx;
	struct event *idle;
	int64_t idle_ms;
	int64_t last_data_ms;
	long status;
	int64_t retry_after_ms; /* a 429's Retry-After, else 0 */
	int stop_err;		/* what on_event returned to stop the stream */
	int active;		/* easy handle is in the multi */
	int idled;		/* torn down by the idle timer */
	uint64_t events;
	uint64_t logged_oversize;
};

static void watch_finish(struct kube_watch *w, int err);

/* A stream ended: its easy handle's private pointer is the watch. */
static void on_done(void *priv, CURLcode cc)
{
	watch_finish(priv, cc);
}

void kube_mux_free(struct kube_mux *m)
{
	if (!m)
		return;
	kube_curlev_free(m->ev);
	free(m);
}

static int mux_get(struct kube_client *c, struct event_base *base,
		   struct kube_mux **ret)
{
	struct kube_mux *m = kube_client_get_mux(c);

	if (m) {
		if (kube_curlev_base(m->ev) != base)
			return -EINVAL;
		*ret = m;
		return 0;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->c = c;
	if (kube_curlev_new(base, on_done, &m->ev) < 0) {
		kube_mux_free(m);
		return -ENOMEM;
	}
	kube_client_set_mux(c, m);
	*ret = m;
	return 0;
}

static int on_line(void *ctx, const char *line, size_t len)
{
	struct kube_watch *w = ctx;
	struct json_limits lim = json_default_limits;
	struct json *j = NULL;
	const char *type;
	int r;

	lim.max_bytes = KUBE_WATCH_MAX_EVENT + 1024;
	r = json_parse(line, len, &lim, &j, NULL, 0);
	if (r < 0) {
		log_v(4, "watch %s: undecodable event (%d)", w->path, r);
		return -EPROTO;
	}
	type = json_path_str(j, "type");
	w->events++;
	r = type ? w->ops->on_event(w->ctx, type, json_get(j, "object"))
		 : -EPROTO;
	json_free(j);
	return r;
}

static void note_oversize(struct kube_watch *w)
{
	if (w->lines.oversize == w->logged_oversize)
		return;
	w->logged_oversize = w->lines.oversize;
	/* library modules stay quiet below -v=4; the informer counts it */
	log_v(4, "watch %s: dropped an event over %zu bytes (%llu so far)",
	      w->path, w->lines.line.limit,
	      (unsigned long long)w->lines.oversize);
}

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct kube_watch *w = ud;
	int r;

	w->last_data_ms = clock_mono_ms();
	if (!w->status)
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200) {
		/* a Status object; keep what fits for the message */
		buf_append(&w->errbody, p, sz * n);
		return sz * n;
	}
	r = kube_lines_feed(&w->lines, p, sz * n, on_line, w);
	note_oversize(w);
	if (r < 0) {
		w->stop_err = r;
		return 0;
	}
	return sz * n;
}

static int end_code(struct kube_watch *w, CURLcode cc)
{
	if (w->stop_err)
		return w->stop_err;
	if (!w->status)
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status == 401)
		kube_client_token_stale(w->c);
	if (w->status == 429) {
		curl_off_t ra = 0;

		curl_easy_getinfo(w->easy, CURLINFO_RETRY_AFTER, &ra);
		w->retry_after_ms = kube_retry_after_ms(429, (long long)ra);
		kube_client_note_answer(w->c, 429, -EIO);
	}
	if (w->status && w->status != 200)
		return kube_map_status(w->status, 0);
	return kube_map_curl(cc);
}

static void detach(struct kube_watch *w)
{
	if (w->active) {
		curl_multi_remove_handle(kube_curlev_multi(w->m->ev), w->easy);
		w->active = 0;
	}
	if (w->idle)
		evtimer_del(w->idle);
}

static void watch_finish(struct kube_watch *w, int cc)
{
	int err = end_code(w, (CURLcode)cc);

	detach(w);
	log_v(5, "watch %s ended: %d (HTTP %ld)", w->path, err, w->status);
	w->ops->on_end(w->ctx, err);
}

/* A connection that went silent without FIN never ends by itself. */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct kube_watch *w = arg;
	int64_t left = w->last_data_ms + w->idle_ms - clock_mono_ms();
	struct timeval tv;

	(void)fd;
	(void)what;
	if (left > 0) {
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		evtimer_add(w->idle, &tv);
		return;
	}
	w->stop_err = -ETIMEDOUT;
	w->idled = 1;
	detach(w);
	log_v(4, "watch %s idle for %lld ms", w->path, (long long)w->idle_ms);
	w->ops->on_end(w->ctx, -ETIMEDOUT);
}

static int setup(struct kube_watch *w)
{
	CURL *e = w->easy;
	int64_t t = kube_client_timeout_ms(w->c);
	int r;

	r = kube_easy_setup(w->c, e, w->path, &w->hdrs);
	if (r < 0)
		return r;
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)t);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(e, CURLOPT_PRIVATE, w);
	return 0;
}

int kube_watch_start(struct kube_client *c, struct event_base *base,
		     const char *path, const struct kube_watch_opts *o,
		     const struct kube_watch_ops *ops, void *ctx,
		     struct kube_watch **ret)
{
	struct kube_watch *w = calloc(1, sizeof(*w));
	struct timeval tv;
	int r;

	if (!w)
		return -ENOMEM;
	w->c = c;
	w->ops = ops;
	w->ctx = ctx;
	w->idle_ms = o ? o->idle_ms : 0;
	kube_lines_init(&w->lines, o && o->max_event ? o->max_event
						     : KUBE_WATCH_MAX_EVENT);
	buf_init(&w->errbody, ERRBODY_MAX);
	r = mux_get(c, base, &w->m);
	if (r < 0)
		goto fail;
	w->path = strdup(path);
	w->easy = curl_easy_init();
	w->idle = evtimer_new(base, on_idle, w);
	r = w->path && w->easy && w->idle ? setup(w) : -ENOMEM;
	if (r < 0)
		goto fail;
	w->last_data_ms = clock_mono_ms();
	if (curl_multi_add_handle(kube_curlev_multi(w->m->ev), w->easy) !=
	    CURLM_OK) {
		r = -ENOMEM;
		goto fail;
	}
	w->active = 1;
	if (w->idle_ms > 0) {
		tv.tv_sec = w->idle_ms / 1000;
		tv.tv_usec = (w->idle_ms % 1000) * 1000;
		evtimer_add(w->idle, &tv);
	}
	*ret = w;
	return 0;
fail:
	kube_watch_free(w);
	return r;
}

void kube_watch_free(struct kube_watch *w)
{
	if (!w)
		return;
	if (w->m)
		detach(w);
	if (w->idle)
		event_free(w->idle);
	if (w->easy)
		curl_easy_cleanup(w->easy);
	curl_slist_free_all(w->hdrs);
	kube_lines_done(&w->lines);
	buf_done(&w->errbody);
	free(w->path);
	free(w);
}

uint64_t kube_watch_oversize(const struct kube_watch *w)
{
	return w->lines.oversize;
}

uint64_t kube_watch_events(const struct kube_watch *w)
{
	return w->events;
}

int kube_watch_idled(const struct kube_watch *w)
{
	return w->idled;
}

int64_t kube_watch_retry_after_ms(const struct kube_watch *w)
{
	return w->retry_after_ms;
}
