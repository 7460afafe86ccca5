/*
 * ali_ecs - typed calls to ECS API 2014-05-26: instances and ENIs.
 * Conventions as in ali_slb.h: whole lists out (id lists chunked at 100 per
 * call, NextToken paging inside), caller frees with the _done functions.
 */
#ifndef CCM_ALI_ECS_H
#define CCM_ALI_ECS_H

#include <stddef.h>

#include "alicloud/ali_client.h"
#include "alicloud/ali_slb.h"

/* One IP address; lists of them are allocated whole (no cap: an ENI can
 * hold dozens of secondary IPs, and a dropped one is a dropped pod). */
typedef char ali_ip[64];

struct ali_instance {
	char id[64];
	char name[128];
	char hostname[128];
	char type[64];
	char region[64];
	char zone[64];
	char status[16];
	char network_type[16];
	char vpc_id[64];
	char vswitch_id[64];
	char charge_type[32];
	char spot_strategy[32];
	char eip[64];
	ali_ip *private_ips; /* allocated */
	size_t n_private_ips;
	ali_ip *public_ips; /* allocated */
	size_t n_public_ips;
	char primary_eni[64];
	struct ali_tag *tags;
	size_t n_tags;
};

struct ali_instance_list {
	struct ali_instance *v;
	size_t n;
};

void ali_instance_list_done(struct ali_instance_list *l);

/* DescribeInstances by ids (any number; 100 per call). Unknown ids are
 * simply absent from the result. */
int ali_ecs_instances_by_ids(struct ali_client *c, const char *const *ids,
			     size_t n, struct ali_instance_list *out,
			     struct ali_error *err);
/* DescribeInstances by primary private IPs within a VPC. */
int ali_ecs_instances_by_ips(struct ali_client *c, const char *vpc_id,
			     const char *const *ips, size_t n,
			     struct ali_instance_list *out,
			     struct ali_error *err);

struct ali_eni {
	char id[64];
	char status[16];
	char type[16]; /* Primary, Secondary */
	char vpc_id[64];
	char vswitch_id[64];
	char zone[64];
	char instance_id[64];
	char private_ip[64];
	ali_ip *ips; /* all private IPs, primary first (allocated) */
	size_t n_ips;
	ali_ip *ipv6s; /* Ipv6Sets (allocated) */
	size_t n_ipv6s;
	int source_dest_check; /* -1 unknown */
};

struct ali_eni_list {
	struct ali_eni *v;
	size_t n;
};

void ali_eni_list_done(struct ali_eni_list *l);

struct ali_eni_filter {
	const char *vpc_id;
	const char *status; /* e.g. "InUse" */
	const char *const *ips;
	size_t n_ips;
	int ipv6; /* ips are IPv6: matched by Ipv6Address.N */
	const char *const *ids;
	size_t n_ids;
};

/* DescribeNetworkInterfaces; ids and ips are chunked at 100 per call. */
int ali_ecs_enis(struct ali_client *c, const struct ali_eni_filter *f,
		 struct ali_eni_list *out, struct ali_error *err);
/* ModifyNetworkInterfaceAttribute SourceDestCheck=true|false. */
int ali_ecs_set_source_dest_check(struct ali_client *c, const char *eni_id,
				  int on, struct ali_error *err);

#endif
