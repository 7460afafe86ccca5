/*
 * sup_elect - the election loop; see sup_elect.h.
 */
#include "supervisor/sup_elect.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "kube/kube_async.h"
#include "kube/kube_client.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup.h"
#include "supervisor/sup_event.h"
#include "supervisor/sup_lock.h"

#define MAX_LOCKS     2
#define MAX_CONFLICTS 8 /* 409 retries inside one round */

enum phase {
	PH_IDLE = 0,
	PH_GET,	      /* reading every lock */
	PH_WRITE,     /* acquiring or renewing every lock */
	PH_REL_GET,   /* release: reading */
	PH_REL_WRITE, /* release: giving up ours */
};

struct slot {
	struct sup_elect *e;
	struct sup_lock *lock;
	struct kube_async_req *req;
	int rc;
	int64_t sent;
};

struct sup_elect {
	struct sup *s;
	struct kube_client *kc;
	struct kube_async *ka;
	struct slot slot[MAX_LOCKS]; /* [0] Lease, [1] Endpoints if used */
	int nlock;
	struct event *ev_try, *ev_deadline, *ev_release;
	enum phase phase;
	int outstanding;
	int conflicts;
	int64_t round_end;
	int leading, held, stopped;
	int64_t renew_sent;
	unsigned seed;
	void (*rel_done)(void *arg);
	void *rel_arg;
	struct sup_elect_stats st;
};

static void round_get(struct sup_elect *e);

static void schedule(struct event *ev, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(ev, &tv);
}

static int64_t candidate_delay(struct sup_elect *e)
{
	int64_t rp = e->s->cfg->retry_period_ms;

	return rp + (int64_t)(rand_r(&e->seed) % 1000) * rp * 12 / 10000;
}

static const char *holder(struct sup_elect *e)
{
	for (int i = e->nlock - 1; i >= 0; i--) {
		const char *h = sup_lock_observed(e->slot[i].lock)->holder;

		if (h[0] && strcmp(h, e->s->identity) != 0)
			return h;
	}
	return "nobody";
}

static void cancel_requests(struct sup_elect *e)
{
	for (int i = 0; i < e->nlock; i++) {
		kube_async_cancel(e->slot[i].req);
		e->slot[i].req = NULL;
	}
	e->outstanding = 0;
	e->phase = PH_IDLE;
}

static void post(struct sup_elect *e, const char *what)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "%s %s", e->s->identity, what);
	sup_event_post(e->s, "Normal", "LeaderElection", msg);
}

static void lost(struct sup_elect *e, const char *why)
{
	event_del(e->ev_deadline);
	e->leading = 0;
	log_warn("leader election lost: %s", why);
	sup_on_lost(e->s, why);
	post(e, "stopped leading");
}

static void next_round(struct sup_elect *e)
{
	e->phase = PH_IDLE;
	if (e->stopped)
		return;
	schedule(e->ev_try,
		 e->leading ? e->s->cfg->retry_period_ms : candidate_delay(e));
}

/* The deadline timer is re-armed before anything else (the Event last),
 * so nothing on this path can delay it. */
static void succeeded(struct sup_elect *e, int64_t sent)
{
	const struct cfg *c = e->s->cfg;
	int was = e->leading;

	e->renew_sent = sent;
	e->held = 1;
	event_del(e->ev_deadline);
	schedule(e->ev_deadline, sent + c->renew_deadline_ms - clock_boot_ms());
	if (was) {
		sup_on_renewed(e->s, sent);
		return;
	}
	e->leading = 1;
	e->st.acquired_round = e->st.rounds;
	log_info("successfully acquired lease %s/%s (election round %llu)",
		 c->lock_namespace, c->lock_name,
		 (unsigned long long)e->st.rounds);
	sup_on_leading(e->s, sent);
	post(e, "became leader");
}

static int64_t req_timeout(struct sup_elect *e)
{
	return e->round_end - clock_boot_ms();
}

static void on_write(void *ctx, int rc, struct kube_resp *resp);

static int send_write(struct sup_elect *e, struct slot *sl, struct buf *b,
		      const struct sup_lock_write *w)
{
	struct kube_async_call call = {.method = w->method,
				       .path = w->path,
				       .body = b->data,
				       .timeout_ms = req_timeout(e)};
	int r;

	if (call.timeout_ms <= 0)
		return -ETIMEDOUT;
	sl->sent = clock_boot_ms();
	r = kube_async_send(e->ka, &call, on_write, sl, &sl->req);
	if (r == 0)
		e->outstanding++;
	return r;
}

