#include "workers/service_lb/slb_backends.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int labels_match(const struct wk_node *n, const struct slb_annot *a)
{
	size_t i;

	for (i = 0; i < a->n_backend_label; i++) {
		const char *v = wk_node_label(n, a->backend_label[i].key);

		if (!v || strcmp(v, a->backend_label[i].val) != 0)
			return 0;
	}
	return 1;
}

int slb_node_eligible(const struct wk_node *n, const struct slb_annot *a)
{
	if (!wk_node_is_ecs(n) || wk_node_is_virtual(n) ||
	    wk_node_excluded_from_lb(n) || wk_node_is_master(n))
		return 0;
	if (wk_node_has_taint(n, WK_TAINT_CA_DELETE) || !labels_match(n, a))
		return 0;
	if (a->remove_unscheduled && n->unschedulable)
		return 0;
	return n->ready != WK_COND_FALSE;
}

void slb_vg_port_str(const struct slb_annot *a, const struct slb_port *p,
		     char *out, size_t n)
{
	if (!a->eni)
		snprintf(out, n, "%d", p->node_port);
	else if (p->target_name[0])
		snprintf(out, n, "%s", p->target_name);
	else
		snprintf(out, n, "%d", p->target_port);
}

void slb_owner_desc(const struct slb_svc *s, const char *vg_port,
		    const char *cluster_id, char *out, size_t n)
{
	int w = snprintf(out, n, "k8s/%s/%s/%s/%s", vg_port, s->name, s->ns,
			 cluster_id);

	/* Names are bounded by Kubernetes; a cut description would match
	 * no backend, so make it empty rather than wrong. */
	if (w < 0 || (size_t)w >= n)
		out[0] = '\0';
}

/* Splits "k8s/a/b/c/d" into its four parts; 0 when it has that shape. */
static int split_desc(const char *d, char parts[4][SLB_NAME_LEN])
{
	const char *p;
	int i;

	if (!d || strncmp(d, "k8s/", 4) != 0)
		return -EINVAL;
	p = d + 4;
	for (i = 0; i < 4; i++) {
		const char *sl = strchr(p, '/');
		size_t l = sl ? (size_t)(sl - p) : strlen(p);

		if ((i < 3) != (sl != NULL) || l == 0 || l >= SLB_NAME_LEN)
			return -EINVAL;
		memcpy(parts[i], p, l);
		parts[i][l] = '\0';
		p = sl ? sl + 1 : p + l;
	}
	return 0;
}

int slb_desc_is_k8s(const char *desc)
{
	char parts[4][SLB_NAME_LEN];

	return split_desc(desc, parts) == 0;
}

int slb_desc_is_ours(const char *desc, const struct slb_svc *s,
		     const char *cluster_id)
{
	char parts[4][SLB_NAME_LEN];

	if (split_desc(desc, parts) < 0)
		return 0;
	return strcmp(parts[1], s->name) == 0 && strcmp(parts[2], s->ns) == 0 &&
	       strcmp(parts[3], cluster_id) == 0;
}

static const struct wk_node *find_node(const struct slb_be_in *in,
				       const char *name)
{
	size_t i;

	for (i = 0; name[0] && i < in->n_nodes; i++)
		if (strcmp(in->nodes[i]->name, name) == 0)
			return in->nodes[i];
	return NULL;
}

/* A dual-stack Service has an address of each family per pod; only the
 * family of backend-ip-version becomes a backend (IPv4 unless ipv6). */
static int ep_family_ok(const struct slb_annot *a, const char *ip)
{
	int v6 = strchr(ip, ':') != NULL;

	return v6 == (strcmp(a->backend_ip_version, "ipv6") == 0);
}

/* Ready endpoints of this Service port, one per IP. */
static int ep_matches(const struct slb_be_in *in, const struct slb_port *p,
		      size_t i)
{
	const struct slb_ep *e = &in->eps->v[i];
	size_t j;

	if (!e->ready || strcmp(e->port_name, p->name) != 0 ||
	    !ep_family_ok(in->annot, e->ip))
		return 0;
	for (j = 0; j < i; j++)
		if (in->eps->v[j].ready &&
		    strcmp(in->eps->v[j].port_name, p->name) == 0 &&
		    strcmp(in->eps->v[j].ip, e->ip) == 0)
			return 0;
	return 1;
}

static int push_eni(struct slb_bes *out, const struct slb_ep *e, int weight,
		    const char *desc)
{
	struct slb_backend b;

	memset(&b, 0, sizeof(b));
	b.type = SLB_BE_ENI;
	slb_strcpy(b.server_ip, sizeof(b.server_ip), e->ip);
	b.port = e->port;
	b.weight = weight;
	slb_strcpy(b.desc, sizeof(b.desc), desc);
	return slb_bes_push(out, &b);
}

