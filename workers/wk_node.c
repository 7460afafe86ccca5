#include "workers/wk_node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_EXCLUDE_BETA "service.beta.kubernetes.io/exclude-node"
#define LABEL_EXCLUDE_ALI  "service.alibabacloud.com/exclude-node"
#define LABEL_EXCLUDE_LB                                                       \
	"node.kubernetes.io/exclude-from-external-load-balancers"
#define LABEL_EXCLUDE_BAL                                                      \
	"alpha.service-controller.kubernetes.io/exclude-balancer"
#define LABEL_MASTER "node-role.kubernetes.io/master"

/* What the shared predicates read: kept whatever a worker's options. */
static const char *const predicate_labels[] = {
	LABEL_EXCLUDE_BETA,
	LABEL_EXCLUDE_ALI,
	LABEL_EXCLUDE_LB,
	LABEL_EXCLUDE_BAL,
	LABEL_MASTER,
	WK_LABEL_VIRTUAL_KEY,
	NULL,
};

static const char *const route_taints[] = {NULL};
static const char *const lb_taints[] = {WK_TAINT_CA_DELETE, NULL};

const struct wk_node_opts wk_node_opts_all = {.keep = WK_NODE_KEEP_ALL};

/* name, uid (Events, condition patches), pod CIDR and instance id, the
 * NetworkUnavailable condition, and what wk_node_route_eligible reads. */
const struct wk_node_opts wk_node_opts_route = {
	.keep = WK_NODE_KEEP_UID | WK_NODE_KEEP_POD_CIDR,
	.taint_keys = route_taints,
};

/* Backend selection: Ready, unschedulable, the autoscaler's taint, and
 * every label, since backend-label annotations may name any key. */
const struct wk_node_opts wk_node_opts_lb = {
	.keep = WK_NODE_KEEP_ALL_LABELS,
	.taint_keys = lb_taints,
};

void wk_node_free(struct wk_node *n)
{
	free(n);
}

/* One NULL-terminated key list holds key. */
static int listed(const char *const *keys, const char *key)
{
	for (; keys && *keys; keys++)
		if (strcmp(*keys, key) == 0)
			return 1;
	return 0;
}

static int keep_label(const struct wk_node_opts *o, const char *key)
{
	return (o->keep & WK_NODE_KEEP_ALL_LABELS) ||
	       listed(predicate_labels, key) || listed(o->label_keys, key);
}

static int keep_taint(const struct wk_node_opts *o, const char *key)
{
	return (o->keep & WK_NODE_KEEP_ALL_TAINTS) ||
	       listed(o->taint_keys, key);
}

/* A short value (region, id, CIDR, IP), or NULL when too long to keep. */
static const char *short_val(const char *s)
{
	return s && strlen(s) <= WK_NODE_VAL_MAX ? s : NULL;
}

/* Where the record's strings come from, all pointing into the JSON tree
 * (or into region/instance) while the record is built. */
struct wk_src {
	const char *name, *uid, *rv, *pid, *pod_cidr4, *internal_ip,
		*provided_ip;
	char region[WK_NODE_VAL_MAX + 1];
	char instance[WK_NODE_VAL_MAX + 1];
	const struct json *labels, *taints;
	size_t n_labels, n_taints; /* the kept ones */
	size_t bytes;		   /* their strings, NULs included */
};

static enum wk_cond cond_status(const char *s)
{
	if (!s)
		return WK_COND_ABSENT;
	if (strcmp(s, "True") == 0)
		return WK_COND_TRUE;
	if (strcmp(s, "False") == 0)
		return WK_COND_FALSE;
	return WK_COND_UNKNOWN;
}

static void read_status(const struct json *status, struct wk_node *n,
			struct wk_src *s)
{
	const struct json *conds = json_get(status, "conditions");
	const struct json *addrs = json_get(status, "addresses");
	size_t i;

