/*
 * sup_worker - the running workers: which run (from workers/wk_table.h),
 * restarts, liveness.
 *
 * Policy (s6 and Postfix habits): a worker that exits, crashes or misses
 * its heartbeat deadline is restarted after a jittered exponential backoff
 * (1 s doubling to 60 s, at least 1 s between starts), reset after a stable
 * minute. Exit status 2 or IPC_EXIT_CONFIG means broken configuration: not
 * restarted. Records on the status channel are gossip: a record with the
 * wrong pid or garbage is dropped, never trusted.
 */
#include "supervisor/sup.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/cfg.h"
#include "ipc/ipc_proto.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup_creds.h"
#include "supervisor/sup_event.h"
#include "supervisor/sup_metrics.h"
#include "workers/wk_table.h"

/* Access checks per table entry, built from its required rules. */
static struct sup_access checks[WK_NCONTROLLERS][WK_MAX_CHECKS + 1];

static void build_checks(int i)
{
	struct wk_check c[WK_MAX_CHECKS];
	size_t n = wk_table_checks(&wk_table[i], c, WK_MAX_CHECKS);

	for (size_t k = 0; k < n; k++)
		checks[i][k] = (struct sup_access){c[k].verb, c[k].group,
						   c[k].resource, ""};
	checks[i][n] = (struct sup_access){0};
}

void sup_workers_init(struct sup *s)
{
	s->nw = 0;
	for (int i = 0; i < WK_NCONTROLLERS; i++) {
		struct sup_worker *w;

		if (!(s->cfg->controllers & wk_table[i].bit))
			continue;
		build_checks(i);
		w = &s->w[s->nw];
		memset(w, 0, sizeof(*w));
		w->name = wk_table[i].name;
		w->sa = wk_table[i].service_account;
		w->index = i;
		w->fd = -1;
		backoff_init(&w->bo, 1000, 60000, 1000,
			     (unsigned)getpid() * 31u + (unsigned)i);
		s->nw++;
	}
}

static void send_msg(struct sup_worker *w, const struct ipc_msg *m)
{
	int r;

	if (w->fd < 0)
		return;
	r = ipc_send(w->fd, m);
	if (r < 0 && r != -EPIPE)
		log_v(2, "worker %s: status send: %s", w->name, strerror(-r));
}

void sup_worker_send_lease(struct sup *s, struct sup_worker *w)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = IPC_LEASE;
	m.pid = (int32_t)getpid();
	m.u.lease.mode = (uint8_t)s->mode;
	m.u.lease.renew_sent_ms = s->renew_sent_ms;
	m.u.lease.lease_ms = s->cfg->lease_duration_ms;
	m.u.lease.renew_deadline_ms = s->cfg->renew_deadline_ms;
	send_msg(w, &m);
}

void sup_workers_send_lease(struct sup *s)
{
	for (int i = 0; i < s->nw; i++)
		sup_worker_send_lease(s, &s->w[i]);
}

void sup_worker_send_token(struct sup *s, struct sup_worker *w)
{
	static struct ipc_msg m;
	const char *tok;
	int fresh = 0;

	if (s->creds == NULL)
		return;
	tok = sup_creds_token(s->creds, w->sa, &fresh);
	if (tok == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.kind = IPC_TOKEN;
	m.pid = (int32_t)getpid();
	m.u.token.len = (uint32_t)strlen(tok);
	memcpy(m.u.token.data, tok, m.u.token.len);
	send_msg(w, &m);
	explicit_bzero(&m, sizeof(m));
}

void sup_workers_renew_tokens(struct sup *s)
{
	int64_t now = clock_wall_ms();

	if (s->creds == NULL)
		return;
	for (int i = 0; i < s->nw; i++) {
		struct sup_worker *w = &s->w[i];
		int64_t at = sup_creds_renew_at(s->creds, w->sa);

		if (w->state == WS_UP && at > 0 && now >= at &&
		    sup_creds_want(s->creds, w->sa, checks[w->index]))
			sup_worker_send_token(s, w);
	}
}

void sup_workers_token_ready(void *arg, const char *sa)
{
	struct sup *s = arg;

	for (int i = 0; i < s->nw; i++)
		if (s->w[i].state == WS_UP && strcmp(s->w[i].sa, sa) == 0)
			sup_worker_send_token(s, &s->w[i]);
	sup_workers_tick(s); /* starts workers that waited for it */
}

static struct sup_worker *by_fd(struct sup *s, int fd)
{
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].fd == fd)
			return &s->w[i];
	return NULL;
}

