#include "alicloud/ali_vpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_json.h"

#define TABLE_PAGE 50
#define ENTRY_PAGE 100
#define VPC_PAGE   50
#define EIP_PAGE   50

void ali_route_list_done(struct ali_route_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].hops);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* One page of a PageNumber/PageSize action; *more says whether to go on. */
static int page_call(struct ali_client *c, const char *action,
		     struct ali_params *p, long long page, long long size,
		     struct json **resp, struct ali_error *err)
{
	ali_params_set_int(p, "PageNumber", page);
	ali_params_set_int(p, "PageSize", size);
	return ali_client_call(c, ALI_VPC, action, p, resp, err);
}

static int more_pages(const struct json *resp, size_t have, size_t got)
{
	return got > 0 && (long long)have < ali_jint(resp, "TotalCount", 0);
}

int ali_vpc_route_tables(struct ali_client *c, const char *vpc_id,
			 char (**ids)[64], size_t *n, struct ali_error *err)
{
	long long page = 1;
	int r, more;

	*ids = NULL;
	*n = 0;
	do {
		struct ali_params p;
		struct json *resp = NULL;
		const struct json *arr;
		size_t i;

		ali_params_init(&p);
		ali_params_set(&p, "VpcId", vpc_id);
		r = page_call(c, "DescribeRouteTableList", &p, page++,
			      TABLE_PAGE, &resp, err);
		arr = ali_jlist(resp, "RouterTableList", "RouterTableListType");
		for (i = 0; r == 0 && i < json_len(arr); i++)
			r = ali_push_id(
				ids, n,
				json_path_str(json_at(arr, i), "RouteTableId"));
		more = r == 0 && more_pages(resp, *n, json_len(arr));
		json_free(resp);
		ali_params_done(&p);
	} while (more);
	if (r < 0) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return r;
}

/* A value that does not fit is dropped whole: a cut name could read as
 * this cluster's marker. */
static void jstr_whole(const struct json *o, const char *key, char *dst,
		       size_t n)
{
	const char *v = json_path_str(o, key);

	dst[0] = '\0';
	if (v && strlen(v) < n)
		memcpy(dst, v, strlen(v) + 1);
}

static int parse_hops(const struct json *e, struct ali_route_entry *re)
{
	const struct json *hops = ali_jlist(e, "NextHops", "NextHop");
	size_t i;

	for (i = 0; i < json_len(hops); i++) {
		struct ali_route_hop *h =
			ali_grow(&re->hops, &re->n_hops, sizeof(*h));

		if (!h)
			return -ENOMEM;
		ali_jstr(json_at(hops, i), "NextHopId", h->id, sizeof(h->id));
		ali_jstr(json_at(hops, i), "NextHopType", h->type,
			 sizeof(h->type));
	}
	return 0;
}

static int parse_entry(const struct json *e, struct ali_route_entry *re)
{
	int r;

	ali_jstr(e, "RouteTableId", re->route_table_id,
		 sizeof(re->route_table_id));
	ali_jstr(e, "RouteEntryId", re->id, sizeof(re->id));
	ali_jstr(e, "DestinationCidrBlock", re->cidr, sizeof(re->cidr));
	ali_jstr(e, "Type", re->type, sizeof(re->type));
	ali_jstr(e, "Status", re->status, sizeof(re->status));
	jstr_whole(e, "RouteEntryName", re->name, sizeof(re->name));
	jstr_whole(e, "Description", re->description, sizeof(re->description));
	r = parse_hops(e, re);
	if (r < 0)
		return r;
	if (re->n_hops > 0) {
		memcpy(re->next_hop_id, re->hops[0].id,
		       sizeof(re->next_hop_id));
		memcpy(re->next_hop_type, re->hops[0].type,
		       sizeof(re->next_hop_type));
		return 0;
	}
	/* Older answers carry one hop at the top level. */
	ali_jstr(e, "NextHopId", re->next_hop_id, sizeof(re->next_hop_id));
	if (!re->next_hop_id[0])
		ali_jstr(e, "InstanceId", re->next_hop_id,
			 sizeof(re->next_hop_id));
	ali_jstr(e, "NextHopType", re->next_hop_type,
		 sizeof(re->next_hop_type));
	if (!re->next_hop_id[0])
		return 0;
	re->hops = calloc(1, sizeof(*re->hops));
	if (!re->hops)
		return -ENOMEM;
	re->n_hops = 1;
	memcpy(re->hops[0].id, re->next_hop_id, sizeof(re->hops[0].id));
	memcpy(re->hops[0].type, re->next_hop_type, sizeof(re->hops[0].type));
	return 0;
}

