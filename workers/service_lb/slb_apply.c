#include "workers/service_lb/slb_apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "workers/service_lb/slb_attrs.h"
#include "workers/service_lb/slb_note.h"

#define SLB_MOD_REASON "managed.by.ack"

void slb_to_ali_backends(const struct slb_bes *in, struct ali_backend *out)
{
	size_t i;

	for (i = 0; i < in->n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		slb_strcpy(out[i].server_id, sizeof(out[i].server_id),
			   in->v[i].server_id);
		slb_strcpy(out[i].server_ip, sizeof(out[i].server_ip),
			   in->v[i].server_ip);
		slb_strcpy(out[i].type, sizeof(out[i].type),
			   in->v[i].type == SLB_BE_ENI ? "eni" : "ecs");
		slb_strcpy(out[i].description, sizeof(out[i].description),
			   in->v[i].desc);
		out[i].port = in->v[i].port;
		out[i].weight = in->v[i].weight;
	}
}

int slb_client_token(const struct slb_want *w, const char *salt, char out[64])
{
	const char *parts[] = {"ccm-clb", w->svc->uid, w->cluster_id,
			       salt ? salt : ""};

	return ali_client_token(parts, 4, out);
}

static void fill_tags(const struct slb_want *w, struct ali_tag *t, size_t *n)
{
	size_t i;

	snprintf(t[0].key, sizeof(t[0].key), "kubernetes.do.not.delete");
	snprintf(t[0].value, sizeof(t[0].value), "%s", w->default_name);
	snprintf(t[1].key, sizeof(t[1].key), "ack.aliyun.com");
	snprintf(t[1].value, sizeof(t[1].value), "%s", w->cluster_id);
	*n = 2;
	for (i = 0; i < w->annot.n_tags && *n < 20; i++, (*n)++) {
		snprintf(t[*n].key, sizeof(t[*n].key), "%s",
			 w->annot.tags[i].key);
		snprintf(t[*n].value, sizeof(t[*n].value), "%s",
			 w->annot.tags[i].val);
	}
}

/* Like the Go CCM: console edits locked by default, with the reason the
 * console shows. */
static const char *mod_protection(const struct slb_annot *an)
{
	return an->modification_protection[0] ? an->modification_protection
					      : "ConsoleProtection";
}

static const char *mod_reason(const char *status)
{
	return strcmp(status, "ConsoleProtection") == 0 ? SLB_MOD_REASON : NULL;
}

static int create_lb(struct slb_apply *a, struct ali_error *err)
{
	const struct slb_annot *an = &a->w->annot;
	const struct cfg_cloud *cc = &a->cfg->cloud;
	struct ali_lb_create o;
	struct ali_tag tags[20];
	struct ali_lb out;
	char token[64];
	int r;

	memset(&o, 0, sizeof(o));
	memset(&out, 0, sizeof(out));
	fill_tags(a->w, tags, &o.n_tags);
	o.tags = tags;
	slb_client_token(a->w, a->token_salt, token);
	o.client_token = token;
	o.name = an->name[0] ? an->name : a->w->default_name;
	o.address_type = an->intranet ? "intranet" : "internet";
	if (an->intranet && strcmp(an->network_type, "classic") != 0) {
		o.vpc_id = cc->vpc_id[0] ? cc->vpc_id : NULL;
		o.vswitch_id = an->vswitch_id[0] ? an->vswitch_id
			       : cc->n_vswitches ? cc->vswitches[0].id
						 : NULL;
	}
	o.address = an->address[0] ? an->address : NULL;
	o.spec = an->spec[0] ? an->spec : NULL;
	o.instance_charge_type =
		an->instance_charge_type[0] ? an->instance_charge_type : NULL;
	o.internet_charge_type =
		an->internet_charge_type[0] ? an->internet_charge_type : NULL;
	o.bandwidth = an->bandwidth ? an->bandwidth : ALI_UNSET;
	o.resource_group_id = an->resource_group[0]	 ? an->resource_group
			      : cc->resource_group_id[0] ? cc->resource_group_id
							 : NULL;
	o.delete_protection = an->delete_protection ? "on" : "off";
	o.modification_protection = mod_protection(an);
	o.modification_protection_reason =
		mod_reason(o.modification_protection);
	o.master_zone_id = an->master_zone[0] ? an->master_zone : NULL;
	o.slave_zone_id = an->slave_zone[0] ? an->slave_zone : NULL;
	o.address_ip_version = an->ip_version[0] ? an->ip_version : NULL;
	r = ali_slb_create_lb(a->ali, &o, &out, err);
	if (r == 0) {
		slb_strcpy(a->c->lb_id, sizeof(a->c->lb_id), out.id);
		slb_strcpy(a->c->address, sizeof(a->c->address), out.address);
		slb_strcpy(a->c->name, sizeof(a->c->name), o.name);
		a->c->intranet = an->intranet;
		a->c->delete_protection = an->delete_protection;
		slb_strcpy(a->c->mod_protection, sizeof(a->c->mod_protection),
			   o.modification_protection);
		slb_strcpy(a->c->network_type, sizeof(a->c->network_type),
			   out.network_type);
		a->c->ccm_tagged = 1;
		a->c->dx_read = 1; /* a new CLB has no domain extensions */
		r = slb_attrs_from_create(&o, &out, a->c);
	}
	ali_lb_done(&out);
	return r;
}