static void check_dry_run_done(struct sup *s)
{
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].reconciled == 0 && s->w[i].state != WS_FAILED)
			return;
	if (!s->dry_run_done) {
		s->dry_run_done = 1;
		log_info("dry-run: every worker finished one pass; stopping");
		sup_stop(s);
	}
}

static void on_record(struct sup *s, struct sup_worker *w,
		      const struct ipc_msg *m)
{
	w->last_hb_ms = clock_mono_ms();
	switch (m->kind) {
	case IPC_READY:
		w->ready = 1;
		break;
	case IPC_RECONCILED:
		w->reconciled = m->u.seq;
		if (s->cfg->dry_run)
			check_dry_run_done(s);
		break;
	case IPC_FENCE_ACK:
		w->fence_ack = m->u.ack_renew_sent;
		break;
	case IPC_METRIC:
		sup_metrics_apply(s->metrics, w->name, &m->u.metric);
		break;
	case IPC_AUTH_FAILED:
		if (s->creds) {
			log_info("worker %s got 401; renewing its token",
				 w->name);
			sup_creds_invalidate(s->creds, w->sa);
			if (sup_creds_want(s->creds, w->sa, checks[w->index]))
				sup_worker_send_token(s, w);
		}
		break;
	default:
		break;
	}
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
	struct sup *s = arg;
	struct sup_worker *w = by_fd(s, (int)fd);
	static struct ipc_msg m;
	int r, n = 0;

	(void)what;
	if (w == NULL)
		return;
	/* Bounded per wakeup so one chatty worker cannot starve the loop. */
	while (n++ < 256 && (r = ipc_recv((int)fd, &m)) != -EAGAIN) {
		if (r == -EPROTO) {
			log_v(2, "worker %s: garbage status record dropped",
			      w->name);
			continue;
		}
		if (r < 0) {
			/* EOF: the reaper decides what happens next. */
			event_del(w->ev_status);
			return;
		}
		if (m.pid != (int32_t)w->pid)
			continue;
		on_record(s, w, &m);
	}
}

static void start_one(struct sup *s, struct sup_worker *w)
{
	int r = sup_spawn(s, w);

	if (r < 0) {
		int64_t d = backoff_next(&w->bo);

		log_error("cannot start worker %s: %s; retrying in %llds",
			  w->name, strerror(-r), (long long)(d / 1000));
		w->state = WS_BACKOFF;
		w->next_start_ms = clock_mono_ms() + d;
		return;
	}
	w->ev_status =
		event_new(s->base, w->fd, EV_READ | EV_PERSIST, on_status, s);
	if (w->ev_status)
		event_add(w->ev_status, NULL);
}

static void signal_worker(struct sup *s, struct sup_worker *w, int sig)
{
	(void)s;
	if (w->pid <= 0)
		return;
	if (kill(w->pid, sig) < 0 && errno != ESRCH) {
		log_error("cannot signal worker %s (pid %d): %s", w->name,
			  (int)w->pid, strerror(errno));
		w->kill_failed = 1;
	}
}

/* A killed worker may have sent a request just before: the Lease stays
 * ours until the fence window it was given has closed. */
static void note_kill(struct sup *s)
{
	int64_t end = s->renew_sent_ms + s->cfg->lease_duration_ms;

	if (s->mode == FENCE_LEASED && end > s->release_after_ms)
		s->release_after_ms = end;
}

