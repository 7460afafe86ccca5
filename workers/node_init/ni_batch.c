/*
 * Initialization of joining nodes: one batch of coalesced node names in,
 * at most one DescribeInstances call per 100 ids or IPs out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_client.h"
#include "config/cfg.h"
#include "ipc/ipc_bus.h"
#include "kube/kube_event.h"
#include "lib/log.h"
#include "workers/node_init/ni_classify.h"
#include "workers/node_init/ni_cloud.h"
#include "workers/node_init/ni_ctl.h"
#include "workers/node_init/ni_discover.h"
#include "workers/wk_runtime.h"

struct strv {
	const char **v;
	size_t n;
};

static int strv_has(const struct strv *s, const char *x)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], x) == 0)
			return 1;
	return 0;
}

static void strv_add(struct strv *s, const char *x)
{
	const char **nv;

	if (!x || !*x || strv_has(s, x))
		return;
	nv = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!nv)
		return;
	s->v = nv;
	s->v[s->n++] = x;
}

/* Looks up ids (region) or ips (VPC) in chunks of 100 into pool. */
static void lookup_chunks(struct ni_ctl *c, const char *region,
			  const struct strv *keys, int by_ip,
			  struct ni_lookup *pool)
{
	size_t off, cnt;

	for (off = 0; off < keys->n; off += cnt) {
		cnt = keys->n - off;
		if (cnt > (size_t)c->cfg->node_reconcile_batch_size)
			cnt = (size_t)c->cfg->node_reconcile_batch_size;
		if (by_ip)
			ni_cloud_by_ips(c->ali, region, c->cfg->cloud.vpc_id,
					keys->v + off, cnt, pool);
		else
			ni_cloud_by_ids(c->ali, region, keys->v + off, cnt,
					pool);
		if (!pool->ok)
			log_warn("DescribeInstances in %s: %s: %s", region,
				 pool->err.code, pool->err.message);
	}
}

static const char *cloud_region(const struct ni_ctl *c)
{
	return c->cfg->cloud.region[0] ? c->cfg->cloud.region
				       : ali_client_region(c->ali);
}

static void init_non_ecs(struct ni_ctl *c, const struct ni_node *n)
{
	struct ni_memo *m = ni_memo_get(c, n->wk->name);
	struct ni_want w = {.remove_uninit = 1};
	char err[256];
	int rc = 0;

	if (ni_non_ecs_may_init(&c->cfg->cloud) &&
	    wk_node_has_taint(n->wk, WK_TAINT_UNINITIALIZED))
		rc = ni_apply(c, n->wk->name, NULL, &w, err, sizeof(err));
	if (rc < 0 && rc != -EPERM) {
		log_warn("node %s: %s", n->wk->name, err);
		ni_retry_later(c, n->wk->name);
		return;
	}
	ni_retry_clear(c, n->wk->name);
	if (m && !m->noted) {
		m->noted = 1;
		ni_event(c, n, KUBE_EVENT_TYPE_NORMAL, "NonECSNode",
			 "Node is not an ECS instance%s",
			 ni_non_ecs_may_init(&c->cfg->cloud)
				 ? "; initialized without cloud data"
				 : "; left to its own provider");
	}
}

/* SourceDestCheck off on the primary ENIs of the nodes to initialize. */
static void disable_sdc(struct ni_ctl *c, const struct ni_instance **insts,
			size_t n, int *failed)
{
	const char **enis = calloc(n ? n : 1, sizeof(*enis));
	int *f = calloc(n ? n : 1, sizeof(*f));
	struct ali_error err;
	size_t i, k = 0, off;

	if (!enis || !f) {
		for (i = 0; i < n; i++)
			failed[i] = 1;
		goto out;
	}
	for (i = 0; i < n; i++)
		enis[k++] = insts[i]->eni_id;
	for (off = 0; off < k; off += NI_IDS_PER_CALL) {
		size_t cnt =
			k - off > NI_IDS_PER_CALL ? NI_IDS_PER_CALL : k - off;
		int rc = ni_cloud_sdc_off(c->ali, enis + off, cnt, f + off,
					  &err);

		if (rc == -EPERM)
			memset(f + off, 0, cnt * sizeof(*f));
		else if (rc < 0)
			log_warn("SourceDestCheck: %s: %s", err.code,
				 err.message);
	}
	for (i = 0; i < n; i++)
		failed[i] = f[i] || !insts[i]->eni_id[0];
out:
	free(enis);
	free(f);
}

