/*
 * ali_slb - typed calls to SLB (CLB) API 2014-05-15.
 *
 * Plain structs out; the caller owns them and releases lists with the
 * matching _done function. Paging and per-call list limits (10 ids/tags per
 * DescribeLoadBalancers, 10 tags per AddTags, ALI_SLB_BATCH backends per
 * vServer call, or the client's backend_batch) are handled inside: the
 * caller passes and gets whole lists.
 *
 * Every function returns 0 or the ali_client_call codes (ALI_E_API with
 * err filled, ALI_E_AMBIGUOUS for creates without ClientToken whose outcome
 * is unknown: describe before retrying, -EPERM dry-run, ...).
 *
 * Optional inputs: NULL strings and ALI_UNSET integers are not sent. In
 * outputs, "" and ALI_UNSET mean the API did not return the field.
 */
#ifndef CCM_ALI_SLB_H
#define CCM_ALI_SLB_H

#include <limits.h>
#include <stddef.h>

#include "alicloud/ali_client.h"

#define ALI_UNSET INT_MIN

struct ali_tag {
	char key[128];
	char value[256];
};

struct ali_listener_port {
	int port;
	char protocol[8]; /* tcp, udp, http, https */
};

struct ali_lb {
	char id[64];
	char name[128];
	char address[64];
	char address_type[16]; /* internet, intranet */
	char address_ip_version[8];
	char network_type[16];
	char vpc_id[64];
	char vswitch_id[64];
	char spec[64];
	char status[16];	   /* active, inactive, locked */
	char delete_protection[8]; /* on, off */
	char modification_protection[32];
	char resource_group_id[64];
	char internet_charge_type[32];
	char pay_type[32];
	char instance_charge_type[32];
	char master_zone_id[64];
	char slave_zone_id[64];
	long long bandwidth; /* ALI_UNSET when absent */
	struct ali_tag *tags;
	size_t n_tags;
	/* DescribeLoadBalancerAttribute only */
	struct ali_listener_port *listeners;
	size_t n_listeners;
};

struct ali_lb_list {
	struct ali_lb *v;
	size_t n;
};

void ali_lb_done(struct ali_lb *lb);
void ali_lb_list_done(struct ali_lb_list *l);

struct ali_lb_create {
	const char *name;
	const char *address_type;
	const char *vpc_id;
	const char *vswitch_id;
	const char *address;
	const char *spec;
	const char *pay_type;
	const char *internet_charge_type;
	const char *instance_charge_type;
	int bandwidth; /* ALI_UNSET or 0: not sent */
	const char *resource_group_id;
	const char *client_token; /* make the create idempotent */
	const char *delete_protection;
	const char *modification_protection;
	const char *modification_protection_reason;
	const char *master_zone_id;
	const char *slave_zone_id;
	const char *address_ip_version;
	const struct ali_tag *tags; /* sent as Tag.N.Key/Value (≤ 20) */
	size_t n_tags;
};

/* out gets id, address, name, network type, vpc and vswitch ids. */
int ali_slb_create_lb(struct ali_client *c, const struct ali_lb_create *o,
		      struct ali_lb *out, struct ali_error *err);
int ali_slb_delete_lb(struct ali_client *c, const char *id,
		      struct ali_error *err);

struct ali_lb_filter {
	const char *const *ids; /* any number; sent 10 per call */
	size_t n_ids;
	const char *name;
	const struct ali_tag *tags; /* AND; ≤ 10 */
	size_t n_tags;
	const char *vpc_id;
	const char *address;
};

int ali_slb_describe_lbs(struct ali_client *c, const struct ali_lb_filter *f,
			 struct ali_lb_list *out, struct ali_error *err);
/* DescribeLoadBalancerAttribute (listener ports, protection, tags). */
int ali_slb_describe_lb(struct ali_client *c, const char *id,
			struct ali_lb *out, struct ali_error *err);
