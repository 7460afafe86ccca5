#include "workers/route/rt_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Working state of one rt_plan_build call. */
struct pctx {
	const struct rt_plan_in *in;
	struct rt_plan *out;
	size_t *node_ix; /* nodes with a pod CIDR, sorted by CIDR */
	size_t n_node_ix;
	size_t cap_creates, cap_deletes, cap_foreign;
	/* current table */
	const struct rt_table_obs *t;
	size_t ti;
	char (*ecidr)[RT_CIDR_MAX]; /* canonical destination per entry */
	unsigned char *doomed;	    /* entry is planned for deletion */
};

size_t rt_plan_guard_limit(size_t managed)
{
	size_t tenth = managed / 10;

	return tenth > 3 ? tenth : 3;
}

static int single_instance(const struct rt_entry *e)
{
	return e->custom && e->n_hops == 1 &&
	       strcasecmp(e->hop_type, "Instance") == 0 && e->hop_id[0];
}

static int in_cluster(const struct rt_entry *e, int have_cluster_cidr,
		      const struct rt_cidr *cluster)
{
	struct rt_cidr c;

	if (!have_cluster_cidr || rt_cidr_parse(e->dst, &c) || c.prefix == 0)
		return 0;
	return rt_cidr_within(&c, cluster);
}

int rt_entry_managed(const struct rt_entry *e, int have_cluster_cidr,
		     const struct rt_cidr *cluster)
{
	return single_instance(e) && in_cluster(e, have_cluster_cidr, cluster);
}

static int cmp_node_cidr(const void *a, const void *b, void *arg)
{
	const struct rt_pnode *nodes = arg;

	return strcmp(nodes[*(const size_t *)a].cidr,
		      nodes[*(const size_t *)b].cidr);
}

static int index_nodes(struct pctx *c)
{
	const struct rt_plan_in *in = c->in;
	size_t i;

	c->node_ix = calloc(in->n_nodes + 1, sizeof(*c->node_ix));
	if (!c->node_ix)
		return -ENOMEM;
	for (i = 0; i < in->n_nodes; i++)
		if (in->nodes[i].cidr && in->nodes[i].cidr[0])
			c->node_ix[c->n_node_ix++] = i;
	qsort_r(c->node_ix, c->n_node_ix, sizeof(*c->node_ix), cmp_node_cidr,
		(void *)in->nodes);
	return 0;
}

/* [*lo, *hi) of node_ix whose pod CIDR equals cidr. */
static void nodes_with(const struct pctx *c, const char *cidr, size_t *lo,
		       size_t *hi)
{
	size_t a = 0, b = c->n_node_ix;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (strcmp(c->in->nodes[c->node_ix[m]].cidr, cidr) < 0)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < c->n_node_ix &&
	       strcmp(c->in->nodes[c->node_ix[a]].cidr, cidr) == 0)
		a++;
	*hi = a;
}

static int push(struct rt_op **arr, size_t *n, size_t *cap,
		const struct rt_op *op)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct rt_op *p = realloc(*arr, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = ncap;
	}
	(*arr)[(*n)++] = *op;
	return 0;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t l = src ? strnlen(src, n - 1) : 0;

	memcpy(dst, src ? src : "", l);
	dst[l] = '\0';
}

/* strict: an unmarked entry needs the exact instance of the gone node. */
static int gone_match(const struct rt_gone *g, const char *cidr,
		      const char *hop, int strict)
{
	if (strcmp(g->cidr, cidr) != 0)
		return 0;
	if (!g->instance[0])
		return !strict;
	return strcmp(g->instance, hop) == 0;
}

static int backed_by_gone(const struct pctx *c, const char *cidr,
			  const char *hop, int strict)
{
	size_t g;

	for (g = 0; g < c->in->n_gone; g++)
		if (gone_match(&c->in->gone[g], cidr, hop, strict))
			return 1;
	return 0;
}

