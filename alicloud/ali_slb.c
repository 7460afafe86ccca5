#include "alicloud/ali_slb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_json.h"

#define LB_IDS_PER_CALL	 10
#define LB_PAGE_SIZE	 100
#define TAGS_PER_CALL	 10
#define TAGS_PAGE_SIZE	 50
#define JSON_PARAM_LIMIT (64u << 10)

void ali_lb_done(struct ali_lb *lb)
{
	if (!lb)
		return;
	free(lb->tags);
	free(lb->listeners);
	lb->tags = NULL;
	lb->listeners = NULL;
	lb->n_tags = lb->n_listeners = 0;
}

void ali_lb_list_done(struct ali_lb_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		ali_lb_done(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Runs a call whose answer carries nothing the caller needs. */
static int simple(struct ali_client *c, const char *action,
		  struct ali_params *p, struct ali_error *err)
{
	struct json *resp = NULL;
	int r = ali_client_call(c, ALI_SLB, action, p, &resp, err);

	json_free(resp);
	ali_params_done(p);
	return r;
}

static int parse_tags(const struct json *obj, struct ali_tag **tags, size_t *n)
{
	const struct json *arr = ali_jlist(obj, "Tags", "Tag");
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		const struct json *t = json_at(arr, i);
		struct ali_tag *tag = ali_grow(tags, n, sizeof(*tag));

		if (!tag)
			return -ENOMEM;
		ali_jstr(t, "TagKey", tag->key, sizeof(tag->key));
		ali_jstr(t, "TagValue", tag->value, sizeof(tag->value));
	}
	return 0;
}

static int parse_listener_ports(const struct json *obj, struct ali_lb *lb)
{
	const struct json *arr = ali_jlist(obj, "ListenerPortsAndProtocol",
					   "ListenerPortAndProtocol");
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		const struct json *e = json_at(arr, i);
		struct ali_listener_port *lp =
			ali_grow(&lb->listeners, &lb->n_listeners, sizeof(*lp));

		if (!lp)
			return -ENOMEM;
		lp->port = (int)ali_jint(e, "ListenerPort", 0);
		ali_jstr(e, "ListenerProtocol", lp->protocol,
			 sizeof(lp->protocol));
	}
	return 0;
}

#define STR(field, key) ali_jstr(o, key, lb->field, sizeof(lb->field))

static int parse_lb(const struct json *o, struct ali_lb *lb)
{
	STR(id, "LoadBalancerId");
	STR(name, "LoadBalancerName");
	STR(address, "Address");
	STR(address_type, "AddressType");
	STR(address_ip_version, "AddressIPVersion");
	STR(network_type, "NetworkType");
	STR(vpc_id, "VpcId");
	STR(vswitch_id, "VSwitchId");
	STR(spec, "LoadBalancerSpec");
	STR(status, "LoadBalancerStatus");
	STR(delete_protection, "DeleteProtection");
	STR(modification_protection, "ModificationProtectionStatus");
	STR(resource_group_id, "ResourceGroupId");
	STR(internet_charge_type, "InternetChargeType");
	STR(pay_type, "PayType");
	STR(instance_charge_type, "InstanceChargeType");
	STR(master_zone_id, "MasterZoneId");
	STR(slave_zone_id, "SlaveZoneId");
	lb->bandwidth = ali_jint(o, "Bandwidth", ALI_UNSET);
	return parse_tags(o, &lb->tags, &lb->n_tags);
}

#undef STR

static void create_params(const struct ali_lb_create *o, struct ali_params *p)
{
	size_t i;

	ali_params_set(p, "LoadBalancerName", o->name);
	ali_params_set(p, "AddressType", o->address_type);
	ali_params_set(p, "VpcId", o->vpc_id);
	ali_params_set(p, "VSwitchId", o->vswitch_id);
	ali_params_set(p, "Address", o->address);
	ali_params_set(p, "LoadBalancerSpec", o->spec);
	ali_params_set(p, "PayType", o->pay_type);
	ali_params_set(p, "InternetChargeType", o->internet_charge_type);
	ali_params_set(p, "InstanceChargeType", o->instance_charge_type);
	if (o->bandwidth != ALI_UNSET && o->bandwidth != 0)
		ali_params_set_int(p, "Bandwidth", o->bandwidth);
	ali_params_set(p, "ResourceGroupId", o->resource_group_id);
	ali_params_set(p, "ClientToken", o->client_token);
	ali_params_set(p, "DeleteProtection", o->delete_protection);
	ali_params_set(p, "ModificationProtectionStatus",
		       o->modification_protection);
	ali_params_set(p, "ModificationProtectionReason",
		       o->modification_protection_reason);
	ali_params_set(p, "MasterZoneId", o->master_zone_id);
	ali_params_set(p, "SlaveZoneId", o->slave_zone_id);
	ali_params_set(p, "AddressIPVersion", o->address_ip_version);
	for (i = 0; i < o->n_tags; i++) {
		ali_params_set_nth(p, "Tag", i, ".Key", o->tags[i].key);
		ali_params_set_nth(p, "Tag", i, ".Value", o->tags[i].value);
	}
}

