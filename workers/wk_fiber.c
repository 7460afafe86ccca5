#include "workers/wk_fiber.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

#include "kube/kube_curlev.h"
#include "lib/coro.h"
#include "lib/log.h"

/* What a fiber is waiting for; RUN: nothing (runnable or running). */
enum wait_kind { W_RUN = 0, W_PERFORM, W_SLEEP };

struct fiber {
	struct wk_fibers *f;
	struct coro *co;
	void (*job)(void *arg);
	void (*done)(void *arg);
	void *arg;
	enum wait_kind wait;
	int ready; /* resume (or reap) on the next turn */
	CURLcode cc;
	struct event *timer;
	struct fiber *next;
};

struct wk_fibers {
	struct event_base *base;
	struct kube_curlev *mev; /* cloud transfers of every fiber */
	struct event *ev_ready;
	struct fiber *all;
	struct fiber *current;
	size_t n;
	int stopping;
};

static void mark_ready(struct fiber *fb)
{
	fb->ready = 1;
	event_active(fb->f->ev_ready, 0, 0);
}

static void on_transfer_done(void *priv, CURLcode cc)
{
	struct fiber *fb = priv;

	if (fb->wait != W_PERFORM)
		return;
	fb->cc = cc;
	fb->wait = W_RUN;
	mark_ready(fb);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fiber *fb = arg;

	(void)fd;
	(void)what;
	if (fb->wait != W_SLEEP)
		return;
	fb->wait = W_RUN;
	mark_ready(fb);
}

static void fiber_free(struct fiber *fb)
{
	if (!fb)
		return;
	coro_free(fb->co);
	if (fb->timer)
		event_free(fb->timer);
	free(fb);
}

static void unlink_fiber(struct wk_fibers *f, struct fiber *fb)
{
	struct fiber **pp;

	for (pp = &f->all; *pp; pp = &(*pp)->next)
		if (*pp == fb) {
			*pp = fb->next;
			f->n--;
			return;
		}
}

/* Runs fb until it waits again; a finished fiber is reaped. */
static void step(struct wk_fibers *f, struct fiber *fb)
{
	int r;

	fb->ready = 0;
	if (!coro_finished(fb->co)) {
		f->current = fb;
		r = coro_resume(fb->co);
		f->current = NULL;
		if (r < 0)
			log_error("fiber: resume failed: %d", r);
		if (r == 0)
			return;
	}
	unlink_fiber(f, fb);
	if (fb->done)
		fb->done(fb->arg);
	fiber_free(fb);
}

static struct fiber *first_ready(const struct wk_fibers *f)
{
	struct fiber *fb;

	for (fb = f->all; fb; fb = fb->next)
		if (fb->ready)
			return fb;
	return NULL;
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct wk_fibers *f = arg;
	struct fiber *fb;

	(void)fd;
	(void)what;
	while ((fb = first_ready(f)))
		step(f, fb);
}

int wk_fibers_new(struct event_base *base, struct wk_fibers **ret)
{
	struct wk_fibers *f = calloc(1, sizeof(*f));
	int r;

	*ret = NULL;
	if (!f)
		return -ENOMEM;
	f->base = base;
	f->ev_ready = event_new(base, -1, 0, on_ready, f);
	r = f->ev_ready ? kube_curlev_new(base, on_transfer_done, &f->mev)
			: -ENOMEM;
	if (r < 0) {
		wk_fibers_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void wk_fibers_stop(struct wk_fibers *f)
{
	struct fiber *fb;

	f->stopping = 1;
	for (fb = f->all; fb; fb = fb->next) {
		if (fb->wait == W_PERFORM)
			fb->cc = CURLE_ABORTED_BY_CALLBACK;
		else if (fb->wait == W_SLEEP)
			evtimer_del(fb->timer);
		fb->wait = W_RUN;
		fb->ready = 1;
	}
	/* every wait now returns at once: each fiber runs to its end */
	while ((fb = first_ready(f)))
		step(f, fb);
}

void wk_fibers_free(struct wk_fibers *f)
{
	if (!f)
		return;
	wk_fibers_stop(f);
	kube_curlev_free(f->mev);
	if (f->ev_ready)
		event_free(f->ev_ready);
	free(f);
}

static void trampoline(void *arg)
{
	struct fiber *fb = arg;

	fb->job(fb->arg);
}

int wk_fibers_spawn(struct wk_fibers *f, void (*job)(void *arg),
		    void (*done)(void *arg), void *arg)
{
	struct fiber *fb;
	int r;

	if (f->stopping)
		return -ECANCELED;
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	fb->f = f;
	fb->job = job;
	fb->done = done;
	fb->arg = arg;
	fb->timer = evtimer_new(f->base, on_timer, fb);
	r = fb->timer ? coro_new(trampoline, fb, 0, &fb->co) : -ENOMEM;
	if (r < 0) {
		fiber_free(fb);
		return r;
	}
	fb->next = f->all;
	f->all = fb;
	f->n++;
	if (f->current) /* from inside a fiber: start on the next turn */
		mark_ready(fb);
	else
		step(f, fb);
	return 0;
}

size_t wk_fibers_running(const struct wk_fibers *f)
{
	return f ? f->n : 0;
}

static int blocking_sleep(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

static int io_sleep(void *arg, int64_t ms)
{
	struct wk_fibers *f = arg;
	struct fiber *fb = f->current;
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)((ms % 1000) * 1000)};

	if (f->stopping)
		return -ECANCELED;
	if (!fb)
		return blocking_sleep(ms);
	if (evtimer_add(fb->timer, &tv) < 0)
		return blocking_sleep(ms);
	fb->wait = W_SLEEP;
	while (fb->wait == W_SLEEP)
		coro_yield();
	return f->stopping ? -ECANCELED : 0;
}

static CURLcode io_perform(void *arg, CURL *h)
{
	struct wk_fibers *f = arg;
	struct fiber *fb = f->current;
	CURLM *multi = kube_curlev_multi(f->mev);

	if (f->stopping)
		return CURLE_ABORTED_BY_CALLBACK;
	if (!fb)
		return curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_PRIVATE, fb);
	fb->wait = W_PERFORM;
	if (curl_multi_add_handle(multi, h) != CURLM_OK) {
		fb->wait = W_RUN;
		curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
		return CURLE_FAILED_INIT;
	}
	/* The fence allowed this request for its timeout counted from now:
	 * it starts here, not when the loop next gets to curl, which a
	 * long piece of work on the loop could delay. */
	kube_curlev_kick(f->mev);
	while (fb->wait == W_PERFORM) /* resumes may be spurious */
		coro_yield();
	curl_multi_remove_handle(multi, h);
	curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
	return fb->cc;
}

struct ali_client_io wk_fibers_io(struct wk_fibers *f)
{
	return (struct ali_client_io){
		.sleep = io_sleep, .perform = io_perform, .arg = f};
}
