#include "workers/service_lb/slb_note.h"

#include <errno.h>
#include <string.h>

#include "workers/service_lb/slb_attrs.h"

const char *slb_call_vg(const struct slb_plan *p, const struct slb_call *call)
{
	if (call->vg_id[0])
		return call->vg_id;
	if (call->wport >= 0 && call->wport < SLB_MAX_PORTS)
		return p->vg[call->wport];
	return "";
}

static int note_listener(struct slb_cloud *c, const struct slb_want *w,
			 const struct slb_plan *p, const struct slb_call *call)
{
	const struct slb_want_port *wp =
		call->wport >= 0 ? &w->ports[call->wport] : NULL;
	struct slb_cl_listener *l = slb_cloud_listener(c, call->port);
	struct slb_cl_listener nl;

	if (call->op == SLB_OP_DELETE_LISTENER) {
		slb_cloud_del_listener(c, call->port);
		return 0;
	}
	if (call->op == SLB_OP_START_LISTENER) {
		if (l)
			l->running = 1;
		return 0;
	}
	if (!wp)
		return -EINVAL;
	if (!l) {
		memset(&nl, 0, sizeof(nl));
		nl.port = call->port;
		nl.proto = call->proto;
		if (slb_cloud_add_listener(c, &nl) < 0)
			return -ENOMEM;
		l = slb_cloud_listener(c, call->port);
	}
	slb_strcpy(l->vg_id, sizeof(l->vg_id), p->vg[call->wport]);
	memcpy(l->desc, wp->ldesc, sizeof(l->desc));
	memcpy(l->lp_sig, wp->lp_sig, sizeof(l->lp_sig));
	if (call->op == SLB_OP_CREATE_LISTENER)
		l->fwd_port = wp->fwd_port;
	return 0;
}

static int note_group(struct slb_cloud *c, const struct slb_want *w,
		      struct slb_plan *p, const struct slb_call *call,
		      const char *new_id)
{
	struct slb_cl_group *g;

	if (call->op == SLB_OP_CREATE_VG) {
		if (!new_id || call->wport < 0)
			return -EINVAL;
		slb_strcpy(p->vg[call->wport], SLB_ID_LEN, new_id);
		return slb_cloud_add_group(
			c, new_id, w->ports[call->wport].vg_name, &call->be);
	}
	if (call->op == SLB_OP_DELETE_VG) {
		slb_cloud_del_group(c, call->vg_id);
		return 0;
	}
	g = slb_cloud_group(c, slb_call_vg(p, call));
	if (!g)
		return 0;
	if (call->op == SLB_OP_ADD_BE)
		return slb_group_add(g, &call->be);
	if (call->op == SLB_OP_SET_BE)
		slb_group_set(g, &call->be);
	else
		slb_group_remove(g, &call->be);
	return 0;
}

static int note_domext(struct slb_cloud *c, const struct slb_call *call,
		       const char *new_id)
{
	struct slb_cl_domext d, *have;

	if (call->op == SLB_OP_DELETE_DOMEXT) {
		slb_cloud_del_domext(c, call->vg_id);
		return 0;
	}
	if (call->op == SLB_OP_SET_DOMEXT) {
		have = slb_cloud_domext(c, call->vg_id);
		if (have)
			memcpy(have->cert, call->cert, sizeof(have->cert));
		return 0;
	}
	memset(&d, 0, sizeof(d));
	d.port = call->port;
	slb_strcpy(d.id, sizeof(d.id), new_id);
	memcpy(d.domain, call->str, sizeof(d.domain));
	memcpy(d.cert, call->cert, sizeof(d.cert));
	return slb_cloud_add_domext(c, &d);
}

int slb_note(struct slb_cloud *c, const struct slb_want *w, struct slb_plan *p,
	     const struct slb_call *call, const char *new_id)
{
	switch (call->op) {
	case SLB_OP_CREATE_LB:
		c->exists = 1;
		c->ccm_tagged = 1; /* created with the ownership tags */
		slb_strcpy(c->tag_owner, sizeof(c->tag_owner), w->default_name);
		slb_strcpy(c->tag_cluster, sizeof(c->tag_cluster),
			   w->cluster_id);
		return 0;
	case SLB_OP_SET_DELETE_PROTECTION:
		c->delete_protection = call->flag;
		return 0;
	case SLB_OP_CREATE_DOMEXT:
	case SLB_OP_SET_DOMEXT:
	case SLB_OP_DELETE_DOMEXT:
		return note_domext(c, call, new_id);
	case SLB_OP_SET_MOD_PROTECTION:
		slb_strcpy(c->mod_protection, sizeof(c->mod_protection),
			   call->str);
		return 0;
	case SLB_OP_SET_NAME:
		slb_strcpy(c->name, sizeof(c->name), call->str);
		return 0;
	case SLB_OP_MODIFY_SPEC:
		slb_strcpy(c->spec, sizeof(c->spec), call->str);
		return 0;
	case SLB_OP_UNTAG:
		c->ccm_tagged = 0;
		c->tag_owner[0] = c->tag_cluster[0] = '\0';
		return 0;
	case SLB_OP_MODIFY_CHARGE_TYPE:
	case SLB_OP_MODIFY_INTERNET_SPEC:
	case SLB_OP_ADD_TAGS:
	case SLB_OP_REMOVE_TAGS:
		return slb_attrs_note(c, w, call);
	case SLB_OP_DELETE_LB:
		slb_cloud_clear(c);
		return 0;
	case SLB_OP_DELETE_LISTENER:
	case SLB_OP_CREATE_LISTENER:
	case SLB_OP_SET_LISTENER:
	case SLB_OP_START_LISTENER:
		return note_listener(c, w, p, call);
	default:
		return note_group(c, w, p, call, new_id);
	}
}