int ali_slb_create_lb(struct ali_client *c, const struct ali_lb_create *o,
		      struct ali_lb *out, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	out->bandwidth = ALI_UNSET;
	ali_params_init(&p);
	create_params(o, &p);
	r = ali_client_call(c, ALI_SLB, "CreateLoadBalancer", &p, &resp, err);
	if (r == 0)
		r = parse_lb(resp, out);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_slb_delete_lb(struct ali_client *c, const char *id,
		      struct ali_error *err)
{
	struct ali_params p;

	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", id);
	return simple(c, "DeleteLoadBalancer", &p, err);
}

static int tags_json(const struct ali_tag *t, size_t n, struct buf *b)
{
	size_t i;
	int r = buf_puts(b, "[");

	for (i = 0; r == 0 && i < n; i++) {
		r = buf_puts(b, i ? ",{\"TagKey\":" : "{\"TagKey\":");
		if (!r)
			r = json_buf_str(b, t[i].key);
		if (!r)
			r = buf_puts(b, ",\"TagValue\":");
		if (!r)
			r = json_buf_str(b, t[i].value);
		if (!r)
			r = buf_puts(b, "}");
	}
	return r ? r : buf_puts(b, "]");
}

static int set_tags_param(struct ali_params *p, const struct ali_tag *t,
			  size_t n)
{
	struct buf b;
	int r;

	buf_init(&b, JSON_PARAM_LIMIT);
	r = tags_json(t, n, &b);
	if (!r)
		r = ali_params_set(p, "Tags", b.data);
	buf_done(&b);
	return r;
}

static int append_lbs(const struct json *resp, struct ali_lb_list *out)
{
	const struct json *arr =
		ali_jlist(resp, "LoadBalancers", "LoadBalancer");
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < json_len(arr); i++) {
		struct ali_lb *lb = ali_grow(&out->v, &out->n, sizeof(*lb));

		if (!lb)
			return -ENOMEM;
		r = parse_lb(json_at(arr, i), lb);
	}
	return r;
}

static int filter_params(const struct ali_lb_filter *f, size_t first,
			 struct ali_params *p)
{
	struct buf ids;
	size_t i;
	int r = 0;

	ali_params_set(p, "LoadBalancerName", f->name);
	ali_params_set(p, "VpcId", f->vpc_id);
	ali_params_set(p, "Address", f->address);
	if (f->n_tags)
		set_tags_param(p, f->tags, f->n_tags);
	if (!f->n_ids)
		return p->err;
	buf_init(&ids, JSON_PARAM_LIMIT);
	for (i = first; r == 0 && i < f->n_ids && i < first + LB_IDS_PER_CALL;
	     i++)
		r = buf_printf(&ids, "%s%s", i > first ? "," : "", f->ids[i]);
	if (!r)
		ali_params_set(p, "LoadBalancerId", ids.data);
	buf_done(&ids);
	return r ? r : p->err;
}

/* All pages of one DescribeLoadBalancers filter. */
static int describe_pages(struct ali_client *c, struct ali_params *p,
			  struct ali_lb_list *out, struct ali_error *err)
{
	long long page = 1, total;
	int r;

	for (;;) {
		struct json *resp = NULL;
		size_t before = out->n;

		ali_params_set_int(p, "PageNumber", page);
		ali_params_set_int(p, "PageSize", LB_PAGE_SIZE);
		r = ali_client_call(c, ALI_SLB, "DescribeLoadBalancers", p,
				    &resp, err);
		if (r == 0)
			r = append_lbs(resp, out);
		total = ali_jint(resp, "TotalCount", 0);
		json_free(resp);
		if (r < 0 || out->n == before || (long long)out->n >= total)
			return r;
		page++;
	}
}

int ali_slb_describe_lbs(struct ali_client *c, const struct ali_lb_filter *f,
			 struct ali_lb_list *out, struct ali_error *err)
{
	size_t first = 0;
	int r;

	memset(out, 0, sizeof(*out));
	do {
		struct ali_params p;
		struct ali_lb_list part = {0};

		ali_params_init(&p);
		r = filter_params(f, first, &p);
		if (!r)
			r = describe_pages(c, &p, &part, err);
		ali_params_done(&p);
		if (r == 0 && part.n) {
			struct ali_lb *nv = realloc(
				out->v, (out->n + part.n) * sizeof(*nv));

			if (!nv) {
				r = -ENOMEM;
			} else {
				out->v = nv;
				memcpy(nv + out->n, part.v,
				       part.n * sizeof(*nv));
				out->n += part.n;
				free(part.v);
				part.v = NULL;
				part.n = 0;
			}
		}
		ali_lb_list_done(&part);
		first += LB_IDS_PER_CALL;
	} while (r == 0 && first < f->n_ids);
	if (r < 0)
		ali_lb_list_done(out);
	return r;
}

