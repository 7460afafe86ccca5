/*
 * wk_runtime - what a worker process gives the controller it runs.
 *
 * SYNOPSIS
 *   A worker is one process per controller. wk_main (workers/wk_main.c)
 *   picks the controller by name from a table of vtables, builds a
 *   struct wk_rt and runs its event loop:
 *
 *     const struct wk_controller wk_ctl_route = {
 *             .name = "route", .init = route_init, .done = route_done,
 *             .on_bus = route_on_bus, .on_fence = route_on_fence,
 *     };
 *
 *   init runs once, after the supervisor's initial records (fence window,
 *   optional per-controller token) arrived; it registers its own events on
 *   wk_base(). The runtime owns the loop, the status channel (heartbeat,
 *   parent death), the bus client and the kube client.
 *
 * RULES FOR CONTROLLERS
 *   - Every mutating call to the cloud or to Kubernetes (Events excepted)
 *     asks fence_allow(timeout) first (the kube client does this itself);
 *     -ETIMEDOUT means "not leading now, retry later", -EPERM means dry-run:
 *     log what would be done (wk_dry_run()).
 *   - Call wk_reconciled() after each full pass; the first one tells the
 *     supervisor the controller works (and ends a --dry-run).
 *   - A 401 from the API: call wk_auth_failed() (a new token follows).
 *   - Bus messages are hints; nothing may depend on one arriving.
 *   - Never block the loop longer than one request timeout.
 *
 * OWNERSHIP
 *   Everything returned by wk_* accessors is borrowed for the life of the
 *   process. The controller's state (init's *state) is freed by done.
 */
#ifndef CCM_WK_RUNTIME_H
#define CCM_WK_RUNTIME_H

#include <stdint.h>

#include "ipc/ipc_bus.h"

struct cfg;
struct event_base;
struct kube_client;
struct wk_rt;

struct wk_controller {
	const char *name; /* as in workers/wk_table.c */
	/* Start the controller; 0 or -errno (the worker exits 1). */
	int (*init)(struct wk_rt *rt, void **state);
	/* A bus message on a subscribed topic (optional). */
	void (*on_bus)(void *state, const struct ipc_bus_msg *m);
	/* The fence window changed; allowed = fence_allow(0) == 0 (optional).
	 */
	void (*on_fence)(void *state, int allowed);
	/* Stop and free state (optional). */
	void (*done)(void *state);
};

const struct cfg *wk_cfg(const struct wk_rt *rt);
struct event_base *wk_base(struct wk_rt *rt);
/* This worker's client (per-controller token when the supervisor got one,
 * else the supervisor's credentials); User-Agent names the worker. */
struct kube_client *wk_kube(struct wk_rt *rt);
const char *wk_name(const struct wk_rt *rt);
/* The supervisor's leader identity (hostname_uuid). */
const char *wk_identity(const struct wk_rt *rt);
int wk_dry_run(const struct wk_rt *rt);
/* The worker's Alibaba Cloud client, configured from the command line and
 * cloud-config alike for every controller (workers/wk_cloud.c). */
struct ali_client;
int wk_cloud_client_new(struct wk_rt *rt, struct ali_client **ret);

int wk_subscribe(struct wk_rt *rt, enum ipc_topic t);
/* 0, or -EAGAIN when the hint was dropped. */
int wk_publish(struct wk_rt *rt, enum ipc_topic t, const char *name,
	       uint8_t flag);

void wk_reconciled(struct wk_rt *rt);
void wk_auth_failed(struct wk_rt *rt);
/* For a long piece of work (a sync of many bounded cloud calls) that
 * keeps the loop from its timers: call it between the calls. It sends at
 * most one heartbeat a second (never call it from anything that can spin
 * without bound: the heartbeat is how a wedged worker is caught) and
 * applies the status records waiting (fence window, token), so on_fence
 * may run from inside the caller. */
void wk_heartbeat(struct wk_rt *rt);

/* Metrics travel to the supervisor, which serves /metrics. name must be a
 * Prometheus name; labels is "" or k="v",... with no quotes in values. */
void wk_counter_add(struct wk_rt *rt, const char *name, const char *labels,
		    double v);
void wk_gauge_set(struct wk_rt *rt, const char *name, const char *labels,
		  double v);
void wk_observe(struct wk_rt *rt, const char *name, const char *labels,
		double seconds);

/* kube_informer_new on the worker's client and loop, with the informer's
 * relist, reconnect, oversize-event and error counters exported to
 * /metrics as ccm_informer_*_total{resource="<last path segment>"}. The
 * controller frees the informer in its done(). */
#define WK_MAX_INFORMERS 8
struct kube_informer;
struct kube_informer_opts;
struct kube_informer_ops;
int wk_informer_new(struct wk_rt *rt, const char *path,
		    const struct kube_informer_opts *o,
		    const struct kube_informer_ops *ops, void *ctx,
		    struct kube_informer **ret);

/* Used by wk_main only. */
int wk_run(const struct cfg *cfg, const struct wk_controller *ctl);

#endif