static void stop_one(struct sup *s, struct sup_worker *w, int sig)
{
	if (sig == SIGKILL && w->pid > 0)
		note_kill(s);
	if (w->state == WS_UP) {
		w->state = WS_STOPPING;
		w->stop_ms = clock_mono_ms();
	}
	signal_worker(s, w, sig);
}

void sup_workers_want(struct sup *s, int up)
{
	for (int i = 0; i < s->nw; i++) {
		struct sup_worker *w = &s->w[i];

		w->wanted = up;
		if (!up && w->state == WS_UP)
			stop_one(s, w, SIGTERM);
		if (!up && w->state == WS_BACKOFF)
			w->state = WS_DOWN;
	}
	if (up)
		sup_workers_tick(s);
}

void sup_workers_kill_all(struct sup *s, int sig)
{
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].pid > 0)
			stop_one(s, &s->w[i], sig);
}

int sup_workers_restart_graceful(struct sup *s)
{
	int n = 0;

	if (s->stopping)
		return -ECANCELED;
	for (int i = 0; i < s->nw; i++) {
		struct sup_worker *w = &s->w[i];

		if (w->state == WS_UP) {
			w->restart_now = 1;
			stop_one(s, w, SIGTERM);
			n++;
		} else if (w->state == WS_BACKOFF && w->wanted) {
			w->next_start_ms = clock_mono_ms();
		}
	}
	return n;
}

int sup_workers_running(const struct sup *s)
{
	int n = 0;

	for (int i = 0; i < s->nw; i++)
		n += s->w[i].pid > 0;
	return n;
}

/* A worker heartbeats between requests, so one request may be in flight
 * for its whole timeout: the deadline leaves room for it. */
static int64_t heartbeat_deadline_ms(const struct sup *s)
{
	int64_t t = s->cfg->kube_timeout_ms > s->cfg->cloud_timeout_ms
			    ? s->cfg->kube_timeout_ms
			    : s->cfg->cloud_timeout_ms;

	return t + 5000 > SUP_HEARTBEAT_MS ? t + 5000 : SUP_HEARTBEAT_MS;
}

static void tick_one(struct sup *s, struct sup_worker *w, int64_t now)
{
	int64_t hb = heartbeat_deadline_ms(s);

	if (w->wanted && (w->state == WS_DOWN || (w->state == WS_BACKOFF &&
						  now >= w->next_start_ms))) {
		/* a first token is fetched before the worker starts on it */
		if (s->creds == NULL ||
		    sup_creds_want(s->creds, w->sa, checks[w->index]))
			start_one(s, w);
	} else if (w->state == WS_UP && now - w->last_hb_ms > hb) {
		log_warn("worker %s (pid %d) missed its heartbeat deadline "
			 "(%ds): killing it",
			 w->name, (int)w->pid, (int)(hb / 1000));
		snprintf(w->last_exit, sizeof(w->last_exit), "wedged");
		stop_one(s, w, SIGKILL);
	} else if (w->state == WS_UP && w->ready &&
		   now - w->started_ms >= SUP_STABLE_MS && w->crash_loop) {
		w->crash_loop = 0;
		backoff_reset(&w->bo);
	} else if (w->state == WS_STOPPING &&
		   now - w->stop_ms > SUP_TERM_GRACE_MS) {
		if (now - w->stop_ms > 5 * (int64_t)SUP_TERM_GRACE_MS) {
			log_error("worker %s (pid %d) survives SIGKILL",
				  w->name, (int)w->pid);
			w->kill_failed = 1;
		}
		note_kill(s);
		signal_worker(s, w, SIGKILL);
	}
}

/* Heartbeats queued in the status channels while this loop was stopped
 * (SIGSTOP, a frozen host) have not been read yet; judging them now would
 * kill healthy workers. Each gets a fresh deadline instead: a worker that is
 * really wedged misses that one too. */
void sup_workers_forgive(struct sup *s, int64_t now)
{
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].state == WS_UP && s->w[i].last_hb_ms < now)
			s->w[i].last_hb_ms = now;
}

