#include "workers/service_lb/slb_diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "workers/service_lb/slb_attrs.h"

static const char *const op_names[] = {
	"CreateLoadBalancer",
	"SetLoadBalancerDeleteProtection",
	"SetLoadBalancerName",
	"ModifyLoadBalancerInstanceSpec",
	"RemoveTags",
	"CreateVServerGroup",
	"AddVServerGroupBackendServers",
	"SetVServerGroupAttribute",
	"DeleteLoadBalancerListener",
	"CreateLoadBalancerListener",
	"SetLoadBalancerListenerAttribute",
	"StartLoadBalancerListener",
	"RemoveVServerGroupBackendServers",
	"DeleteVServerGroup",
	"DeleteLoadBalancer",
	"SetLoadBalancerModificationProtection",
	"CreateDomainExtension",
	"SetDomainExtensionAttribute",
	"DeleteDomainExtension",
	"ModifyLoadBalancerInstanceChargeType",
	"ModifyLoadBalancerInternetSpec",
	"AddTags",
	"RemoveTags",
};

const char *slb_op_name(enum slb_op op)
{
	return (size_t)op < sizeof(op_names) / sizeof(op_names[0])
		       ? op_names[op]
		       : "?";
}

void slb_plan_done(struct slb_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		slb_bes_done(&p->v[i].be);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static struct slb_call *push(struct slb_plan *p, enum slb_op op, int wport)
{
	struct slb_call *c;

	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		void *v = realloc(p->v, nc * sizeof(*p->v));

		if (!v)
			return NULL;
		p->v = v;
		p->cap = nc;
	}
	c = &p->v[p->n++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->wport = wport;
	return c;
}

struct slb_call *slb_plan_push(struct slb_plan *p, enum slb_op op, int wport)
{
	return push(p, op, wport);
}

/* Pushes op once per batch of src[from..] (at least one call). */
static int push_batches(struct slb_plan *p, enum slb_op op, int wport,
			const char *vg_id, const struct slb_bes *src,
			size_t from, int batch)
{
	size_t i = from;

	do {
		struct slb_call *c = push(p, op, wport);
		size_t end = i + (size_t)batch;

		if (!c)
			return -ENOMEM;
		slb_strcpy(c->vg_id, sizeof(c->vg_id), vg_id);
		for (; i < src->n && i < end; i++)
			if (slb_bes_push(&c->be, &src->v[i]) < 0)
				return -ENOMEM;
	} while (i < src->n);
	return 0;
}

static int in_list(const struct slb_bes *l, const struct slb_backend *b)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (slb_backend_same(&l->v[i], b))
			return 1;
	return 0;
}

static int is_ours_be(const struct slb_want *w, const struct slb_backend *b)
{
	return slb_desc_is_ours(b->desc, w->svc, w->cluster_id);
}

/* add/set/remove lists for one desired port against group g. */
struct be_delta {
	struct slb_bes add, set, rm;
};

static void delta_done(struct be_delta *d)
{
	slb_bes_done(&d->add);
	slb_bes_done(&d->set);
	slb_bes_done(&d->rm);
}

static int delta(const struct slb_want *w, const struct slb_bes *want,
		 const struct slb_cl_group *g, struct be_delta *d)
{
	size_t i, j;
	int r = 0;

	for (i = 0; r == 0 && i < want->n; i++) {
		const struct slb_backend *b = &want->v[i];

		for (j = 0; j < g->be.n; j++)
			if (slb_backend_same(&g->be.v[j], b))
				break;
		if (j == g->be.n)
			r = slb_bes_push(&d->add, b);
		else if (is_ours_be(w, &g->be.v[j]) &&
			 ((!w->annot.ignore_weight_update &&
			   g->be.v[j].weight != b->weight) ||
			  strcmp(g->be.v[j].desc, b->desc) != 0))
			r = slb_bes_push(&d->set, b);
	}
	for (j = 0; r == 0 && j < g->be.n; j++)
		if (is_ours_be(w, &g->be.v[j]) && !in_list(want, &g->be.v[j]))
			r = slb_bes_push(&d->rm, &g->be.v[j]);
	return r;
}

