/*
 * slb_cloud - the cloud state of one Service's CLB as last seen.
 *
 * Filled from a full describe (find + attribute + listeners + groups) and
 * then kept current by slb_cloud_note, which applies each successful
 * mutating call to the cache. Diffs run against this cache, so a steady
 * cluster costs no cloud calls and a change costs only its difference.
 *
 * Ownership: slb_cloud_clear frees the lists (the struct itself is the
 * caller's).
 */
#ifndef CCM_SLB_CLOUD_H
#define CCM_SLB_CLOUD_H

#include <stdint.h>

#include "workers/service_lb/slb_types.h"

struct slb_cl_listener {
	int port;
	enum slb_proto proto;
	int running;
	char vg_id[SLB_ID_LEN];
	char desc[SLB_DESC_LEN];
	char lp_sig[20]; /* params as last applied ("" unknown) */
	int fwd_port;	 /* HTTP forwarding to this HTTPS port; 0 none */
};

struct slb_cl_domext {
	int port;
	char id[SLB_ID_LEN];
	char domain[128];
	char cert[128];
};

struct slb_cl_tag {
	char key[128];
	char val[256];
};

struct slb_cl_group {
	char id[SLB_ID_LEN];
	char name[SLB_DESC_LEN];
	struct slb_bes be;
};

struct slb_cloud {
	int exists;
	char lb_id[SLB_ID_LEN];
	char name[128];
	char address[64];
	int intranet;
	int delete_protection;
	int ccm_tagged; /* kubernetes.do.not.delete or ack.aliyun.com */
	/* their values: ownership is both equal to the Service's default
	 * name and this cluster's ID (a mere name match is no ownership) */
	char tag_owner[128];
	char tag_cluster[128];
	char spec[64];
	char mod_protection[32]; /* ConsoleProtection, NonProtection, "" */
	char network_type[16];	 /* classic, vpc, "" unknown */
	struct slb_cl_listener *ls;
	size_t n_ls, cap_ls;
	struct slb_cl_group *gs;
	size_t n_gs, cap_gs;
	struct slb_cl_domext *dx;
	size_t n_dx, cap_dx;
	int dx_read; /* dx is complete (described, or a new CLB) */
	/* attributes compared with the annotations (slb_attrs.h); "" and 0
	 * unknown */
	char master_zone[64];
	char slave_zone[64];
	char ip_version[8];
	char resource_group[64];
	char vswitch_id[64];
	char instance_charge_type[16]; /* PayBySpec, PayByCLCU */
	char internet_charge_type[16]; /* paybytraffic, paybybandwidth */
	int bandwidth;
	int attrs_read; /* described (not only known from the create) */
	struct slb_cl_tag *tags;
	size_t n_tags, cap_tags;
};

void slb_cloud_clear(struct slb_cloud *c);
int slb_cloud_add_listener(struct slb_cloud *c,
			   const struct slb_cl_listener *l);
/* Adds a group (backends copied). */
int slb_cloud_add_group(struct slb_cloud *c, const char *id, const char *name,
			const struct slb_bes *be);
struct slb_cl_listener *slb_cloud_listener(struct slb_cloud *c, int port);
struct slb_cl_group *slb_cloud_group(struct slb_cloud *c, const char *id);
void slb_cloud_del_listener(struct slb_cloud *c, int port);
int slb_cloud_add_domext(struct slb_cloud *c, const struct slb_cl_domext *d);
struct slb_cl_domext *slb_cloud_domext(struct slb_cloud *c, const char *id);
void slb_cloud_del_domext(struct slb_cloud *c, const char *id);
void slb_cloud_del_group(struct slb_cloud *c, const char *id);
/* Adds the tag or sets its value. */
int slb_cloud_set_tag(struct slb_cloud *c, const char *key, const char *val);
const struct slb_cl_tag *slb_cloud_tag(const struct slb_cloud *c,
				       const char *key);
void slb_cloud_del_tag(struct slb_cloud *c, const char *key);
/* Backend list edits on a cached group. */
int slb_group_add(struct slb_cl_group *g, const struct slb_bes *be);
void slb_group_remove(struct slb_cl_group *g, const struct slb_bes *be);
void slb_group_set(struct slb_cl_group *g, const struct slb_bes *be);

#endif
