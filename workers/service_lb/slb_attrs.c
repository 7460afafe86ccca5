#include "workers/service_lb/slb_attrs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPEC_DEFAULT "slb.s1.small" /* the Go CCM's, for PayBySpec */

/* DescribeLoadBalancers answers codes, the attribute call names. */
static void internet_charge(const char *v, char *out, size_t n)
{
	if (strcmp(v, "3") == 0 || strcasecmp(v, "paybybandwidth") == 0)
		snprintf(out, n, "paybybandwidth");
	else if (strcmp(v, "4") == 0 || strcasecmp(v, "paybytraffic") == 0)
		snprintf(out, n, "paybytraffic");
	else
		out[0] = '\0';
}

static void copy_known(char *dst, size_t n, const char *a, const char *b)
{
	slb_strcpy(dst, n, a && *a ? a : b ? b : "");
}

int slb_attrs_from_lb(const struct ali_lb *lb, struct slb_cloud *c)
{
	size_t i;
	int r = 0;

	slb_strcpy(c->master_zone, sizeof(c->master_zone), lb->master_zone_id);
	slb_strcpy(c->slave_zone, sizeof(c->slave_zone), lb->slave_zone_id);
	/* the API leaves it out for IPv4 CLBs */
	slb_strcpy(c->ip_version, sizeof(c->ip_version),
		   lb->address_ip_version[0] ? lb->address_ip_version : "ipv4");
	slb_strcpy(c->resource_group, sizeof(c->resource_group),
		   lb->resource_group_id);
	slb_strcpy(c->vswitch_id, sizeof(c->vswitch_id), lb->vswitch_id);
	slb_strcpy(c->instance_charge_type, sizeof(c->instance_charge_type),
		   lb->instance_charge_type);
	internet_charge(lb->internet_charge_type, c->internet_charge_type,
			sizeof(c->internet_charge_type));
	c->bandwidth = lb->bandwidth > 0 && lb->bandwidth <= 1000000
			       ? (int)lb->bandwidth
			       : 0;
	c->attrs_read = 1;
	c->n_tags = 0;
	for (i = 0; r == 0 && i < lb->n_tags; i++)
		r = slb_cloud_set_tag(c, lb->tags[i].key, lb->tags[i].value);
	return r;
}

int slb_attrs_from_create(const struct ali_lb_create *o,
			  const struct ali_lb *out, struct slb_cloud *c)
{
	size_t i;
	int r = 0;

	copy_known(c->master_zone, sizeof(c->master_zone), out->master_zone_id,
		   o->master_zone_id);
	copy_known(c->slave_zone, sizeof(c->slave_zone), out->slave_zone_id,
		   o->slave_zone_id);
	copy_known(c->ip_version, sizeof(c->ip_version),
		   out->address_ip_version,
		   o->address_ip_version ? o->address_ip_version : "ipv4");
	copy_known(c->resource_group, sizeof(c->resource_group),
		   out->resource_group_id, o->resource_group_id);
	copy_known(c->vswitch_id, sizeof(c->vswitch_id), out->vswitch_id,
		   o->vswitch_id);
	copy_known(c->instance_charge_type, sizeof(c->instance_charge_type),
		   o->instance_charge_type, NULL);
	internet_charge(o->internet_charge_type ? o->internet_charge_type : "",
			c->internet_charge_type,
			sizeof(c->internet_charge_type));
	c->bandwidth = o->bandwidth > 0 ? o->bandwidth : 0;
	c->attrs_read = 0;
	c->n_tags = 0;
	for (i = 0; r == 0 && i < o->n_tags; i++)
		r = slb_cloud_set_tag(c, o->tags[i].key, o->tags[i].value);
	return r;
}

static int is_bandwidth_billed(const struct slb_annot *a)
{
	return strcmp(a->internet_charge_type, "paybybandwidth") == 0;
}

