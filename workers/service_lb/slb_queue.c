/*
 * slb_queue - per-Service entries, the coalescing work queue and the
 * cloud resync schedule, driven by one timer on the loop; it starts each
 * due sync in a fiber, up to --concurrent-service-syncs at once.
 */
#include <errno.h>
#include <event2/event.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/retire.h"
#include "kube/kube_informer.h"
#include "workers/service_lb/slb_annot.h"
#include "workers/wk_fiber.h"
#include "workers/service_lb/slb_ctl.h"
#include "workers/wk_runtime.h"

struct slb_entry *slb_entry_get(struct slb_ctl *c, const char *ns,
				const char *name, int create)
{
	struct slb_entry *e;
	size_t i;

	for (i = 0; i < c->n_ents; i++)
		if (!strcmp(c->ents[i]->ns, ns) &&
		    !strcmp(c->ents[i]->name, name))
			return c->ents[i];
	if (!create)
		return NULL;
	if (c->n_ents == c->cap_ents) {
		size_t nc = c->cap_ents ? c->cap_ents * 2 : 16;
		/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
		void *v = realloc(c->ents, nc * sizeof(*c->ents));

		if (!v)
			return NULL;
		c->ents = v;
		c->cap_ents = nc;
	}
	e = calloc(1, sizeof(*e));
	if (!e || slb_strcpy(e->ns, sizeof(e->ns), ns) < 0 ||
	    slb_strcpy(e->name, sizeof(e->name), name) < 0) {
		free(e);
		return NULL;
	}
	e->stale = 1;
	backoff_init(&e->bo, SLB_BACKOFF_BASE_MS, SLB_BACKOFF_CAP_MS,
		     SLB_BACKOFF_BASE_MS, c->seed++);
	c->ents[c->n_ents++] = e;
	return e;
}

static void entry_free(struct slb_entry *e)
{
	slb_subset_release(e);
	slb_cloud_clear(&e->cloud);
	free(e->tag_keys);
	free(e);
}

void slb_entry_drop(struct slb_ctl *c, struct slb_entry *e)
{
	size_t i;

	for (i = 0; i < c->n_ents; i++)
		if (c->ents[i] == e) {
			c->ents[i] = c->ents[--c->n_ents];
			break;
		}
	/* its own running sync drops it: freed when that sync ends */
	if (e->busy)
		e->dropped = 1;
	else
		entry_free(e);
}

int64_t slb_resync_at(int64_t now, int64_t period, unsigned *seed)
{
	/* +-10 %: CLBs described at once drift apart over the periods */
	int64_t span = period / 5;
	int64_t j =
		span > 0 ? (int64_t)(rand_r(seed) % (unsigned)(span + 1)) : 0;

	return now + period - period / 10 + j;
}

/* The existing CLB a sync of e would change: one the Service names
 * (several Services may name one); "" for a CLB of its own. */
static const char *lock_key(const struct slb_ctl *c, const struct slb_entry *e)
{
	const struct kube_item *it = kube_informer_get(c->svcs, e->ns, e->name);
	const char *id = it && it->obj
				 ? slb_annot_get(it->obj, "loadbalancer-id")
				 : NULL;

	return id ? id : "";
}

/* A sync of e may start now: none of it runs, none holds its CLB. */
static int startable(const struct slb_ctl *c, const struct slb_entry *e)
{
	const char *key;
	size_t i;

	if (e->busy)
		return 0;
	key = lock_key(c, e);
	if (!key[0])
		return 1;
	for (i = 0; i < c->n_ents; i++)
		if (c->ents[i]->busy && !strcmp(c->ents[i]->lock, key))
			return 0;
	return 1;
}

static int64_t next_due(const struct slb_ctl *c)
{
	int64_t best = 0;
	size_t i;

	for (i = 0; i < c->n_ents; i++) {
		const struct slb_entry *e = c->ents[i];
		int64_t at = e->due_ms;

		if (e->resync_ms && (!at || e->resync_ms < at))
			at = e->resync_ms;
		/* a running or blocked one is looked at again when a sync
		 * ends, not by spinning the timer */
		if (at && (!best || at < best) && startable(c, e))
			best = at;
	}
	return best;
}

void slb_queue_kick(struct slb_ctl *c)
{
	int64_t due, now = clock_mono_ms(), d;
	struct timeval tv;

	if (!c->synced || wk_fibers_running(c->fibers) >=
				  (size_t)c->cfg->concurrent_service_syncs)
		return;
	due = next_due(c);
	if (!due)
		return;
	if (c->armed_ms && c->armed_ms <= due)
		return;
	d = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(d / 1000);
	tv.tv_usec = (suseconds_t)((d % 1000) * 1000);
	c->armed_ms = now + d;
	evtimer_add(c->ev_queue, &tv);
}

