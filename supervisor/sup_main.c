/*
 * sup_main - the supervisor: setup, the event loop, leadership changes
 * and graceful shutdown.
 *
 * Order at start: refuse bad paths and timeouts (exit 2), lock the run
 * directory (exit 2 naming the holder), bus hub, API clients, HTTP, then
 * either start the workers at once (--leader-elect=false, --dry-run) or
 * campaign.
 *
 * Graceful stop (SIGTERM/SIGINT, dry-run done), all on the event loop so
 * /healthz and reaping keep working: stop campaigning and renewing; tell
 * every worker to stop (SIGTERM: no new mutation, exit); SIGKILL those
 * still running after SUP_TERM_GRACE_MS. If every worker exited on its
 * own the Lease is released at once; if one had to be killed, only once
 * its last fence window (renew_sent + lease duration) has closed, since a
 * request it sent just before may still be in the server's hands. Then
 * Events in flight get up to SUP_DRAIN_MS, and the loop ends.
 */
#include "supervisor/sup.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/cfg.h"
#include "ipc/ipc_bus.h"
#include "kube/kube_client.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup_creds.h"
#include "supervisor/sup_elect.h"
#include "supervisor/sup_event.h"
#include "supervisor/sup_http.h"
#include "supervisor/sup_metrics.h"

static struct kube_client *check_kc;