static int has_ours(const struct slb_want *w, const struct slb_cl_group *g)
{
	size_t i;

	for (i = 0; i < g->be.n; i++)
		if (is_ours_be(w, &g->be.v[i]))
			return 1;
	return 0;
}

static int has_foreign(const struct slb_want *w, const struct slb_cl_group *g)
{
	size_t i;

	for (i = 0; i < g->be.n; i++)
		if (!is_ours_be(w, &g->be.v[i]))
			return 1;
	return 0;
}

/* Which existing group serves desired port i: the reused one, else our
 * group of that name (the one the listener uses when there are two). */
static const struct slb_cl_group *
pick_group(const struct slb_want *w, const struct slb_cloud *c, size_t i)
{
	const struct slb_want_port *wp = &w->ports[i];
	const struct slb_cl_group *found = NULL;
	size_t j, k;

	if (wp->reuse_vg_id[0])
		return slb_cloud_group((struct slb_cloud *)c, wp->reuse_vg_id);
	for (j = 0; j < c->n_gs; j++) {
		if (strcmp(c->gs[j].name, wp->vg_name) != 0)
			continue;
		for (k = 0; k < c->n_ls; k++)
			if (c->ls[k].port == wp->port &&
			    strcmp(c->ls[k].vg_id, c->gs[j].id) == 0)
				return &c->gs[j];
		if (!found)
			found = &c->gs[j];
	}
	return found;
}

static int plan_port_backends(const struct slb_want *w,
			      const struct slb_cl_group *g, size_t i, int batch,
			      struct slb_plan *p, struct slb_plan *late)
{
	const struct slb_bes *want = &w->ports[i].be;
	struct be_delta d;
	int r;

	memset(&d, 0, sizeof(d));
	p->no_backends[i] = want->n == 0;
	if (!g) {
		struct slb_bes first = *want;

		/* the first batch rides on the create */
		if (first.n > (size_t)batch)
			first.n = (size_t)batch;
		r = push_batches(p, SLB_OP_CREATE_VG, (int)i, "", &first, 0,
				 batch);
		if (r == 0 && want->n > first.n)
			r = push_batches(p, SLB_OP_ADD_BE, (int)i, "", want,
					 first.n, batch);
		return r;
	}
	r = delta(w, want, g, &d);
	if (r == 0 && want->n == 0 && d.rm.n) {
		p->keep_empty[i] = 1;
		d.rm.n = 0;
	}
	/* A full group cannot take the newcomers before the leavers go (the
	 * cloud refuses the add): only then do removals come first. */
	if (r == 0 && d.rm.n && w->max_backends &&
	    g->be.n + d.add.n > (size_t)w->max_backends) {
		r = push_batches(p, SLB_OP_REMOVE_BE, (int)i, g->id, &d.rm, 0,
				 batch);
		d.rm.n = 0;
	}
	if (r == 0 && d.add.n)
		r = push_batches(p, SLB_OP_ADD_BE, (int)i, g->id, &d.add, 0,
				 batch);
	if (r == 0 && d.set.n)
		r = push_batches(p, SLB_OP_SET_BE, (int)i, g->id, &d.set, 0,
				 batch);
	if (r == 0 && d.rm.n)
		r = push_batches(late, SLB_OP_REMOVE_BE, (int)i, g->id, &d.rm,
				 0, batch);
	delta_done(&d);
	return r;
}

static int listener_ours(const struct slb_want *w,
			 const struct slb_cl_listener *l)
{
	return slb_desc_is_ours(l->desc, w->svc, w->cluster_id);
}

static int push_listener(struct slb_plan *p, enum slb_op op, int wport,
			 int port, enum slb_proto proto)
{
	struct slb_call *c = push(p, op, wport);

	if (!c)
		return -ENOMEM;
	c->port = port;
	c->proto = proto;
	return 0;
}

static const struct slb_want_port *want_of(const struct slb_want *w, int port)
{
	size_t i;

	for (i = 0; i < w->n_ports; i++)
		if (w->ports[i].port == port)
			return &w->ports[i];
	return NULL;
}

/* A listener that forwards, or should, and must be re-created: the API
 * cannot turn forwarding on or off in place, and an HTTPS listener cannot
 * go while an HTTP one forwards to it, so these go first of all. */
