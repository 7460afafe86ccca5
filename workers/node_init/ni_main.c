/*
 * ni_main - the node-init controller: wk_controller entry, node informer,
 * event coalescing and timers.
 *
 * Joining nodes (uninitialized taint, or no providerID) are coalesced: a
 * batch is handled once no new node arrived for
 * --node-event-aggregation-wait-seconds (capped at 10 waits after the
 * first), or at once when node_reconcile_batch_size nodes are pending, so
 * 500 nodes joining together cost 5-6 DescribeInstances calls. Failed
 * nodes are retried with a per-node jittered backoff (5 s .. 5 min). The
 * full sync (ni_sync.c) runs after the first list and then every
 * --node-monitor-period.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alicloud/ali_client.h"
#include "config/cfg.h"
#include "kube/kube_event.h"
#include "kube/kube_informer.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "workers/node_init/ni_classify.h"
#include "workers/node_init/ni_ctl.h"
#include "workers/wk_runtime.h"

#define RETRY_BASE_MS 5000
#define RETRY_CAP_MS  300000
#define TICK_MS	      1000
#define MAX_COALESCE  10 /* waits after the first pending node */

static void tv_ms(struct timeval *tv, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

const struct ni_node *ni_ctl_node(struct ni_ctl *c, const char *name)
{
	const struct kube_item *it = kube_informer_get(c->inf, NULL, name);

	return it ? it->obj : NULL;
}

struct ni_memo *ni_memo_get(struct ni_ctl *c, const char *name)
{
	struct ni_memo *nv;
	size_t i;

	for (i = 0; i < c->n_memo; i++)
		if (strcmp(c->memo[i].name, name) == 0)
			return &c->memo[i];
	nv = realloc(c->memo, (c->n_memo + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	c->memo = nv;
	memset(&nv[c->n_memo], 0, sizeof(*nv));
	snprintf(nv[c->n_memo].name, sizeof(nv->name), "%s", name);
	backoff_init(&nv[c->n_memo].bo, RETRY_BASE_MS, RETRY_CAP_MS, 1000,
		     (unsigned)(getpid() + c->n_memo));
	return &c->memo[c->n_memo++];
}

static void memo_drop(struct ni_ctl *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_memo; i++)
		if (strcmp(c->memo[i].name, name) == 0) {
			c->memo[i] = c->memo[--c->n_memo];
			return;
		}
}

void ni_retry_later(struct ni_ctl *c, const char *name)
{
	struct ni_memo *m = ni_memo_get(c, name);

	if (m)
		m->retry_at = clock_mono_ms() + backoff_next(&m->bo);
}

void ni_retry_clear(struct ni_ctl *c, const char *name)
{
	struct ni_memo *m = ni_memo_get(c, name);

	if (m) {
		m->retry_at = 0;
		backoff_reset(&m->bo);
	}
}

static int pending_has(const struct ni_ctl *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_pending; i++)
		if (strcmp(c->pending[i], name) == 0)
			return 1;
	return 0;
}

static void arm_batch(struct ni_ctl *c)
{
	int64_t wait = c->cfg->node_event_aggregation_wait_ms;
	int64_t waited = clock_mono_ms() - c->pending_since;
	struct timeval tv;

	if (c->n_pending >= (size_t)c->cfg->node_reconcile_batch_size)
		wait = 0;
	else if (waited + wait > MAX_COALESCE * (wait ? wait : 1))
		wait = MAX_COALESCE * wait - waited;
	tv_ms(&tv, wait);
	event_add(c->ev_batch, &tv);
}

static void enqueue(struct ni_ctl *c, const char *name)
{
	char **nv;

	if (pending_has(c, name))
		return;
	nv = realloc(c->pending, (c->n_pending + 1) * sizeof(*nv));
	if (!nv)
		return;
	c->pending = nv;
	c->pending[c->n_pending] = strdup(name);
	if (!c->pending[c->n_pending])
		return;
	if (c->n_pending++ == 0)
		c->pending_since = clock_mono_ms();
	arm_batch(c);
}

/* Does this node need the initialization path now? */
static int needs_init(struct ni_ctl *c, const struct ni_node *n)
{
	struct ni_memo *m;
	int tainted = wk_node_has_taint(n->wk, WK_TAINT_UNINITIALIZED);

	if (n->wk->deleting)
		return 0;
	switch (ni_classify(n->wk, &c->cfg->cloud)) {
	case NI_KIND_ECS:
		if (!tainted)
			return 0;
		break;
	case NI_KIND_NON_ECS:
		if (!tainted || !ni_non_ecs_may_init(&c->cfg->cloud))
			return 0;
		break;
	case NI_KIND_DISCOVER:
		break;
	}
	m = ni_memo_get(c, n->wk->name);
	if (m && m->non_ecs && !tainted)
		return 0;
	/* In backoff: the tick re-enqueues it when due. */
	return !(m && m->retry_at);
}

static void consider(struct ni_ctl *c, const struct kube_item *it)
{
	const struct ni_node *n = it->obj;

	if (n && needs_init(c, n))
		enqueue(c, n->wk->name);
}

static void on_add(void *ctx, const struct kube_item *it)
{
	consider(ctx, it);
}

static void on_update(void *ctx, const struct kube_item *old,
		      const struct kube_item *cur)
{
	(void)old;
	consider(ctx, cur);
}

static void on_delete(void *ctx, const struct kube_item *it)
{
	struct ni_ctl *c = ctx;

	ni_lc_forget(c->lc, it->name);
	memo_drop(c, it->name);
}

static void schedule_sync(struct ni_ctl *c, int64_t ms)
{
	struct timeval tv;

	tv_ms(&tv, ms);
	event_add(c->ev_sync, &tv);
}

static void on_synced(void *ctx)
{
	struct ni_ctl *c = ctx;

	c->synced = 1;
	schedule_sync(c, 0);
}

static void on_batch(evutil_socket_t fd, short what, void *arg)
{
	struct ni_ctl *c = arg;
	char **names = c->pending;
	size_t i, n = c->n_pending;

	(void)fd;
	(void)what;
	c->pending = NULL;
	c->n_pending = 0;
	log_v(2, "initializing a batch of %zu node(s)", n);
	ni_process_batch(c, names, n);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct ni_ctl *c = arg;

	(void)fd;
	(void)what;
	if (c->synced)
		ni_full_sync(c);
	schedule_sync(c, c->cfg->node_sync_period_ms);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ni_ctl *c = arg;
	int64_t now = clock_mono_ms();
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < c->n_memo; i++) {
		struct ni_memo *m = &c->memo[i];
		const struct ni_node *n;

		if (!m->retry_at || m->retry_at > now)
			continue;
		m->retry_at = 0;
		n = ni_ctl_node(c, m->name);
		if (n && needs_init(c, n))
			enqueue(c, m->name);
	}
}

