#include "workers/service_lb/slb_cloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void slb_cloud_clear(struct slb_cloud *c)
{
	size_t i;

	for (i = 0; i < c->n_gs; i++)
		slb_bes_done(&c->gs[i].be);
	free(c->gs);
	free(c->ls);
	free(c->dx);
	free(c->tags);
	memset(c, 0, sizeof(*c));
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	/* a CLB has a few listeners, groups and tags; one is cached per
	 * Service, so start small */
	size_t nc = *cap ? *cap * 2 : 2;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, nc * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

int slb_cloud_add_listener(struct slb_cloud *c, const struct slb_cl_listener *l)
{
	void *v = c->ls;
	int r = grow(&v, &c->cap_ls, c->n_ls, sizeof(*c->ls));

	c->ls = v;
	if (r < 0)
		return r;
	c->ls[c->n_ls++] = *l;
	return 0;
}

/* The new group is built before the array grows: id, name and be may
 * point into a cached group that the realloc moves. */
int slb_cloud_add_group(struct slb_cloud *c, const char *id, const char *name,
			const struct slb_bes *be)
{
	struct slb_cl_group g;
	void *v = c->gs;
	int r;

	memset(&g, 0, sizeof(g));
	slb_strcpy(g.id, sizeof(g.id), id);
	slb_strcpy(g.name, sizeof(g.name), name);
	if (be && (r = slb_bes_copy(&g.be, be)) < 0)
		return r;
	r = grow(&v, &c->cap_gs, c->n_gs, sizeof(*c->gs));
	c->gs = v;
	if (r < 0) {
		slb_bes_done(&g.be);
		return r;
	}
	c->gs[c->n_gs++] = g;
	return 0;
}

struct slb_cl_listener *slb_cloud_listener(struct slb_cloud *c, int port)
{
	size_t i;

	for (i = 0; i < c->n_ls; i++)
		if (c->ls[i].port == port)
			return &c->ls[i];
	return NULL;
}

struct slb_cl_group *slb_cloud_group(struct slb_cloud *c, const char *id)
{
	size_t i;

	for (i = 0; id && i < c->n_gs; i++)
		if (strcmp(c->gs[i].id, id) == 0)
			return &c->gs[i];
	return NULL;
}

/* A listener takes its domain extensions with it. */
void slb_cloud_del_listener(struct slb_cloud *c, int port)
{
	size_t i;

	for (i = 0; i < c->n_dx;)
		if (c->dx[i].port == port)
			c->dx[i] = c->dx[--c->n_dx];
		else
			i++;
	for (i = 0; i < c->n_ls; i++)
		if (c->ls[i].port == port) {
			c->ls[i] = c->ls[--c->n_ls];
			return;
		}
}

int slb_cloud_add_domext(struct slb_cloud *c, const struct slb_cl_domext *d)
{
	void *v = c->dx;
	int r = grow(&v, &c->cap_dx, c->n_dx, sizeof(*c->dx));

	c->dx = v;
	if (r < 0)
		return r;
	c->dx[c->n_dx++] = *d;
	return 0;
}

struct slb_cl_domext *slb_cloud_domext(struct slb_cloud *c, const char *id)
{
	size_t i;

	for (i = 0; id && i < c->n_dx; i++)
		if (strcmp(c->dx[i].id, id) == 0)
			return &c->dx[i];
	return NULL;
}

void slb_cloud_del_domext(struct slb_cloud *c, const char *id)
{
	struct slb_cl_domext *d = slb_cloud_domext(c, id);

	if (d)
		*d = c->dx[--c->n_dx];
}

void slb_cloud_del_group(struct slb_cloud *c, const char *id)
{
	struct slb_cl_group *g = slb_cloud_group(c, id);

	if (!g)
		return;
	slb_bes_done(&g->be);
	*g = c->gs[--c->n_gs];
}

static struct slb_backend *find_be(struct slb_cl_group *g,
				   const struct slb_backend *b)
{
	size_t i;

	for (i = 0; i < g->be.n; i++)
		if (slb_backend_same(&g->be.v[i], b))
			return &g->be.v[i];
	return NULL;
}

int slb_group_add(struct slb_cl_group *g, const struct slb_bes *be)
{
	size_t i;
	int r;

	for (i = 0; i < be->n; i++) {
		if (find_be(g, &be->v[i]))
			continue;
		r = slb_bes_push(&g->be, &be->v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void slb_group_remove(struct slb_cl_group *g, const struct slb_bes *be)
{
	size_t i, j, k;

	for (i = 0; i < be->n; i++) {
		for (j = 0, k = 0; j < g->be.n; j++)
			if (!slb_backend_same(&g->be.v[j], &be->v[i]))
				g->be.v[k++] = g->be.v[j];
		g->be.n = k;
	}
}

void slb_group_set(struct slb_cl_group *g, const struct slb_bes *be)
{
	size_t i;

	for (i = 0; i < be->n; i++) {
		struct slb_backend *b = find_be(g, &be->v[i]);

		if (b) {
			b->weight = be->v[i].weight;
			memcpy(b->desc, be->v[i].desc, sizeof(b->desc));
		}
	}
}

const struct slb_cl_tag *slb_cloud_tag(const struct slb_cloud *c,
				       const char *key)
{
	size_t i;

	for (i = 0; i < c->n_tags; i++)
		if (strcmp(c->tags[i].key, key) == 0)
			return &c->tags[i];
	return NULL;
}

int slb_cloud_set_tag(struct slb_cloud *c, const char *key, const char *val)
{
	struct slb_cl_tag *t = (struct slb_cl_tag *)slb_cloud_tag(c, key);
	void *v = c->tags;
	int r;

	if (!t) {
		r = grow(&v, &c->cap_tags, c->n_tags, sizeof(*c->tags));
		c->tags = v;
		if (r < 0)
			return r;
		t = &c->tags[c->n_tags++];
		slb_strcpy(t->key, sizeof(t->key), key);
	}
	slb_strcpy(t->val, sizeof(t->val), val);
	return 0;
}

void slb_cloud_del_tag(struct slb_cloud *c, const char *key)
{
	const struct slb_cl_tag *t = slb_cloud_tag(c, key);

	if (t)
		c->tags[t - c->tags] = c->tags[--c->n_tags];
}
