#include "workers/service_lb/slb_model.h"
#include "workers/service_lb/slb_svc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void slb_model_free(struct slb_want *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->n_ports; i++)
		slb_bes_done(&w->ports[i].be);
	free(w);
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void slb_model_lparams_sig(const struct slb_annot *a, enum slb_proto p,
			   char out[20])
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < a->n_lparams; i++) {
		if (!(a->lparams[i].protos & (1u << p)))
			continue;
		h = fnv(h, a->lparams[i].key);
		h = fnv(h, "=");
		h = fnv(h, a->lparams[i].val);
		h = fnv(h, ";");
	}
	if (p == SLB_HTTPS)
		h = fnv(h, a->cert_id);
	snprintf(out, 20, "%016llx", (unsigned long long)h);
}

int slb_model_servers(const struct slb_want *w)
{
	size_t i, j, k, l, n = 0;

	for (i = 0; i < w->n_ports; i++)
		for (j = 0; j < w->ports[i].be.n; j++) {
			const struct slb_backend *b = &w->ports[i].be.v[j];
			int seen = 0;

			for (k = 0; k <= i && !seen; k++)
				for (l = 0; l < (k == i ? j : w->ports[k].be.n);
				     l++) {
					const struct slb_backend *o =
						&w->ports[k].be.v[l];

					if (!strcmp(o->server_id,
						    b->server_id) &&
					    !strcmp(o->server_ip, b->server_ip))
						seen = 1;
				}
			n += !seen;
		}
	return (int)n;
}

static int build_port(const struct slb_be_in *in, struct slb_want *w,
		      const struct slb_port *p, char *err, size_t errlen)
{
	struct slb_want_port *wp = &w->ports[w->n_ports];
	const char *reuse = slb_annot_vg_for(&w->annot, p->port);
	char num[64];
	int r;

	wp->port = p->port;
	wp->proto = slb_annot_port_proto(&w->annot, p);
	if (wp->proto == SLB_PROTO_BAD) {
		snprintf(err, errlen,
			 "spec.ports[port=%d].protocol is not TCP or UDP",
			 p->port);
		return -EINVAL;
	}
	/* group and listener are named by the Service port (the issue's
	 * k8s/<port>/...): a new nodePort re-points backends, not groups */
	snprintf(num, sizeof(num), "%d", p->port);
	slb_owner_desc(w->svc, num, w->cluster_id, wp->vg_name,
		       sizeof(wp->vg_name));
	slb_owner_desc(w->svc, num, w->cluster_id, wp->ldesc,
		       sizeof(wp->ldesc));
	slb_strcpy(wp->reuse_vg_id, sizeof(wp->reuse_vg_id), reuse);
	slb_model_lparams_sig(&w->annot, wp->proto, wp->lp_sig);
	if (wp->proto == SLB_HTTP)
		wp->fwd_port = slb_annot_fwd_for(&w->annot, p->port);
	r = slb_backends_for_port(in, p, &wp->be, err, errlen);
	if (r == 0)
		w->n_ports++;
	return r;
}

int slb_model_build(const struct slb_be_in *in, struct slb_want **ret,
		    char *err, size_t errlen)
{
	const struct cfg_quotas *q = in->quotas;
	struct slb_want *w;
	size_t i;
	int r = 0, n;

	if (in->svc->too_many_ports ||
	    (q && in->svc->n_ports > (size_t)q->listeners_per_lb)) {
		snprintf(err, errlen,
			 "spec.ports: %s%zu ports exceed the CLB quota of "
			 "listeners per instance (%d, cloud-config "
			 "maxListenersPerLoadBalancer; at most %d here)",
			 in->svc->too_many_ports ? "more than " : "",
			 in->svc->n_ports,
			 q ? q->listeners_per_lb : SLB_MAX_PORTS,
			 SLB_MAX_PORTS);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->svc = in->svc;
	w->annot = *in->annot;
	slb_strcpy(w->cluster_id, sizeof(w->cluster_id), in->cluster_id);
	slb_svc_default_name(in->svc, w->default_name);
	w->reused = w->annot.lb_id[0] != '\0';
	w->manage_listeners = !w->reused || w->annot.force_override;
	w->max_backends = q ? q->backends_per_lb : 0;
	for (i = 0; r == 0 && i < in->svc->n_ports; i++)
		r = build_port(in, w, &in->svc->ports[i], err, errlen);
	if (r == 0 && q && (n = slb_model_servers(w)) > q->backends_per_lb) {
		snprintf(err, errlen,
			 "%d backend servers exceed the CLB quota of backend "
			 "servers per instance (%d, cloud-config "
			 "maxBackendServersPerLoadBalancer)%s",
			 n, q->backends_per_lb,
			 in->svc->local || in->annot->eni
				 ? "; Local policy and ENI backends are never "
				   "subset"
				 : "");
		r = -EINVAL;
	}
	if (r < 0) {
		slb_model_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

static void note_skip(char *skipped, size_t n, const char *ip)
{
	size_t l = strlen(skipped);

	if (l + strlen(ip) + 2 < n)
		snprintf(skipped + l, n - l, "%s%s", l ? "," : "", ip);
}

int slb_model_resolve_eni(struct slb_want *w, slb_eni_lookup fn, void *ctx,
			  char *skipped, size_t n)
{
	size_t i, j, k;
	int dropped = 0;

	if (n)
		skipped[0] = '\0';
	for (i = 0; i < w->n_ports; i++) {
		struct slb_bes *b = &w->ports[i].be;

		for (j = 0, k = 0; j < b->n; j++) {
			if (b->v[j].type == SLB_BE_ENI &&
			    !b->v[j].server_id[0] &&
			    fn(ctx, b->v[j].server_ip, b->v[j].server_id,
			       sizeof(b->v[j].server_id)) < 0) {
				note_skip(skipped, n, b->v[j].server_ip);
				dropped++;
				continue;
			}
			b->v[k++] = b->v[j];
		}
		b->n = k;
	}
	return dropped;
}