static void init_one(struct ni_ctl *c, const struct ni_node *n,
		     const struct ni_instance *inst, int sdc_failed)
{
	char pid[192], err[512];
	struct ni_want w = {.labels = 1};
	int rc;

	if (ni_provider_id(inst->region[0] ? inst->region : cloud_region(c),
			   inst->id, pid, sizeof(pid)) == 0)
		w.provider_id = pid;
	w.remove_uninit = !sdc_failed;
	w.network_unavailable = ni_wants_network_unavailable(c, n, inst);
	if (sdc_failed)
		ni_event(c, n, KUBE_EVENT_TYPE_WARNING, "SyncNodeFailed",
			 "Failed to disable source dest check for node: "
			 "ENI %s of instance %s",
			 inst->eni_id[0] ? inst->eni_id : "(none)", inst->id);
	rc = ni_apply(c, n->wk->name, inst, &w, err, sizeof(err));
	if (rc < 0 && rc != -EPERM) {
		ni_event(c, n, KUBE_EVENT_TYPE_WARNING, "SyncNodeFailed",
			 "Failed to initialize node from instance %s: %s",
			 inst->id, err);
		ni_retry_later(c, n->wk->name);
		return;
	}
	if (sdc_failed) {
		ni_retry_later(c, n->wk->name);
		return;
	}
	ni_retry_clear(c, n->wk->name);
	if (rc == 0) {
		log_info("node %s initialized from instance %s", n->wk->name,
			 inst->id);
		wk_publish(c->rt, IPC_TOPIC_NODE_INIT, n->wk->name, 1);
	}
}

static void not_found(struct ni_ctl *c, const struct ni_node *n, enum ni_disc d,
		      const char *cands, int lookup_ok)
{
	struct ni_memo *m;

	if (d == NI_DISC_AMBIGUOUS) {
		ni_event(c, n, KUBE_EVENT_TYPE_WARNING, "SyncNodeFailed",
			 "Several ECS instances match node IP %s in VPC %s: "
			 "%s; set spec.providerID (kubelet --provider-id)",
			 ni_node_ip(n), c->cfg->cloud.vpc_id, cands);
		ni_retry_later(c, n->wk->name);
		return;
	}
	if (lookup_ok && ni_discovery_none_is_non_ecs(&c->cfg->cloud)) {
		m = ni_memo_get(c, n->wk->name);
		if (m)
			m->non_ecs = 1;
		init_non_ecs(c, n);
		return;
	}
	if (lookup_ok)
		ni_event(c, n, KUBE_EVENT_TYPE_WARNING, "SyncNodeFailed",
			 "No ECS instance found for node (IP %s%s%s) in VPC "
			 "%s",
			 ni_node_ip(n)[0] ? ni_node_ip(n) : "none",
			 ni_discover_id_hint(n) ? ", id " : "",
			 ni_discover_id_hint(n) ? ni_discover_id_hint(n) : "",
			 c->cfg->cloud.vpc_id);
	ni_retry_later(c, n->wk->name);
}

struct batch {
	const struct ni_node **nodes;
	const struct ni_instance **insts;
	size_t n;
};

static void batch_add(struct batch *b, const struct ni_node *n,
		      const struct ni_instance *i)
{
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	const struct ni_node **nn = realloc(b->nodes, (b->n + 1) * sizeof(*nn));
	const struct ni_instance **ni;

	if (!nn)
		return;
	b->nodes = nn;
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	ni = realloc(b->insts, (b->n + 1) * sizeof(*ni));
	if (!ni)
		return;
	b->insts = ni;
	b->nodes[b->n] = n;
	b->insts[b->n++] = i;
}

static void init_batch(struct ni_ctl *c, struct batch *b)
{
	int *failed = calloc(b->n ? b->n : 1, sizeof(*failed));
	size_t i;

	if (!failed)
		return;
	if (!c->cfg->skip_disable_source_dest_check) {
		/* Only nodes still tainted need the ENI step. */
		disable_sdc(c, b->insts, b->n, failed);
	}
	for (i = 0; i < b->n; i++)
		init_one(c, b->nodes[i], b->insts[i], failed[i]);
	free(failed);
}

static void lookup_ecs(struct ni_ctl *c, const struct ni_node **nodes, size_t n,
		       struct ni_lookup *pool)
{
	struct strv regions = {0}, ids = {0};
	size_t r, i;

