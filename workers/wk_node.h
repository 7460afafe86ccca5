/*
 * wk_node - the compact Node record every worker keeps, and the predicates
 * the workers share.
 *
 * A worker's node cache stores struct wk_node, not whole Node objects:
 * wk_node_from_json extracts only the fields the controllers read.
 * wk_node_route_eligible is THE route predicate: the route worker uses it
 * to decide which nodes get routes, the node-init worker uses it to decide
 * whether to set NetworkUnavailable, so the two never disagree.
 *
 * Ownership: a wk_node owns its heap strings; wk_node_free releases them
 * and the node (NULL is a no-op).
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

enum wk_cond {
	WK_COND_ABSENT = 0,
	WK_COND_TRUE,
	WK_COND_FALSE,
	WK_COND_UNKNOWN,
};

struct wk_kv {
	char *key;
	char *val;
};

struct wk_node {
	char *name;
	char *uid;
	char *resource_version;
	char *provider_id; /* raw spec.providerID, may be NULL */
	char region[64];   /* parsed from providerID when it is ECS */
	char instance_id[64];
	char pod_cidr4[64]; /* first IPv4 pod CIDR, "" if none */
	char internal_ip[64];
	char provided_ip[64]; /* alpha.kubernetes.io/provided-node-ip */
	int unschedulable;
	int deleting; /* metadata.deletionTimestamp set */
	enum wk_cond ready;
	enum wk_cond network_unavailable;
	struct wk_kv *labels;
	size_t n_labels;
	struct wk_kv *taints; /* key, effect */
	size_t n_taints;
};

/* -EINVAL when obj is not a Node with a name. */
int wk_node_from_json(const struct json *obj, struct wk_node **ret);
void wk_node_free(struct wk_node *n);

/* The two callbacks of a Node informer (kube_informer_opts.extract and
 * .free_obj), so every worker's node cache stores struct wk_node. */
int wk_node_extract(void *ctx, const struct json *obj, void **out);
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

#endif
