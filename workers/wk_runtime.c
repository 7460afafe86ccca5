/*
 * wk_runtime - the worker process around one controller.
 *
 * The worker trusts nothing but its status channel: the supervisor's
 * records there set the fence window and the bearer token. It exits when
 * the supervisor goes away (PR_SET_PDEATHSIG, a getppid check against the
 * pid the supervisor exported, EOF on the channel), so no worker outlives
 * the leader that started it.
 */
#include "workers/wk_runtime.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfg.h"
#include "ipc/ipc_proto.h"
#include "kube/kube_client.h"
#include "kube/kube_informer.h"
#include "lib/clock.h"
#include "lib/fence.h"
#include "lib/log.h"

#define HEARTBEAT_MS  1000
#define START_WAIT_MS 30000

struct wk_rt {
	const struct cfg *cfg;
	const struct wk_controller *ctl;
	void *state;
	struct event_base *base;
	struct kube_client *kube;
	struct ipc_bus *bus;
	struct event *ev_status, *ev_bus, *ev_hb, *ev_term, *ev_int;
	pid_t parent;
	int64_t seq;
	int64_t hb_sent_ms;
	int reconciled;
	int exit_code;
	char identity[256];
	char token[IPC_TOKEN_MAX + 1];
	int have_token;
	/* informers whose counters go to /metrics (wk_informer_new) */
	struct kube_informer *inf[WK_MAX_INFORMERS];
	struct kube_informer_stats inf_sent[WK_MAX_INFORMERS];
	char inf_name[WK_MAX_INFORMERS][32];
	int n_inf;
	unsigned hb_ticks;
};

const struct cfg *wk_cfg(const struct wk_rt *rt)
{
	return rt->cfg;
}

struct event_base *wk_base(struct wk_rt *rt)
{
	return rt->base;
}

struct kube_client *wk_kube(struct wk_rt *rt)
{
	return rt->kube;
}

const char *wk_name(const struct wk_rt *rt)
{
	return rt->ctl->name;
}

const char *wk_identity(const struct wk_rt *rt)
{
	return rt->identity;
}

int wk_dry_run(const struct wk_rt *rt)
{
	return rt->cfg->dry_run;
}

static void send_kind(struct wk_rt *rt, enum ipc_kind k, int64_t seq)
{
	struct ipc_msg m;

	(void)rt;
	memset(&m, 0, sizeof(m));
	m.kind = k;
	m.pid = (int32_t)getpid();
	m.u.seq = seq;
	/* -EAGAIN: the supervisor is not reading; status is gossip. */
	(void)ipc_send(IPC_STATUS_FD, &m);
}

void wk_reconciled(struct wk_rt *rt)
{
	send_kind(rt, IPC_RECONCILED, ++rt->reconciled);
}

void wk_auth_failed(struct wk_rt *rt)
{
	send_kind(rt, IPC_AUTH_FAILED, 0);
}

static void metric(struct wk_rt *rt, uint8_t op, const char *name,
		   const char *labels, double v)
{
	struct ipc_msg m;

	(void)rt;
	memset(&m, 0, sizeof(m));
	m.kind = IPC_METRIC;
	m.pid = (int32_t)getpid();
	m.u.metric.op = op;
	m.u.metric.value = v;
	snprintf(m.u.metric.name, sizeof(m.u.metric.name), "%s", name);
	snprintf(m.u.metric.labels, sizeof(m.u.metric.labels), "%s",
		 labels ? labels : "");
	if (ipc_send(IPC_STATUS_FD, &m) == -EINVAL)
		log_v(4, "metric %s refused (bad name)", name);
}

void wk_counter_add(struct wk_rt *rt, const char *name, const char *labels,
		    double v)
{
	metric(rt, IPC_METRIC_COUNTER_ADD, name, labels, v);
}

void wk_gauge_set(struct wk_rt *rt, const char *name, const char *labels,
		  double v)
{
	metric(rt, IPC_METRIC_GAUGE_SET, name, labels, v);
}

void wk_observe(struct wk_rt *rt, const char *name, const char *labels,
		double seconds)
{
	metric(rt, IPC_METRIC_HIST_OBSERVE, name, labels, seconds);
}

int wk_subscribe(struct wk_rt *rt, enum ipc_topic t)
{
	return rt->bus ? ipc_bus_subscribe(rt->bus, t) : -ENOTCONN;
}

