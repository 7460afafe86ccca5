#include "workers/wk_node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void free_kvs(struct wk_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].val);
	}
	free(kv);
}

void wk_node_free(struct wk_node *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->uid);
	free(n->resource_version);
	free(n->provider_id);
	free_kvs(n->labels, n->n_labels);
	free_kvs(n->taints, n->n_taints);
	free(n);
}

static void copy_bounded(char *dst, size_t dlen, const char *src)
{
	if (src && strlen(src) < dlen)
		memcpy(dst, src, strlen(src) + 1);
}

static int read_labels(const struct json *labels, struct wk_node *n)
{
	size_t i, cnt = json_len(labels);

	if (!cnt || labels->type != JSON_OBJECT)
		return 0;
	n->labels = calloc(cnt, sizeof(*n->labels));
	if (!n->labels)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const char *v = json_str(labels->items[i]);

		n->labels[n->n_labels].key = strdup(labels->keys[i]);
		n->labels[n->n_labels].val = strdup(v ? v : "");
		n->n_labels++;
	}
	return 0;
}

static int read_taints(const struct json *taints, struct wk_node *n)
{
	size_t i, cnt = json_len(taints);

	if (!cnt)
		return 0;
	n->taints = calloc(cnt, sizeof(*n->taints));
	if (!n->taints)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const struct json *t = json_at(taints, i);
		const char *k = json_path_str(t, "key");
		const char *e = json_path_str(t, "effect");

		if (!k)
			continue;
		n->taints[n->n_taints].key = strdup(k);
		n->taints[n->n_taints].val = strdup(e ? e : "");
		n->n_taints++;
	}
	return 0;
}

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

static void read_status(const struct json *status, struct wk_node *n)
{
	const struct json *conds = json_get(status, "conditions");
	const struct json *addrs = json_get(status, "addresses");
	size_t i;

	for (i = 0; i < json_len(conds); i++) {
		const struct json *c = json_at(conds, i);
		const char *type = json_path_str(c, "type");
		enum wk_cond st = cond_status(json_path_str(c, "status"));

		if (type && strcmp(type, "Ready") == 0)
			n->ready = st;
		else if (type && strcmp(type, "NetworkUnavailable") == 0)
			n->network_unavailable = st;
	}
	for (i = 0; i < json_len(addrs); i++) {
		const struct json *a = json_at(addrs, i);
		const char *type = json_path_str(a, "type");

		if (type && strcmp(type, "InternalIP") == 0 &&
		    !n->internal_ip[0])
			copy_bounded(n->internal_ip, sizeof(n->internal_ip),
				     json_path_str(a, "address"));
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

static void read_spec(const struct json *spec, struct wk_node *n)
{
	const struct json *cidrs = json_get(spec, "podCIDRs");
	int unsched = 0;
	size_t i;

	for (i = 0; i < json_len(cidrs) && !n->pod_cidr4[0]; i++)
		if (is_ipv4_cidr(json_str(json_at(cidrs, i))))
			copy_bounded(n->pod_cidr4, sizeof(n->pod_cidr4),
				     json_str(json_at(cidrs, i)));
	if (!n->pod_cidr4[0] && is_ipv4_cidr(json_path_str(spec, "podCIDR")))
		copy_bounded(n->pod_cidr4, sizeof(n->pod_cidr4),
			     json_path_str(spec, "podCIDR"));
	if (json_bool(json_get(spec, "unschedulable"), &unsched) == 0)
		n->unschedulable = unsched;
	n->provider_id = dup_or_null(json_path_str(spec, "providerID"));
	if (n->provider_id)
		wk_provider_id_parse(n->provider_id, n->region,
				     sizeof(n->region), n->instance_id,
				     sizeof(n->instance_id));
}

int wk_node_from_json(const struct json *obj, struct wk_node **ret)
{
	const char *name = json_path_str(obj, "metadata.name");
	struct wk_node *n;
	int r;

	if (!name)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->name = strdup(name);
	n->uid = dup_or_null(json_path_str(obj, "metadata.uid"));
	n->resource_version =
		dup_or_null(json_path_str(obj, "metadata.resourceVersion"));
	n->deleting = json_path(obj, "metadata.deletionTimestamp") != NULL;
	copy_bounded(
		n->provided_ip, sizeof(n->provided_ip),
		json_str(json_get(json_path(obj, "metadata.annotations"),
				  "alpha.kubernetes.io/provided-node-ip")));
	read_spec(json_get(obj, "spec"), n);
	read_status(json_get(obj, "status"), n);
	r = read_labels(json_path(obj, "metadata.labels"), n);
	if (r == 0)
		r = read_taints(json_path(obj, "spec.taints"), n);
	if (r < 0 || !n->name) {
		wk_node_free(n);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = n;
	return 0;
}

int wk_node_extract(void *ctx, const struct json *obj, void **out)
{
	struct wk_node *n = NULL;
	int r;

	(void)ctx;
	r = wk_node_from_json(obj, &n);
	*out = n;
	return r;
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
	return n->instance_id[0] != '\0';
}

int wk_node_is_virtual(const struct wk_node *n)
{
	const char *v = wk_node_label(n, WK_LABEL_VIRTUAL_KEY);

	return v && strcmp(v, WK_LABEL_VIRTUAL_VAL) == 0;
}

int wk_node_excluded(const struct wk_node *n)
{
	return wk_node_label(n, "service.beta.kubernetes.io/exclude-node") ||
	       wk_node_label(n, "service.alibabacloud.com/exclude-node") ||
	       (n->provider_id &&
		strncmp(n->provider_id, "ack-hybrid://", 13) == 0);
}

int wk_node_excluded_from_lb(const struct wk_node *n)
{
	return wk_node_excluded(n) ||
	       wk_node_label(n, "node.kubernetes.io/"
				"exclude-from-external-load-balancers") ||
	       wk_node_label(n, "alpha.service-controller.kubernetes.io/"
				"exclude-balancer");
}

int wk_node_is_master(const struct wk_node *n)
{
	return wk_node_label(n, "node-role.kubernetes.io/master") != NULL;
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

int wk_node_route_eligible(const struct wk_node *n)
{
	return n->pod_cidr4[0] && wk_node_is_ecs(n) && !wk_node_excluded(n) &&
	       !wk_node_is_virtual(n) && !n->deleting;
}