static int fwd_recreate(const struct slb_want *w,
			const struct slb_cl_listener *l)
{
	const struct slb_want_port *wp = want_of(w, l->port);

	if (!w->manage_listeners)
		return 0;
	if (!wp)
		return l->fwd_port && listener_ours(w, l);
	if (!l->fwd_port && !wp->fwd_port)
		return 0;
	return wp->proto != l->proto || wp->fwd_port != l->fwd_port;
}

static int fwd_deletes(const struct slb_want *w, const struct slb_cloud *c,
		       struct slb_plan *p)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < c->n_ls; i++)
		if (fwd_recreate(w, &c->ls[i]))
			r = push_listener(p, SLB_OP_DELETE_LISTENER, -1,
					  c->ls[i].port, c->ls[i].proto);
	return r;
}

static int plan_listener(const struct slb_want *w, const struct slb_cloud *c,
			 size_t i, struct slb_plan *p)
{
	const struct slb_want_port *wp = &w->ports[i];
	const struct slb_cl_listener *l =
		slb_cloud_listener((struct slb_cloud *)c, wp->port);
	int r = 0, create;

	if (l && fwd_recreate(w, l))
		l = NULL; /* deleted by fwd_deletes */
	create = !l;

	if (l && l->proto != wp->proto) {
		r = push_listener(p, SLB_OP_DELETE_LISTENER, -1, l->port,
				  l->proto);
		create = 1;
	}
	if (create) {
		if (r == 0)
			r = push_listener(p, SLB_OP_CREATE_LISTENER, (int)i,
					  wp->port, wp->proto);
		if (r == 0)
			r = push_listener(p, SLB_OP_START_LISTENER, (int)i,
					  wp->port, wp->proto);
		return r;
	}
	/* a forwarding listener has nothing of ours to update */
	if (!wp->fwd_port && (strcmp(l->vg_id, p->vg[i]) != 0 ||
			      strcmp(l->desc, wp->ldesc) != 0 ||
			      strcmp(l->lp_sig, wp->lp_sig) != 0))
		r = push_listener(p, SLB_OP_SET_LISTENER, (int)i, wp->port,
				  wp->proto);
	if (r == 0 && !l->running)
		r = push_listener(p, SLB_OP_START_LISTENER, (int)i, wp->port,
				  wp->proto);
	return r;
}

static int wanted_port(const struct slb_want *w, int port)
{
	size_t i;

	for (i = 0; i < w->n_ports; i++)
		if (w->ports[i].port == port)
			return 1;
	return 0;
}

/* Forwarding listeners go before the HTTPS ones they point at (pass 0);
 * after fwd_deletes (done_fwd) they are gone already. */
static int stale_listeners(const struct slb_want *w, const struct slb_cloud *c,
			   struct slb_plan *p, int done_fwd)
{
	size_t i;
	int r = 0, pass;

	if (!w->manage_listeners)
		return 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; r == 0 && i < c->n_ls; i++)
			if (!wanted_port(w, c->ls[i].port) &&
			    listener_ours(w, &c->ls[i]) &&
			    (c->ls[i].fwd_port != 0) == (pass == 0) &&
			    !(done_fwd && fwd_recreate(w, &c->ls[i])))
				r = push_listener(p, SLB_OP_DELETE_LISTENER, -1,
						  c->ls[i].port,
						  c->ls[i].proto);
	return r;
}

static int group_used(const struct slb_plan *p, const char *id)
{
	size_t i;

	for (i = 0; i < SLB_MAX_PORTS; i++)
		if (strcmp(p->vg[i], id) == 0)
			return 1;
	return 0;
}

/* Is a listener left pointing at group id after the plan runs? */
static int listener_keeps(const struct slb_want *w, const struct slb_cloud *c,
			  const char *id)
{
	size_t i;

	for (i = 0; i < c->n_ls; i++) {
		int goes =
			w->manage_listeners && (wanted_port(w, c->ls[i].port) ||
						listener_ours(w, &c->ls[i]));

		if (!goes && strcmp(c->ls[i].vg_id, id) == 0)
			return 1;
	}
	return 0;
}