static void log_round(struct sup_elect *e, const int64_t *wait)
{
	char line[800];
	size_t n = 0;

	for (int i = 0; i < e->nlock && n < sizeof(line); i++) {
		const struct sup_record *r = sup_lock_observed(e->slot[i].lock);

		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "%s%s held by %s, expires in %lldms",
				      i ? "; " : "",
				      sup_lock_describe(e->slot[i].lock),
				      r->holder[0] ? r->holder : "nobody",
				      (long long)wait[i]);
	}
	log_v(2, "election round %llu: %s", (unsigned long long)e->st.rounds,
	      line);
}

static void round_failed(struct sup_elect *e, int rc)
{
	e->st.failed_rounds++;
	log_warn("%s: %s",
		 e->leading ? "failed to renew lock" : "error retrieving lock",
		 strerror(-rc));
	cancel_requests(e);
	next_round(e);
}

/* Every GET is back: write all locks when all are free for us. */
static void decide(struct sup_elect *e)
{
	const struct cfg *c = e->s->cfg;
	int64_t wait[MAX_LOCKS], now = clock_boot_ms(), most = 0;
	struct sup_lock_write w;
	struct buf b;
	int r = 0;

	for (int i = 0; i < e->nlock; i++) {
		if (e->slot[i].rc < 0) {
			round_failed(e, e->slot[i].rc);
			return;
		}
		wait[i] = sup_lock_wait_ms(e->slot[i].lock, e->s->identity,
					   c->lease_duration_ms, now);
		most = wait[i] > most ? wait[i] : most;
	}
	log_round(e, wait);
	if (most > 0) {
		char why[400];

		snprintf(why, sizeof(why), "lock is held by %s", holder(e));
		if (e->leading)
			lost(e, why);
		else
			log_v(4, "%s and has not yet expired", why);
		next_round(e);
		return;
	}
	e->phase = PH_WRITE;
	buf_init(&b, 64u << 10);
	for (int i = 0; i < e->nlock && r == 0; i++) {
		r = sup_lock_write_req(e->slot[i].lock, e->s->identity,
				       c->lease_duration_ms, &b, &w);
		if (r == 0)
			r = send_write(e, &e->slot[i], &b, &w);
	}
	buf_done(&b);
	if (r < 0)
		round_failed(e, r);
}

static void on_get(void *ctx, int rc, struct kube_resp *resp)
{
	struct slot *sl = ctx;
	struct sup_elect *e = sl->e;
	struct json *obj = resp->obj;

	resp->obj = NULL;
	sl->req = NULL;
	sl->rc = sup_lock_got(sl->lock, rc, obj, clock_boot_ms());
	if (sl->rc < 0)
		log_v(2, "error retrieving resource lock %s: %s (HTTP %ld)",
		      sup_lock_describe(sl->lock), strerror(-sl->rc),
		      resp->status);
	if (--e->outstanding == 0)
		decide(e);
}

static void writes_done(struct sup_elect *e)
{
	int64_t sent = 0;
	int conflict = 0, err = 0;

	for (int i = 0; i < e->nlock; i++) {
		struct slot *sl = &e->slot[i];

		if (sl->rc == -EAGAIN || sl->rc == -EEXIST)
			conflict = 1;
		else if (sl->rc < 0)
			err = sl->rc;
		if (i == 0 || sl->sent < sent)
			sent = sl->sent;
	}
	if (err) {
		round_failed(e, err);
	} else if (!conflict) {
		succeeded(e, sent);
		next_round(e);
	} else if (e->conflicts++ < MAX_CONFLICTS && req_timeout(e) > 0) {
		e->st.conflicts++;
		log_v(2, "election round %llu: conflict; reading again",
		      (unsigned long long)e->st.rounds);
		round_get(e);
	} else {
		next_round(e); /* someone kept winning: the next read decides */
	}
}

static void on_write(void *ctx, int rc, struct kube_resp *resp)
{
	struct slot *sl = ctx;
	struct sup_elect *e = sl->e;

	sl->req = NULL;
	sl->rc = rc;
	sup_lock_wrote(sl->lock, rc, clock_boot_ms());
	if (rc < 0)
		log_v(2, "%s: write failed: %s (HTTP %ld)",
		      sup_lock_describe(sl->lock), strerror(-rc), resp->status);
	if (--e->outstanding == 0)
		writes_done(e);
}

