/*
 * ali_vpc - typed calls to VPC API 2016-04-28: route tables and entries,
 * VPC and vSwitch attributes, EIPs. Conventions as in ali_slb.h: whole
 * lists out (paging inside), caller frees with the _done functions, return
 * codes of ali_client_call.
 */
#ifndef CCM_ALI_VPC_H
#define CCM_ALI_VPC_H

#include <stddef.h>

#include "alicloud/ali_client.h"

struct ali_route_hop {
	char id[64];
	char type[32];
};

/* The cloud caps RouteEntryName at 128 and Description at 256 characters;
 * a longer value than these buffers hold is read as "" (never as a
 * truncated marker). */
#define ALI_ROUTE_NAME_MAX 160
#define ALI_ROUTE_DESC_MAX 320

struct ali_route_entry {
	char route_table_id[64];
	char id[64];
	char cidr[64];
	char next_hop_id[64]; /* the first hop (== hops[0]) */
	char next_hop_type[32];
	struct ali_route_hop *hops; /* every next hop (ECMP has several) */
	size_t n_hops;
	char name[ALI_ROUTE_NAME_MAX];	      /* RouteEntryName */
	char description[ALI_ROUTE_DESC_MAX]; /* Description */
	char type[16];			      /* Custom, System, ... */
	char status[16]; /* Pending, Available, Modifying, Deleting */
};

struct ali_route_list {
	struct ali_route_entry *v;
	size_t n;
};

void ali_route_list_done(struct ali_route_list *l);

/* Route table ids of a VPC (DescribeRouteTableList, paged). */
int ali_vpc_route_tables(struct ali_client *c, const char *vpc_id,
			 char (**ids)[64], size_t *n, struct ali_error *err);

struct ali_route_filter {
	const char *entry_type;	   /* e.g. "Custom"; NULL: all */
	const char *next_hop_type; /* e.g. "Instance"; NULL: all */
	const char *next_hop_id;
	const char *cidr;
};

/* DescribeRouteEntryList over NextToken pages, read whole: a page that
 * fails, or a NextToken that does not advance, fails the whole listing
 * (out is then empty) so that no caller plans from part of a table. */
int ali_vpc_route_entries(struct ali_client *c, const char *table_id,
			  const struct ali_route_filter *f,
			  struct ali_route_list *out, struct ali_error *err);
/* Optional RouteEntryName / Description of a created entry (NULL: none). */
struct ali_route_marks {
	const char *name;
	const char *description;
};

/* CreateRouteEntry, NextHopType=Instance. client_token (may be NULL) makes
 * it idempotent and retryable; id_out (may be NULL) gets RouteEntryId. */
int ali_vpc_create_route(struct ali_client *c, const char *table_id,
			 const char *cidr, const char *next_hop_id,
			 const struct ali_route_marks *marks,
			 const char *client_token, char id_out[64],
			 struct ali_error *err);
/* DeleteRouteEntry by table + cidr + next hop. */
int ali_vpc_delete_route(struct ali_client *c, const char *table_id,
			 const char *cidr, const char *next_hop_id,
			 struct ali_error *err);

/* Batch route calls (CreateRouteEntries/DeleteRouteEntries, 50 rows per
 * call, no ClientToken: an ambiguous failure returns ALI_E_AMBIGUOUS and
 * the caller lists the table before retrying). Rows the API refused come
 * back in *failed (freed with free()); the call itself still returns 0. */
struct ali_route_req {
	const char *table_id;
	const char *cidr;
	const char *next_hop_id;
	const char *name;	 /* create only, may be NULL */
	const char *description; /* create only, may be NULL */
};

struct ali_route_failure {
	char cidr[64];
	char next_hop_id[64];
	char code[64];
	char message[256];
};

int ali_vpc_create_routes(struct ali_client *c,
			  const struct ali_route_req *rows, size_t n,
			  struct ali_route_failure **failed, size_t *n_failed,
			  struct ali_error *err);
int ali_vpc_delete_routes(struct ali_client *c,
			  const struct ali_route_req *rows, size_t n,
			  struct ali_route_failure **failed, size_t *n_failed,
			  struct ali_error *err);

struct ali_vpc {
	char id[64];
	char name[128];
	char cidr[64];
	char ipv6_cidr[64];
	char vrouter_id[64];
	char status[16];
	char (*secondary_cidrs)[64];
	size_t n_secondary;
	char (*route_table_ids)[64]; /* DescribeVpcs only */
	size_t n_route_tables;
};

struct ali_vpc_list {
	struct ali_vpc *v;
	size_t n;
};

void ali_vpc_done(struct ali_vpc *v);
void ali_vpc_list_done(struct ali_vpc_list *l);
int ali_vpc_describe(struct ali_client *c, const char *vpc_id,
		     struct ali_vpc *out, struct ali_error *err);
/* DescribeVpcs, optionally filtered by id (NULL: all), paged. */
int ali_vpc_list(struct ali_client *c, const char *vpc_id,
		 struct ali_vpc_list *out, struct ali_error *err);

struct ali_vswitch {
	char id[64];
	char vpc_id[64];
	char zone_id[64];
	char cidr[64];
	char status[16];
	long long available_ips;
};

int ali_vpc_describe_vswitch(struct ali_client *c, const char *vsw_id,
			     struct ali_vswitch *out, struct ali_error *err);

struct ali_eip {
	char allocation_id[64];
	char ip[64];
	char instance_id[64];
	char instance_type[32];
	char status[16];
};

/* DescribeEipAddresses by associated instance (type e.g. "SlbInstance";
 * both may be NULL), paged; *out freed with free(). */
int ali_vpc_describe_eips(struct ali_client *c, const char *instance_type,
			  const char *instance_id, struct ali_eip **out,
			  size_t *n, struct ali_error *err);

#endif
