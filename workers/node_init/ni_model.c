#include "workers/node_init/ni_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_json.h"
#include "workers/node_init/ni_init.h"

#define NI_LABEL_HOSTNAME "kubernetes.io/hostname"

static void cpy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Where the node's own lists come from and what they take. */
struct ni_src {
	const struct json *addrs, *taints;
	size_t n_addrs, n_taints, bytes;
};

static size_t str_bytes(const char *v)
{
	return v && *v ? strlen(v) + 1 : 0;
}

/* Copies v to *at (advancing it); NULL and "" read "". */
static const char *put(char **at, const char *v)
{
	size_t len;
	char *r;

	if (!v || !*v)
		return "";
	len = strlen(v) + 1;
	r = memcpy(*at, v, len);
	*at += len;
	return r;
}

static int measure_addrs(struct ni_src *s)
{
	size_t i;

	for (i = 0; i < json_len(s->addrs); i++) {
		const struct json *a = json_at(s->addrs, i);
		const char *t = json_path_str(a, "type");
		const char *v = json_path_str(a, "address");

		if (!t || !v)
			continue; /* not an address at all */
		if (strlen(t) > NI_ADDR_TYPE_MAX || strlen(v) > NI_ADDR_MAX)
			return -E2BIG;
		s->n_addrs++;
		s->bytes += str_bytes(t) + str_bytes(v);
	}
	return 0;
}

static int measure_taints(struct ni_src *s)
{
	size_t i;

	if (!s->taints || s->taints->type != JSON_ARRAY)
		return 0;
	for (i = 0; i < json_len(s->taints); i++) {
		const struct json *t = json_at(s->taints, i);
		const char *k = json_path_str(t, "key");

		/* An over-long taint cannot be written back faithfully. */
		if (!k || strlen(k) > NI_TAINT_KEY_MAX)
			return -E2BIG;
		s->n_taints++;
		s->bytes += str_bytes(k) +
			    str_bytes(json_path_str(t, "value")) +
			    str_bytes(json_path_str(t, "effect")) +
			    str_bytes(json_path_str(t, "timeAdded"));
	}
	return 0;
}

static void fill(const struct ni_src *s, struct ni_node *n, char *at)
{
	size_t i;

	for (i = 0; i < json_len(s->addrs); i++) {
		const struct json *a = json_at(s->addrs, i);
		const char *t = json_path_str(a, "type");
		const char *v = json_path_str(a, "address");

		if (!t || !v)
			continue;
		n->addrs[n->n_addrs].type = put(&at, t);
		n->addrs[n->n_addrs].address = put(&at, v);
		n->n_addrs++;
	}
	for (i = 0; i < s->n_taints; i++) {
		const struct json *t = json_at(s->taints, i);
		struct ni_taint *o = &n->taints[n->n_taints++];

		o->key = put(&at, json_path_str(t, "key"));
		o->value = put(&at, json_path_str(t, "value"));
		o->effect = put(&at, json_path_str(t, "effect"));
		o->time_added = put(&at, json_path_str(t, "timeAdded"));
	}
}

/* One block: the node, its address and taint arrays, then the strings. */
static int read_node(const struct json *obj, struct ni_node **ret)
{
	struct ni_src s = {.addrs = json_path(obj, "status.addresses"),
			   .taints = json_path(obj, "spec.taints")};
	struct ni_node *n;
	size_t arrays;
	int r = measure_addrs(&s);

	if (r == 0)
		r = measure_taints(&s);
	if (r < 0)
		return r;
	arrays = s.n_addrs * sizeof(struct ni_addr) +
		 s.n_taints * sizeof(struct ni_taint);
	n = calloc(1, sizeof(*n) + arrays + s.bytes);
	if (!n)
		return -ENOMEM;
	n->addrs_listed = json_len(s.addrs) > 0;
	n->addrs = (struct ni_addr *)(n + 1);
	n->taints = (struct ni_taint *)(n->addrs + s.n_addrs);
	fill(&s, n, (char *)(n->taints + s.n_taints));
	*ret = n;
	return 0;
}

static const char *const ni_taint_keys[] = {
	WK_TAINT_UNINITIALIZED,
	WK_TAINT_SHUTDOWN,
	NULL,
};

/* Appends the selector's keys to o->labels; 0, or -E2BIG when they do not
 * fit (the caller then keeps every label). */