int ali_slb_set_delete_protection(struct ali_client *c, const char *id, int on,
				  struct ali_error *err);
int ali_slb_set_modification_protection(struct ali_client *c, const char *id,
					const char *status, const char *reason,
					struct ali_error *err);
int ali_slb_set_name(struct ali_client *c, const char *id, const char *name,
		     struct ali_error *err);
int ali_slb_modify_spec(struct ali_client *c, const char *id, const char *spec,
			struct ali_error *err);
int ali_slb_modify_internet_spec(struct ali_client *c, const char *id,
				 const char *charge_type, int bandwidth,
				 struct ali_error *err);
/* ModifyLoadBalancerInstanceChargeType; spec NULL: not sent. */
int ali_slb_modify_charge_type(struct ali_client *c, const char *id,
			       const char *charge_type, const char *spec,
			       struct ali_error *err);
/* Legacy AddTags/RemoveTags (JSON Tags, 10 per call); DescribeTags paged. */
int ali_slb_add_tags(struct ali_client *c, const char *id,
		     const struct ali_tag *tags, size_t n,
		     struct ali_error *err);
int ali_slb_remove_tags(struct ali_client *c, const char *id,
			const struct ali_tag *tags, size_t n,
			struct ali_error *err);
int ali_slb_describe_tags(struct ali_client *c, const char *id,
			  struct ali_tag **tags, size_t *n,
			  struct ali_error *err);

/* ---- listeners ---- */

struct ali_listener {
	char lb_id[64];
	char protocol[8]; /* tcp, udp, http, https */
	int port;
	int backend_port;
	int bandwidth;
	char status[16]; /* running, stopped, ... (out) */
	char vserver_group_id[64];
	char scheduler[16];
	char description[256];
	int persistence_timeout;
	int established_timeout;
	char health_check[8]; /* on, off */
	char health_check_type[8];
	int health_check_connect_port;
	int health_check_connect_timeout;
	int health_check_interval;
	int healthy_threshold;
	int unhealthy_threshold;
	int health_check_timeout;
	char health_check_domain[128];
	char health_check_uri[128];
	char health_check_http_code[64];
	char health_check_method[8];
	char sticky_session[8];
	char sticky_session_type[16];
	char cookie[256];
	int cookie_timeout;
	char x_forwarded_for[8];
	char xff_proto[8];
	char xff_slbip[8];
	char xff_slbid[8];
	char xff_slbport[8];
	char xff_client_src_port[8];
	char gzip[8];
	int idle_timeout;
	int request_timeout;
	char listener_forward[8];
	int forward_port;
	char server_certificate_id[128];
	char ca_certificate_id[128];
	char enable_http2[8];
	char tls_cipher_policy[64];
	char acl_id[256];
	char acl_type[16];
	char acl_status[8];
	char connection_drain[8];
	int connection_drain_timeout;
	char proxy_protocol_v2[8]; /* "true", "false" */
};

struct ali_listener_list {
	struct ali_listener *v;
	size_t n;
};

/* Sets every integer to ALI_UNSET and every string to "". */
void ali_listener_init(struct ali_listener *l);
void ali_listener_list_done(struct ali_listener_list *l);

/* Create* / Set*ListenerAttribute for l->protocol on l->lb_id:l->port.
 * Set also sends VServerGroup=on when vserver_group_id is set. */
int ali_slb_create_listener(struct ali_client *c, const struct ali_listener *l,
			    struct ali_error *err);
int ali_slb_set_listener(struct ali_client *c, const struct ali_listener *l,
			 struct ali_error *err);
int ali_slb_describe_listener(struct ali_client *c, const char *lb_id,
			      const char *protocol, int port,
			      struct ali_listener *out, struct ali_error *err);
/* Start/Stop/DeleteLoadBalancerListener (protocol may be NULL). */
int ali_slb_start_listener(struct ali_client *c, const char *lb_id,
			   const char *protocol, int port,
			   struct ali_error *err);