	for (i = 0; i < json_len(conds); i++) {
		const struct json *c = json_at(conds, i);
		const char *type = json_path_str(c, "type");
		enum wk_cond st = cond_status(json_path_str(c, "status"));

		if (type && strcmp(type, "Ready") == 0)
			n->ready = (uint8_t)st;
		else if (type && strcmp(type, "NetworkUnavailable") == 0)
			n->network_unavailable = (uint8_t)st;
	}
	for (i = 0; i < json_len(addrs) && !s->internal_ip; i++) {
		const struct json *a = json_at(addrs, i);
		const char *type = json_path_str(a, "type");

		if (type && strcmp(type, "InternalIP") == 0)
			s->internal_ip = short_val(json_path_str(a, "address"));
	}
}

static int is_ipv4_cidr(const char *s)
{
	char ip[32];
	const char *slash = s ? strchr(s, '/') : NULL;
	struct in_addr a;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return 0;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	return inet_pton(AF_INET, ip, &a) == 1;
}

static const char *ipv4_cidr(const char *s)
{
	return is_ipv4_cidr(s) ? short_val(s) : NULL;
}

static void read_spec(const struct json *spec, struct wk_node *n,
		      struct wk_src *s)
{
	const struct json *cidrs = json_get(spec, "podCIDRs");
	int unsched = 0;
	size_t i;

	for (i = 0; i < json_len(cidrs) && !s->pod_cidr4; i++)
		s->pod_cidr4 = ipv4_cidr(json_str(json_at(cidrs, i)));
	if (!s->pod_cidr4)
		s->pod_cidr4 = ipv4_cidr(json_path_str(spec, "podCIDR"));
	if (json_bool(json_get(spec, "unschedulable"), &unsched) == 0)
		n->unschedulable = unsched != 0;
	s->pid = json_path_str(spec, "providerID");
	if (s->pid &&
	    wk_provider_id_parse(s->pid, s->region, sizeof(s->region),
				 s->instance, sizeof(s->instance)) < 0)
		s->region[0] = s->instance[0] = '\0';
	n->hybrid = s->pid && strncmp(s->pid, "ack-hybrid://", 13) == 0;
	s->taints = json_get(spec, "taints");
}

static size_t str_bytes(const char *v)
{
	return v && *v ? strlen(v) + 1 : 0;
}

/* A label's or taint's strings are always copied ("" included): struct
 * wk_kv is shared with owners of writable strings. */
static size_t kv_bytes(const char *v)
{
	return (v ? strlen(v) : 0) + 1;
}

/* Counts the kept labels and taints and the bytes of every kept string. */
static void measure(const struct wk_node_opts *o, struct wk_src *s)
{
	size_t i;

	s->bytes = str_bytes(s->name) + str_bytes(s->uid) + str_bytes(s->rv) +
		   str_bytes(s->pid) + str_bytes(s->region) +
		   str_bytes(s->instance) + str_bytes(s->pod_cidr4) +
		   str_bytes(s->internal_ip) + str_bytes(s->provided_ip);
	if (s->labels && s->labels->type == JSON_OBJECT)
		for (i = 0; i < json_len(s->labels); i++) {
			if (!keep_label(o, s->labels->keys[i]))
				continue;
			s->n_labels++;
			s->bytes += kv_bytes(s->labels->keys[i]) +
				    kv_bytes(json_str(s->labels->items[i]));
		}
	for (i = 0; i < json_len(s->taints); i++) {
		const struct json *t = json_at(s->taints, i);
		const char *k = json_path_str(t, "key");

		if (!k || !keep_taint(o, k))
			continue;
		s->n_taints++;
		s->bytes += kv_bytes(k) + kv_bytes(json_path_str(t, "effect"));
	}
}

/* Copies v to *at (advancing it); NULL stays NULL, "" is a literal. */
static const char *put(char **at, const char *v)
{
	size_t len;
	char *r;

	if (!v)
		return NULL;
	if (!*v)
		return "";
	len = strlen(v) + 1;
	r = memcpy(*at, v, len);
	*at += len;
	return r;
}

static const char *put_or_empty(char **at, const char *v)
{
	return v ? put(at, v) : "";
}

static char *put_kv(char **at, const char *v)
{
	size_t len = (v ? strlen(v) : 0) + 1;
	char *r = *at;

	if (len > 1)
		memcpy(r, v, len);
	else
		r[0] = '\0';
	*at += len;
	return r;
}