static int stale_groups(const struct slb_want *w, const struct slb_cloud *c,
			int batch, struct slb_plan *p)
{
	struct slb_bes mine;
	size_t i, j;
	int r = 0;

	for (i = 0; r == 0 && i < c->n_gs; i++) {
		const struct slb_cl_group *g = &c->gs[i];

		if (group_used(p, g->id))
			continue;
		if (slb_desc_is_ours(g->name, w->svc, w->cluster_id) &&
		    !has_foreign(w, g) && !listener_keeps(w, c, g->id)) {
			struct slb_call *call = push(p, SLB_OP_DELETE_VG, -1);

			if (!call)
				return -ENOMEM;
			slb_strcpy(call->vg_id, sizeof(call->vg_id), g->id);
			continue;
		}
		if (!has_ours(w, g))
			continue;
		memset(&mine, 0, sizeof(mine));
		for (j = 0; r == 0 && j < g->be.n; j++)
			if (is_ours_be(w, &g->be.v[j]))
				r = slb_bes_push(&mine, &g->be.v[j]);
		if (r == 0)
			r = push_batches(p, SLB_OP_REMOVE_BE, -1, g->id, &mine,
					 0, batch);
		slb_bes_done(&mine);
	}
	return r;
}

static int append(struct slb_plan *p, struct slb_plan *late)
{
	size_t i;

	for (i = 0; i < late->n; i++) {
		struct slb_call *c = push(p, late->v[i].op, late->v[i].wport);

		if (!c)
			return -ENOMEM;
		*c = late->v[i];
		memset(&late->v[i].be, 0, sizeof(late->v[i].be));
	}
	return 0;
}

static int plan_attrs(const struct slb_want *w, const struct slb_cloud *c,
		      struct slb_plan *p)
{
	const struct slb_annot *a = &w->annot;
	struct slb_call *call;

	if (a->delete_protection_set &&
	    a->delete_protection != c->delete_protection) {
		call = push(p, SLB_OP_SET_DELETE_PROTECTION, -1);
		if (!call)
			return -ENOMEM;
		call->flag = a->delete_protection;
	}
	if (a->name[0] && strcmp(a->name, c->name) != 0) {
		call = push(p, SLB_OP_SET_NAME, -1);
		if (!call)
			return -ENOMEM;
		slb_strcpy(call->str, sizeof(call->str), a->name);
	}
	slb_attrs_plan_immutable(w, c, p);
	return 0;
}

static int push_domext(struct slb_plan *p, enum slb_op op, int port,
		       const char *id, const char *domain, const char *cert)
{
	struct slb_call *call = push(p, op, -1);

	if (!call)
		return -ENOMEM;
	call->port = port;
	call->proto = SLB_HTTPS;
	slb_strcpy(call->vg_id, sizeof(call->vg_id), id);
	slb_strcpy(call->str, sizeof(call->str), domain);
	slb_strcpy(call->cert, sizeof(call->cert), cert);
	return 0;
}

static const struct slb_domext *want_domext(const struct slb_annot *a,
					    const char *domain)
{
	size_t i;

	for (i = 0; i < a->n_domext; i++)
		if (strcasecmp(a->domext[i].domain, domain) == 0)
			return &a->domext[i];
	return NULL;
}

static const struct slb_cl_domext *have_domext(const struct slb_cloud *c,
					       int port, const char *domain)
{
	size_t i;

	for (i = 0; i < c->n_dx; i++)
		if (c->dx[i].port == port &&
		    strcasecmp(c->dx[i].domain, domain) == 0)
			return &c->dx[i];
	return NULL;
}

/* One HTTPS listener's SNI certificates: stale ones go, changed ones get
 * the new certificate in place, missing ones are added. A listener this
 * plan (re)creates has none yet. */
