#include "workers/node_init/ni_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_json.h"

static void cpy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int read_addrs(const struct json *addrs, struct ni_node *n)
{
	size_t i, cnt = json_len(addrs);

	if (!cnt)
		return 0;
	n->addrs_listed = 1;
	n->addrs = calloc(cnt, sizeof(*n->addrs));
	if (!n->addrs)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const struct json *a = json_at(addrs, i);
		const char *t = json_path_str(a, "type");
		const char *v = json_path_str(a, "address");

		if (!t || !v)
			continue; /* not an address at all */
		if (strlen(t) >= sizeof(n->addrs[0].type) ||
		    strlen(v) >= sizeof(n->addrs[0].address))
			return -E2BIG;
		cpy(n->addrs[n->n_addrs].type, sizeof(n->addrs[0].type), t);
		cpy(n->addrs[n->n_addrs].address, sizeof(n->addrs[0].address),
		    v);
		n->n_addrs++;
	}
	return 0;
}

static int read_taints(const struct json *taints, struct ni_node *n)
{
	size_t i, cnt = json_len(taints);

	if (!cnt || taints->type != JSON_ARRAY)
		return 0;
	n->taints = calloc(cnt, sizeof(*n->taints));
	if (!n->taints)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		const struct json *t = json_at(taints, i);
		struct ni_taint *o = &n->taints[n->n_taints];
		const char *k = json_path_str(t, "key");

		/* An over-long taint cannot be written back faithfully. */
		if (!k || strlen(k) >= sizeof(o->key))
			return -E2BIG;
		cpy(o->key, sizeof(o->key), k);
		cpy(o->value, sizeof(o->value), json_path_str(t, "value"));
		cpy(o->effect, sizeof(o->effect), json_path_str(t, "effect"));
		cpy(o->time_added, sizeof(o->time_added),
		    json_path_str(t, "timeAdded"));
		n->n_taints++;
	}
	return 0;
}

int ni_node_from_json(const struct json *obj, struct ni_node **ret)
{
	struct ni_node *n = calloc(1, sizeof(*n));
	const char *h;
	int r;

	if (!n)
		return -ENOMEM;
	r = wk_node_from_json(obj, &n->wk);
	if (r == 0)
		r = read_taints(json_path(obj, "spec.taints"), n);
	if (r == 0)
		r = read_addrs(json_path(obj, "status.addresses"), n);
	if (r < 0) {
		ni_node_free(n);
		return r;
	}
	h = wk_node_label(n->wk, "kubernetes.io/hostname");
	cpy(n->hostname_label, sizeof(n->hostname_label), h);
	*ret = n;
	return 0;
}

void ni_node_free(struct ni_node *n)
{
	if (!n)
		return;
	wk_node_free(n->wk);
	free(n->taints);
	free(n->addrs);
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
