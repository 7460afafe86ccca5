#include "workers/service_lb/slb_find.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/service_lb/slb_attrs.h"

void slb_cloud_from_lb(const struct ali_lb *lb, struct slb_cloud *c)
{
	size_t i;

	c->exists = 1;
	slb_strcpy(c->lb_id, sizeof(c->lb_id), lb->id);
	slb_strcpy(c->name, sizeof(c->name), lb->name);
	slb_strcpy(c->address, sizeof(c->address), lb->address);
	slb_strcpy(c->spec, sizeof(c->spec), lb->spec);
	c->intranet = strcmp(lb->address_type, "intranet") == 0;
	c->delete_protection = strcmp(lb->delete_protection, "on") == 0;
	slb_strcpy(c->mod_protection, sizeof(c->mod_protection),
		   lb->modification_protection);
	slb_strcpy(c->network_type, sizeof(c->network_type), lb->network_type);
	for (i = 0; i < lb->n_tags; i++) {
		if (!strcmp(lb->tags[i].key, "kubernetes.do.not.delete")) {
			c->ccm_tagged = 1;
			slb_strcpy(c->tag_owner, sizeof(c->tag_owner),
				   lb->tags[i].value);
		}
		if (!strcmp(lb->tags[i].key, "ack.aliyun.com")) {
			c->ccm_tagged = 1;
			slb_strcpy(c->tag_cluster, sizeof(c->tag_cluster),
				   lb->tags[i].value);
		}
	}
}

static int find_one(struct ali_client *ali, const struct ali_lb_filter *f,
		    const struct slb_tick *tick, char id[SLB_ID_LEN],
		    struct ali_error *err)
{
	struct ali_lb_list l = {0};
	int r;

	slb_tick(tick);
	r = ali_slb_describe_lbs(ali, f, &l, err);

	if (r == 0 && l.n > 1) {
		ali_error_set(err, 0, "Client",
			      "%zu CLBs match the Service's %s", l.n,
			      f->name ? "default name" : "ownership tag");
		r = -EEXIST;
	}
	if (r == 0 && l.n == 1)
		slb_strcpy(id, SLB_ID_LEN, l.v[0].id);
	ali_lb_list_done(&l);
	return r;
}

static int find_id(struct ali_client *ali, const struct slb_want *w,
		   const struct slb_tick *tick, char id[SLB_ID_LEN],
		   struct ali_error *err)
{
	struct ali_tag tag;
	struct ali_lb_filter f;
	int r;

	id[0] = '\0';
	if (w->reused)
		return slb_strcpy(id, SLB_ID_LEN, w->annot.lb_id);
	memset(&f, 0, sizeof(f));
	snprintf(tag.key, sizeof(tag.key), "kubernetes.do.not.delete");
	snprintf(tag.value, sizeof(tag.value), "%s", w->default_name);
	f.tags = &tag;
	f.n_tags = 1;
	r = find_one(ali, &f, tick, id, err);
	if (r < 0 || id[0])
		return r;
	memset(&f, 0, sizeof(f));
	f.name = w->default_name;
	return find_one(ali, &f, tick, id, err);
}

/* Listener parameters are trusted as applied when the described
 * listener matches what they would set: with no tuning annotations, a
 * TCP/UDP/HTTP listener carries nothing we compare, an HTTPS one only its
 * certificate. Otherwise the sig stays "" and the parameters are applied
 * once more. */
static void trust_params(const struct slb_want *w,
			 const struct ali_listener *al,
			 struct slb_cl_listener *cl)
{
	size_t j;

	if (w->annot.n_lparams)
		return;
	for (j = 0; j < w->n_ports; j++) {
		if (w->ports[j].port != cl->port ||
		    w->ports[j].proto != cl->proto)
			continue;
		if (cl->proto == SLB_HTTPS &&
		    strcmp(al->server_certificate_id, w->annot.cert_id) != 0)
			continue;
		memcpy(cl->lp_sig, w->ports[j].lp_sig, sizeof(cl->lp_sig));
	}
}

/* Only when the Service manages them: one call per HTTPS listener. */
static int read_domexts(struct ali_client *ali, struct slb_cloud *c, int port,
			struct ali_error *err)
{
	struct ali_domext *d = NULL;
	struct slb_cl_domext cd;
	size_t i, n = 0;
	int r = ali_slb_describe_domexts(ali, c->lb_id, port, &d, &n, err);

	for (i = 0; r == 0 && i < n; i++) {
		memset(&cd, 0, sizeof(cd));
		cd.port = port;
		slb_strcpy(cd.id, sizeof(cd.id), d[i].id);
		slb_strcpy(cd.domain, sizeof(cd.domain), d[i].domain);
		slb_strcpy(cd.cert, sizeof(cd.cert), d[i].cert_id);
		r = slb_cloud_add_domext(c, &cd);
	}
	free(d);
	return r;
}