static int plan_port_domexts(const struct slb_want *w,
			     const struct slb_cloud *c, int port, int fresh,
			     struct slb_plan *p)
{
	const struct slb_annot *a = &w->annot;
	const struct slb_cl_domext *have;
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && !fresh && i < c->n_dx; i++)
		if (c->dx[i].port == port && !want_domext(a, c->dx[i].domain))
			r = push_domext(p, SLB_OP_DELETE_DOMEXT, port,
					c->dx[i].id, c->dx[i].domain, "");
	for (i = 0; r == 0 && i < a->n_domext; i++) {
		have = fresh ? NULL : have_domext(c, port, a->domext[i].domain);
		if (!have)
			r = push_domext(p, SLB_OP_CREATE_DOMEXT, port, "",
					a->domext[i].domain, a->domext[i].cert);
		else if (strcmp(have->cert, a->domext[i].cert) != 0)
			r = push_domext(p, SLB_OP_SET_DOMEXT, port, have->id,
					have->domain, a->domext[i].cert);
	}
	return r;
}

/* Only with the annotation (as the Go CCM): without it, extensions made
 * by hand are left alone. */
static int plan_domexts(const struct slb_want *w, const struct slb_cloud *c,
			struct slb_plan *p)
{
	size_t i;
	int r = 0;

	if (!w->manage_listeners || !w->annot.domext_set)
		return 0;
	for (i = 0; r == 0 && i < w->n_ports; i++) {
		const struct slb_cl_listener *l;

		if (w->ports[i].proto != SLB_HTTPS)
			continue;
		l = slb_cloud_listener((struct slb_cloud *)c, w->ports[i].port);
		r = plan_port_domexts(w, c, w->ports[i].port,
				      !l || l->proto != SLB_HTTPS, p);
	}
	return r;
}

static int push_mod_protection(struct slb_plan *p, const char *status)
{
	struct slb_call *call = push(p, SLB_OP_SET_MOD_PROTECTION, -1);

	if (!call)
		return -ENOMEM;
	slb_strcpy(call->str, sizeof(call->str), status);
	return 0;
}

/* Modification protection follows the annotation when it is set (the
 * default is applied on create only). */
static int plan_protection(const struct slb_want *w, const struct slb_cloud *c,
			   struct slb_plan *p)
{
	const struct slb_annot *a = &w->annot;

	if (!a->modification_protection[0] || !c->mod_protection[0] ||
	    strcmp(a->modification_protection, c->mod_protection) == 0)
		return 0;
	return push_mod_protection(p, a->modification_protection);
}

/* A preserved CLB goes back to its owner without the console lock we
 * put on it. */
static int plan_release_protection(const struct slb_cloud *c,
				   struct slb_plan *p)
{
	if (strcmp(c->mod_protection, "ConsoleProtection") != 0)
		return 0;
	return push_mod_protection(p, "NonProtection");
}

static int check_reuse(const struct slb_want *w, const struct slb_cloud *c,
		       char *err, size_t errlen)
{
	size_t i;

	if (!w->reused)
		return 0;
	if (!c->exists) {
		snprintf(err, errlen, "CLB %s (loadbalancer-id) not found",
			 w->annot.lb_id);
		return -EINVAL;
	}
	if (c->ccm_tagged) {
		snprintf(err, errlen,
			 "CLB %s carries kubernetes.do.not.delete or "
			 "ack.aliyun.com tags: it was created by a cloud "
			 "controller manager and cannot be reused",
			 w->annot.lb_id);
		return -EPERM;
	}
	for (i = 0; i < w->n_ports; i++)
		if (w->ports[i].reuse_vg_id[0] &&
		    !slb_cloud_group((struct slb_cloud *)c,
				     w->ports[i].reuse_vg_id)) {
			snprintf(err, errlen,
				 "vServer group %s (loadbalancer-vgroup-port) "
				 "not found on CLB %s",
				 w->ports[i].reuse_vg_id, w->annot.lb_id);
			return -EINVAL;
		}
	return 0;
}

static int plan_groups(const struct slb_want *w, const struct slb_cloud *c,
		       int batch, struct slb_plan *p, struct slb_plan *late)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < w->n_ports; i++) {
		const struct slb_cl_group *g = pick_group(w, c, i);

		if (g)
			slb_strcpy(p->vg[i], SLB_ID_LEN, g->id);
		r = plan_port_backends(w, g, i, batch, p, late);
	}
	return r;
}

int slb_diff(const struct slb_want *w, const struct slb_cloud *c, int batch,
	     struct slb_plan *p, char *err, size_t errlen)
{
	struct slb_plan late;
	size_t i;
	int r;