static void on_bus(void *state, const struct ipc_bus_msg *m)
{
	struct ni_ctl *c = state;

	if (m->topic == IPC_TOPIC_RESYNC &&
	    (!m->name[0] || strcmp(m->name, "node-init") == 0))
		schedule_sync(c, 0);
}

static int extract(void *ctx, const struct json *obj, void **out)
{
	const struct ni_ctl *c = ctx;
	struct ni_node *n = NULL;
	int r;

	r = ni_node_from_json(obj, &c->nopts, &n);
	*out = n;
	return r;
}

static void free_obj(void *ctx, void *obj)
{
	(void)ctx;
	ni_node_free(obj);
}

static int make_ali(struct ni_ctl *c)
{
	int r = wk_cloud_client_new(c->rt, &c->ali);

	if (r < 0)
		log_error("cloud client: %s", strerror(-r));
	return r;
}

static int make_informer(struct ni_ctl *c)
{
	struct kube_informer_opts o;
	struct kube_informer_ops ops = {
		.on_add = on_add,
		.on_update = on_update,
		.on_delete = on_delete,
		.on_synced = on_synced,
	};

	ni_node_opts_init(&c->nopts, c->cfg->cloud.non_ecs_node_selector);
	memset(&o, 0, sizeof(o));
	o.extract = extract;
	o.free_obj = free_obj;
	return wk_informer_new(c->rt, "/api/v1/nodes", &o, &ops, c, &c->inf);
}

static void ni_done(void *state);

static int ni_start(struct ni_ctl *c)
{
	struct event_base *base = wk_base(c->rt);
	struct timeval tick;
	char host[256] = "";
	int r;

	gethostname(host, sizeof(host) - 1);
	r = ni_lc_new(ni_lc_grace_from_env(),
		      c->cfg->max_node_deletions_per_sync, &c->lc);
	if (r == 0)
		r = make_ali(c);
	if (r == 0)
		r = kube_recorder_new(c->kube, "cloud-node-controller", host,
				      &c->rec);
	if (r < 0)
		return r;
	c->ev_batch = event_new(base, -1, 0, on_batch, c);
	c->ev_sync = event_new(base, -1, 0, on_sync, c);
	c->ev_tick = event_new(base, -1, EV_PERSIST, on_tick, c);
	if (!c->ev_batch || !c->ev_sync || !c->ev_tick)
		return -ENOMEM;
	tv_ms(&tick, TICK_MS);
	event_add(c->ev_tick, &tick);
	return make_informer(c);
}

static int ni_init(struct wk_rt *rt, void **state)
{
	struct ni_ctl *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->rt = rt;
	c->cfg = wk_cfg(rt);
	c->kube = wk_kube(rt);
	r = ni_start(c);
	if (r < 0) {
		log_error("node-init: start failed: %s", strerror(-r));
		ni_done(c);
		return r;
	}
	log_info("node-init controller started (gone grace %lld ms, "
		 "sync every %lld ms)",
		 (long long)ni_lc_grace_from_env(),
		 (long long)c->cfg->node_sync_period_ms);
	*state = c;
	return 0;
}

static void ni_done(void *state)
{
	struct ni_ctl *c = state;
	size_t i;

	if (!c)
		return;
	kube_informer_free(c->inf);
	if (c->ev_batch)
		event_free(c->ev_batch);
	if (c->ev_sync)
		event_free(c->ev_sync);
	if (c->ev_tick)
		event_free(c->ev_tick);
	kube_recorder_free(c->rec);
	ali_client_free(c->ali);
	ni_lc_free(c->lc);
	for (i = 0; i < c->n_pending; i++)
		free(c->pending[i]);
	free(c->pending);
	free(c->memo);
	free(c);
}

const struct wk_controller wk_ctl_node_init = {
	.name = "node-init",
	.init = ni_init,
	.on_bus = on_bus,
	.done = ni_done,
};
