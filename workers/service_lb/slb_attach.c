/*
 * slb_attach - the worker-wide side of Cluster-policy subsets: how many
 * CLBs each instance is already in (from the CLB state every entry last
 * saw, so a sync needs no extra cloud call), how many Services share the
 * nodes, and which nodes one Service gets (slb_subset does the choosing).
 *
 * Syncs run concurrently, so a plan must also see the members other
 * running syncs chose but have not attached yet: each sync reserves its
 * choice until it ends, and others count reservations like attachments
 * (an instance once per CLB). When the common subset size changes, or a
 * sync frees attachments another Service was short of, those Services
 * are queued.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "kube/kube_informer.h"
#include "lib/log.h"
#include "workers/service_lb/slb_backends.h"
#include "workers/service_lb/slb_ctl.h"
#include "workers/service_lb/slb_subset.h"
#include "workers/service_lb/slb_svc.h"

struct ids {
	const char **v;
	size_t n, cap;
};

static int ids_push(struct ids *x, const char *id)
{
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
		void *v = realloc(x->v, nc * sizeof(*x->v));

		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = nc;
	}
	x->v[x->n++] = id;
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends the distinct ECS instances of one CLB and of a reservation
 * (res: n_res instance ids); returns how many. */
static int clb_instances(const struct slb_cloud *cl, char *const *res,
			 size_t n_res, struct ids *out)
{
	size_t start = out->n, i, j, k;

	for (i = 0; i < n_res; i++)
		if (ids_push(out, res[i]) < 0)
			return -ENOMEM;
	for (i = 0; cl->exists && i < cl->n_gs; i++)
		for (j = 0; j < cl->gs[i].be.n; j++) {
			const struct slb_backend *b = &cl->gs[i].be.v[j];

			if (b->type == SLB_BE_ECS && b->server_id[0] &&
			    ids_push(out, b->server_id) < 0)
				return -ENOMEM;
		}
	if (out->n - start > 1)
		qsort(out->v + start, out->n - start, sizeof(*out->v), id_cmp);
	for (i = start, k = start; i < out->n; i++)
		if (k == start || strcmp(out->v[k - 1], out->v[i]) != 0)
			out->v[k++] = out->v[i];
	out->n = k;
	return (int)(k - start);
}

static size_t id_count(const struct ids *x, const char *id)
{
	size_t lo = 0, hi = x->n, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(x->v[mid], id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < x->n && strcmp(x->v[lo + n], id) == 0)
		n++;
	return n;
}

int slb_svc_subsetted(const struct slb_ctl *c, const struct slb_svc *s)
{
	return slb_svc_wants_lb(s) && !s->local && !slb_svc_is_eni(c, s);
}

static int count_subsetted(void *ctx, const struct kube_item *it)
{
	struct slb_ctl *c = ((void **)ctx)[0];
	int *n = ((void **)ctx)[1];

	if (it->obj && slb_svc_subsetted(c, it->obj))
		(*n)++;
	return 0;
}

/* Instances of every other CLB (sorted, one per CLB) and the
 * attachments held by CLBs that are not subsetted. */
static int others(struct slb_ctl *c, const struct slb_entry *self,
		  struct ids *out, int *fixed)
{
	size_t i;

	*fixed = 0;
	for (i = 0; i < c->n_ents; i++) {
		const struct slb_entry *e = c->ents[i];
		const struct kube_item *it;
		int n;

		if (e == self)
			continue;
		n = clb_instances(&e->cloud, e->reserved, e->n_reserved, out);
		if (n < 0)
			return n;
		it = kube_informer_get(c->svcs, e->ns, e->name);
		if (!it || !it->obj || !slb_svc_subsetted(c, it->obj))
			*fixed += n;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), id_cmp);
	return 0;
}

static const char *zone_of(const struct wk_node *n)
{
	const char *z = wk_node_label(n, "topology.kubernetes.io/zone");

	if (!z)
		z = wk_node_label(n, "failure-domain.beta.kubernetes.io/zone");
	return z ? z : "";
}

struct subset_work {
	struct slb_sub_node *sn;
	size_t *idx; /* sn[k] is nodes[idx[k]] */
	unsigned char *chosen;
	struct ids other, mine;
};

static void work_done(struct subset_work *w)
{
	free(w->sn);
	free(w->idx);
	free(w->chosen);
	free(w->other.v);
	free(w->mine.v);
}

static int describe_nodes(struct slb_ctl *c, const struct slb_annot *a,
			  struct wk_node *const *nodes, size_t n,
			  struct subset_work *w, size_t *n_elig)
{
	size_t i, k = 0;
	int L = c->cfg->cloud.quotas.lbs_per_instance;

	w->sn = calloc(n + 1, sizeof(*w->sn));
	w->idx = calloc(n + 1, sizeof(*w->idx));
	w->chosen = calloc(n + 1, 1);
	if (!w->sn || !w->idx || !w->chosen)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct wk_node *nd = nodes[i];
		size_t o;