static void send_gets(struct sup_elect *e, kube_async_cb cb)
{
	struct kube_async_call call = {.method = "GET"};
	int r = 0;

	e->outstanding = 0;
	call.timeout_ms = req_timeout(e);
	for (int i = 0; i < e->nlock && r == 0; i++) {
		call.path = sup_lock_path(e->slot[i].lock);
		r = call.timeout_ms > 0
			    ? kube_async_send(e->ka, &call, cb, &e->slot[i],
					      &e->slot[i].req)
			    : -ETIMEDOUT;
		if (r == 0)
			e->outstanding++;
	}
	if (r < 0)
		round_failed(e, r);
}

static void round_get(struct sup_elect *e)
{
	e->phase = PH_GET;
	send_gets(e, on_get);
}

static void on_try(evutil_socket_t fd, short what, void *arg)
{
	struct sup_elect *e = arg;
	const struct cfg *c = e->s->cfg;
	int64_t now = clock_boot_ms();

	(void)fd;
	(void)what;
	if (e->stopped || e->phase != PH_IDLE)
		return;
	e->st.rounds++;
	e->conflicts = 0;
	e->round_end = now + c->renew_deadline_ms;
	if (e->leading && e->renew_sent + c->renew_deadline_ms < e->round_end)
		e->round_end = e->renew_sent + c->renew_deadline_ms;
	round_get(e);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct sup_elect *e = arg;
	int64_t left =
		e->renew_sent + e->s->cfg->renew_deadline_ms - clock_boot_ms();

	(void)fd;
	(void)what;
	if (!e->leading || e->stopped)
		return;
	if (left > 0) { /* the loop's timer clock runs a little ahead */
		schedule(e->ev_deadline, left);
		return;
	}
	if (e->phase != PH_IDLE)
		e->st.failed_rounds++;
	cancel_requests(e);
	lost(e, "failed to renew the lease within the renew deadline");
	next_round(e);
}

static int make_client(struct sup_elect *e)
{
	struct kube_client_opts o = {0};
	const struct cfg *c = e->s->cfg;
	char err[512];
	int r;

	o.kubeconfig = c->kubeconfig[0] ? c->kubeconfig : NULL;
	o.role = "supervisor";
	o.identity = e->s->identity;
	o.timeout_ms = c->renew_deadline_ms;
	r = kube_client_new(&o, &e->kc, err, sizeof(err));
	if (r < 0) {
		log_error("leader election client: %s", err);
		return r;
	}
	return kube_async_new(e->kc, e->s->base, &e->ka);
}

static int add_lock(struct sup_elect *e, enum sup_lock_kind kind)
{
	const struct cfg *c = e->s->cfg;
	struct slot *sl = &e->slot[e->nlock];
	int r = sup_lock_new(kind, c->lock_namespace, c->lock_name, &sl->lock);

	if (r == 0) {
		sl->e = e;
		e->nlock++;
	}
	return r;
}