static void make_identity(struct sup *s)
{
	char host[180] = "", uuid[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	if (f == NULL || fgets(uuid, sizeof(uuid), f) == NULL)
		snprintf(uuid, sizeof(uuid), "%d-%lld", (int)getpid(),
			 (long long)clock_wall_ms());
	if (f)
		fclose(f);
	uuid[strcspn(uuid, "\n")] = '\0';
	snprintf(s->identity, sizeof(s->identity), "%.180s_%.64s", host, uuid);
}

static void publish_leader(struct sup *s)
{
	struct ipc_bus_msg m;

	if (s->bus == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.topic = IPC_TOPIC_LEADER;
	m.flag = (uint8_t)s->leading;
	snprintf(m.name, sizeof(m.name), "%.253s", s->identity);
	(void)ipc_bus_publish(s->bus, &m);
}

static void arm_kill(struct sup *s)
{
	int64_t at = s->renew_sent_ms + s->cfg->renew_deadline_ms + 1000;
	int64_t d = at - clock_boot_ms();
	struct timeval tv;

	if (d < 0)
		d = 0;
	tv.tv_sec = (time_t)(d / 1000);
	tv.tv_usec = (suseconds_t)(d % 1000) * 1000;
	event_add(s->ev_kill, &tv);
}

void sup_on_leading(struct sup *s, int64_t renew_sent_ms)
{
	s->leading = 1;
	s->mode = FENCE_LEASED;
	s->renew_sent_ms = renew_sent_ms;
	arm_kill(s);
	publish_leader(s);
	sup_workers_want(s, 1);
}

void sup_on_renewed(struct sup *s, int64_t renew_sent_ms)
{
	s->renew_sent_ms = renew_sent_ms;
	arm_kill(s);
	sup_workers_send_lease(s);
}

void sup_on_lost(struct sup *s, const char *why)
{
	(void)why;
	s->leading = 0;
	s->mode = FENCE_CLOSED;
	sup_workers_send_lease(s);
	sup_workers_want(s, 0);
	arm_kill(s);
	publish_leader(s);
}

/* The renew deadline passed (+1 s) without a renew: no worker of ours may
 * still run, whatever state it is in. */
static void on_kill(evutil_socket_t fd, short what, void *arg)
{
	struct sup *s = arg;

	(void)fd;
	(void)what;
	if (s->leading && clock_boot_ms() < s->renew_sent_ms +
						    s->cfg->renew_deadline_ms +
						    1000) {
		arm_kill(s); /* the loop's timer clock runs a little ahead */
		return;
	}
	if (sup_workers_running(s)) {
		log_warn("fence: renew deadline passed; killing workers");
		sup_workers_kill_all(s, SIGKILL);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sup *s = arg;
	int64_t now = clock_mono_ms();

	(void)fd;
	(void)what;
	if (now - s->last_tick_ms > SUP_WATCHDOG_FAILMS) {
		log_error("supervisor loop stalled for %llds",
			  (long long)((now - s->last_tick_ms) / 1000));
		s->stalled_until_ms = now + 3 * (int64_t)SUP_WATCHDOG_FAILMS;
		sup_workers_forgive(s, now);
	}
	s->last_tick_ms = now;
	sup_workers_reap(s);
	sup_workers_tick(s);
	sup_workers_renew_tokens(s);
	sup_reload_tick(s);
}

static void on_chld(evutil_socket_t sig, short what, void *arg)
{
	struct sup *s = arg;

	(void)sig;
	(void)what;
	sup_workers_reap(s);
	sup_workers_tick(s);
}

static void arm_stop(struct sup *s)
{
	struct timeval tv = {0, 100000};

	event_add(s->ev_stop, &tv);
}

static void on_released(void *arg)
{
	struct sup *s = arg;

	s->leading = 0;
	s->mode = FENCE_CLOSED;
	s->stop_phase = 3;
	s->stop_t0_ms = clock_boot_ms();
	arm_stop(s);
}

static void stop_step_workers(struct sup *s, int64_t el)
{
	sup_workers_reap(s);
	if (sup_workers_running(s) && el <= 5 * (int64_t)SUP_TERM_GRACE_MS) {
		if (el > SUP_TERM_GRACE_MS)
			sup_workers_kill_all(s, SIGKILL);
		arm_stop(s);
		return;
	}
	if (sup_workers_running(s))
		log_error("workers did not exit; releasing after their fence "
			  "windows");
	s->stop_phase = 2;
	sup_elect_release(s->elect, s->release_after_ms, on_released, s);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct sup *s = arg;
	int64_t el = clock_boot_ms() - s->stop_t0_ms;

	(void)fd;
	(void)what;
	if (s->stop_phase == 1)
		stop_step_workers(s, el);
	else if (s->stop_phase == 3 && sup_event_pending(s) &&
		 el < SUP_DRAIN_MS)
		arm_stop(s);
	else if (s->stop_phase == 3)
		event_base_loopbreak(s->base);
}

void sup_stop(struct sup *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	s->stop_phase = 1;
	s->stop_t0_ms = clock_boot_ms();
	sup_elect_stop(s->elect);
	sup_workers_want(s, 0);
	arm_stop(s);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct sup *s = arg;

	(void)what;
	if (s->stopping) {
		log_info("signal %d: already shutting down", (int)sig);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	sup_stop(s);
}

static void on_bus(evutil_socket_t fd, short what, void *arg)
{
	struct sup *s = arg;
	struct ipc_bus_msg m;
	int n = 0;

	(void)fd;
	(void)what;
	/* ipc_bus_recv relays each message to the subscribers. */
	while (n++ < 1024 && ipc_bus_recv(s->bus, &m) != -EAGAIN)
		;
}

static int add_events(struct sup *s)
{
	struct timeval tick = {SUP_WATCHDOG_MS / 1000, 0};

	s->ev_tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
	s->ev_term = evsignal_new(s->base, SIGTERM, on_term, s);
	s->ev_int = evsignal_new(s->base, SIGINT, on_term, s);
	s->ev_chld = evsignal_new(s->base, SIGCHLD, on_chld, s);
	s->ev_kill = event_new(s->base, -1, 0, on_kill, s);
	s->ev_stop = event_new(s->base, -1, 0, on_stop, s);
	if (!s->ev_tick || !s->ev_term || !s->ev_int || !s->ev_chld ||
	    !s->ev_kill || !s->ev_stop)
		return -ENOMEM;
	event_add(s->ev_tick, &tick);
	event_add(s->ev_term, NULL);
	event_add(s->ev_int, NULL);
	event_add(s->ev_chld, NULL);
	if (s->bus) {
		s->ev_bus = event_new(s->base, ipc_bus_fd(s->bus),
				      EV_READ | EV_PERSIST, on_bus, s);
		if (s->ev_bus)
			event_add(s->ev_bus, NULL);
	}
	return 0;
}

static int new_client(const struct sup *s, struct kube_client **ret)
{
	const struct cfg *c = s->cfg;
	struct kube_client_opts o = {0};
	char err[512];
	int r;

	o.kubeconfig = c->kubeconfig[0] ? c->kubeconfig : NULL;
	o.role = "supervisor";
	o.identity = s->identity;
	o.qps = c->kube_api_qps;
	o.burst = c->kube_api_burst;
	o.timeout_ms = c->kube_timeout_ms;
	r = kube_client_new(&o, ret, err, sizeof(err));
	if (r < 0)
		log_error("Kubernetes client: %s", err);
	return r;
}

static int setup_creds(struct sup *s)
{
	struct sup_creds_ops ops;
	int r;

	if (!s->cfg->use_service_account_credentials || s->cfg->dry_run)
		return 0;
	r = new_client(s, &check_kc);
	if (r < 0)
		return r;
	r = sup_creds_kube_ops(s->kube, check_kc, s->base,
			       s->cfg->kube_timeout_ms, &ops);
	if (r < 0)
		return r;
	ops.ready = sup_workers_token_ready;
	ops.ready_arg = s;
	r = sup_creds_new(&ops, &s->creds);
	if (r < 0)
		ops.free_ctx(ops.ctx);
	return r;
}

/* Exit 2 for what the operator must fix before any retry can work. */
static int check_config(struct sup *s)
{
	const struct cfg *c = s->cfg;
	int64_t room = c->lease_duration_ms - c->retry_period_ms - 1000;

	if (strlen(c->run_dir) > ipc_bus_max_dir()) {
		log_error("--run-dir %s: socket paths would exceed sun_path "
			  "(at most %zu bytes)",
			  c->run_dir, ipc_bus_max_dir());
		return 2;
	}
	if (c->leader_elect &&
	    (c->kube_timeout_ms >= room || c->cloud_timeout_ms >= room)) {
		log_error("request timeouts leave no room for a call inside "
			  "the lease (must be below %lldms)",
			  (long long)room);
		return 2;
	}
	return 0;
}

static int setup(struct sup *s)
{
	int r;

	s->base = event_base_new();
	if (s->base == NULL || sup_metrics_new(&s->metrics) < 0)
		return 1;
	if (sup_reload_new(s) < 0)
		return 2;
	r = ipc_bus_new(s->cfg->run_dir, IPC_BUS_HUB, &s->bus);
	if (r < 0)
		log_warn("bus in %s unavailable (%s); running without hints",
			 s->cfg->run_dir, strerror(-r));
	if (new_client(s, &s->kube) < 0 || sup_event_new(s) < 0 ||
	    setup_creds(s) < 0)
		return 2;
	if (sup_http_new(s, &s->http) < 0)
		return 2;
	if (add_events(s) < 0)
		return 1;
	if (s->cfg->leader_elect && sup_elect_new(s, &s->elect) < 0)
		return 2;
	return 0;
}

static void start(struct sup *s)
{
	s->last_tick_ms = clock_mono_ms();
	if (s->cfg->dry_run) {
		/* Only Events may be sent, by any process. */
		fence_set_mode(FENCE_DRY_RUN);
		s->mode = FENCE_DRY_RUN;
		sup_workers_want(s, 1);
	} else if (!s->cfg->leader_elect) {
		s->mode = FENCE_OPEN;
		sup_workers_want(s, 1);
	} else {
		s->mode = FENCE_CLOSED;
		sup_elect_start(s->elect);
	}
}

/* After the loop: a last, blocking sweep for workers still running
 * (normally none: sup_stop already waited for them on the loop). */
static void stop_workers(struct sup *s)
{
	int64_t t0 = clock_mono_ms();
	int killed = 0;

	sup_workers_want(s, 0);
	while (sup_workers_running(s)) {
		int64_t el = clock_mono_ms() - t0;

		if (el > SUP_TERM_GRACE_MS && !killed) {
			sup_workers_kill_all(s, SIGKILL);
			killed = 1;
		}
		if (el > 5 * (int64_t)SUP_TERM_GRACE_MS) {
			log_error("workers did not exit; giving up");
			break;
		}
		sup_workers_reap(s);
		if (sup_workers_running(s))
			usleep(20000);
	}
}

static void teardown(struct sup *s)
{
	sup_elect_free(s->elect);
	sup_http_free(s->http);
	sup_workers_free(s);
	sup_creds_free(s->creds);
	sup_event_free(s);
	kube_client_free(check_kc);
	kube_client_free(s->kube);
	if (s->ev_bus)
		event_free(s->ev_bus);
	ipc_bus_free(s->bus);
	struct event *evs[] = {s->ev_tick, s->ev_term, s->ev_int,
			       s->ev_chld, s->ev_kill, s->ev_stop};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	sup_reload_free(s);
	sup_metrics_free(s->metrics);
	if (s->base)
		event_base_free(s->base);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
}

int sup_main(struct cfg *cfg, int argc, char **argv)
{
	static struct sup s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.argc = argc;
	s.argv = argv;
	s.lock_fd = -1;
	log_set_role("supervisor");
	signal(SIGPIPE, SIG_IGN);
	make_identity(&s);
	rc = check_config(&s);
	if (rc == 0 && sup_rundir_lock(cfg->run_dir, &s.lock_fd) < 0)
		rc = 2;
	if (rc == 0)
		rc = setup(&s);
	if (rc == 0) {
		log_info("supervisor %s (identity %s, run dir %s)", CCM_VERSION,
			 s.identity, cfg->run_dir);
		sup_workers_init(&s);
		start(&s);
		event_base_dispatch(s.base);
		stop_workers(&s);
		rc = s.exit_code;
	}
	teardown(&s);
	return rc;
}
