/*
 * slb_eni - pod IP -> ENI id for ENI backends (backend-type eni and pods
 * on virtual-kubelet nodes), with one DescribeNetworkInterfaces query per
 * sync and address family (the client chunks it at 100 IPs per call).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_ecs.h"
#include "config/cfg.h"
#include "workers/service_lb/slb_ctl.h"

static int is_unresolved_eni(const struct slb_backend *b)
{
	return b->type == SLB_BE_ENI && !b->server_id[0];
}

static int collect(const struct slb_want *w, const char ***ips, size_t *n_out)
{
	size_t i, j, cap = 0, k = 0;

	*ips = NULL;
	*n_out = 0;
	for (i = 0; i < w->n_ports; i++)
		for (j = 0; j < w->ports[i].be.n; j++)
			cap += (size_t)is_unresolved_eni(&w->ports[i].be.v[j]);
	if (!cap)
		return 0;
	*ips = calloc(cap, sizeof(**ips));
	if (!*ips)
		return -ENOMEM;
	for (i = 0; i < w->n_ports; i++)
		for (j = 0; j < w->ports[i].be.n; j++)
			if (is_unresolved_eni(&w->ports[i].be.v[j]))
				(*ips)[k++] = w->ports[i].be.v[j].server_ip;
	*n_out = k;
	return 0;
}

/* Both address families: one DescribeNetworkInterfaces query each,
 * since PrivateIpAddress.N never matches an IPv6 address. */
struct eni_maps {
	struct ali_eni_list v4, v6;
};

/* IPv6 addresses compare by value: the API's text form is not promised
 * to be the one the endpoints carry. */
static int same_ip(int v6, const char *a, const char *b)
{
	struct in6_addr x, y;

	if (!v6 || inet_pton(AF_INET6, a, &x) != 1 ||
	    inet_pton(AF_INET6, b, &y) != 1)
		return strcmp(a, b) == 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static int in_list(const struct ali_eni_list *l, int v6, const char *ip,
		   char *eni_id, size_t n)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		size_t m = v6 ? l->v[i].n_ipv6s : l->v[i].n_ips;

		for (k = 0; k < m; k++)
			if (same_ip(v6, v6 ? l->v[i].ipv6s[k] : l->v[i].ips[k],
				    ip))
				return slb_strcpy(eni_id, n, l->v[i].id);
	}
	return -ENOENT;
}

static int lookup(void *ctx, const char *ip, char *eni_id, size_t n)
{
	const struct eni_maps *m = ctx;
	int v6 = strchr(ip, ':') != NULL;

	return in_list(v6 ? &m->v6 : &m->v4, v6, ip, eni_id, n);
}

/* Moves the IPv6 addresses to the end of ips; returns how many. */
static size_t split_v6(const char **ips, size_t n)
{
	size_t i, k = n;

	for (i = 0; i < k;) {
		if (strchr(ips[i], ':')) {
			const char *t = ips[--k];

			ips[k] = ips[i];
			ips[i] = t;
		} else {
			i++;
		}
	}
	return n - k;
}

static int query(struct slb_ctl *c, const char **ips, size_t n, int v6,
		 struct ali_eni_list *l, struct ali_error *err)
{
	struct ali_eni_filter f;

	if (!n)
		return 0;
	memset(&f, 0, sizeof(f));
	f.vpc_id = c->cfg->cloud.vpc_id[0] ? c->cfg->cloud.vpc_id : NULL;
	f.ips = ips;
	f.n_ips = n;
	f.ipv6 = v6;
	return ali_ecs_enis(c->ali, &f, l, err);
}

int slb_resolve_enis(struct slb_ctl *c, struct slb_want *w, char *skipped,
		     size_t n, struct ali_error *err)
{
	struct eni_maps m;
	const char **ips = NULL;
	size_t n_ips = 0, n6;
	int r = collect(w, &ips, &n_ips);

	if (n)
		skipped[0] = '\0';
	if (r < 0 || !n_ips)
		return r;
	memset(&m, 0, sizeof(m));
	n6 = split_v6(ips, n_ips);
	r = query(c, ips, n_ips - n6, 0, &m.v4, err);
	if (r == 0)
		r = query(c, ips + n_ips - n6, n6, 1, &m.v6, err);
	if (r == 0)
		r = slb_model_resolve_eni(w, lookup, &m, skipped, n);
	ali_eni_list_done(&m.v4);
	ali_eni_list_done(&m.v6);
	free(ips);
	return r;
}
