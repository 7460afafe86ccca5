/*
 * wk_node - the compact Node record every worker keeps, and the predicates
 * the workers share.
 *
 * A worker's node cache stores struct wk_node, not whole Node objects:
 * wk_node_from_json_opts extracts only what that worker reads, as told by
 * its struct wk_node_opts (which strings, which labels, which taints), into
 * one heap block per Node. The labels the shared predicates read
 * (exclusion, virtual, master) are always kept, so a predicate gives the
 * same answer in every worker whatever its options. A string a worker did
 * not ask for reads as it would for a Node without it: NULL for uid,
 * resource_version and provider_id, "" for the others.
 *
 * wk_node_route_eligible is THE route predicate: the route worker uses it
 * to decide which nodes get routes, the node-init worker uses it to decide
 * whether to set NetworkUnavailable, so the two never disagree.
 *
 * Ownership: the record, its strings, labels and taints are one allocation;
 * wk_node_free releases it (NULL is a no-op).
 */
#ifndef CCM_WK_NODE_H
#define CCM_WK_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

#define WK_TAINT_UNINITIALIZED "node.cloudprovider.kubernetes.io/uninitialized"
#define WK_TAINT_SHUTDOWN      "node.cloudprovider.kubernetes.io/shutdown"
#define WK_LABEL_VIRTUAL_KEY   "type"
#define WK_LABEL_VIRTUAL_VAL   "virtual-kubelet"
/* Nodes the cluster autoscaler is about to remove; no new LB traffic. */
#define WK_TAINT_CA_DELETE "ToBeDeletedByClusterAutoscaler"

enum wk_cond {
	WK_COND_ABSENT = 0,
	WK_COND_TRUE,
	WK_COND_FALSE,
	WK_COND_UNKNOWN,
};

/* Values longer than this (region, instance id, pod CIDR, IPs) are not
 * kept: they read "" as they did when these were 64-byte arrays. */
#define WK_NODE_VAL_MAX 63

struct wk_kv {
	char *key;
	char *val;
};

/* Strings name, instance_id, the conditions and the flags are always kept;
 * these bits ask for the rest. */
enum {
	WK_NODE_KEEP_UID = 1u << 0,
	WK_NODE_KEEP_RV = 1u << 1,	    /* resource_version */
	WK_NODE_KEEP_PROVIDER_ID = 1u << 2, /* the raw spec.providerID */
	WK_NODE_KEEP_REGION = 1u << 3,
	WK_NODE_KEEP_POD_CIDR = 1u << 4,
	WK_NODE_KEEP_ADDRS = 1u << 5, /* internal_ip, provided_ip */
	WK_NODE_KEEP_ALL_LABELS = 1u << 6,
	WK_NODE_KEEP_ALL_TAINTS = 1u << 7,
	WK_NODE_KEEP_ALL = 0xffu,
};

struct wk_node_opts {
	unsigned keep; /* WK_NODE_KEEP_* */
	/* NULL-terminated lists of the label and taint keys kept besides
	 * those the shared predicates read (unless KEEP_ALL_*); NULL: none */
	const char *const *label_keys;
	const char *const *taint_keys;
};

struct wk_node {
	const char *name;
	const char *uid;
	const char *resource_version;
	const char *provider_id; /* raw spec.providerID, may be NULL */
	const char *region;	 /* parsed from providerID when it is ECS */
	const char *instance_id;
	const char *pod_cidr4; /* first IPv4 pod CIDR, "" if none */
	const char *internal_ip;
	const char *provided_ip; /* alpha.kubernetes.io/provided-node-ip */
	struct wk_kv *labels;	 /* the kept ones, in the Node's order */
	struct wk_kv *taints;	 /* key, effect */
	uint32_t n_labels;
	uint32_t n_taints;
	uint8_t ready; /* enum wk_cond */
	uint8_t network_unavailable;
	uint8_t unschedulable;
	uint8_t deleting; /* metadata.deletionTimestamp set */
	uint8_t hybrid;	  /* an ack-hybrid:// providerID */
};

/* What each worker's cache keeps (the node-init worker's depends on its
 * cloud config: ni_node_opts_init). */
extern const struct wk_node_opts wk_node_opts_all;
extern const struct wk_node_opts wk_node_opts_route;
extern const struct wk_node_opts wk_node_opts_lb;

/* -EINVAL when obj is not a Node with a name. opts NULL: everything. */
int wk_node_from_json_opts(const struct json *obj,
			   const struct wk_node_opts *opts,
			   struct wk_node **ret);
/* Everything (wk_node_opts_all). */
int wk_node_from_json(const struct json *obj, struct wk_node **ret);
void wk_node_free(struct wk_node *n);

/* The callbacks of the route and service-LB Node informers
 * (kube_informer_opts.extract, ctx unused, and .free_obj). */
int wk_node_extract_route(void *ctx, const struct json *obj, void **out);
int wk_node_extract_lb(void *ctx, const struct json *obj, void **out);
void wk_node_release(void *ctx, void *obj);

const char *wk_node_label(const struct wk_node *n, const char *key);
int wk_node_has_taint(const struct wk_node *n, const char *key);

/* "[alicloud://]<region>.<i-...>" into region and instance id. */
int wk_provider_id_parse(const char *pid, char *region, size_t rlen,
			 char *instance, size_t ilen);

int wk_node_is_ecs(const struct wk_node *n);
int wk_node_is_virtual(const struct wk_node *n);
/* Exclude labels of the Go CCM, and hybrid (ack-hybrid://) providerIDs. */
int wk_node_excluded(const struct wk_node *n);
int wk_node_excluded_from_lb(const struct wk_node *n);
int wk_node_is_master(const struct wk_node *n);
/* "key=value" selector (one pair) against the node's labels. */
int wk_node_matches_selector(const struct wk_node *n, const char *sel);
/* IPv4 podCIDR, ECS providerID, not excluded, not virtual, not deleting. */
int wk_node_route_eligible(const struct wk_node *n);
/* The same predicate for n as it will be once its ECS instance id is
 * instance (NULL or "": as it is), for a caller about to write it. */
int wk_node_route_eligible_as(const struct wk_node *n, const char *instance);

#endif