enum kind {
	K_OTHER = 0, /* not ours, outside the cluster CIDR: silence */
	K_OURS,	     /* ours (marked or adopted) and wanted */
	K_HELD,	     /* at a live node's CIDR, not replaceable: node blocked */
	K_FOREIGN,   /* not ours, inside the cluster CIDR: reported */
	K_STALE,
	K_CONFLICT,
	K_GONE,
};

/* The live node whose pod CIDR the entry holds with another hop
 * (RT_NO_NODE: none); *own is set when a node there is its hop. */
static size_t live_owner(const struct pctx *c, size_t i, int *own, int *any)
{
	const struct rt_entry *e = &c->t->entries[i];
	size_t lo, hi, k, owner = RT_NO_NODE;

	*own = 0;
	nodes_with(c, c->ecidr[i], &lo, &hi);
	*any = lo < hi;
	for (k = lo; k < hi; k++) {
		const struct rt_pnode *n = &c->in->nodes[c->node_ix[k]];

		if (single_instance(e) && n->instance &&
		    strcmp(n->instance, e->hop_id) == 0)
			*own = 1;
		/* a node without an instance yet says nothing about hops */
		else if (n->eligible && n->instance && n->instance[0] &&
			 owner == RT_NO_NODE)
			owner = c->node_ix[k];
	}
	return owner;
}

static enum kind classify(const struct pctx *c, size_t i, size_t *node)
{
	const struct rt_entry *e = &c->t->entries[i];
	const struct rt_plan_in *in = c->in;
	int inside = in_cluster(e, in->have_cluster_cidr, &in->cluster);
	int single = single_instance(e);
	int mine = e->marked && single && inside;
	int own, any;

	*node = live_owner(c, i, &own, &any);
	if (!e->custom)
		return K_OTHER;
	if (own)
		return K_OURS;
	if (*node != RT_NO_NODE)
		return single && inside ? K_CONFLICT : K_HELD;
	if (any) /* its node has no instance yet: wait */
		return mine ? K_OURS : K_OTHER;
	if (single && inside &&
	    backed_by_gone(c, c->ecidr[i], e->hop_id, !mine))
		return K_GONE;
	if (mine)
		return K_STALE;
	return inside ? K_FOREIGN : K_OTHER;
}

static enum rt_reason reason_of(enum kind k)
{
	return k == K_CONFLICT ? RT_DEL_CONFLICT
	       : k == K_GONE   ? RT_DEL_GONE
			       : RT_DEL_STALE;
}

static int add_foreign(struct pctx *c, size_t i)
{
	const struct rt_entry *e = &c->t->entries[i];
	struct rt_op op = {.table = c->ti,
			   .node = RT_NO_NODE,
			   .reason = RT_FOREIGN,
			   .n_hops = e->n_hops};

	copy_str(op.dst, sizeof(op.dst), e->dst);
	copy_str(op.hop_id, sizeof(op.hop_id), e->hop_id);
	copy_str(op.hop_type, sizeof(op.hop_type), e->hop_type);
	copy_str(op.entry_id, sizeof(op.entry_id), e->id);
	return push(&c->out->foreign, &c->out->n_foreign, &c->cap_foreign, &op);
}

static int add_delete(struct pctx *c, size_t i, size_t node, enum rt_reason why)
{
	const struct rt_entry *e = &c->t->entries[i];
	struct rt_op op = {.table = c->ti, .node = node, .reason = why};

	copy_str(op.dst, sizeof(op.dst), e->dst);
	copy_str(op.hop_id, sizeof(op.hop_id), e->hop_id);
	copy_str(op.entry_id, sizeof(op.entry_id), e->id);
	c->doomed[i] = 1;
	return push(&c->out->deletes, &c->out->n_deletes, &c->cap_deletes, &op);
}

/* Candidates of this table: guarded ones at [0, n_unconf), gone ones
 * after; returns the count of each through the pointers. */
static int collect_deletes(struct pctx *c, size_t *cand, size_t *n_unconf,
			   size_t *n_gone, size_t *cand_node,
			   enum rt_reason *cand_why)
{
	size_t i, node, n = c->t->n, tail = n;
	int r = 0;