static void entry_filter(struct ali_params *p, const char *table_id,
			 const struct ali_route_filter *f)
{
	ali_params_set(p, "RouteTableId", table_id);
	ali_params_set_int(p, "MaxResult", ENTRY_PAGE);
	if (!f)
		return;
	ali_params_set(p, "RouteEntryType", f->entry_type);
	ali_params_set(p, "NextHopType", f->next_hop_type);
	ali_params_set(p, "NextHopId", f->next_hop_id);
	ali_params_set(p, "DestinationCidrBlock", f->cidr);
}

/* The next page's token, or an error when paging would not advance. */
static int next_token(const struct json *resp, char *token, size_t n,
		      const char *table_id, struct ali_error *err)
{
	const char *t = json_path_str(resp, "NextToken");

	if (!t || !t[0]) {
		token[0] = '\0';
		return 0;
	}
	if (strlen(t) >= n || strcmp(t, token) == 0) {
		ali_error_set(err, 0, "InvalidResponse",
			      "DescribeRouteEntryList of %s: NextToken %s; "
			      "the table cannot be read whole",
			      table_id,
			      strlen(t) >= n ? "too long" : "repeated");
		return -EPROTO;
	}
	memcpy(token, t, strlen(t) + 1);
	return 0;
}

int ali_vpc_route_entries(struct ali_client *c, const char *table_id,
			  const struct ali_route_filter *f,
			  struct ali_route_list *out, struct ali_error *err)
{
	char token[512] = "";
	int r;

	memset(out, 0, sizeof(*out));
	do {
		struct ali_params p;
		struct json *resp = NULL;
		const struct json *arr;
		size_t i;

		ali_params_init(&p);
		entry_filter(&p, table_id, f);
		if (token[0])
			ali_params_set(&p, "NextToken", token);
		r = ali_client_call(c, ALI_VPC, "DescribeRouteEntryList", &p,
				    &resp, err);
		arr = ali_jlist(resp, "RouteEntrys", "RouteEntry");
		for (i = 0; r == 0 && i < json_len(arr); i++) {
			struct ali_route_entry *re =
				ali_grow(&out->v, &out->n, sizeof(*re));

			r = re ? parse_entry(json_at(arr, i), re) : -ENOMEM;
		}
		if (r == 0)
			r = next_token(resp, token, sizeof(token), table_id,
				       err);
		json_free(resp);
		ali_params_done(&p);
	} while (r == 0 && token[0]);
	if (r < 0)
		ali_route_list_done(out);
	return r;
}

