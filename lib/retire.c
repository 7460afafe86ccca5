#include "lib/retire.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/log.h"

struct dead {
	retire_fn fn;
	void *ctx, *obj;
	uint64_t epoch; /* readers with a ticket <= epoch may see it */
};

struct retire {
	uint64_t epoch;	  /* last ticket handed out */
	uint64_t *active; /* tickets of readers inside */
	size_t n_active, cap_active;
	struct dead *dead;
	size_t n_dead, cap_dead;
};

int retire_new(struct retire **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void retire_free(struct retire *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_dead; i++)
		r->dead[i].fn(r->dead[i].ctx, r->dead[i].obj);
	free(r->dead);
	free(r->active);
	free(r);
}

static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 8;
	p = realloc(*v, nc * sz);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

int retire_enter(struct retire *r, uint64_t *ticket)
{
	if (grow((void **)&r->active, &r->cap_active, r->n_active,
		 sizeof(*r->active)) < 0)
		return -ENOMEM;
	*ticket = ++r->epoch;
	r->active[r->n_active++] = *ticket;
	return 0;
}

static uint64_t oldest(const struct retire *r)
{
	uint64_t m = UINT64_MAX;
	size_t i;

	for (i = 0; i < r->n_active; i++)
		if (r->active[i] < m)
			m = r->active[i];
	return m;
}

static void reap(struct retire *r)
{
	uint64_t o = oldest(r);
	size_t i, k;

	for (i = 0, k = 0; i < r->n_dead; i++) {
		if (r->dead[i].epoch < o)
			r->dead[i].fn(r->dead[i].ctx, r->dead[i].obj);
		else
			r->dead[k++] = r->dead[i];
	}
	r->n_dead = k;
}

void retire_leave(struct retire *r, uint64_t ticket)
{
	size_t i;

	for (i = 0; i < r->n_active; i++)
		if (r->active[i] == ticket) {
			r->active[i] = r->active[--r->n_active];
			break;
		}
	reap(r);
}

void retire_obj(struct retire *r, retire_fn fn, void *ctx, void *obj)
{
	if (!obj)
		return;
	if (r->n_active == 0) {
		fn(ctx, obj);
		return;
	}
	if (grow((void **)&r->dead, &r->cap_dead, r->n_dead, sizeof(*r->dead)) <
	    0) {
		log_error("retire: out of memory; an object is kept alive");
		return;
	}
	r->dead[r->n_dead++] = (struct dead){
		.fn = fn, .ctx = ctx, .obj = obj, .epoch = r->epoch};
}

size_t retire_pending(const struct retire *r)
{
	return r ? r->n_dead : 0;
}