	for (i = 0; i < n; i++)
		strv_add(&regions, nodes[i]->wk->region);
	for (r = 0; r < regions.n; r++) {
		ids.n = 0;
		for (i = 0; i < n; i++)
			if (strcmp(nodes[i]->wk->region, regions.v[r]) == 0)
				strv_add(&ids, nodes[i]->wk->instance_id);
		lookup_chunks(c, regions.v[r], &ids, 0, pool);
	}
	free(regions.v);
	free(ids.v);
}

static void lookup_discover(struct ni_ctl *c, const struct ni_node **nodes,
			    size_t n, struct ni_lookup *pool)
{
	struct strv ips = {0}, ids = {0};
	size_t i;

	for (i = 0; i < n; i++) {
		strv_add(&ips, ni_node_ip(nodes[i]));
		strv_add(&ids, ni_discover_id_hint(nodes[i]));
	}
	lookup_chunks(c, cloud_region(c), &ips, 1, pool);
	lookup_chunks(c, cloud_region(c), &ids, 0, pool);
	free(ips.v);
	free(ids.v);
}

static void handle_ecs(struct ni_ctl *c, const struct ni_node **nodes, size_t n,
		       struct batch *b)
{
	struct ni_lookup pool;
	size_t i;

	ni_lookup_init(&pool);
	lookup_ecs(c, nodes, n, &pool);
	for (i = 0; i < n; i++) {
		const struct ni_instance *in = ni_instance_find(
			pool.v, pool.n, nodes[i]->wk->instance_id);

		if (in) {
			batch_add(b, nodes[i], in);
			continue;
		}
		if (pool.ok && pool.complete)
			ni_event(c, nodes[i], KUBE_EVENT_TYPE_WARNING,
				 "SyncNodeFailed",
				 "Instance %s of node not found in region %s",
				 nodes[i]->wk->instance_id,
				 nodes[i]->wk->region);
		ni_retry_later(c, nodes[i]->wk->name);
	}
	init_batch(c, b);
	b->n = 0;
	ni_lookup_done(&pool);
}

static void handle_discover(struct ni_ctl *c, const struct ni_node **nodes,
			    size_t n, struct batch *b)
{
	struct ni_lookup pool;
	const struct ni_instance *in;
	char cands[512];
	size_t i;

	ni_lookup_init(&pool);
	lookup_discover(c, nodes, n, &pool);
	for (i = 0; i < n; i++) {
		enum ni_disc d = ni_discover_match(nodes[i], pool.v, pool.n,
						   c->cfg->cloud.vpc_id, &in,
						   cands, sizeof(cands));

		if (d == NI_DISC_FOUND)
			batch_add(b, nodes[i], in);
		else
			not_found(c, nodes[i], d, cands,
				  pool.ok && pool.complete);
	}
	init_batch(c, b);
	b->n = 0;
	ni_lookup_done(&pool);
}

/* A node registered before its addresses has nothing to look up yet; a
 * miss now would be a false "not ECS". Its status update brings it back. */
static int discoverable(const struct ni_node *n)
{
	if (ni_node_ip(n)[0] || ni_discover_id_hint(n))
		return 1;
	log_v(2, "node %s: no address reported yet; waiting for it",
	      n->wk->name);
	return 0;
}

void ni_process_batch(struct ni_ctl *c, char **names, size_t n)
{
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	const struct ni_node **ecs = calloc(n ? n : 1, sizeof(*ecs));
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	const struct ni_node **disc = calloc(n ? n : 1, sizeof(*disc));
	struct batch b = {0};
	size_t i, ne = 0, nd = 0;

	if (!ecs || !disc)
		goto out;
	for (i = 0; i < n; i++) {
		const struct ni_node *nd_ = ni_ctl_node(c, names[i]);
		struct ni_memo *m = ni_memo_get(c, names[i]);

		if (!nd_ || nd_->wk->deleting)
			continue;
		switch (ni_classify(nd_->wk, &c->cfg->cloud)) {
		case NI_KIND_ECS:
			if (wk_node_has_taint(nd_->wk, WK_TAINT_UNINITIALIZED))
				ecs[ne++] = nd_;
			break;
		case NI_KIND_DISCOVER:
			if (m && m->non_ecs)
				init_non_ecs(c, nd_);
			else if (discoverable(nd_))
				disc[nd++] = nd_;
			break;
		case NI_KIND_NON_ECS:
			init_non_ecs(c, nd_);
			break;
		}
	}
	if (ne)
		handle_ecs(c, ecs, ne, &b);
	if (nd)
		handle_discover(c, disc, nd, &b);
out:
	free(b.nodes);
	free(b.insts);
	free(ecs);
	free(disc);
}