int ali_slb_describe_lb(struct ali_client *c, const char *id,
			struct ali_lb *out, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", id);
	r = ali_client_call(c, ALI_SLB, "DescribeLoadBalancerAttribute", &p,
			    &resp, err);
	if (r == 0)
		r = parse_lb(resp, out);
	if (r == 0)
		r = parse_listener_ports(resp, out);
	if (r < 0)
		ali_lb_done(out);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

static int set_attr(struct ali_client *c, const char *action, const char *id,
		    const char *k1, const char *v1, const char *k2,
		    const char *v2, struct ali_error *err)
{
	struct ali_params p;

	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", id);
	ali_params_set(&p, k1, v1);
	if (k2)
		ali_params_set(&p, k2, v2);
	return simple(c, action, &p, err);
}

int ali_slb_set_delete_protection(struct ali_client *c, const char *id, int on,
				  struct ali_error *err)
{
	return set_attr(c, "SetLoadBalancerDeleteProtection", id,
			"DeleteProtection", on ? "on" : "off", NULL, NULL, err);
}

int ali_slb_set_modification_protection(struct ali_client *c, const char *id,
					const char *status, const char *reason,
					struct ali_error *err)
{
	return set_attr(c, "SetLoadBalancerModificationProtection", id,
			"ModificationProtectionStatus", status,
			"ModificationProtectionReason", reason, err);
}

int ali_slb_set_name(struct ali_client *c, const char *id, const char *name,
		     struct ali_error *err)
{
	return set_attr(c, "SetLoadBalancerName", id, "LoadBalancerName", name,
			NULL, NULL, err);
}

int ali_slb_modify_spec(struct ali_client *c, const char *id, const char *spec,
			struct ali_error *err)
{
	return set_attr(c, "ModifyLoadBalancerInstanceSpec", id,
			"LoadBalancerSpec", spec, NULL, NULL, err);
}

int ali_slb_modify_internet_spec(struct ali_client *c, const char *id,
				 const char *charge_type, int bandwidth,
				 struct ali_error *err)
{
	char bw[16];

	snprintf(bw, sizeof(bw), "%d", bandwidth);
	return set_attr(c, "ModifyLoadBalancerInternetSpec", id,
			"InternetChargeType", charge_type, "Bandwidth",
			bandwidth != ALI_UNSET && bandwidth > 0 ? bw : NULL,
			err);
}

/* spec only with PayBySpec: the API rejects it with PayByCLCU. */
int ali_slb_modify_charge_type(struct ali_client *c, const char *id,
			       const char *charge_type, const char *spec,
			       struct ali_error *err)
{
	return set_attr(c, "ModifyLoadBalancerInstanceChargeType", id,
			"InstanceChargeType", charge_type, "LoadBalancerSpec",
			spec && *spec ? spec : NULL, err);
}

static int tag_batches(struct ali_client *c, const char *action, const char *id,
		       const struct ali_tag *t, size_t n, struct ali_error *err)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < n; i += TAGS_PER_CALL) {
		struct ali_params p;

		ali_params_init(&p);
		ali_params_set(&p, "LoadBalancerId", id);
		set_tags_param(&p, t + i,
			       n - i < TAGS_PER_CALL ? n - i : TAGS_PER_CALL);
		r = simple(c, action, &p, err);
	}
	return r;
}

int ali_slb_add_tags(struct ali_client *c, const char *id,
		     const struct ali_tag *tags, size_t n,
		     struct ali_error *err)
{
	return tag_batches(c, "AddTags", id, tags, n, err);
}

int ali_slb_remove_tags(struct ali_client *c, const char *id,
			const struct ali_tag *tags, size_t n,
			struct ali_error *err)
{
	return tag_batches(c, "RemoveTags", id, tags, n, err);
}

static int append_tagsets(const struct json *resp, struct ali_tag **tags,
			  size_t *n)
{
	const struct json *arr = ali_jlist(resp, "TagSets", "TagSet");
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		struct ali_tag *t = ali_grow(tags, n, sizeof(*t));

		if (!t)
			return -ENOMEM;
		ali_jstr(json_at(arr, i), "TagKey", t->key, sizeof(t->key));
		ali_jstr(json_at(arr, i), "TagValue", t->value,
			 sizeof(t->value));
	}
	return 0;
}

int ali_slb_describe_tags(struct ali_client *c, const char *id,
			  struct ali_tag **tags, size_t *n,
			  struct ali_error *err)
{
	long long page = 1;
	int r;

	*tags = NULL;
	*n = 0;
	for (;;) {
		struct ali_params p;
		struct json *resp = NULL;
		size_t before = *n;

		ali_params_init(&p);
		ali_params_set(&p, "LoadBalancerId", id);
		ali_params_set_int(&p, "PageNumber", page);
		ali_params_set_int(&p, "PageSize", TAGS_PAGE_SIZE);
		r = ali_client_call(c, ALI_SLB, "DescribeTags", &p, &resp, err);
		if (r == 0)
			r = append_tagsets(resp, tags, n);
		if (r == 0 &&
		    (*n == before ||
		     (long long)*n >= ali_jint(resp, "TotalCount", 0)))
			r = 1;
		json_free(resp);
		ali_params_done(&p);
		if (r)
			break;
		page++;
	}
	if (r < 0) {
		free(*tags);
		*tags = NULL;
		*n = 0;
	}
	return r < 0 ? r : 0;
}