int wk_publish(struct wk_rt *rt, enum ipc_topic t, const char *name,
	       uint8_t flag)
{
	struct ipc_bus_msg m;

	if (rt->bus == NULL)
		return -EAGAIN;
	memset(&m, 0, sizeof(m));
	m.topic = t;
	m.flag = flag;
	snprintf(m.name, sizeof(m.name), "%s", name ? name : "");
	return ipc_bus_publish(rt->bus, &m);
}

static void apply_lease(struct wk_rt *rt, const struct ipc_lease *l)
{
	enum fence_mode before = fence_mode();

	/* Dry-run is decided at start and never widened by a record. */
	if (before == FENCE_DRY_RUN)
		return;
	if (l->mode == FENCE_LEASED)
		fence_set_lease(l->renew_sent_ms, l->lease_ms,
				l->renew_deadline_ms);
	else
		fence_set_mode((enum fence_mode)l->mode);
	send_kind(rt, IPC_FENCE_ACK, l->renew_sent_ms);
	if (rt->ctl->on_fence && rt->state)
		rt->ctl->on_fence(rt->state, fence_allow(0) == 0);
}

static void apply_token(struct wk_rt *rt, const struct ipc_msg *m)
{
	memcpy(rt->token, m->u.token.data, m->u.token.len + 1);
	rt->have_token = 1;
	if (rt->kube && kube_client_set_token(rt->kube, rt->token) < 0)
		log_warn("cannot install the per-controller token");
}

/* Returns 1 for START, 0 for another record, < 0 to stop reading. */
static int handle_record(struct wk_rt *rt, const struct ipc_msg *m)
{
	switch (m->kind) {
	case IPC_LEASE:
		apply_lease(rt, &m->u.lease);
		return 0;
	case IPC_TOKEN:
		apply_token(rt, m);
		return 0;
	case IPC_START:
		return 1;
	default:
		log_v(4, "status record kind %d ignored", (int)m->kind);
		return 0;
	}
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
	struct wk_rt *rt = arg;
	static struct ipc_msg m;
	int r;

	(void)what;
	while ((r = ipc_recv((int)fd, &m)) != -EAGAIN) {
		if (r == -EPROTO)
			continue;
		if (r < 0) {
			log_info("supervisor channel closed; exiting");
			rt->exit_code = 0;
			event_base_loopbreak(rt->base);
			return;
		}
		handle_record(rt, &m);
	}
}

static void on_bus(evutil_socket_t fd, short what, void *arg)
{
	struct wk_rt *rt = arg;
	struct ipc_bus_msg m;
	int r;

	(void)fd;
	(void)what;
	while ((r = ipc_bus_recv(rt->bus, &m)) != -EAGAIN) {
		if (r < 0)
			break;
		if (rt->ctl->on_bus && rt->state)
			rt->ctl->on_bus(rt->state, &m);
	}
}

static void send_heartbeat(struct wk_rt *rt)
{
	rt->hb_sent_ms = clock_mono_ms();
	send_kind(rt, IPC_HEARTBEAT, ++rt->seq);
}

/* Counter deltas since the last export, so /metrics shows totals. */
static void export_informer(struct wk_rt *rt, int i)
{
	struct kube_informer_stats now, *was = &rt->inf_sent[i];
	char labels[96];

	kube_informer_get_stats(rt->inf[i], &now);
	snprintf(labels, sizeof(labels), "resource=\"%s\"", rt->inf_name[i]);
	if (now.relists > was->relists)
		wk_counter_add(rt, "ccm_informer_relists_total", labels,
			       (double)(now.relists - was->relists));
	if (now.reconnects > was->reconnects)
		wk_counter_add(rt, "ccm_informer_reconnects_total", labels,
			       (double)(now.reconnects - was->reconnects));
	if (now.oversize_events > was->oversize_events)
		wk_counter_add(
			rt, "ccm_informer_oversize_events_total", labels,
			(double)(now.oversize_events - was->oversize_events));
	if (now.errors > was->errors)
		wk_counter_add(rt, "ccm_informer_errors_total", labels,
			       (double)(now.errors - was->errors));
	*was = now;
}