int sup_elect_new(struct sup *s, struct sup_elect **ret)
{
	struct sup_elect *e = calloc(1, sizeof(*e));
	int r;

	*ret = NULL;
	if (e == NULL)
		return -ENOMEM;
	e->s = s;
	e->seed = (unsigned)clock_wall_ms();
	r = make_client(e);
	if (r == 0)
		r = add_lock(e, SUP_LOCK_LEASE);
	if (r == 0 && s->cfg->lock != CFG_LOCK_LEASES)
		r = add_lock(e, SUP_LOCK_ENDPOINTS);
	e->ev_try = event_new(s->base, -1, 0, on_try, e);
	e->ev_deadline = event_new(s->base, -1, 0, on_deadline, e);
	if (r == 0 && (!e->ev_try || !e->ev_deadline))
		r = -ENOMEM;
	if (r < 0) {
		sup_elect_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

void sup_elect_free(struct sup_elect *e)
{
	if (e == NULL)
		return;
	kube_async_free(e->ka); /* cancels what is in flight */
	struct event *evs[] = {e->ev_try, e->ev_deadline, e->ev_release};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	for (int i = 0; i < e->nlock; i++)
		sup_lock_free(e->slot[i].lock);
	kube_client_free(e->kc);
	free(e);
}

void sup_elect_start(struct sup_elect *e)
{
	log_info("attempting to acquire leader lease %s/%s...",
		 e->s->cfg->lock_namespace, e->s->cfg->lock_name);
	schedule(e->ev_try, 0);
}

int sup_elect_leading(const struct sup_elect *e)
{
	return e && e->leading;
}

void sup_elect_get_stats(const struct sup_elect *e, struct sup_elect_stats *out)
{
	*out = e->st;
}

void sup_elect_stop(struct sup_elect *e)
{
	if (e == NULL)
		return;
	e->stopped = 1;
	cancel_requests(e);
	event_del(e->ev_try);
	event_del(e->ev_deadline);
}

static void release_finish(struct sup_elect *e, int rc)
{
	void (*done)(void *) = e->rel_done;

	e->phase = PH_IDLE;
	e->rel_done = NULL;
	if (rc < 0)
		log_warn("could not release the lock: %s", strerror(-rc));
	else if (rc == 0)
		log_info("released lease %s/%s", e->s->cfg->lock_namespace,
			 e->s->cfg->lock_name);
	else
		log_info("lease %s/%s is no longer ours: nothing to release",
			 e->s->cfg->lock_namespace, e->s->cfg->lock_name);
	if (e->leading) {
		e->leading = 0;
		post(e, "stopped leading");
	}
	if (done)
		done(e->rel_arg);
}

static void on_rel_write(void *ctx, int rc, struct kube_resp *resp)
{
	struct slot *sl = ctx;
	struct sup_elect *e = sl->e;

	(void)resp;
	sl->req = NULL;
	sl->rc = rc;
	if (--e->outstanding > 0)
		return;
	for (int i = 0; i < e->nlock; i++)
		if (e->slot[i].rc < 0)
			rc = e->slot[i].rc;
	release_finish(e, rc);
}

static void on_rel_get(void *ctx, int rc, struct kube_resp *resp)
{
	struct slot *sl = ctx;
	struct sup_elect *e = sl->e;
	struct sup_lock_write w;
	struct json *obj = resp->obj;
	struct buf b;
	int r = 0;

	resp->obj = NULL;
	sl->req = NULL;
	sl->rc = sup_lock_got(sl->lock, rc, obj, clock_boot_ms());
	if (--e->outstanding > 0)
		return;
	for (int i = 0; i < e->nlock; i++)
		if (e->slot[i].rc < 0) {
			release_finish(e, e->slot[i].rc);
			return;
		}
	e->phase = PH_REL_WRITE;
	buf_init(&b, 64u << 10);
	for (int i = 0; i < e->nlock && r >= 0; i++) {
		r = sup_lock_release_req(e->slot[i].lock, e->s->identity, &b,
					 &w);
		if (r == 1) {
			struct kube_async_call call = {
				.method = w.method,
				.path = w.path,
				.body = b.data,
				.timeout_ms = e->s->cfg->renew_deadline_ms};

			r = kube_async_send(e->ka, &call, on_rel_write,
					    &e->slot[i], &e->slot[i].req);
			if (r == 0)
				e->outstanding++;
		}
	}
	buf_done(&b);
	if (r < 0)
		cancel_requests(e);
	if (e->outstanding == 0)
		release_finish(e, r < 0 ? r : 1); /* no write: not ours */
}

static void on_release(evutil_socket_t fd, short what, void *arg)
{
	struct sup_elect *e = arg;

	(void)fd;
	(void)what;
	e->phase = PH_REL_GET;
	e->round_end = clock_boot_ms() + e->s->cfg->renew_deadline_ms;
	send_gets(e, on_rel_get);
	if (e->outstanding == 0 && e->rel_done)
		release_finish(e, -ETIMEDOUT);
}

void sup_elect_release(struct sup_elect *e, int64_t not_before_boot_ms,
		       void (*done)(void *arg), void *arg)
{
	int64_t d;

	sup_elect_stop(e);
	if (e == NULL || !e->held) {
		if (done)
			done(arg);
		return;
	}
	e->rel_done = done;
	e->rel_arg = arg;
	if (e->ev_release == NULL)
		e->ev_release = event_new(e->s->base, -1, 0, on_release, e);
	if (e->ev_release == NULL) {
		release_finish(e, -ENOMEM);
		return;
	}
	d = not_before_boot_ms - clock_boot_ms();
	if (d > 0)
		log_info("a stopped worker may still have a request in flight: "
			 "releasing the lease in %lldms, when its fence window "
			 "has closed",
			 (long long)d);
	schedule(e->ev_release, d);
}