	*n_unconf = *n_gone = 0;
	for (i = 0; i < n && r == 0; i++) {
		const struct rt_entry *e = &c->t->entries[i];
		enum kind k = classify(c, i, &node);

		c->out->custom[c->ti] += e->custom != 0;
		if (k == K_FOREIGN)
			r = add_foreign(c, i);
		if (k < K_STALE) {
			c->out->managed[c->ti] += k == K_OURS;
			continue;
		}
		c->out->managed[c->ti]++;
		if (e->status == RT_ST_DELETING)
			continue;
		if (e->status != RT_ST_AVAILABLE) {
			c->out->retry = 1; /* delete once it settles */
			continue;
		}
		if (k == K_GONE) {
			cand[--tail] = i;
			(*n_gone)++;
		} else {
			cand[*n_unconf] = i;
			(*n_unconf)++;
		}
		cand_node[i] = node;
		cand_why[i] = reason_of(k);
	}
	memmove(cand + *n_unconf, cand + tail, *n_gone * sizeof(*cand));
	return r;
}

static int plan_deletes(struct pctx *c)
{
	size_t n = c->t->n, n_unconf, n_gone, k, total;
	size_t *cand = calloc(n + 1, sizeof(*cand));
	size_t *cnode = calloc(n + 1, sizeof(*cnode));
	enum rt_reason *cwhy = calloc(n + 1, sizeof(*cwhy));
	int r = -ENOMEM;

	if (!cand || !cnode || !cwhy)
		goto out;
	r = collect_deletes(c, cand, &n_unconf, &n_gone, cnode, cwhy);
	if (r || !c->in->synced)
		goto out;
	k = 0;
	total = n_unconf + n_gone;
	if (n_unconf > rt_plan_guard_limit(c->out->managed[c->ti])) {
		c->out->blocked[c->ti] = n_unconf;
		k = n_unconf;
	}
	for (; k < total && r == 0; k++)
		r = add_delete(c, cand[k], cnode[cand[k]], cwhy[cand[k]]);
out:
	free(cand);
	free(cnode);
	free(cwhy);
	return r;
}

static int is_own_route(const struct rt_entry *e, const struct rt_pnode *n)
{
	return e->custom && e->n_hops == 1 &&
	       strcasecmp(e->hop_type, "Instance") == 0 &&
	       strcmp(e->hop_id, n->instance) == 0;
}

/* What the entries at the node's destination mean for the node. */
static enum rt_nstate node_state(struct pctx *c, const struct rt_pnode *n)
{
	int occupied = 0, all_doomed = 1;
	size_t i;

	for (i = 0; i < c->t->n; i++) {
		const struct rt_entry *e = &c->t->entries[i];

		if (strcmp(c->ecidr[i], n->cidr) != 0)
			continue;
		if (is_own_route(e, n) && e->status != RT_ST_DELETING)
			return e->status == RT_ST_AVAILABLE ? RT_NS_READY
							    : RT_NS_PENDING;
		occupied = 1;
		if (!c->doomed[i] && e->status != RT_ST_DELETING)
			all_doomed = 0;
	}
	if (!occupied)
		return RT_NS_CREATE;
	/* create only after the old entry is really gone: a create now
	 * could answer "duplicate", which would be misread as success */
	return all_doomed ? RT_NS_PENDING : RT_NS_BLOCKED;
}

static int plan_creates(struct pctx *c)
{
	const struct rt_plan_in *in = c->in;
	size_t i;

	for (i = 0; i < in->n_nodes; i++) {
		const struct rt_pnode *n = &in->nodes[i];
		enum rt_nstate *st = &c->out->state[i * in->n_tables + c->ti];
		struct rt_op op = {.table = c->ti, .node = i};

		if (!n->eligible || !n->cidr || !n->cidr[0] || !n->instance ||
		    !n->instance[0])
			continue;
		*st = node_state(c, n);
		if (*st == RT_NS_PENDING)
			c->out->retry = 1;
		if (*st != RT_NS_CREATE)
			continue;
		copy_str(op.dst, sizeof(op.dst), n->cidr);
		copy_str(op.hop_id, sizeof(op.hop_id), n->instance);
		if (push(&c->out->creates, &c->out->n_creates, &c->cap_creates,
			 &op))
			return -ENOMEM;
	}
	return 0;
}