int ali_slb_stop_listener(struct ali_client *c, const char *lb_id,
			  const char *protocol, int port,
			  struct ali_error *err);
int ali_slb_delete_listener(struct ali_client *c, const char *lb_id,
			    const char *protocol, int port,
			    struct ali_error *err);
/* DescribeLoadBalancerListeners over NextToken pages. */
int ali_slb_describe_listeners(struct ali_client *c, const char *lb_id,
			       struct ali_listener_list *out,
			       struct ali_error *err);
/* Builds the parameters of a create (create != 0) or set call; exposed
 * for tests. */
int ali_slb_listener_params(const struct ali_listener *l, int create,
			    struct ali_params *p);

/* ---- domain extensions (SNI certificates of HTTPS listeners) ---- */

struct ali_domext {
	char id[64];
	char domain[128];
	char cert_id[128];
};

/* *out freed with free(). */
int ali_slb_describe_domexts(struct ali_client *c, const char *lb_id, int port,
			     struct ali_domext **out, size_t *n,
			     struct ali_error *err);
/* No ClientToken: ALI_E_AMBIGUOUS means describe before retrying. */
int ali_slb_create_domext(struct ali_client *c, const char *lb_id, int port,
			  const char *domain, const char *cert_id,
			  char id_out[64], struct ali_error *err);
int ali_slb_set_domext(struct ali_client *c, const char *id,
		       const char *cert_id, struct ali_error *err);
int ali_slb_delete_domext(struct ali_client *c, const char *id,
			  struct ali_error *err);

/* ---- vServer groups ---- */

struct ali_backend {
	char server_id[64];
	char server_ip[64];
	char type[8]; /* ecs (default), eni, eci */
	char description[256];
	int port;
	int weight;
};

struct ali_vgroup {
	char id[64];
	char name[256];
	char lb_id[64];
	struct ali_backend *backends;
	size_t n_backends;
};

struct ali_vgroup_list {
	struct ali_vgroup *v;
	size_t n;
};

void ali_vgroup_done(struct ali_vgroup *g);
void ali_vgroup_list_done(struct ali_vgroup_list *l);

/* Creates the group with the first batch of backends and adds the rest.
 * On ALI_E_AMBIGUOUS from the create, DescribeVServerGroups by name shows
 * whether it exists. id_out is set once the group exists. */
int ali_slb_create_vgroup(struct ali_client *c, const char *lb_id,
			  const char *name, const struct ali_backend *b,
			  size_t n, char id_out[64], struct ali_error *err);
int ali_slb_delete_vgroup(struct ali_client *c, const char *id,
			  struct ali_error *err);
/* Ids and names (no backends) of an LB's groups. */
int ali_slb_describe_vgroups(struct ali_client *c, const char *lb_id,
			     struct ali_vgroup_list *out,
			     struct ali_error *err);
int ali_slb_describe_vgroup(struct ali_client *c, const char *id,
			    struct ali_vgroup *out, struct ali_error *err);
int ali_slb_add_backends(struct ali_client *c, const char *id,
			 const struct ali_backend *b, size_t n,
			 struct ali_error *err);
int ali_slb_remove_backends(struct ali_client *c, const char *id,
			    const struct ali_backend *b, size_t n,
			    struct ali_error *err);
/* SetVServerGroupAttribute: weights/descriptions of existing members. */
int ali_slb_set_backends(struct ali_client *c, const char *id,
			 const struct ali_backend *b, size_t n,
			 struct ali_error *err);
/* ModifyVServerGroupBackendServers: replaces old[i] by new_[i]. */
int ali_slb_modify_backends(struct ali_client *c, const char *id,
			    const struct ali_backend *old,
			    const struct ali_backend *new_, size_t n,
			    struct ali_error *err);
/* The BackendServers JSON of b[0..n) (exposed for tests). */
int ali_backends_json(const struct ali_backend *b, size_t n, struct buf *out);

#endif
