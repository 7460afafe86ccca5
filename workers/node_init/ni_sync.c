/*
 * The periodic full sync: every ECS node's instance looked up (100 ids per
 * call, per region), addresses and labels brought back to the cloud's
 * truth, and the guarded lifecycle (ni_lifecycle) applied.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "kube/kube_event.h"
#include "kube/kube_informer.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "workers/node_init/ni_classify.h"
#include "workers/node_init/ni_cloud.h"
#include "workers/node_init/ni_ctl.h"
#include "workers/wk_runtime.h"

struct ecs_list {
	const struct ni_node **v;
	size_t n;
};

static int collect(void *ctx, const struct kube_item *it)
{
	struct ecs_list *l = ctx;
	const struct ni_node *n = it->obj;
	const struct ni_node **nv;

	if (!n || n->wk->deleting || !wk_node_is_ecs(n->wk))
		return 0;
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n++] = n;
	return 0;
}

static void act(struct ni_ctl *c, const struct ni_node *n,
		const struct ni_instance *inst, enum ni_act a)
{
	struct ni_want w = {.labels = inst != NULL};
	char err[512], why[256];
	int tainted = wk_node_has_taint(n->wk, WK_TAINT_UNINITIALIZED), rc;

	switch (a) {
	case NI_ACT_DELETE:
		snprintf(why, sizeof(why),
			 "instance %s no longer exists in region %s",
			 n->wk->instance_id, n->wk->region);
		rc = ni_delete_node(c, n, why);
		if (rc == 0 || rc == -EAGAIN) /* -EAGAIN: start over */
			ni_lc_forget(c->lc, n->wk->name);
		c->pass_deleted += rc == 0;
		return;
	case NI_ACT_DEFER:
		c->pass_deferred++;
		log_info("node %s: instance gone, deletion deferred "
			 "(--max-node-deletions-per-sync reached)",
			 n->wk->name);
		return;
	case NI_ACT_SUSPECT:
		log_info("node %s: instance %s not returned by "
			 "DescribeInstances; confirming later",
			 n->wk->name, n->wk->instance_id);
		return;
	case NI_ACT_TAINT:
		w.shutdown = NI_SHUTDOWN_ADD;
		break;
	case NI_ACT_UNTAINT:
		w.shutdown = NI_SHUTDOWN_REMOVE;
		break;
	case NI_ACT_NONE:
		break;
	}
	/* Uninitialized nodes belong to the initialization path. */
	if (!inst || (tainted && w.shutdown == NI_SHUTDOWN_KEEP))
		return;
	if (tainted) {
		inst = NULL;
		w.labels = 0;
	}
	err[0] = '\0';
	rc = ni_apply(c, n->wk->name, inst, &w, err, sizeof(err));
	if (rc < 0 && rc != -EPERM)
		ni_event(c, n, KUBE_EVENT_TYPE_WARNING, "SyncNodeFailed",
			 "Failed to sync node with its instance: %s", err);
}

/* A repeated miss that changes nothing still deserves a trace: it is the
 * only sign that a Ready node outlived its instance. */
static void note_missing(struct ni_ctl *c, const struct ni_node *n,
			 enum ni_act a)
{
	c->pass_missing++;
	if (a != NI_ACT_NONE)
		return;
	log_v(2,
	      "node %s: instance %s still not returned (%d lookups); kept: "
	      "%s",
	      n->wk->name, n->wk->instance_id, ni_lc_misses(c->lc, n->wk->name),
	      n->wk->ready == WK_COND_TRUE ? "node is Ready"
					   : "within the grace period");
}

static void sync_batch(struct ni_ctl *c, const char *region,
		       const struct ni_node **nodes, size_t n, int64_t now)
{
	const char **ids = calloc(n, sizeof(*ids));
	enum ni_obs *obs = calloc(n, sizeof(*obs));
	struct ni_lookup l;
	size_t i;

	ni_lookup_init(&l);
	if (!ids || !obs)
		goto out;
	for (i = 0; i < n; i++)
		ids[i] = nodes[i]->wk->instance_id;
	ni_cloud_by_ids(c->ali, region, ids, n, &l);
	if (!l.ok)
		log_warn("DescribeInstances in %s: %s: %s (no node is judged "
			 "on this answer)",
			 region, l.err.code, l.err.message);
	ni_lc_batch(ids, n, l.ok, l.complete, l.v, l.n, obs);
	for (i = 0; i < n; i++) {
		const struct ni_instance *in =
			obs[i] == NI_OBS_FOUND
				? ni_instance_find(l.v, l.n, ids[i])
				: NULL;
		struct ni_lc_input li = {
			.node = nodes[i]->wk->name,
			.instance = ids[i],
			.obs = obs[i],
			.status = in ? in->status : NULL,
			.ready = nodes[i]->wk->ready,
			.shutdown_tainted = wk_node_has_taint(
				nodes[i]->wk, WK_TAINT_SHUTDOWN),
		};

		enum ni_act a = ni_lc_step(c->lc, &li, now);

		if (obs[i] == NI_OBS_MISSING)
			note_missing(c, nodes[i], a);
		act(c, nodes[i], in, a);
	}
out:
	ni_lookup_done(&l);
	free(ids);
	free(obs);
}

static void sync_region(struct ni_ctl *c, const char *region,
			struct ecs_list *all, int64_t now)
{
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	const struct ni_node **batch = calloc(all->n, sizeof(*batch));
	size_t i, k = 0, max = (size_t)c->cfg->node_reconcile_batch_size;

	if (!batch)
		return;
	for (i = 0; i < all->n; i++) {
		if (strcmp(all->v[i]->wk->region, region) != 0)
			continue;
		batch[k++] = all->v[i];
		if (k == max) {
			sync_batch(c, region, batch, k, now);
			k = 0;
		}
	}
	if (k)
		sync_batch(c, region, batch, k, now);
	free(batch);
}

void ni_full_sync(struct ni_ctl *c)
{
	struct ecs_list all = {0};
	const char **regions = NULL;
	size_t i, k, nr = 0;
	int64_t now = clock_mono_ms();

	kube_informer_foreach(c->inf, collect, &all);
	ni_lc_begin(c->lc);
	c->pass_deleted = c->pass_deferred = c->pass_missing = 0;
	/* Regions first: the sync must not walk the store while patching. */
	regions = calloc(all.n ? all.n : 1, sizeof(*regions));
	for (i = 0; regions && i < all.n; i++) {
		for (k = 0; k < nr; k++)
			if (strcmp(regions[k], all.v[i]->wk->region) == 0)
				break;
		if (k == nr)
			regions[nr++] = all.v[i]->wk->region;
	}
	for (k = 0; k < nr; k++)
		sync_region(c, regions[k], &all, now);
	free(regions);
	free(all.v);
	c->passes++;
	log_v(2,
	      "sync pass %d: %zu ECS nodes, %d instances not returned, %d "
	      "nodes deleted, %d deletions deferred",
	      c->passes, all.n, c->pass_missing, c->pass_deleted,
	      c->pass_deferred);
	wk_reconciled(c->rt);
}
