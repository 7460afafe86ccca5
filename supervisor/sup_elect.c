/*
 * sup_elect - the election loop; see sup_elect.h.
 *
 * Requests are synchronous (kube_client) with a short timeout, so the
 * loop is blocked at most min(5 s, renew deadline / 2) per lock per
 * attempt; the workers' fences never depend on this loop running.
 */
#include "supervisor/sup_elect.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "kube/kube_client.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup.h"
#include "supervisor/sup_event.h"
#include "supervisor/sup_lock.h"

struct sup_elect {
	struct sup *s;
	struct kube_client *kc;
	struct sup_lock *lease, *ep; /* ep only for endpoints lock types */
	struct event *ev_try, *ev_deadline;
	int leading;
	int64_t renew_sent;
	unsigned seed;
};

long long sup_elect_timeout_ms(long long renew_deadline_ms)
{
	long long t = renew_deadline_ms / 2;

	return t > 5000 ? 5000 : t;
}

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

/* Both locks (endpoints first) or just the Lease; sent is the earliest
 * write, the conservative start of the window. */
static int try_locks(struct sup_elect *e, int64_t *sent)
{
	const struct cfg *c = e->s->cfg;
	int64_t s1 = 0, s2 = 0;
	int r;

	if (e->ep) {
		r = sup_lock_try(e->ep, e->kc, e->s->identity,
				 c->lease_duration_ms, &s1);
		if (r != SUP_LOCK_OURS)
			return r;
	}
	r = sup_lock_try(e->lease, e->kc, e->s->identity, c->lease_duration_ms,
			 &s2);
	if (r == SUP_LOCK_OURS)
		*sent = e->ep && s1 < s2 ? s1 : s2;
	return r;
}

static const char *holder(struct sup_elect *e)
{
	const char *h = NULL;

	if (e->ep)
		h = sup_lock_observed(e->ep)->holder;
	if (h == NULL || !h[0] || strcmp(h, e->s->identity) == 0)
		h = sup_lock_observed(e->lease)->holder;
	return h;
}

static void became(struct sup_elect *e, int leading, const char *why)
{
	char msg[400];

	e->leading = leading;
	snprintf(msg, sizeof(msg), "%s %s", e->s->identity,
		 leading ? "became leader" : "stopped leading");
	if (leading) {
		log_info("successfully acquired lease %s/%s",
			 e->s->cfg->lock_namespace, e->s->cfg->lock_name);
		sup_on_leading(e->s, e->renew_sent);
	} else {
		log_warn("leader election lost: %s", why);
		sup_on_lost(e->s, why);
	}
	sup_event_post(e->s, "Normal", "LeaderElection", msg);
}

static void on_success(struct sup_elect *e, int64_t sent)
{
	const struct cfg *c = e->s->cfg;

	e->renew_sent = sent;
	if (!e->leading)
		became(e, 1, NULL);
	else
		sup_on_renewed(e->s, sent);
	event_del(e->ev_deadline);
	schedule(e->ev_deadline, sent + c->renew_deadline_ms - clock_boot_ms());
}

static void on_try(evutil_socket_t fd, short what, void *arg)
{
	struct sup_elect *e = arg;
	const struct cfg *c = e->s->cfg;
	char why[400];
	int64_t sent = 0;
	int r;

	(void)fd;
	(void)what;
	if (e->s->stopping)
		return;
	r = try_locks(e, &sent);
	if (r == SUP_LOCK_OURS) {
		on_success(e, sent);
	} else if (r == SUP_LOCK_HELD && e->leading) {
		snprintf(why, sizeof(why), "lock is held by %s", holder(e));
		event_del(e->ev_deadline);
		became(e, 0, why);
	} else if (r == SUP_LOCK_HELD) {
		log_v(4, "lock is held by %s and has not yet expired",
		      holder(e));
	} else {
		log_warn("%s: %s",
			 e->leading ? "failed to renew lock"
				    : "error retrieving lock",
			 strerror(-r));
	}
	schedule(e->ev_try,
		 e->leading ? c->retry_period_ms : candidate_delay(e));
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct sup_elect *e = arg;

	(void)fd;
	(void)what;
	if (e->leading &&
	    clock_boot_ms() >= e->renew_sent + e->s->cfg->renew_deadline_ms)
		became(e, 0,
		       "failed to renew the lease within the renew "
		       "deadline");
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
	o.timeout_ms = sup_elect_timeout_ms(c->renew_deadline_ms);
	r = kube_client_new(&o, &e->kc, err, sizeof(err));
	if (r < 0)
		log_error("leader election client: %s", err);
	return r;
}

int sup_elect_new(struct sup *s, struct sup_elect **ret)
{
	const struct cfg *c = s->cfg;
	struct sup_elect *e = calloc(1, sizeof(*e));
	int r;

	*ret = NULL;
	if (e == NULL)
		return -ENOMEM;
	e->s = s;
	e->seed = (unsigned)clock_wall_ms();
	r = make_client(e);
	if (r == 0)
		r = sup_lock_new(SUP_LOCK_LEASE, c->lock_namespace,
				 c->lock_name, &e->lease);
	if (r == 0 && c->lock != CFG_LOCK_LEASES)
		r = sup_lock_new(SUP_LOCK_ENDPOINTS, c->lock_namespace,
				 c->lock_name, &e->ep);
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
	if (e->ev_try)
		event_free(e->ev_try);
	if (e->ev_deadline)
		event_free(e->ev_deadline);
	sup_lock_free(e->lease);
	sup_lock_free(e->ep);
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

void sup_elect_release(struct sup_elect *e)
{
	char msg[320];
	int r;

	if (e == NULL || !e->leading)
		return;
	event_del(e->ev_try);
	event_del(e->ev_deadline);
	r = sup_lock_release(e->lease, e->kc, e->s->identity);
	if (r == 0 && e->ep)
		r = sup_lock_release(e->ep, e->kc, e->s->identity);
	if (r < 0)
		log_warn("could not release the lock: %s", strerror(-r));
	else
		log_info("released lease %s/%s", e->s->cfg->lock_namespace,
			 e->s->cfg->lock_name);
	e->leading = 0;
	snprintf(msg, sizeof(msg), "%s stopped leading", e->s->identity);
	sup_event_post(e->s, "Normal", "LeaderElection", msg);
}