static void fill_kvs(const struct wk_node_opts *o, const struct wk_src *s,
		     struct wk_node *n, char **at)
{
	size_t i;

	if (s->labels && s->labels->type == JSON_OBJECT)
		for (i = 0; i < json_len(s->labels); i++) {
			const char *v = json_str(s->labels->items[i]);
			struct wk_kv *kv = &n->labels[n->n_labels];

			if (!keep_label(o, s->labels->keys[i]))
				continue;
			kv->key = put_kv(at, s->labels->keys[i]);
			kv->val = put_kv(at, v);
			n->n_labels++;
		}
	for (i = 0; i < json_len(s->taints); i++) {
		const struct json *t = json_at(s->taints, i);
		const char *k = json_path_str(t, "key");
		struct wk_kv *kv = &n->taints[n->n_taints];

		if (!k || !keep_taint(o, k))
			continue;
		kv->key = put_kv(at, k);
		kv->val = put_kv(at, json_path_str(t, "effect"));
		n->n_taints++;
	}
}

/* Drops what the options do not ask for, before anything is sized. */
static void apply_keep(const struct wk_node_opts *o, struct wk_src *s)
{
	if (!(o->keep & WK_NODE_KEEP_UID))
		s->uid = NULL;
	if (!(o->keep & WK_NODE_KEEP_RV))
		s->rv = NULL;
	if (!(o->keep & WK_NODE_KEEP_PROVIDER_ID))
		s->pid = NULL;
	if (!(o->keep & WK_NODE_KEEP_REGION))
		s->region[0] = '\0';
	if (!(o->keep & WK_NODE_KEEP_POD_CIDR))
		s->pod_cidr4 = NULL;
	if (!(o->keep & WK_NODE_KEEP_ADDRS))
		s->internal_ip = s->provided_ip = NULL;
}

/* One block: the record, its label and taint arrays, then the strings. */
static int build(const struct wk_node_opts *o, const struct wk_src *s,
		 const struct wk_node *flags, struct wk_node **ret)
{
	size_t kvs = (s->n_labels + s->n_taints) * sizeof(struct wk_kv);
	struct wk_node *n;
	char *at;

	if (s->n_labels > UINT32_MAX || s->n_taints > UINT32_MAX)
		return -E2BIG;
	n = malloc(sizeof(*n) + kvs + s->bytes);
	if (!n)
		return -ENOMEM;
	*n = *flags;
	n->labels = (struct wk_kv *)(n + 1);
	n->taints = n->labels + s->n_labels;
	n->n_labels = n->n_taints = 0;
	at = (char *)(n->taints + s->n_taints);
	n->name = put(&at, s->name);
	n->uid = put(&at, s->uid);
	n->resource_version = put(&at, s->rv);
	n->provider_id = put(&at, s->pid);
	n->region = put(&at, s->region);
	n->instance_id = put(&at, s->instance);
	n->pod_cidr4 = put_or_empty(&at, s->pod_cidr4);
	n->internal_ip = put_or_empty(&at, s->internal_ip);
	n->provided_ip = put_or_empty(&at, s->provided_ip);
	fill_kvs(o, s, n, &at);
	*ret = n;
	return 0;
}

int wk_node_from_json_opts(const struct json *obj,
			   const struct wk_node_opts *opts,
			   struct wk_node **ret)
{
	const struct wk_node_opts *o = opts ? opts : &wk_node_opts_all;
	struct wk_node flags;
	struct wk_src s;

	memset(&flags, 0, sizeof(flags));
	memset(&s, 0, sizeof(s));
	s.name = json_path_str(obj, "metadata.name");
	if (!s.name)
		return -EINVAL;
	s.uid = json_path_str(obj, "metadata.uid");
	s.rv = json_path_str(obj, "metadata.resourceVersion");
	flags.deleting = json_path(obj, "metadata.deletionTimestamp") != NULL;
	s.provided_ip = short_val(
		json_str(json_get(json_path(obj, "metadata.annotations"),
				  "alpha.kubernetes.io/provided-node-ip")));
	read_spec(json_get(obj, "spec"), &flags, &s);
	read_status(json_get(obj, "status"), &flags, &s);
	s.labels = json_path(obj, "metadata.labels");
	apply_keep(o, &s);
	measure(o, &s);
	return build(o, &s, &flags, ret);
}

