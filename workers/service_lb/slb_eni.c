/*
 * slb_eni - pod IP -> ENI id for ENI backends (backend-type eni and pods
 * on virtual-kubelet nodes), with one DescribeNetworkInterfaces query per
 * sync (the client chunks it at 100 IPs per call).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_ecs.h"
#include "config/cfg.h"
#include "workers/service_lb/slb_ctl.h"

static int collect(const struct slb_want *w, const char ***ips, size_t *n)
{
	size_t i, j, cap = 0;

	*ips = NULL;
	*n = 0;
	for (i = 0; i < w->n_ports; i++)
		for (j = 0; j < w->ports[i].be.n; j++)
			if (w->ports[i].be.v[j].type == SLB_BE_ENI &&
			    !w->ports[i].be.v[j].server_id[0])
				cap++;
	if (!cap)
		return 0;
	*ips = calloc(cap, sizeof(**ips));
	if (!*ips)
		return -ENOMEM;
	for (i = 0; i < w->n_ports; i++)
		for (j = 0; j < w->ports[i].be.n; j++)
			if (w->ports[i].be.v[j].type == SLB_BE_ENI &&
			    !w->ports[i].be.v[j].server_id[0])
				(*ips)[(*n)++] = w->ports[i].be.v[j].server_ip;
	return 0;
}

static int lookup(void *ctx, const char *ip, char *eni_id, size_t n)
{
	const struct ali_eni_list *l = ctx;
	size_t i, k;

	for (i = 0; i < l->n; i++)
		for (k = 0; k < l->v[i].n_ips; k++)
			if (!strcmp(l->v[i].ips[k], ip))
				return slb_strcpy(eni_id, n, l->v[i].id);
	return -ENOENT;
}

int slb_resolve_enis(struct slb_ctl *c, struct slb_want *w, char *skipped,
		     size_t n, struct ali_error *err)
{
	struct ali_eni_filter f;
	struct ali_eni_list l = {0};
	const char **ips = NULL;
	size_t n_ips = 0;
	int r = collect(w, &ips, &n_ips);

	if (n)
		skipped[0] = '\0';
	if (r < 0 || !n_ips)
		return r;
	memset(&f, 0, sizeof(f));
	f.vpc_id = c->cfg->cloud.vpc_id[0] ? c->cfg->cloud.vpc_id : NULL;
	f.ips = ips;
	f.n_ips = n_ips;
	r = ali_ecs_enis(c->ali, &f, &l, err);
	if (r == 0)
		r = slb_model_resolve_eni(w, lookup, &l, skipped, n);
	ali_eni_list_done(&l);
	free(ips);
	return r;
}