int wk_informer_new(struct wk_rt *rt, const char *path,
		    const struct kube_informer_opts *o,
		    const struct kube_informer_ops *ops, void *ctx,
		    struct kube_informer **ret)
{
	const char *res = strrchr(path, '/');
	int r = kube_informer_new(rt->kube, rt->base, path, o, ops, ctx, ret);

	if (r < 0 || rt->n_inf >= WK_MAX_INFORMERS)
		return r;
	rt->inf[rt->n_inf] = *ret;
	memset(&rt->inf_sent[rt->n_inf], 0, sizeof(rt->inf_sent[0]));
	snprintf(rt->inf_name[rt->n_inf], sizeof(rt->inf_name[0]), "%s",
		 res ? res + 1 : path);
	rt->n_inf++;
	return r;
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct wk_rt *rt = arg;

	(void)fd;
	(void)what;
	if (getppid() != rt->parent) {
		log_info("supervisor %d is gone; exiting", (int)rt->parent);
		event_base_loopbreak(rt->base);
		return;
	}
	send_heartbeat(rt);
	if (++rt->hb_ticks % 10 == 0)
		for (int i = 0; i < rt->n_inf; i++)
			export_informer(rt, i);
}

void wk_heartbeat(struct wk_rt *rt)
{
	/* an orphan gets no heartbeat: PDEATHSIG or the timer ends it */
	if (rt == NULL || getppid() != rt->parent)
		return;
	/* lease renewals too, or a long piece of work would be fenced for
	 * want of records the loop has not read */
	on_status(IPC_STATUS_FD, EV_READ, rt);
	if (clock_mono_ms() - rt->hb_sent_ms >= HEARTBEAT_MS)
		send_heartbeat(rt);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct wk_rt *rt = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	rt->exit_code = 0;
	event_base_loopbreak(rt->base);
}

