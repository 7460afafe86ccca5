#include "workers/service_lb/slb_types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const proto_names[] = {"tcp", "udp", "http", "https"};

const char *slb_proto_str(enum slb_proto p)
{
	return p < SLB_PROTO_BAD ? proto_names[p] : "?";
}

enum slb_proto slb_proto_parse(const char *s)
{
	int i;

	for (i = 0; s && i < (int)SLB_PROTO_BAD; i++)
		if (strcasecmp(s, proto_names[i]) == 0)
			return (enum slb_proto)i;
	return SLB_PROTO_BAD;
}

int slb_strcpy(char *dst, size_t n, const char *src)
{
	size_t l = src ? strlen(src) : 0;

	if (l >= n)
		return -E2BIG;
	memcpy(dst, src ? src : "", l);
	dst[l] = '\0';
	return 0;
}

void slb_tick(const struct slb_tick *t)
{
	if (t && t->fn)
		t->fn(t->arg);
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return 0;
	/* most lists stay small (a Service has 1-4 ports, a Local one 1-3
	 * endpoints) and thousands are kept: start with room for 2 */
	nc = *cap ? *cap * 2 : 2;
	p = realloc(*v, nc * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

int slb_bes_push(struct slb_bes *b, const struct slb_backend *be)
{
	void *v = b->v;
	int r = grow(&v, &b->cap, b->n, sizeof(*b->v));

	b->v = v;
	if (r < 0)
		return r;
	b->v[b->n++] = *be;
	return 0;
}

void slb_bes_done(struct slb_bes *b)
{
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Exact size: copies are what the CLB cache keeps. */
int slb_bes_copy(struct slb_bes *dst, const struct slb_bes *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src->n)
		return 0;
	dst->v = malloc(src->n * sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	return 0;
}

int slb_eps_push(struct slb_eps *e, const struct slb_ep *ep)
{
	void *v = e->v;
	int r = grow(&v, &e->cap, e->n, sizeof(*e->v));

	e->v = v;
	if (r < 0)
		return r;
	e->v[e->n++] = *ep;
	return 0;
}

void slb_eps_done(struct slb_eps *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

void slb_eps_trim(struct slb_eps *e)
{
	void *p;

	if (e->n == e->cap)
		return;
	if (!e->n) {
		slb_eps_done(e);
		return;
	}
	p = realloc(e->v, e->n * sizeof(*e->v));
	if (!p)
		return; /* keeps the larger block, still valid */
	e->v = p;
	e->cap = e->n;
}

int slb_backend_same(const struct slb_backend *a, const struct slb_backend *b)
{
	if (a->port != b->port || strcmp(a->server_id, b->server_id) != 0)
		return 0;
	if (a->type == SLB_BE_ENI || b->type == SLB_BE_ENI)
		return strcmp(a->server_ip, b->server_ip) == 0;
	return 1;
}
