#include "kube/kube_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct kube_store {
	struct kube_entry **b;
	size_t nb;
	size_t n;
};

static unsigned key_hash(const char *ns, const char *name)
{
	unsigned h = 2166136261u;
	const char *p;

	for (p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

int kube_store_new(struct kube_store **ret)
{
	struct kube_store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->nb = 64;
	s->b = calloc(s->nb, sizeof(struct kube_entry *));
	if (!s->b) {
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

void kube_store_free(struct kube_store *s, kube_free_obj_fn fn, void *ctx)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nb; i++) {
		struct kube_entry *e = s->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			kube_entry_free(e, fn, ctx);
		}
	}
	free(s->b);
	free(s);
}

int kube_entry_new(const char *ns, const char *name, const char *uid,
		   const char *rv, void *obj, struct kube_entry **ret)
{
	struct kube_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->it.ns = strdup(ns ? ns : "");
	e->it.name = strdup(name);
	e->it.uid = strdup(uid ? uid : "");
	e->it.rv = strdup(rv ? rv : "");
	if (!e->it.ns || !e->it.name || !e->it.uid || !e->it.rv) {
		kube_entry_free(e, NULL, NULL);
		return -ENOMEM;
	}
	e->it.obj = obj;
	e->hash = key_hash(e->it.ns, e->it.name);
	*ret = e;
	return 0;
}

void kube_entry_free(struct kube_entry *e, kube_free_obj_fn fn, void *ctx)
{
	if (!e)
		return;
	if (fn && e->it.obj)
		fn(ctx, e->it.obj);
	free((char *)e->it.ns);
	free((char *)e->it.name);
	free((char *)e->it.uid);
	free((char *)e->it.rv);
	free(e);
}

static struct kube_entry **slot(const struct kube_store *s, const char *ns,
				const char *name)
{
	unsigned h;
	struct kube_entry **pp;

	if (!ns)
		ns = "";
	h = key_hash(ns, name);
	for (pp = &s->b[h % s->nb]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && !strcmp((*pp)->it.name, name) &&
		    !strcmp((*pp)->it.ns, ns))
			break;
	return pp;
}

struct kube_entry *kube_store_find(const struct kube_store *s, const char *ns,
				   const char *name)
{
	return *slot(s, ns, name);
}

static void grow(struct kube_store *s)
{
	size_t nb = s->nb * 2, i;
	struct kube_entry **b = calloc(nb, sizeof(struct kube_entry *));

	if (!b)
		return; /* longer chains, still correct */
	for (i = 0; i < s->nb; i++) {
		struct kube_entry *e = s->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash % nb];
			b[e->hash % nb] = e;
		}
	}
	free(s->b);
	s->b = b;
	s->nb = nb;
}

int kube_store_put(struct kube_store *s, struct kube_entry *e)
{
	struct kube_entry **pp = slot(s, e->it.ns, e->it.name);

	if (*pp)
		return -EEXIST;
	e->next = NULL;
	*pp = e;
	s->n++;
	if (s->n > s->nb * 2)
		grow(s);
	return 0;
}

struct kube_entry *kube_store_take(struct kube_store *s, const char *ns,
				   const char *name)
{
	struct kube_entry **pp = slot(s, ns, name), *e = *pp;

	if (e) {
		*pp = e->next;
		e->next = NULL;
		s->n--;
	}
	return e;
}

struct kube_entry *kube_store_sweep(struct kube_store *s, unsigned gen)
{
	struct kube_entry *out = NULL;
	size_t i;

	for (i = 0; i < s->nb; i++) {
		struct kube_entry **pp = &s->b[i];

		while (*pp) {
			struct kube_entry *e = *pp;

			if (e->gen == gen) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			e->next = out;
			out = e;
			s->n--;
		}
	}
	return out;
}

size_t kube_store_len(const struct kube_store *s)
{
	return s->n;
}

int kube_store_foreach(const struct kube_store *s,
		       int (*cb)(void *ctx, const struct kube_item *it),
		       void *ctx)
{
	size_t i;
	int r;

	for (i = 0; i < s->nb; i++) {
		const struct kube_entry *e;

		for (e = s->b[i]; e; e = e->next) {
			r = cb(ctx, &e->it);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