static int selector_keys(struct ni_node_opts *o, size_t *k, const char *sel)
{
	char *save = NULL, *tok;
	size_t added = 0;

	if (strlen(sel) >= sizeof(o->sel))
		return -E2BIG;
	memcpy(o->sel, sel, strlen(sel) + 1);
	for (tok = strtok_r(o->sel, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue; /* matches no node (ni_classify) */
		if (added++ == NI_SELECTOR_KEYS)
			return -E2BIG;
		*eq = '\0';
		o->labels[(*k)++] = tok;
	}
	return 0;
}

void ni_node_opts_init(struct ni_node_opts *o, const char *non_ecs_selector)
{
	size_t i, k = 0;

	memset(o, 0, sizeof(*o));
	o->wk.keep = WK_NODE_KEEP_UID | WK_NODE_KEEP_RV |
		     WK_NODE_KEEP_PROVIDER_ID | WK_NODE_KEEP_REGION |
		     WK_NODE_KEEP_POD_CIDR | WK_NODE_KEEP_ADDRS;
	o->wk.taint_keys = ni_taint_keys;
	o->wk.label_keys = o->labels;
	for (i = 0; ni_cloud_label_keys[i]; i++)
		o->labels[k++] = ni_cloud_label_keys[i];
	o->labels[k++] = NI_LABEL_HOSTNAME;
	if (selector_keys(o, &k, non_ecs_selector ? non_ecs_selector : "") < 0)
		o->wk.keep |= WK_NODE_KEEP_ALL_LABELS;
}

int ni_node_from_json(const struct json *obj, const struct ni_node_opts *opts,
		      struct ni_node **ret)
{
	struct ni_node *n = NULL;
	const char *h;
	int r = read_node(obj, &n);

	if (r == 0)
		r = wk_node_from_json_opts(obj, opts ? &opts->wk : NULL,
					   &n->wk);
	if (r < 0) {
		ni_node_free(n);
		return r;
	}
	h = wk_node_label(n->wk, NI_LABEL_HOSTNAME);
	n->hostname_label = h ? h : "";
	*ret = n;
	return 0;
}

void ni_node_free(struct ni_node *n)
{
	if (!n)
		return;
	wk_node_free(n->wk);
	free(n);
}

const char *ni_node_ip(const struct ni_node *n)
{
	if (n->wk->provided_ip[0])
		return n->wk->provided_ip;
	return n->wk->internal_ip;
}

static void push_ip(struct ni_instance *o, char (*dst)[NI_IP_LEN], size_t *n,
		    const char *ip)
{
	if (!ip || !*ip)
		return;
	if (*n >= NI_MAX_IPS || strlen(ip) >= NI_IP_LEN) {
		o->ips_overflow = 1;
		return;
	}
	cpy(dst[(*n)++], NI_IP_LEN, ip);
}

static void push_ips(struct ni_instance *o, const struct json *list,
		     char (*dst)[NI_IP_LEN], size_t *n)
{
	size_t i;

	for (i = 0; i < json_len(list); i++)
		push_ip(o, dst, n, json_str(json_at(list, i)));
}

static void primary_eni(const struct json *inst, struct ni_instance *o)
{
	const struct json *l =
		ali_jlist(inst, "NetworkInterfaces", "NetworkInterface");
	size_t i;
	char type[32];

	for (i = 0; i < json_len(l); i++) {
		ali_jstr(json_at(l, i), "Type", type, sizeof(type));
		/* Older answers omit Type; the first ENI is the primary. */
		if (strcmp(type, "Primary") == 0 || (!type[0] && i == 0)) {
			ali_jstr(json_at(l, i), "NetworkInterfaceId", o->eni_id,
				 sizeof(o->eni_id));
			return;
		}
	}
}

static void parse_one(const struct json *inst, struct ni_instance *o)
{
	const struct json *eip = json_get(inst, "EipAddress");

	ali_jstr(inst, "InstanceId", o->id, sizeof(o->id));
	ali_jstr(inst, "RegionId", o->region, sizeof(o->region));
	ali_jstr(inst, "ZoneId", o->zone, sizeof(o->zone));
	ali_jstr(inst, "InstanceType", o->type, sizeof(o->type));
	ali_jstr(inst, "InstanceChargeType", o->charge_type,
		 sizeof(o->charge_type));
	ali_jstr(inst, "Status", o->status, sizeof(o->status));
	ali_jstr(inst, "HostName", o->hostname, sizeof(o->hostname));
	ali_jstr(json_get(inst, "VpcAttributes"), "VpcId", o->vpc_id,
		 sizeof(o->vpc_id));
	push_ips(o,
		 ali_jlist(json_get(inst, "VpcAttributes"), "PrivateIpAddress",
			   "IpAddress"),
		 o->private_ips, &o->n_private);
	push_ips(o, ali_jlist(inst, "InnerIpAddress", "IpAddress"),
		 o->private_ips, &o->n_private);
	push_ips(o, ali_jlist(inst, "PublicIpAddress", "IpAddress"),
		 o->public_ips, &o->n_public);
	push_ip(o, o->public_ips, &o->n_public,
		json_path_str(eip, "IpAddress"));
	primary_eni(inst, o);
}

int ni_instances_parse(const struct json *resp, struct ni_instance **v,
		       size_t *n, char *next, size_t nextlen, long long *total)
{
	const struct json *l;
	size_t i;

	if (!resp || resp->type != JSON_OBJECT)
		return -EPROTO;
	l = ali_jlist(resp, "Instances", "Instance");
	if (!l && json_get(resp, "Instances"))
		return -EPROTO;
	for (i = 0; i < json_len(l); i++) {
		struct ni_instance *o = ali_grow(v, n, sizeof(**v));

		if (!o)
			return -ENOMEM;
		parse_one(json_at(l, i), o);
		if (!o->id[0]) {
			(*n)--;
			return -EPROTO;
		}
	}
	ali_jstr(resp, "NextToken", next, nextlen);
	*total = ali_jint(resp, "TotalCount", -1);
	return 0;
}

const struct ni_instance *ni_instance_find(const struct ni_instance *v,
					   size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

int ni_instance_has_private_ip(const struct ni_instance *i, const char *ip)
{
	size_t k;

	for (k = 0; k < i->n_private; k++)
		if (strcmp(i->private_ips[k], ip) == 0)
			return 1;
	return 0;
}