int wk_node_from_json(const struct json *obj, struct wk_node **ret)
{
	return wk_node_from_json_opts(obj, &wk_node_opts_all, ret);
}

static int extract_with(const struct wk_node_opts *o, const struct json *obj,
			void **out)
{
	struct wk_node *n = NULL;
	int r = wk_node_from_json_opts(obj, o, &n);

	*out = n;
	return r;
}

int wk_node_extract_route(void *ctx, const struct json *obj, void **out)
{
	(void)ctx;
	return extract_with(&wk_node_opts_route, obj, out);
}

int wk_node_extract_lb(void *ctx, const struct json *obj, void **out)
{
	(void)ctx;
	return extract_with(&wk_node_opts_lb, obj, out);
}

void wk_node_release(void *ctx, void *obj)
{
	(void)ctx;
	wk_node_free(obj);
}

const char *wk_node_label(const struct wk_node *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->n_labels; i++)
		if (n->labels[i].key && strcmp(n->labels[i].key, key) == 0)
			return n->labels[i].val;
	return NULL;
}

int wk_node_has_taint(const struct wk_node *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->n_taints; i++)
		if (n->taints[i].key && strcmp(n->taints[i].key, key) == 0)
			return 1;
	return 0;
}

int wk_provider_id_parse(const char *pid, char *region, size_t rlen,
			 char *instance, size_t ilen)
{
	const char *p = pid, *dot;

	if (!p)
		return -EINVAL;
	if (strncmp(p, "alicloud://", 11) == 0)
		p += 11;
	dot = strchr(p, '.');
	if (!dot || dot == p || strchr(dot + 1, '.') ||
	    strncmp(dot + 1, "i-", 2) != 0 || strlen(dot + 1) < 3 ||
	    (size_t)(dot - p) >= rlen || strlen(dot + 1) >= ilen ||
	    strchr(p, '/'))
		return -EINVAL;
	memcpy(region, p, (size_t)(dot - p));
	region[dot - p] = '\0';
	memcpy(instance, dot + 1, strlen(dot + 1) + 1);
	return 0;
}

int wk_node_is_ecs(const struct wk_node *n)
{
	return n->instance_id && n->instance_id[0] != '\0';
}

int wk_node_is_virtual(const struct wk_node *n)
{
	const char *v = wk_node_label(n, WK_LABEL_VIRTUAL_KEY);

	return v && strcmp(v, WK_LABEL_VIRTUAL_VAL) == 0;
}

int wk_node_excluded(const struct wk_node *n)
{
	return wk_node_label(n, LABEL_EXCLUDE_BETA) ||
	       wk_node_label(n, LABEL_EXCLUDE_ALI) || n->hybrid;
}

int wk_node_excluded_from_lb(const struct wk_node *n)
{
	return wk_node_excluded(n) || wk_node_label(n, LABEL_EXCLUDE_LB) ||
	       wk_node_label(n, LABEL_EXCLUDE_BAL);
}

int wk_node_is_master(const struct wk_node *n)
{
	return wk_node_label(n, LABEL_MASTER) != NULL;
}

int wk_node_matches_selector(const struct wk_node *n, const char *sel)
{
	const char *eq = strchr(sel, '=');
	char key[320];
	const char *v;

	if (!eq || (size_t)(eq - sel) >= sizeof(key))
		return 0;
	memcpy(key, sel, (size_t)(eq - sel));
	key[eq - sel] = '\0';
	v = wk_node_label(n, key);
	return v && strcmp(v, eq + 1) == 0;
}

int wk_node_route_eligible_as(const struct wk_node *n, const char *instance)
{
	int ecs = wk_node_is_ecs(n) || (instance && instance[0]);

	return n->pod_cidr4 && n->pod_cidr4[0] && ecs && !wk_node_excluded(n) &&
	       !wk_node_is_virtual(n) && !n->deleting;
}

int wk_node_route_eligible(const struct wk_node *n)
{
	return wk_node_route_eligible_as(n, NULL);
}