/* Becomes a child that cannot outlive its supervisor or gain privileges. */
static int harden(struct wk_rt *rt)
{
	const char *pp = getenv(IPC_ENV_PARENT);
	const char *id = getenv(IPC_ENV_IDENTITY);
	char title[16];
	struct stat st;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	snprintf(title, sizeof(title), "ccm-%s", rt->ctl->name);
	(void)prctl(PR_SET_NAME, title);
	rt->parent = pp ? (pid_t)atoi(pp) : 0;
	/* The supervisor may have died before PDEATHSIG was armed. It may
	 * be PID 1 (a container's entrypoint): its death ends the namespace. */
	if (rt->parent <= 0 || getppid() != rt->parent)
		return -ESRCH;
	if (fstat(IPC_STATUS_FD, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -EBADF;
	snprintf(rt->identity, sizeof(rt->identity), "%s", id ? id : "");
	return 0;
}

/* The supervisor writes the fence window and token, then START. */
static int wait_start(struct wk_rt *rt)
{
	static struct ipc_msg m;
	int64_t until = clock_mono_ms() + START_WAIT_MS;
	struct pollfd p = {.fd = IPC_STATUS_FD, .events = POLLIN};
	int r;

	for (;;) {
		r = ipc_recv(IPC_STATUS_FD, &m);
		if (r == 0 && handle_record(rt, &m) == 1)
			return 0;
		if (r == -EPIPE || (r < 0 && r != -EAGAIN && r != -EPROTO))
			return r;
		if (r == -EAGAIN) {
			int64_t left = until - clock_mono_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			(void)poll(&p, 1, (int)left);
		}
	}
}

static enum fence_mode initial_mode(const struct cfg *cfg)
{
	if (cfg->dry_run)
		return FENCE_DRY_RUN;
	return cfg->leader_elect ? FENCE_CLOSED : FENCE_OPEN;
}

/* A request waiting for its --kube-api-qps keeps the heartbeat going. */
static void on_kube_wait(void *arg)
{
	wk_heartbeat(arg);
}

static int make_client(struct wk_rt *rt)
{
	struct kube_client_opts o = {0};
	char err[512];
	int r;

	o.kubeconfig = rt->cfg->kubeconfig[0] ? rt->cfg->kubeconfig : NULL;
	o.role = rt->ctl->name;
	o.identity = rt->identity;
	o.qps = rt->cfg->kube_api_qps;
	o.burst = rt->cfg->kube_api_burst;
	o.timeout_ms = rt->cfg->kube_timeout_ms;
	r = kube_client_new(&o, &rt->kube, err, sizeof(err));
	if (r < 0) {
		log_error("kube client: %s", err);
		return r;
	}
	kube_client_set_progress(rt->kube, on_kube_wait, rt);
	if (rt->have_token)
		return kube_client_set_token(rt->kube, rt->token);
	return 0;
}

static int add_events(struct wk_rt *rt)
{
	struct timeval hb = {HEARTBEAT_MS / 1000,
			     (HEARTBEAT_MS % 1000) * 1000L};
	int bfd;

	rt->ev_status = event_new(rt->base, IPC_STATUS_FD, EV_READ | EV_PERSIST,
				  on_status, rt);
	rt->ev_hb = event_new(rt->base, -1, EV_PERSIST, on_heartbeat, rt);
	rt->ev_term = evsignal_new(rt->base, SIGTERM, on_signal, rt);
	rt->ev_int = evsignal_new(rt->base, SIGINT, on_signal, rt);
	if (!rt->ev_status || !rt->ev_hb || !rt->ev_term || !rt->ev_int)
		return -ENOMEM;
	event_add(rt->ev_status, NULL);
	event_add(rt->ev_hb, &hb);
	event_add(rt->ev_term, NULL);
	event_add(rt->ev_int, NULL);
	if (ipc_bus_new(rt->cfg->run_dir, IPC_BUS_CLIENT, &rt->bus) < 0) {
		log_warn("bus unavailable in %s; running without hints",
			 rt->cfg->run_dir);
		return 0;
	}
	bfd = ipc_bus_fd(rt->bus);
	rt->ev_bus = event_new(rt->base, bfd, EV_READ | EV_PERSIST, on_bus, rt);
	if (rt->ev_bus)
		event_add(rt->ev_bus, NULL);
	(void)ipc_bus_subscribe(rt->bus, IPC_TOPIC_RESYNC);
	return 0;
}

static void rt_done(struct wk_rt *rt)
{
	rt->n_inf = 0; /* the controller frees its informers now */
	if (rt->ctl->done && rt->state)
		rt->ctl->done(rt->state);
	rt->state = NULL;
	if (rt->ev_status)
		event_free(rt->ev_status);
	if (rt->ev_bus)
		event_free(rt->ev_bus);
	if (rt->ev_hb)
		event_free(rt->ev_hb);
	if (rt->ev_term)
		event_free(rt->ev_term);
	if (rt->ev_int)
		event_free(rt->ev_int);
	ipc_bus_free(rt->bus);
	kube_client_free(rt->kube);
	if (rt->base)
		event_base_free(rt->base);
	explicit_bzero(rt->token, sizeof(rt->token));
}

static int rt_start(struct wk_rt *rt)
{
	int r;

	r = harden(rt);
	if (r < 0) {
		log_error("worker setup: %s", strerror(-r));
		return r;
	}
	fence_set_mode(initial_mode(rt->cfg));
	(void)fcntl(IPC_STATUS_FD, F_SETFL,
		    fcntl(IPC_STATUS_FD, F_GETFL) | O_NONBLOCK);
	r = wait_start(rt);
	if (r < 0) {
		log_error("no start record from the supervisor: %s",
			  strerror(-r));
		return r;
	}
	rt->base = event_base_new();
	if (rt->base == NULL)
		return -ENOMEM;
	r = make_client(rt);
	if (r == 0)
		r = add_events(rt);
	return r;
}

int wk_run(const struct cfg *cfg, const struct wk_controller *ctl)
{
	static struct wk_rt rt;
	char role[48];
	int r;

	memset(&rt, 0, sizeof(rt));
	rt.cfg = cfg;
	rt.ctl = ctl;
	rt.exit_code = 1;
	snprintf(role, sizeof(role), "worker/%s", ctl->name);
	log_set_role(role);
	r = rt_start(&rt);
	if (r == 0) {
		send_kind(&rt, IPC_READY, 0);
		r = ctl->init(&rt, &rt.state);
		if (r < 0)
			log_error("controller %s failed to start: %s",
				  ctl->name, strerror(-r));
	}
	if (r == 0)
		event_base_dispatch(rt.base);
	else
		rt.exit_code = 1;
	rt_done(&rt);
	return rt.exit_code;
}