int ali_vpc_create_route(struct ali_client *c, const char *table_id,
			 const char *cidr, const char *next_hop_id,
			 const struct ali_route_marks *marks,
			 const char *client_token, char id_out[64],
			 struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	ali_params_init(&p);
	ali_params_set(&p, "RouteTableId", table_id);
	ali_params_set(&p, "DestinationCidrBlock", cidr);
	ali_params_set(&p, "NextHopType", "Instance");
	ali_params_set(&p, "NextHopId", next_hop_id);
	if (marks) {
		ali_params_set(&p, "RouteEntryName", marks->name);
		ali_params_set(&p, "Description", marks->description);
	}
	ali_params_set(&p, "ClientToken", client_token);
	r = ali_client_call(c, ALI_VPC, "CreateRouteEntry", &p, &resp, err);
	if (r == 0 && id_out)
		ali_jstr(resp, "RouteEntryId", id_out, 64);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_vpc_delete_route(struct ali_client *c, const char *table_id,
			 const char *cidr, const char *next_hop_id,
			 struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	ali_params_init(&p);
	ali_params_set(&p, "RouteTableId", table_id);
	ali_params_set(&p, "DestinationCidrBlock", cidr);
	ali_params_set(&p, "NextHopId", next_hop_id);
	r = ali_client_call(c, ALI_VPC, "DeleteRouteEntry", &p, &resp, err);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

void ali_vpc_done(struct ali_vpc *v)
{
	if (!v)
		return;
	free(v->secondary_cidrs);
	free(v->route_table_ids);
	v->secondary_cidrs = v->route_table_ids = NULL;
	v->n_secondary = v->n_route_tables = 0;
}

void ali_vpc_list_done(struct ali_vpc_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		ali_vpc_done(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int push_strings(const struct json *arr, char (**ids)[64], size_t *n)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < json_len(arr); i++)
		if (json_str(json_at(arr, i)))
			r = ali_push_id(ids, n, json_str(json_at(arr, i)));
	return r;
}

static int parse_vpc(const struct json *o, struct ali_vpc *v)
{
	int r;

	ali_jstr(o, "VpcId", v->id, sizeof(v->id));
	ali_jstr(o, "VpcName", v->name, sizeof(v->name));
	ali_jstr(o, "CidrBlock", v->cidr, sizeof(v->cidr));
	ali_jstr(o, "Ipv6CidrBlock", v->ipv6_cidr, sizeof(v->ipv6_cidr));
	ali_jstr(o, "VRouterId", v->vrouter_id, sizeof(v->vrouter_id));
	ali_jstr(o, "Status", v->status, sizeof(v->status));
	r = push_strings(
		ali_jlist(o, "SecondaryCidrBlocks", "SecondaryCidrBlock"),
		&v->secondary_cidrs, &v->n_secondary);
	if (!r)
		r = push_strings(
			ali_jlist(o, "RouterTableIds", "RouterTableIds"),
			&v->route_table_ids, &v->n_route_tables);
	return r;
}

int ali_vpc_describe(struct ali_client *c, const char *vpc_id,
		     struct ali_vpc *out, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	ali_params_init(&p);
	ali_params_set(&p, "VpcId", vpc_id);
	r = ali_client_call(c, ALI_VPC, "DescribeVpcAttribute", &p, &resp, err);
	if (r == 0)
		r = parse_vpc(resp, out);
	if (r < 0)
		ali_vpc_done(out);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_vpc_list(struct ali_client *c, const char *vpc_id,
		 struct ali_vpc_list *out, struct ali_error *err)
{
	long long page = 1;
	int r, more;

	memset(out, 0, sizeof(*out));
	do {
		struct ali_params p;
		struct json *resp = NULL;
		const struct json *arr;
		size_t i;

		ali_params_init(&p);
		ali_params_set(&p, "VpcId", vpc_id);
		r = page_call(c, "DescribeVpcs", &p, page++, VPC_PAGE, &resp,
			      err);
		arr = ali_jlist(resp, "Vpcs", "Vpc");
		for (i = 0; r == 0 && i < json_len(arr); i++) {
			struct ali_vpc *v =
				ali_grow(&out->v, &out->n, sizeof(*v));

			r = v ? parse_vpc(json_at(arr, i), v) : -ENOMEM;
		}
		more = r == 0 && more_pages(resp, out->n, json_len(arr));
		json_free(resp);
		ali_params_done(&p);
	} while (more);
	if (r < 0)
		ali_vpc_list_done(out);
	return r;
}

int ali_vpc_describe_vswitch(struct ali_client *c, const char *vsw_id,
			     struct ali_vswitch *out, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	ali_params_init(&p);
	ali_params_set(&p, "VSwitchId", vsw_id);
	r = ali_client_call(c, ALI_VPC, "DescribeVSwitchAttributes", &p, &resp,
			    err);
	if (r == 0) {
		ali_jstr(resp, "VSwitchId", out->id, sizeof(out->id));
		ali_jstr(resp, "VpcId", out->vpc_id, sizeof(out->vpc_id));
		ali_jstr(resp, "ZoneId", out->zone_id, sizeof(out->zone_id));
		ali_jstr(resp, "CidrBlock", out->cidr, sizeof(out->cidr));
		ali_jstr(resp, "Status", out->status, sizeof(out->status));
		out->available_ips =
			ali_jint(resp, "AvailableIpAddressCount", -1);
	}
	json_free(resp);
	ali_params_done(&p);
	return r;
}

static int parse_eips(const struct json *arr, struct ali_eip **out, size_t *n)
{
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		const struct json *e = json_at(arr, i);
		struct ali_eip *x = ali_grow(out, n, sizeof(*x));

		if (!x)
			return -ENOMEM;
		ali_jstr(e, "AllocationId", x->allocation_id,
			 sizeof(x->allocation_id));
		ali_jstr(e, "IpAddress", x->ip, sizeof(x->ip));
		ali_jstr(e, "InstanceId", x->instance_id,
			 sizeof(x->instance_id));
		ali_jstr(e, "InstanceType", x->instance_type,
			 sizeof(x->instance_type));
		ali_jstr(e, "Status", x->status, sizeof(x->status));
	}
	return 0;
}

int ali_vpc_describe_eips(struct ali_client *c, const char *instance_type,
			  const char *instance_id, struct ali_eip **out,
			  size_t *n, struct ali_error *err)
{
	long long page = 1;
	int r, more;

	*out = NULL;
	*n = 0;
	do {
		struct ali_params p;
		struct json *resp = NULL;
		const struct json *arr;

		ali_params_init(&p);
		ali_params_set(&p, "AssociatedInstanceType", instance_type);
		ali_params_set(&p, "AssociatedInstanceId", instance_id);
		r = page_call(c, "DescribeEipAddresses", &p, page++, EIP_PAGE,
			      &resp, err);
		arr = ali_jlist(resp, "EipAddresses", "EipAddress");
		if (r == 0)
			r = parse_eips(arr, out, n);
		more = r == 0 && more_pages(resp, *n, json_len(arr));
		json_free(resp);
		ali_params_done(&p);
	} while (more);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}