		if (!slb_node_eligible(nd, a) || !nd->instance_id[0])
			continue;
		o = id_count(&w->other, nd->instance_id);
		w->sn[k].name = nd->name;
		w->sn[k].zone = zone_of(nd);
		w->sn[k].ready = nd->ready == WK_COND_TRUE;
		w->sn[k].others = o > (size_t)L ? L : (int)o;
		w->sn[k].current = id_count(&w->mine, nd->instance_id) > 0;
		w->idx[k++] = i;
	}
	*n_elig = k;
	return 0;
}

static void size_changed(struct slb_ctl *c, const struct slb_entry *self)
{
	size_t i;

	for (i = 0; i < c->n_ents; i++) {
		const struct slb_entry *e = c->ents[i];
		const struct kube_item *it;

		if (e == self)
			continue;
		it = kube_informer_get(c->svcs, e->ns, e->name);
		if (it && it->obj && slb_svc_subsetted(c, it->obj))
			slb_enqueue(c, e->ns, e->name,
				    c->cfg->node_event_aggregation_wait_ms, 1);
	}
}

void slb_subset_release(struct slb_entry *e)
{
	size_t i;

	for (i = 0; i < e->n_reserved; i++)
		free(e->reserved[i]);
	free(e->reserved);
	e->reserved = NULL;
	e->n_reserved = 0;
}

static int reserve(struct slb_entry *e, struct wk_node *const *nodes,
		   const struct subset_work *w, size_t n_elig)
{
	size_t k;

	slb_subset_release(e);
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	e->reserved = calloc(n_elig + 1, sizeof(*e->reserved));
	if (!e->reserved)
		return -ENOMEM;
	for (k = 0; k < n_elig; k++) {
		if (!w->chosen[k])
			continue;
		e->reserved[e->n_reserved] =
			strdup(nodes[w->idx[k]]->instance_id);
		if (!e->reserved[e->n_reserved])
			return -ENOMEM;
		e->n_reserved++;
	}
	return 0;
}

int slb_subset_nodes(struct slb_ctl *c, struct slb_entry *e,
		     const struct slb_svc *svc, const struct slb_annot *a,
		     struct wk_node *const *nodes, size_t n,
		     struct wk_node **out, size_t *n_out,
		     struct slb_sub_res *res)
{
	const struct cfg_quotas *q = &c->cfg->cloud.quotas;
	struct subset_work w;
	struct slb_sub_size_in in;
	void *ctx[2];
	size_t i, k, n_elig = 0;
	int r, services = 0;

	memset(&w, 0, sizeof(w));
	memset(res, 0, sizeof(*res));
	ctx[0] = c;
	ctx[1] = &services;
	r = kube_informer_foreach(c->svcs, count_subsetted, ctx);
	if (r == 0)
		r = others(c, e, &w.other, &in.fixed);
	if (r == 0)
		r = clb_instances(&e->cloud, NULL, 0, &w.mine) < 0 ? -ENOMEM
								   : 0;
	if (r == 0)
		r = describe_nodes(c, a, nodes, n, &w, &n_elig);
	if (r < 0)
		goto out;
	in.eligible = (int)n_elig;
	in.services = services > 0 ? services : 1;
	in.backends_per_lb = q->backends_per_lb;
	in.lbs_per_instance = q->lbs_per_instance;
	res->applies = 1;
	res->eligible = (int)n_elig;
	res->services = in.services;
	res->size = slb_subset_size(&in, &res->full);
	r = slb_subset_pick(svc->uid, w.sn, n_elig, res->size,
			    q->lbs_per_instance, w.chosen);
	if (r < 0)
		goto out;
	res->picked = r;
	e->sub_short = r < res->size;
	r = reserve(e, nodes, &w, n_elig);
	if (r < 0)
		goto out;
	/* every node that is not an eligible non-member passes through:
	 * virtual nodes carry ENI backends, ineligible ones are ignored */
	for (i = 0, k = 0, *n_out = 0; i < n; i++) {
		if (k < n_elig && w.idx[k] == i) {
			if (w.chosen[k++])
				out[(*n_out)++] = nodes[i];
			continue;
		}
		out[(*n_out)++] = nodes[i];
	}
	if (c->sub_size != res->size) {
		if (c->sub_size)
			size_changed(c, e);
		c->sub_size = res->size;
	}
	r = 0;
out:
	work_done(&w);
	return r;
}

void slb_subset_after(struct slb_ctl *c, const struct slb_entry *self,
		      int changed)
{
	size_t i;

	if (!changed)
		return;
	for (i = 0; i < c->n_ents; i++)
		if (c->ents[i] != self && c->ents[i]->sub_short)
			slb_enqueue(c, c->ents[i]->ns, c->ents[i]->name,
				    c->cfg->node_event_aggregation_wait_ms, 1);
}
