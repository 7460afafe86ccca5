#include "alicloud/ali_ecs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_json.h"

#define ECS_CHUNK 100
#define ECS_PAGE  100

void ali_instance_list_done(struct ali_instance_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].tags);
		free(l->v[i].private_ips);
		free(l->v[i].public_ips);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ali_eni_list_done(struct ali_eni_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].ips);
		free(l->v[i].ipv6s);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Appends s to a whole, allocated IP list. */
static int push_ip(ali_ip **v, size_t *n, const char *s)
{
	ali_ip *ip;

	if (!s)
		return 0;
	ip = ali_grow(v, n, sizeof(**v));
	if (!ip)
		return -ENOMEM;
	snprintf(*ip, sizeof(*ip), "%s", s);
	return 0;
}

static int copy_ips(const struct json *arr, ali_ip **v, size_t *n)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < json_len(arr); i++)
		r = push_ip(v, n, json_str(json_at(arr, i)));
	return r;
}

static int parse_instance_tags(const struct json *o, struct ali_instance *in)
{
	const struct json *arr = ali_jlist(o, "Tags", "Tag");
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		struct ali_tag *t =
			ali_grow(&in->tags, &in->n_tags, sizeof(*t));

		if (!t)
			return -ENOMEM;
		ali_jstr(json_at(arr, i), "TagKey", t->key, sizeof(t->key));
		ali_jstr(json_at(arr, i), "TagValue", t->value,
			 sizeof(t->value));
	}
	return 0;
}

static void primary_eni(const struct json *o, struct ali_instance *in)
{
	const struct json *arr =
		ali_jlist(o, "NetworkInterfaces", "NetworkInterface");
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		const char *type = json_path_str(json_at(arr, i), "Type");

		if (i == 0 || (type && strcmp(type, "Primary") == 0))
			ali_jstr(json_at(arr, i), "NetworkInterfaceId",
				 in->primary_eni, sizeof(in->primary_eni));
	}
}

#define STR(field, key) ali_jstr(o, key, in->field, sizeof(in->field))

static int parse_instance(const struct json *o, struct ali_instance *in)
{
	const struct json *vpc = json_get(o, "VpcAttributes");

	STR(id, "InstanceId");
	STR(name, "InstanceName");
	STR(hostname, "HostName");
	STR(type, "InstanceType");
	STR(region, "RegionId");
	STR(zone, "ZoneId");
	STR(status, "Status");
	STR(network_type, "InstanceNetworkType");
	STR(charge_type, "InstanceChargeType");
	STR(spot_strategy, "SpotStrategy");
	ali_jstr(vpc, "VpcId", in->vpc_id, sizeof(in->vpc_id));
	ali_jstr(vpc, "VSwitchId", in->vswitch_id, sizeof(in->vswitch_id));
	ali_jstr(json_get(o, "EipAddress"), "IpAddress", in->eip,
		 sizeof(in->eip));
	if (copy_ips(ali_jlist(vpc, "PrivateIpAddress", "IpAddress"),
		     &in->private_ips, &in->n_private_ips) < 0 ||
	    copy_ips(ali_jlist(o, "PublicIpAddress", "IpAddress"),
		     &in->public_ips, &in->n_public_ips) < 0)
		return -ENOMEM;
	primary_eni(o, in);
	return parse_instance_tags(o, in);
}

#undef STR

static int json_array(const char *const *v, size_t n, struct buf *b)
{
	size_t i;
	int r = buf_puts(b, "[");

	for (i = 0; r == 0 && i < n; i++) {
		if (i)
			r = buf_puts(b, ",");
		if (!r)
			r = json_buf_str(b, v[i]);
	}
	return r ? r : buf_puts(b, "]");
}

/* All NextToken pages of one DescribeInstances filter. */
static int instance_pages(struct ali_client *c, struct ali_params *p,
			  struct ali_instance_list *out, struct ali_error *err)
{
	char token[512] = "";
	int r;

	do {
		struct json *resp = NULL;
		const struct json *arr;
		size_t i;

		ali_params_set_int(p, "MaxResults", ECS_PAGE);
		if (token[0])
			ali_params_set(p, "NextToken", token);
		r = ali_client_call(c, ALI_ECS, "DescribeInstances", p, &resp,
				    err);
		arr = ali_jlist(resp, "Instances", "Instance");
		for (i = 0; r == 0 && i < json_len(arr); i++) {
			struct ali_instance *in =
				ali_grow(&out->v, &out->n, sizeof(*in));

			r = in ? parse_instance(json_at(arr, i), in) : -ENOMEM;
		}
		ali_jstr(resp, "NextToken", token, sizeof(token));
		json_free(resp);
	} while (r == 0 && token[0]);
	return r;
}

static int instances_chunked(struct ali_client *c, const char *filter,
			     const char *vpc_id, const char *const *v, size_t n,
			     struct ali_instance_list *out,
			     struct ali_error *err)
{
	size_t i;
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; r == 0 && i < n; i += ECS_CHUNK) {
		struct ali_params p;
		struct buf js;

		ali_params_init(&p);
		buf_init(&js, 64u << 10);
		r = json_array(v + i, n - i < ECS_CHUNK ? n - i : ECS_CHUNK,
			       &js);
		ali_params_set(&p, filter, js.data);
		ali_params_set(&p, "VpcId", vpc_id);
		if (vpc_id)
			ali_params_set(&p, "InstanceNetworkType", "vpc");
		if (r == 0)
			r = instance_pages(c, &p, out, err);
		buf_done(&js);
		ali_params_done(&p);
	}
	if (r < 0)
		ali_instance_list_done(out);
	return r;
}