struct lp_field {
	const char *key;
	size_t off;
	size_t len; /* 0: int field */
};

#define LPS(k, f)                                                              \
	{                                                                      \
		k, offsetof(struct ali_listener, f),                           \
			sizeof(((struct ali_listener *)0)->f)                  \
	}
#define LPI(k, f)                                                              \
	{                                                                      \
		k, offsetof(struct ali_listener, f), 0                         \
	}

static const struct lp_field lp_fields[] = {
	LPS("Scheduler", scheduler),
	LPI("PersistenceTimeout", persistence_timeout),
	LPI("EstablishedTimeout", established_timeout),
	LPS("ConnectionDrain", connection_drain),
	LPI("ConnectionDrainTimeout", connection_drain_timeout),
	LPI("IdleTimeout", idle_timeout),
	LPI("RequestTimeout", request_timeout),
	LPS("StickySession", sticky_session),
	LPS("StickySessionType", sticky_session_type),
	LPS("Cookie", cookie),
	LPI("CookieTimeout", cookie_timeout),
	LPS("XForwardedFor_proto", xff_proto),
	LPS("XForwardedFor_SLBPORT", xff_slbport),
	LPS("XForwardedFor_ClientSrcPort", xff_client_src_port),
	LPS("AclStatus", acl_status),
	LPS("AclId", acl_id),
	LPS("AclType", acl_type),
	LPS("HealthCheckSwitch", health_check),
	LPS("HealthCheck", health_check),
	LPS("HealthCheckType", health_check_type),
	LPS("HealthCheckURI", health_check_uri),
	LPS("HealthCheckDomain", health_check_domain),
	LPS("HealthCheckHttpCode", health_check_http_code),
	LPS("HealthCheckMethod", health_check_method),
	LPI("HealthCheckConnectPort", health_check_connect_port),
	LPI("HealthCheckInterval", health_check_interval),
	LPI("HealthyThreshold", healthy_threshold),
	LPI("UnhealthyThreshold", unhealthy_threshold),
	LPI("HealthCheckConnectTimeout", health_check_connect_timeout),
	LPI("HealthCheckTimeout", health_check_timeout),
	LPS("TLSCipherPolicy", tls_cipher_policy),
	LPS("EnableHttp2", enable_http2),
	LPS("ProxyProtocolV2Enabled", proxy_protocol_v2),
};

static void set_lparam(struct ali_listener *l, const struct slb_lparam *p)
{
	size_t i;

	for (i = 0; i < sizeof(lp_fields) / sizeof(lp_fields[0]); i++) {
		char *base = (char *)l + lp_fields[i].off;

		if (strcmp(lp_fields[i].key, p->key) != 0)
			continue;
		if (lp_fields[i].len)
			snprintf(base, lp_fields[i].len, "%s", p->val);
		else
			*(int *)(void *)base = atoi(p->val);
	}
}

static void fill_listener(struct slb_apply *a, const struct slb_call *call,
			  int create, struct ali_listener *l)
{
	const struct slb_want_port *wp = &a->w->ports[call->wport];
	const struct slb_annot *an = &a->w->annot;
	size_t i;

	ali_listener_init(l);
	slb_strcpy(l->lb_id, sizeof(l->lb_id), a->c->lb_id);
	slb_strcpy(l->protocol, sizeof(l->protocol), slb_proto_str(wp->proto));
	l->port = wp->port;
	slb_strcpy(l->vserver_group_id, sizeof(l->vserver_group_id),
		   a->p->vg[call->wport]);
	slb_strcpy(l->description, sizeof(l->description), wp->ldesc);
	if (create) {
		if (wp->proto != SLB_HTTP)
			l->bandwidth = -1;
		snprintf(l->scheduler, sizeof(l->scheduler), "rr");
		if (wp->proto == SLB_HTTP || wp->proto == SLB_HTTPS) {
			snprintf(l->health_check, sizeof(l->health_check),
				 "off");
			snprintf(l->sticky_session, sizeof(l->sticky_session),
				 "off");
		}
		if (wp->fwd_port) {
			snprintf(l->listener_forward,
				 sizeof(l->listener_forward), "on");
			l->forward_port = wp->fwd_port;
		}
	}
	if (wp->proto == SLB_HTTPS)
		snprintf(l->server_certificate_id,
			 sizeof(l->server_certificate_id), "%s", an->cert_id);
	for (i = 0; i < an->n_lparams; i++)
		if (an->lparams[i].protos & (1u << wp->proto))
			set_lparam(l, &an->lparams[i]);
}

static int do_listener(struct slb_apply *a, const struct slb_call *call,
		       struct ali_error *err)
{
	const char *proto = slb_proto_str(call->proto);
	struct ali_listener l;