void slb_enqueue(struct slb_ctl *c, const char *ns, const char *name,
		 int64_t delay_ms, int hint)
{
	struct slb_entry *e = slb_entry_get(c, ns, name, 1);
	int64_t at = clock_mono_ms() + (delay_ms > 0 ? delay_ms : 0);

	if (!e) {
		log_error("service %s/%s: out of memory queueing it", ns, name);
		return;
	}
	if (hint && e->hold_ms > at)
		at = e->hold_ms;
	if (!e->due_ms || at < e->due_ms)
		e->due_ms = at; /* bursts coalesce into the earliest */
	c->reported = 0;
	slb_queue_kick(c);
}

void slb_entry_ok(struct slb_ctl *c, struct slb_entry *e)
{
	e->failures = 0;
	e->hold_ms = 0;
	backoff_reset(&e->bo);
	if (e->cloud.exists && !e->resync_ms)
		e->resync_ms =
			slb_resync_at(clock_mono_ms(),
				      c->cfg->cloud_resync_period_ms, &c->seed);
	if (!e->cloud.exists)
		e->resync_ms = 0;
}

void slb_entry_failed(struct slb_ctl *c, struct slb_entry *e, int64_t retry_ms)
{
	int64_t d = retry_ms > 0 ? retry_ms : backoff_next(&e->bo);

	(void)c;
	if (retry_ms <= 0)
		e->failures++;
	e->due_ms = clock_mono_ms() + d;
	e->hold_ms = e->due_ms;
	log_v(2, "service %s/%s: retry in %lldms", e->ns, e->name,
	      (long long)d);
}

/* The entry whose time came first, moving a due resync into the queue. */
static struct slb_entry *pick(struct slb_ctl *c, int64_t now)
{
	struct slb_entry *best = NULL;
	size_t i;

	for (i = 0; i < c->n_ents; i++) {
		struct slb_entry *e = c->ents[i];

		if (e->resync_ms && e->resync_ms <= now) {
			e->resync_ms = slb_resync_at(
				now, c->cfg->cloud_resync_period_ms, &c->seed);
			e->stale = 1;
			e->resync = 1;
			if (!e->due_ms)
				e->due_ms = now;
		}
		if (e->due_ms && e->due_ms <= now &&
		    (!best || e->due_ms < best->due_ms) && startable(c, e))
			best = e;
	}
	return best;
}

/* Nothing due now: retries in backoff do not hold a pass open. */
static int queue_idle(const struct slb_ctl *c, int64_t now)
{
	size_t i;

	for (i = 0; i < c->n_ents; i++)
		if (c->ents[i]->due_ms && c->ents[i]->due_ms <= now &&
		    !c->ents[i]->failures)
			return 0;
	return 1;
}

/* A pass (every CLB described again after a restart, a burst of creates)
 * leaves parsed responses and plans freed between the entries it kept;
 * the pages they spanned stay counted to the worker until given back. */
static void release_scratch(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

struct job {
	struct slb_ctl *c;
	struct slb_entry *e;
	uint64_t ticket;
};

static void job_run(void *arg)
{
	struct job *j = arg;

	slb_sync(j->c, j->e); /* may drop e */
}

static void report_pass(struct slb_ctl *c)
{
	if (wk_fibers_running(c->fibers) || c->reported ||
	    !queue_idle(c, clock_mono_ms()))
		return;
	/* a full pass: every queued Service synced once */
	c->reported = 1;
	wk_reconciled(c->rt);
	release_scratch();
}

static void job_done(void *arg)
{
	struct job *j = arg;
	struct slb_ctl *c = j->c;

	retire_leave(c->retire, j->ticket);
	slb_subset_release(j->e);
	if (c->stopping) {
		/* the controller frees its entries next */
		j->e->busy = 0;
		if (j->e->dropped)
			entry_free(j->e);
		free(j);
		return;
	}
	if (j->e->dropped) {
		entry_free(j->e);
	} else {
		j->e->busy = 0;
		j->e->lock[0] = '\0';
	}
	free(j);
	report_pass(c);
	slb_queue_kick(c);
}

static int start(struct slb_ctl *c, struct slb_entry *e)
{
	struct job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->c = c;
	j->e = e;
	r = retire_enter(c->retire, &j->ticket);
	if (r < 0) {
		free(j);
		return r;
	}
	e->due_ms = 0;
	e->busy = 1;
	slb_strcpy(e->lock, sizeof(e->lock), lock_key(c, e));
	r = wk_fibers_spawn(c->fibers, job_run, job_done, j);
	if (r < 0) {
		e->busy = 0;
		e->lock[0] = '\0';
		retire_leave(c->retire, j->ticket);
		free(j);
	}
	return r;
}

void slb_queue_on_timer(struct slb_ctl *c)
{
	size_t max = (size_t)c->cfg->concurrent_service_syncs;
	struct slb_entry *e;
	int r;

	c->armed_ms = 0;
	while (wk_fibers_running(c->fibers) < max &&
	       (e = pick(c, clock_mono_ms()))) {
		r = start(c, e);
		if (r < 0) {
			log_error("service %s/%s: cannot start its sync: %s",
				  e->ns, e->name, strerror(-r));
			slb_entry_failed(c, e, 0);
			break;
		}
	}
	report_pass(c);
	slb_queue_kick(c);
}