void sup_workers_tick(struct sup *s)
{
	int64_t now = clock_mono_ms();

	for (int i = 0; i < s->nw; i++)
		tick_one(s, &s->w[i], now);
}

static void describe_status(int st, char *out, size_t len)
{
	if (WIFEXITED(st))
		snprintf(out, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, len, "signal %d", WTERMSIG(st));
	else
		snprintf(out, len, "status %d", st);
}

static void schedule_restart(struct sup *s, struct sup_worker *w, int st)
{
	int64_t now = clock_mono_ms(), d;
	char msg[256];

	if (WIFEXITED(st) &&
	    (WEXITSTATUS(st) == 2 || WEXITSTATUS(st) == IPC_EXIT_CONFIG)) {
		log_error("worker %s exited with %s (configuration); not "
			  "restarting it",
			  w->name, w->last_exit);
		w->state = WS_FAILED;
		return;
	}
	d = backoff_next(&w->bo);
	w->next_start_ms = now + d;
	if (w->next_start_ms < w->last_start_ms + 1000)
		w->next_start_ms = w->last_start_ms + 1000;
	w->crash_loop++;
	w->restarts++;
	w->state = WS_BACKOFF;
	snprintf(msg, sizeof(msg), "worker %s (%s) restarting in %.1fs",
		 w->name, w->last_exit,
		 (double)(w->next_start_ms - now) / 1000.0);
	log_warn("%s", msg);
	sup_event_post(s, "Warning", "WorkerRestarted", msg);
}

static void reaped(struct sup *s, struct sup_worker *w, int st)
{
	int was_wedged = strcmp(w->last_exit, "wedged") == 0, again;

	if (!was_wedged || !WIFSIGNALED(st))
		describe_status(st, w->last_exit, sizeof(w->last_exit));
	if (w->ev_status) {
		event_free(w->ev_status);
		w->ev_status = NULL;
	}
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->pid = 0;
	w->ready = 0;
	again = w->restart_now && w->wanted && !s->stopping;
	w->restart_now = 0;
	w->kill_failed = 0;
	if (again) {
		w->state = WS_DOWN; /* started again by the next tick */
		log_info("worker %s stopped for a restart (%s)", w->name,
			 w->last_exit);
	} else if (w->wanted && !s->stopping)
		schedule_restart(s, w, st);
	else
		w->state = WS_DOWN;
	log_info("worker %s reaped (%s)", w->name, w->last_exit);
}

void sup_workers_reap(struct sup *s)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < s->nw; i++)
			if (s->w[i].pid == pid)
				reaped(s, &s->w[i], st);
	}
}

const char *sup_worker_describe(const struct sup *s, const struct sup_worker *w,
				char *buf, size_t len, int *ok)
{
	int64_t now = clock_mono_ms();

	*ok = 0;
	switch (w->state) {
	case WS_UP:
		*ok = w->ready;
		snprintf(buf, len, "%s (pid %d, restarts %llu)",
			 w->ready ? "running" : "starting", (int)w->pid,
			 (unsigned long long)w->restarts);
		break;
	case WS_BACKOFF:
		snprintf(buf, len, "%s (%s), next start in %llds",
			 w->crash_loop > 1 ? "crash-looping" : "restarting",
			 w->last_exit,
			 (long long)((w->next_start_ms - now + 999) / 1000));
		break;
	case WS_STOPPING:
		snprintf(buf, len, "stopping (pid %d)", (int)w->pid);
		break;
	case WS_FAILED:
		snprintf(buf, len, "failed (%s), not restarted", w->last_exit);
		break;
	case WS_DOWN:
		*ok = !w->wanted || !s->leading;
		snprintf(buf, len, "%s",
			 s->leading ? "not started" : "standby (not leading)");
		break;
	}
	return buf;
}

void sup_workers_free(struct sup *s)
{
	for (int i = 0; i < s->nw; i++) {
		struct sup_worker *w = &s->w[i];

		if (w->ev_status)
			event_free(w->ev_status);
		if (w->fd >= 0)
			close(w->fd);
		w->ev_status = NULL;
		w->fd = -1;
	}
}