	switch (call->op) {
	case SLB_OP_DELETE_LISTENER:
		return ali_slb_delete_listener(a->ali, a->c->lb_id, proto,
					       call->port, err);
	case SLB_OP_START_LISTENER:
		return ali_slb_start_listener(a->ali, a->c->lb_id, proto,
					      call->port, err);
	case SLB_OP_CREATE_LISTENER:
		fill_listener(a, call, 1, &l);
		return ali_slb_create_listener(a->ali, &l, err);
	default:
		fill_listener(a, call, 0, &l);
		return ali_slb_set_listener(a->ali, &l, err);
	}
}

static int do_backends(struct slb_apply *a, const struct slb_call *call,
		       char new_id[64], struct ali_error *err)
{
	const char *vg = slb_call_vg(a->p, call);
	struct ali_backend *b;
	int r;

	b = calloc(call->be.n ? call->be.n : 1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	slb_to_ali_backends(&call->be, b);
	if (call->op == SLB_OP_CREATE_VG)
		r = ali_slb_create_vgroup(a->ali, a->c->lb_id,
					  a->w->ports[call->wport].vg_name, b,
					  call->be.n, new_id, err);
	else if (call->op == SLB_OP_ADD_BE)
		r = ali_slb_add_backends(a->ali, vg, b, call->be.n, err);
	else if (call->op == SLB_OP_SET_BE)
		r = ali_slb_set_backends(a->ali, vg, b, call->be.n, err);
	else
		r = ali_slb_remove_backends(a->ali, vg, b, call->be.n, err);
	free(b);
	return r;
}

static int do_untag(struct slb_apply *a, struct ali_error *err)
{
	struct ali_tag t[2];
	size_t n;

	fill_tags(a->w, t, &n);
	return ali_slb_remove_tags(a->ali, a->c->lb_id, t, 2, err);
}

static int do_call(struct slb_apply *a, const struct slb_call *call,
		   char new_id[64], struct ali_error *err)
{
	switch (call->op) {
	case SLB_OP_CREATE_LB:
		return create_lb(a, err);
	case SLB_OP_SET_DELETE_PROTECTION:
		return ali_slb_set_delete_protection(a->ali, a->c->lb_id,
						     call->flag, err);
	case SLB_OP_CREATE_DOMEXT:
		return ali_slb_create_domext(a->ali, a->c->lb_id, call->port,
					     call->str, call->cert, new_id,
					     err);
	case SLB_OP_SET_DOMEXT:
		return ali_slb_set_domext(a->ali, call->vg_id, call->cert, err);
	case SLB_OP_DELETE_DOMEXT:
		return ali_slb_delete_domext(a->ali, call->vg_id, err);
	case SLB_OP_SET_MOD_PROTECTION:
		return ali_slb_set_modification_protection(
			a->ali, a->c->lb_id, call->str, mod_reason(call->str),
			err);
	case SLB_OP_SET_NAME:
		return ali_slb_set_name(a->ali, a->c->lb_id, call->str, err);
	case SLB_OP_MODIFY_SPEC:
		return ali_slb_modify_spec(a->ali, a->c->lb_id, call->str, err);
	case SLB_OP_UNTAG:
		return do_untag(a, err);
	case SLB_OP_MODIFY_CHARGE_TYPE:
	case SLB_OP_MODIFY_INTERNET_SPEC:
	case SLB_OP_ADD_TAGS:
	case SLB_OP_REMOVE_TAGS:
		return slb_attrs_apply(a, call, err);
	case SLB_OP_DELETE_VG:
		return ali_slb_delete_vgroup(a->ali, call->vg_id, err);
	case SLB_OP_DELETE_LB:
		return ali_slb_delete_lb(a->ali, a->c->lb_id, err);
	case SLB_OP_DELETE_LISTENER:
	case SLB_OP_CREATE_LISTENER:
	case SLB_OP_SET_LISTENER:
	case SLB_OP_START_LISTENER:
		return do_listener(a, call, err);
	default:
		return do_backends(a, call, new_id, err);
	}
}

static int gone_ok(const struct slb_call *call, const struct ali_error *err)
{
	/* deleting what is already gone is success */
	return (call->op == SLB_OP_DELETE_LB &&
		strstr(err->message, "does not exist")) ||
	       (call->op == SLB_OP_DELETE_LB &&
		ali_error_is(err, "InvalidLoadBalancerId.NotFound"));
}

int slb_apply_plan(struct slb_apply *a, struct ali_error *err)
{
	char new_id[64];
	size_t i;
	int r;

	a->done = 0;
	for (i = 0; i < a->p->n; i++) {
		const struct slb_call *call = &a->p->v[i];

		new_id[0] = '\0';
		ali_error_clear(err);
		slb_tick(a->tick);
		r = do_call(a, call, new_id, err);
		if (r == ALI_E_API && gone_ok(call, err))
			r = 0;
		if (r < 0)
			return r;
		log_v(2, "service-lb: %s %s", slb_op_name(call->op),
		      a->c->lb_id);
		r = slb_note(a->c, a->w, a->p, call, new_id);
		if (r < 0)
			return r;
		a->done++;
	}
	return 0;
}