int slb_attrs_need_read(const struct slb_annot *a, const struct slb_cloud *c)
{
	if (!c->exists || c->attrs_read)
		return 0;
	return (a->instance_charge_type[0] && !c->instance_charge_type[0]) ||
	       (a->internet_charge_type[0] && !c->internet_charge_type[0]) ||
	       (is_bandwidth_billed(a) && a->bandwidth && !c->bandwidth) ||
	       (a->master_zone[0] && !c->master_zone[0]) ||
	       (a->slave_zone[0] && !c->slave_zone[0]) ||
	       (a->resource_group[0] && !c->resource_group[0]) ||
	       (a->vswitch_id[0] && !c->vswitch_id[0] && c->intranet);
}

/* ---- billing ---- */

static int plan_charge(const struct slb_annot *a, const struct slb_cloud *c,
		       struct slb_plan *p)
{
	const char *eff = a->instance_charge_type[0] ? a->instance_charge_type
						     : c->instance_charge_type;
	struct slb_call *call;

	if (a->instance_charge_type[0] && c->instance_charge_type[0] &&
	    strcasecmp(a->instance_charge_type, c->instance_charge_type) != 0) {
		call = slb_plan_push(p, SLB_OP_MODIFY_CHARGE_TYPE, -1);
		if (!call)
			return -ENOMEM;
		slb_strcpy(call->str, sizeof(call->str),
			   a->instance_charge_type);
		if (strcmp(a->instance_charge_type, "PayBySpec") == 0)
			slb_strcpy(call->cert, sizeof(call->cert),
				   a->spec[0] ? a->spec : SPEC_DEFAULT);
		return 0;
	}
	/* a PayByCLCU instance has no spec to change */
	if (!a->spec[0] || !c->spec[0] || strcmp(a->spec, c->spec) == 0 ||
	    strcasecmp(eff, "PayByCLCU") == 0)
		return 0;
	call = slb_plan_push(p, SLB_OP_MODIFY_SPEC, -1);
	if (!call)
		return -ENOMEM;
	slb_strcpy(call->str, sizeof(call->str), a->spec);
	return 0;
}

/* Internet CLBs only: an intranet one is not billed for traffic. */
static int plan_internet(const struct slb_annot *a, const struct slb_cloud *c,
			 struct slb_plan *p)
{
	struct slb_call *call;
	int charge, bw;

	if (c->intranet || !a->internet_charge_type[0] ||
	    !c->internet_charge_type[0])
		return 0;
	charge = strcmp(a->internet_charge_type, c->internet_charge_type) != 0;
	bw = is_bandwidth_billed(a) && a->bandwidth && c->bandwidth &&
	     a->bandwidth != c->bandwidth;
	if (!charge && !bw)
		return 0;
	call = slb_plan_push(p, SLB_OP_MODIFY_INTERNET_SPEC, -1);
	if (!call)
		return -ENOMEM;
	slb_strcpy(call->str, sizeof(call->str), a->internet_charge_type);
	call->flag = a->bandwidth;
	return 0;
}

/* ---- tags ---- */

static int tag_protected(const char *key)
{
	return strcmp(key, "kubernetes.do.not.delete") == 0 ||
	       strcmp(key, "ack.aliyun.com") == 0 ||
	       strcmp(key, "kubernetes.reused.by.user") == 0 ||
	       strncmp(key, "acs:", 4) == 0 || strncmp(key, "aliyun", 6) == 0;
}

static int key_listed(const char *keys, const char *key)
{
	size_t n = strlen(key);
	const char *s = keys;

	while (s && *s) {
		const char *e = strchr(s, '\n');

		if (!e)
			return 0;
		if ((size_t)(e - s) == n && strncmp(s, key, n) == 0)
			return 1;
		s = e + 1;
	}
	return 0;
}

static int annotated(const struct slb_annot *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->n_tags; i++)
		if (strcmp(a->tags[i].key, key) == 0)
			return 1;
	return 0;
}

static void put_tag(struct ali_tag *t, size_t *n, const char *k, const char *v)
{
	if (*n >= SLB_MAX_TAGS)
		return;
	snprintf(t[*n].key, sizeof(t[*n].key), "%s", k);
	snprintf(t[*n].value, sizeof(t[*n].value), "%s", v);
	(*n)++;
}

void slb_attrs_tags_delta(const struct slb_want *w, const struct slb_cloud *c,
			  struct ali_tag *add, size_t *n_add,
			  struct ali_tag *rm, size_t *n_rm)
{
	const struct slb_annot *a = &w->annot;
	const struct slb_cl_tag *have;
	size_t i;