int ali_ecs_instances_by_ids(struct ali_client *c, const char *const *ids,
			     size_t n, struct ali_instance_list *out,
			     struct ali_error *err)
{
	return instances_chunked(c, "InstanceIds", NULL, ids, n, out, err);
}

int ali_ecs_instances_by_ips(struct ali_client *c, const char *vpc_id,
			     const char *const *ips, size_t n,
			     struct ali_instance_list *out,
			     struct ali_error *err)
{
	return instances_chunked(c, "PrivateIpAddresses", vpc_id, ips, n, out,
				 err);
}

static int parse_eni_ipv6(const struct json *o, struct ali_eni *e)
{
	const struct json *sets = ali_jlist(o, "Ipv6Sets", "Ipv6Set");
	size_t i;

	for (i = 0; i < json_len(sets); i++)
		if (push_ip(&e->ipv6s, &e->n_ipv6s,
			    json_path_str(json_at(sets, i), "Ipv6Address")) < 0)
			return -ENOMEM;
	return 0;
}

static int parse_eni(const struct json *o, struct ali_eni *e)
{
	const struct json *sets = ali_jlist(o, "PrivateIpSets", "PrivateIpSet");
	size_t i;
	int b;

	ali_jstr(o, "NetworkInterfaceId", e->id, sizeof(e->id));
	ali_jstr(o, "Status", e->status, sizeof(e->status));
	ali_jstr(o, "Type", e->type, sizeof(e->type));
	ali_jstr(o, "VpcId", e->vpc_id, sizeof(e->vpc_id));
	ali_jstr(o, "VSwitchId", e->vswitch_id, sizeof(e->vswitch_id));
	ali_jstr(o, "ZoneId", e->zone, sizeof(e->zone));
	ali_jstr(o, "InstanceId", e->instance_id, sizeof(e->instance_id));
	ali_jstr(o, "PrivateIpAddress", e->private_ip, sizeof(e->private_ip));
	e->source_dest_check =
		json_bool(json_get(o, "SourceDestCheck"), &b) == 0 ? b : -1;
	for (i = 0; i < json_len(sets); i++)
		if (push_ip(&e->ips, &e->n_ips,
			    json_path_str(json_at(sets, i),
					  "PrivateIpAddress")) < 0)
			return -ENOMEM;
	return parse_eni_ipv6(o, e);
}

static int eni_pages(struct ali_client *c, struct ali_params *p,
		     struct ali_eni_list *out, struct ali_error *err)
{
	char token[512] = "";
	int r;

	do {
		struct json *resp = NULL;
		const struct json *arr;
		size_t i;

		ali_params_set_int(p, "MaxResults", ECS_PAGE);
		if (token[0])
			ali_params_set(p, "NextToken", token);
		r = ali_client_call(c, ALI_ECS, "DescribeNetworkInterfaces", p,
				    &resp, err);
		arr = ali_jlist(resp, "NetworkInterfaceSets",
				"NetworkInterfaceSet");
		for (i = 0; r == 0 && i < json_len(arr); i++) {
			struct ali_eni *e =
				ali_grow(&out->v, &out->n, sizeof(*e));

			if (!e)
				r = -ENOMEM;
			else
				r = parse_eni(json_at(arr, i), e);
		}
		ali_jstr(resp, "NextToken", token, sizeof(token));
		json_free(resp);
	} while (r == 0 && token[0]);
	return r;
}

/* One call group: ids[first..] or ips[first..] (never both chunked). */
static void eni_params(const struct ali_eni_filter *f, size_t first,
		       struct ali_params *p)
{
	const char *const *v = f->n_ids ? f->ids : f->ips;
	size_t n = f->n_ids ? f->n_ids : f->n_ips, i;
	const char *ipk = f->ipv6 ? "Ipv6Address" : "PrivateIpAddress";

	ali_params_set(p, "VpcId", f->vpc_id);
	ali_params_set(p, "Status", f->status);
	for (i = first; i < n && i < first + ECS_CHUNK; i++)
		ali_params_set_nth(p, f->n_ids ? "NetworkInterfaceId" : ipk,
				   i - first, NULL, v[i]);
	if (f->n_ids && f->n_ips)
		for (i = 0; i < f->n_ips && i < ECS_CHUNK; i++)
			ali_params_set_nth(p, ipk, i, NULL, f->ips[i]);
}

int ali_ecs_enis(struct ali_client *c, const struct ali_eni_filter *f,
		 struct ali_eni_list *out, struct ali_error *err)
{
	size_t n = f->n_ids ? f->n_ids : f->n_ips, first = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	do {
		struct ali_params p;

		ali_params_init(&p);
		eni_params(f, first, &p);
		r = eni_pages(c, &p, out, err);
		ali_params_done(&p);
		first += ECS_CHUNK;
	} while (r == 0 && first < n);
	if (r < 0)
		ali_eni_list_done(out);
	return r;
}

int ali_ecs_set_source_dest_check(struct ali_client *c, const char *eni_id,
				  int on, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	ali_params_init(&p);
	ali_params_set(&p, "NetworkInterfaceId", eni_id);
	ali_params_set(&p, "SourceDestCheck", on ? "true" : "false");
	r = ali_client_call(c, ALI_ECS, "ModifyNetworkInterfaceAttribute", &p,
			    &resp, err);
	json_free(resp);
	ali_params_done(&p);
	return r;
}