static void mark_gone_use(struct pctx *c)
{
	size_t g, i;

	for (g = 0; g < c->in->n_gone; g++)
		for (i = 0; i < c->t->n && !c->out->gone_use[g]; i++)
			if (gone_match(&c->in->gone[g], c->ecidr[i],
				       c->t->entries[i].hop_id, 0))
				c->out->gone_use[g] = 1;
}

static void mark_unknown(struct pctx *c)
{
	size_t i;

	for (i = 0; i < c->in->n_nodes; i++)
		if (c->in->nodes[i].eligible)
			c->out->state[i * c->in->n_tables + c->ti] =
				RT_NS_UNKNOWN;
	/* an unlisted table may still hold routes of gone nodes */
	memset(c->out->gone_use, 1, c->in->n_gone);
}

static int plan_table(struct pctx *c)
{
	size_t i, n = c->t->n;
	int r = -ENOMEM;

	if (!c->t->listed) {
		mark_unknown(c);
		return 0;
	}
	c->ecidr = calloc(n + 1, sizeof(*c->ecidr));
	c->doomed = calloc(n + 1, 1);
	if (!c->ecidr || !c->doomed)
		goto out;
	for (i = 0; i < n; i++)
		rt_cidr_norm(c->t->entries[i].dst, c->ecidr[i],
			     sizeof(c->ecidr[i]));
	mark_gone_use(c);
	r = plan_deletes(c);
	if (r == 0)
		r = plan_creates(c);
out:
	free(c->ecidr);
	free(c->doomed);
	c->ecidr = NULL;
	c->doomed = NULL;
	return r;
}

static int alloc_out(const struct rt_plan_in *in, struct rt_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->n_nodes = in->n_nodes;
	p->n_tables = in->n_tables;
	p->state = calloc(in->n_nodes * in->n_tables + 1, sizeof(*p->state));
	p->managed = calloc(in->n_tables + 1, sizeof(*p->managed));
	p->blocked = calloc(in->n_tables + 1, sizeof(*p->blocked));
	p->custom = calloc(in->n_tables + 1, sizeof(*p->custom));
	p->gone_use = calloc(in->n_gone + 1, 1);
	if (!p->state || !p->managed || !p->blocked || !p->custom ||
	    !p->gone_use)
		return -ENOMEM;
	return 0;
}

int rt_plan_build(const struct rt_plan_in *in, struct rt_plan *out)
{
	struct pctx c = {.in = in, .out = out};
	int r;

	r = alloc_out(in, out);
	if (r == 0)
		r = index_nodes(&c);
	for (c.ti = 0; r == 0 && c.ti < in->n_tables; c.ti++) {
		c.t = &in->tables[c.ti];
		r = plan_table(&c);
	}
	free(c.node_ix);
	if (r) {
		rt_plan_done(out);
		out->n_nodes = out->n_tables = 0;
	}
	return r;
}

void rt_plan_done(struct rt_plan *p)
{
	if (!p)
		return;
	free(p->creates);
	free(p->deletes);
	free(p->state);
	free(p->managed);
	free(p->blocked);
	free(p->custom);
	free(p->foreign);
	free(p->gone_use);
	memset(p, 0, sizeof(*p));
}

enum rt_nstate rt_plan_state(const struct rt_plan *p, size_t node, size_t table)
{
	if (node >= p->n_nodes || table >= p->n_tables || !p->state)
		return RT_NS_SKIP;
	return p->state[node * p->n_tables + table];
}

size_t rt_plan_entries_after(const struct rt_plan *p, size_t t)
{
	size_t i, n;

	if (t >= p->n_tables || !p->custom)
		return 0;
	n = p->custom[t];
	for (i = 0; i < p->n_deletes; i++)
		n -= p->deletes[i].table == t && n > 0;
	for (i = 0; i < p->n_creates; i++)
		n += p->creates[i].table == t;
	return n;
}