	*n_add = *n_rm = 0;
	for (i = 0; i < a->n_tags; i++) {
		if (tag_protected(a->tags[i].key))
			continue;
		have = slb_cloud_tag(c, a->tags[i].key);
		if (!have || strcmp(have->val, a->tags[i].val) != 0)
			put_tag(add, n_add, a->tags[i].key, a->tags[i].val);
	}
	/* an absent or empty annotation leaves every tag (Go CCM) */
	for (i = 0; a->n_tags && i < c->n_tags; i++)
		if (!tag_protected(c->tags[i].key) &&
		    !annotated(a, c->tags[i].key) &&
		    key_listed(w->tag_keys, c->tags[i].key))
			put_tag(rm, n_rm, c->tags[i].key, c->tags[i].val);
}

int slb_attrs_remember_tags(const struct slb_annot *a, char **keys)
{
	size_t i, k, len = 1, at = 0;
	char *s;

	if (!a->n_tags)
		return 0;
	for (i = 0; i < a->n_tags; i++)
		len += strlen(a->tags[i].key) + 1;
	s = malloc(len);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < a->n_tags; i++) {
		k = strlen(a->tags[i].key);
		memcpy(s + at, a->tags[i].key, k);
		at += k;
		s[at++] = '\n';
	}
	s[at] = '\0';
	free(*keys);
	*keys = s;
	return 0;
}

static int plan_tags(const struct slb_want *w, const struct slb_cloud *c,
		     struct slb_plan *p)
{
	struct ali_tag add[SLB_MAX_TAGS], rm[SLB_MAX_TAGS];
	size_t n_add, n_rm;

	slb_attrs_tags_delta(w, c, add, &n_add, rm, &n_rm);
	if (n_add && !slb_plan_push(p, SLB_OP_ADD_TAGS, -1))
		return -ENOMEM;
	if (n_rm && !slb_plan_push(p, SLB_OP_REMOVE_TAGS, -1))
		return -ENOMEM;
	return 0;
}

/* ---- immutable ---- */

static void warn(struct slb_plan *p, const char *key, const char *lb_id,
		 const char *have, const char *want)
{
	size_t l = strlen(p->warn);

	if (l + 1 >= sizeof(p->warn))
		return;
	if (!l)
		l = (size_t)snprintf(p->warn, sizeof(p->warn),
				     "CLB %s: ", lb_id);
	else
		l += (size_t)snprintf(p->warn + l, sizeof(p->warn) - l, "; ");
	if (l + 1 >= sizeof(p->warn))
		return;
	snprintf(p->warn + l, sizeof(p->warn) - l,
		 "%s%s is \"%s\", the annotation asks for \"%s\"",
		 strncmp(key, "loadbalancer-", 13) == 0 ? SLB_ANNOT_PREFIX : "",
		 key, have, want);
}

static void differs(struct slb_plan *p, const char *key,
		    const struct slb_cloud *c, const char *have,
		    const char *want)
{
	if (want[0] && have[0] && strcmp(have, want) != 0)
		warn(p, key, c->lb_id, have, want);
}

static const char *annot_of(const struct slb_want *w, const char *suffix)
{
	return w->svc ? slb_annot_get(w->svc, suffix) : NULL;
}

static void immutables(const struct slb_want *w, const struct slb_cloud *c,
		       struct slb_plan *p)
{
	const struct slb_annot *a = &w->annot;
	const char *ip_key = annot_of(w, "loadbalancer-ip")
				     ? "loadbalancer-ip"
				     : "spec.loadBalancerIP";