static int read_listeners(struct ali_client *ali, struct slb_cloud *c,
			  const struct slb_want *w, const struct slb_tick *tick,
			  struct ali_error *err)
{
	struct ali_listener_list l = {0};
	struct slb_cl_listener cl;
	size_t i;
	int r;

	slb_tick(tick);
	r = ali_slb_describe_listeners(ali, c->lb_id, &l, err);
	for (i = 0; r == 0 && i < l.n; i++) {
		memset(&cl, 0, sizeof(cl));
		cl.port = l.v[i].port;
		cl.proto = slb_proto_parse(l.v[i].protocol);
		cl.running = strcmp(l.v[i].status, "running") == 0;
		slb_strcpy(cl.vg_id, sizeof(cl.vg_id), l.v[i].vserver_group_id);
		slb_strcpy(cl.desc, sizeof(cl.desc), l.v[i].description);
		if (strcmp(l.v[i].listener_forward, "on") == 0 &&
		    l.v[i].forward_port > 0)
			cl.fwd_port = l.v[i].forward_port;
		trust_params(w, &l.v[i], &cl);
		r = slb_cloud_add_listener(c, &cl);
		if (r == 0 && cl.proto == SLB_HTTPS && w->annot.domext_set) {
			slb_tick(tick);
			r = read_domexts(ali, c, cl.port, err);
		}
	}
	if (r == 0)
		c->dx_read = w->annot.domext_set;
	ali_listener_list_done(&l);
	return r;
}

static int read_group(struct ali_client *ali, struct slb_cloud *c,
		      const char *id, struct ali_error *err)
{
	struct ali_vgroup g;
	struct slb_bes be = {0};
	struct slb_backend b;
	size_t i;
	int r;

	memset(&g, 0, sizeof(g));
	r = ali_slb_describe_vgroup(ali, id, &g, err);
	for (i = 0; r == 0 && i < g.n_backends; i++) {
		memset(&b, 0, sizeof(b));
		slb_strcpy(b.server_id, sizeof(b.server_id),
			   g.backends[i].server_id);
		slb_strcpy(b.server_ip, sizeof(b.server_ip),
			   g.backends[i].server_ip);
		slb_strcpy(b.desc, sizeof(b.desc), g.backends[i].description);
		b.type = strcmp(g.backends[i].type, "ecs") != 0 &&
					 g.backends[i].type[0]
				 ? SLB_BE_ENI
				 : SLB_BE_ECS;
		b.port = g.backends[i].port;
		b.weight = g.backends[i].weight;
		r = slb_bes_push(&be, &b);
	}
	if (r == 0)
		r = slb_cloud_add_group(c, id, g.name, &be);
	slb_bes_done(&be);
	ali_vgroup_done(&g);
	return r;
}

static int read_groups(struct ali_client *ali, struct slb_cloud *c,
		       const struct slb_tick *tick, struct ali_error *err)
{
	struct ali_vgroup_list l = {0};
	size_t i;
	int r;

	slb_tick(tick);
	r = ali_slb_describe_vgroups(ali, c->lb_id, &l, err);
	for (i = 0; r == 0 && i < l.n; i++) {
		slb_tick(tick);
		r = read_group(ali, c, l.v[i].id, err);
	}
	ali_vgroup_list_done(&l);
	return r;
}

int slb_find(struct ali_client *ali, const struct slb_want *w,
	     struct slb_cloud *c, const struct slb_tick *tick,
	     struct ali_error *err)
{
	struct ali_lb lb;
	char id[SLB_ID_LEN];
	int r;

	slb_cloud_clear(c);
	r = find_id(ali, w, tick, id, err);
	if (r < 0 || !id[0])
		return r;
	memset(&lb, 0, sizeof(lb));
	slb_tick(tick);
	r = ali_slb_describe_lb(ali, id, &lb, err);
	if (r == ALI_E_API && w->reused &&
	    (strstr(err->code, "NotFound") || strstr(err->code, "NotExist")))
		r = 0; /* reported by the diff as a missing loadbalancer-id */
	else if (r == 0) {
		slb_cloud_from_lb(&lb, c);
		r = slb_attrs_from_lb(&lb, c);
	}
	ali_lb_done(&lb);
	if (r == 0 && c->exists)
		r = read_listeners(ali, c, w, tick, err);
	if (r == 0 && c->exists)
		r = read_groups(ali, c, tick, err);
	return r;
}