	memset(p, 0, sizeof(*p));
	memset(&late, 0, sizeof(late));
	if (batch < 1)
		batch = 1;
	r = check_reuse(w, c, err, errlen);
	if (r < 0)
		return r;
	if (!c->exists)
		r = push(p, SLB_OP_CREATE_LB, -1) ? 0 : -ENOMEM;
	else
		r = plan_attrs(w, c, p);
	if (r == 0 && c->exists)
		r = plan_protection(w, c, p);
	if (r == 0)
		r = plan_groups(w, c, batch, p, &late);
	if (r == 0)
		r = fwd_deletes(w, c, p);
	/* HTTPS targets before the HTTP listeners forwarding to them */
	for (i = 0; r == 0 && w->manage_listeners && i < w->n_ports; i++)
		if (!w->ports[i].fwd_port)
			r = plan_listener(w, c, i, p);
	for (i = 0; r == 0 && w->manage_listeners && i < w->n_ports; i++)
		if (w->ports[i].fwd_port)
			r = plan_listener(w, c, i, p);
	if (r == 0)
		r = plan_domexts(w, c, p);
	if (r == 0)
		r = append(p, &late);
	if (r == 0)
		r = stale_listeners(w, c, p, 1);
	if (r == 0)
		r = stale_groups(w, c, batch, p);
	/* spec, billing and tags last: a refusal keeps the backends moving */
	if (r == 0)
		r = slb_attrs_plan(w, c, p);
	slb_plan_done(&late);
	if (r < 0) {
		snprintf(err, errlen, "out of memory planning changes");
		slb_plan_done(p);
	}
	return r;
}

int slb_cloud_owned(const struct slb_want *w, const struct slb_cloud *c)
{
	return c->exists && w->default_name[0] &&
	       strcmp(c->tag_owner, w->default_name) == 0 &&
	       strcmp(c->tag_cluster, w->cluster_id) == 0;
}

/* Our CLB goes whole (protection off first). A kept one - reused, or
 * preserve-lb-on-delete - loses only our listeners, backends and groups,
 * and a preserved one then our ownership tags, last, so a failure half
 * way still finds it by tag on the retry. A CLB that matched only by its
 * default name is left entirely alone. */
static int cleanup(const struct slb_want *w, const struct slb_cloud *c,
		   int batch, struct slb_plan *p)
{
	struct slb_call *call;
	int r;

	if (!w->reused && !slb_cloud_owned(w, c)) {
		snprintf(p->warn, sizeof(p->warn),
			 "CLB %s matches this Service only by its name: its "
			 "tags do not carry kubernetes.do.not.delete=%s and "
			 "ack.aliyun.com=%s, so it is left in place; delete "
			 "it by hand if nothing uses it",
			 c->lb_id, w->default_name, w->cluster_id);
		return 0;
	}
	if (!w->reused && !w->annot.preserve) {
		if (c->delete_protection) {
			call = push(p, SLB_OP_SET_DELETE_PROTECTION, -1);
			if (!call)
				return -ENOMEM;
			call->flag = 0;
		}
		return push(p, SLB_OP_DELETE_LB, -1) ? 0 : -ENOMEM;
	}
	r = stale_listeners(w, c, p, 0);
	if (r == 0)
		r = stale_groups(w, c, batch < 1 ? 1 : batch, p);
	if (r == 0 && !w->reused)
		r = plan_release_protection(c, p);
	if (r == 0 && !w->reused && slb_cloud_owned(w, c) &&
	    !push(p, SLB_OP_UNTAG, -1))
		r = -ENOMEM;
	if (r < 0)
		slb_plan_done(p);
	return r;
}

int slb_diff_cleanup(const struct slb_want *w, const struct slb_cloud *c,
		     int batch, struct slb_plan *p)
{
	struct slb_want *none;
	int r;

	memset(p, 0, sizeof(*p));
	if (!c->exists)
		return 0;
	/* nothing is wanted any more, whatever ports the Service lists */
	none = malloc(sizeof(*none));
	if (!none)
		return -ENOMEM;
	memcpy(none, w, sizeof(*none));
	none->n_ports = 0;
	r = cleanup(none, c, batch, p);
	free(none);
	return r;
}