	if (annot_of(w, "loadbalancer-address-type") && c->address[0])
		differs(p, "loadbalancer-address-type", c,
			c->intranet ? "intranet" : "internet",
			a->intranet ? "intranet" : "internet");
	/* an internet CLB reports classic either way */
	if (a->intranet && c->intranet)
		differs(p, "loadbalancer-network-type", c, c->network_type,
			a->network_type);
	differs(p, "loadbalancer-master-zoneid", c, c->master_zone,
		a->master_zone);
	differs(p, "loadbalancer-slave-zoneid", c, c->slave_zone,
		a->slave_zone);
	differs(p, "loadbalancer-ip-version", c, c->ip_version, a->ip_version);
	differs(p, "loadbalancer-resource-group-id", c, c->resource_group,
		a->resource_group);
	differs(p, ip_key, c, c->address, a->address);
	differs(p, "loadbalancer-vswitch-id", c, c->vswitch_id, a->vswitch_id);
	if (p->warn[0])
		snprintf(p->warn + strlen(p->warn),
			 sizeof(p->warn) - strlen(p->warn),
			 "; these cannot change after creation and are not "
			 "applied (the rest of the Service is synced; "
			 "recreate the Service to change them)");
}

void slb_attrs_plan_immutable(const struct slb_want *w,
			      const struct slb_cloud *c, struct slb_plan *p)
{
	immutables(w, c, p);
}

int slb_attrs_plan(const struct slb_want *w, const struct slb_cloud *c,
		   struct slb_plan *p)
{
	int r;

	if (!c->exists)
		return 0;
	r = plan_charge(&w->annot, c, p);
	if (r == 0)
		r = plan_internet(&w->annot, c, p);
	if (r == 0)
		r = plan_tags(w, c, p);
	return r;
}

/* ---- apply and note ---- */

static int apply_tags(struct slb_apply *a, int add_them, struct ali_error *err)
{
	struct ali_tag add[SLB_MAX_TAGS], rm[SLB_MAX_TAGS];
	size_t n_add, n_rm;

	slb_attrs_tags_delta(a->w, a->c, add, &n_add, rm, &n_rm);
	if (add_them)
		return n_add ? ali_slb_add_tags(a->ali, a->c->lb_id, add, n_add,
						err)
			     : 0;
	return n_rm ? ali_slb_remove_tags(a->ali, a->c->lb_id, rm, n_rm, err)
		    : 0;
}

int slb_attrs_apply(struct slb_apply *a, const struct slb_call *call,
		    struct ali_error *err)
{
	switch (call->op) {
	case SLB_OP_MODIFY_CHARGE_TYPE:
		return ali_slb_modify_charge_type(
			a->ali, a->c->lb_id, call->str,
			call->cert[0] ? call->cert : NULL, err);
	case SLB_OP_MODIFY_INTERNET_SPEC:
		return ali_slb_modify_internet_spec(
			a->ali, a->c->lb_id, call->str,
			call->flag ? call->flag : ALI_UNSET, err);
	case SLB_OP_ADD_TAGS:
		return apply_tags(a, 1, err);
	case SLB_OP_REMOVE_TAGS:
		return apply_tags(a, 0, err);
	default:
		return -EINVAL;
	}
}

static int note_tags(struct slb_cloud *c, const struct slb_want *w,
		     int add_them)
{
	struct ali_tag add[SLB_MAX_TAGS], rm[SLB_MAX_TAGS];
	size_t i, n_add, n_rm;
	int r = 0;

	slb_attrs_tags_delta(w, c, add, &n_add, rm, &n_rm);
	for (i = 0; add_them && r == 0 && i < n_add; i++)
		r = slb_cloud_set_tag(c, add[i].key, add[i].value);
	for (i = 0; !add_them && i < n_rm; i++)
		slb_cloud_del_tag(c, rm[i].key);
	return r;
}

int slb_attrs_note(struct slb_cloud *c, const struct slb_want *w,
		   const struct slb_call *call)
{
	switch (call->op) {
	case SLB_OP_MODIFY_CHARGE_TYPE:
		slb_strcpy(c->instance_charge_type,
			   sizeof(c->instance_charge_type), call->str);
		slb_strcpy(c->spec, sizeof(c->spec), call->cert);
		return 0;
	case SLB_OP_MODIFY_INTERNET_SPEC:
		slb_strcpy(c->internet_charge_type,
			   sizeof(c->internet_charge_type), call->str);
		if (call->flag)
			c->bandwidth = call->flag;
		return 0;
	case SLB_OP_ADD_TAGS:
		return note_tags(c, w, 1);
	case SLB_OP_REMOVE_TAGS:
		return note_tags(c, w, 0);
	default:
		return -EINVAL;
	}
}
