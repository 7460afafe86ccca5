/*
 * ni_model - what the node-init worker knows about a Node and an ECS
 * instance.
 *
 * struct ni_node wraps the shared struct wk_node with the extra fields the
 * initialization patches need and wk_node does not keep: the full address
 * list (to detect drift and keep Hostname entries) and the taints with
 * values (spec.taints is replaced whole, so every other taint must be
 * written back unchanged).
 *
 * struct ni_instance is one DescribeInstances entry reduced to the fields
 * the worker uses; ni_instances_parse appends a response page to a
 * growable array.
 *
 * Nothing is cut: a Node whose address list cannot be held whole (an
 * entry longer than NI_ADDR_MAX) fails ni_node_from_json with
 * -E2BIG, since the worker rewrites that list whole.
 *
 * The wk_node inside keeps what node-init reads (struct ni_node_opts): the
 * strings it patches or compares, its cloud labels, kubernetes.io/hostname,
 * the keys of the cloud config's nonECSNodeSelector and the uninitialized
 * and shutdown taints.
 *
 * Ownership: ni_node_from_json returns a node freed by ni_node_free (NULL
 * is a no-op); ni_instances_parse grows *v, which the caller free()s.
 */
#ifndef CCM_NI_MODEL_H
#define CCM_NI_MODEL_H

#include <stddef.h>

#include "lib/json.h"
#include "workers/wk_node.h"

/* Above what one instance reports (primary private IPs, public IP, EIP);
 * an instance with more is flagged ips_overflow and its addresses are not
 * written (never a cut list). */
#define NI_MAX_IPS 64
#define NI_IP_LEN  64

/* Longest values a Node may hold here: an address or taint past them fails
 * ni_node_from_json with -E2BIG (the worker rewrites these lists whole, so
 * it never writes back what it could not read). */
#define NI_ADDR_TYPE_MAX 15
#define NI_ADDR_MAX	 255
#define NI_TAINT_KEY_MAX 319

/* Strings borrowed from the node or instance the entry was read from. */
struct ni_addr {
	const char *type; /* InternalIP, ExternalIP, Hostname, ... */
	const char *address;
};

struct ni_taint {
	const char *key;
	const char *value; /* "" when absent, as effect and time_added */
	const char *effect;
	const char *time_added;
};

struct ni_node {
	struct wk_node *wk;
	struct ni_addr *addrs; /* status.addresses, read whole */
	size_t n_addrs;
	/* status.addresses had entries, even ones without type or address:
	 * only then is there a list for "$patch":"replace" to replace. */
	int addrs_listed;
	struct ni_taint *taints;
	size_t n_taints;
	const char *hostname_label; /* kubernetes.io/hostname, "" if none */
};

/* Keys of the cloud config's nonECSNodeSelector ("k=v,k2=v2") kept; a
 * selector with more keeps every label. */
#define NI_SELECTOR_KEYS 8

struct ni_node_opts {
	struct wk_node_opts wk;
	const char *labels[NI_SELECTOR_KEYS + 16]; /* wk.label_keys */
	char sel[256];				   /* the selector's keys */
};

struct ni_instance {
	char id[64];
	char region[64];
	char zone[64];
	char type[64];
	char charge_type[32];
	char status[32]; /* Running, Stopped, Starting, Stopping, Pending */
	char hostname[256];
	char vpc_id[64];
	char eni_id[64]; /* primary ENI */
	char private_ips[NI_MAX_IPS][NI_IP_LEN];
	size_t n_private;
	char public_ips[NI_MAX_IPS][NI_IP_LEN]; /* public IPs then the EIP */
	size_t n_public;
	int ips_overflow; /* more IPs than NI_MAX_IPS: lists incomplete */
};

/* o for the node-init worker's cache, from its nonECSNodeSelector. */
void ni_node_opts_init(struct ni_node_opts *o, const char *non_ecs_selector);
/* opts NULL: everything (wk_node_opts_all). */
int ni_node_from_json(const struct json *obj, const struct ni_node_opts *opts,
		      struct ni_node **ret);
void ni_node_free(struct ni_node *n);
/* The IP discovery looks for: provided-node-ip, else the first InternalIP,
 * "" when none. */
const char *ni_node_ip(const struct ni_node *n);

/* Appends the instances of one DescribeInstances page to *v (*n entries).
 * next receives NextToken ("" when absent); *total TotalCount or -1. */
int ni_instances_parse(const struct json *resp, struct ni_instance **v,
		       size_t *n, char *next, size_t nextlen, long long *total);
const struct ni_instance *ni_instance_find(const struct ni_instance *v,
					   size_t n, const char *id);
int ni_instance_has_private_ip(const struct ni_instance *i, const char *ip);

#endif