/* Adds weight w to the ECS backend of instance id, creating it. */
static int add_ecs(struct slb_bes *out, const char *id, int port, int w,
		   const char *desc)
{
	struct slb_backend b;
	size_t i;

	for (i = 0; i < out->n; i++)
		if (out->v[i].type == SLB_BE_ECS &&
		    strcmp(out->v[i].server_id, id) == 0) {
			out->v[i].weight += w;
			return 0;
		}
	memset(&b, 0, sizeof(b));
	slb_strcpy(b.server_id, sizeof(b.server_id), id);
	b.port = port;
	b.weight = w;
	slb_strcpy(b.desc, sizeof(b.desc), desc);
	return slb_bes_push(out, &b);
}

static int eps_on_virtual(const struct slb_be_in *in, const struct slb_port *p,
			  int w, const char *desc, struct slb_bes *out)
{
	size_t i;
	int r;

	for (i = 0; i < in->eps->n; i++) {
		const struct wk_node *n;

		if (!ep_matches(in, p, i))
			continue;
		n = find_node(in, in->eps->v[i].node);
		if (!n || !wk_node_is_virtual(n))
			continue;
		r = push_eni(out, &in->eps->v[i], w, desc);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_cluster(const struct slb_be_in *in, const struct slb_port *p,
			 const char *desc, struct slb_bes *out)
{
	int w = in->annot->default_weight;
	size_t i;
	int r;

	for (i = 0; i < in->n_nodes; i++) {
		if (!slb_node_eligible(in->nodes[i], in->annot))
			continue;
		r = add_ecs(out, in->nodes[i]->instance_id, p->node_port, w,
			    desc);
		if (r < 0)
			return r;
	}
	return eps_on_virtual(in, p, w, desc, out);
}

static int build_local(const struct slb_be_in *in, const struct slb_port *p,
		       const char *desc, struct slb_bes *out)
{
	size_t i;
	int r;

	r = eps_on_virtual(in, p, 1, desc, out);
	for (i = 0; r == 0 && i < in->eps->n; i++) {
		const struct wk_node *n;

		if (!ep_matches(in, p, i))
			continue;
		n = find_node(in, in->eps->v[i].node);
		if (!n || !slb_node_eligible(n, in->annot))
			continue;
		r = add_ecs(out, n->instance_id, p->node_port, 1, desc);
	}
	return r;
}

static int build_eni(const struct slb_be_in *in, const struct slb_port *p,
		     const char *desc, struct slb_bes *out)
{
	size_t i;
	int r;

	for (i = 0; i < in->eps->n; i++) {
		if (!ep_matches(in, p, i))
			continue;
		r = push_eni(out, &in->eps->v[i], in->annot->default_weight,
			     desc);
		if (r < 0)
			return r;
	}
	return 0;
}

/* loadbalancer-weight W spread over this Service's backends. Local:
 * ECS weights hold pod counts here. */
static void apply_total_weight(struct slb_bes *b, int local, int w)
{
	int total = 0;
	size_t i;

	for (i = 0; i < b->n; i++)
		total += local ? b->v[i].weight : 1;
	for (i = 0; i < b->n && total; i++) {
		int x;

		/* Local: ECS weights are pod counts, ENI pods count 1 */
		x = local ? w * b->v[i].weight / total : w / total;
		if (w > 0 && x < 1 && (!local || b->v[i].type == SLB_BE_ECS))
			x = 1;
		b->v[i].weight = w == 0 ? 0 : x;
	}
}

static int be_cmp(const void *x, const void *y)
{
	const struct slb_backend *a = x, *b = y;
	int c = strcmp(a->server_id, b->server_id);

	if (!c)
		c = strcmp(a->server_ip, b->server_ip);
	if (!c)
		c = a->port - b->port;
	return c;
}

int slb_backends_for_port(const struct slb_be_in *in, const struct slb_port *p,
			  struct slb_bes *out, char *err, size_t errlen)
{
	const struct slb_annot *a = in->annot;
	char vgp[64], desc[SLB_DESC_LEN];
	int r;

	memset(out, 0, sizeof(*out));
	if (!a->eni && p->node_port == 0) {
		snprintf(err, errlen,
			 "spec.ports[port=%d].nodePort is 0 "
			 "(allocateLoadBalancerNodePorts: false): node "
			 "backends need a node port; use backend-type eni",
			 p->port);
		return -EINVAL;
	}
	slb_vg_port_str(a, p, vgp, sizeof(vgp));
	slb_owner_desc(in->svc, vgp, in->cluster_id, desc, sizeof(desc));
	if (a->eni)
		r = build_eni(in, p, desc, out);
	else if (in->svc->local)
		r = build_local(in, p, desc, out);
	else
		r = build_cluster(in, p, desc, out);
	if (r == 0 && a->weight >= 0 && a->lb_id[0] &&
	    slb_annot_vg_for(a, p->port))
		apply_total_weight(out, in->svc->local && !a->eni, a->weight);
	if (r < 0)
		slb_bes_done(out);
	else if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), be_cmp);
	return r;
}
