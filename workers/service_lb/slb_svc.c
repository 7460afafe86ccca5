#include "workers/service_lb/slb_svc.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void slb_svc_free(struct slb_svc *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_annots; i++) {
		free(s->annots[i].key);
		free(s->annots[i].val);
	}
	free(s->annots);
	free(s->ports);
	free(s);
}

const char *slb_svc_annot(const struct slb_svc *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n_annots; i++)
		if (strcmp(s->annots[i].key, key) == 0)
			return s->annots[i].val;
	return NULL;
}

static int read_annots(const struct json *a, struct slb_svc *s)
{
	size_t i, n = json_len(a);

	if (!n || a->type != JSON_OBJECT)
		return 0;
	s->annots = calloc(n, sizeof(*s->annots));
	if (!s->annots)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *v = json_str(a->items[i]);

		s->annots[i].key = strdup(a->keys[i]);
		s->annots[i].val = strdup(v ? v : "");
		s->n_annots++;
		if (!s->annots[i].key || !s->annots[i].val)
			return -ENOMEM;
	}
	return 0;
}

static void read_target(const struct json *t, struct slb_port *p)
{
	long long v = 0;

	if (!t) {
		p->target_port = p->port;
		return;
	}
	if (t->type == JSON_NUMBER && json_int(t, &v) == 0)
		p->target_port = (int)v;
	else if (t->type == JSON_STRING)
		slb_strcpy(p->target_name, sizeof(p->target_name), t->str);
}

static int read_port(const struct json *j, struct slb_port *p)
{
	const char *proto = json_path_str(j, "protocol");
	long long v = 0;

	memset(p, 0, sizeof(*p)); /* a refused port leaves no bytes behind */
	slb_strcpy(p->name, sizeof(p->name), json_path_str(j, "name"));
	p->proto = slb_proto_parse(proto ? proto : "TCP");
	if (json_int(json_get(j, "port"), &v) < 0 || v < 1 || v > 65535)
		return -EINVAL;
	p->port = (int)v;
	if (json_int(json_get(j, "nodePort"), &v) == 0)
		p->node_port = (int)v;
	read_target(json_get(j, "targetPort"), p);
	return 0;
}

static int read_spec(const struct json *spec, struct slb_svc *s)
{
	const struct json *ports = json_get(spec, "ports");
	const char *type = json_path_str(spec, "type");
	const char *etp = json_path_str(spec, "externalTrafficPolicy");
	int b = 1;
	size_t i, n;

	s->is_lb = type && strcmp(type, "LoadBalancer") == 0;
	s->has_class |= json_get(spec, "loadBalancerClass") != NULL &&
			json_get(spec, "loadBalancerClass")->type != JSON_NULL;
	s->local = etp && strcmp(etp, "Local") == 0;
	if (json_bool(json_get(spec, "allocateLoadBalancerNodePorts"), &b) == 0)
		s->no_node_ports = !b;
	slb_strcpy(s->lb_ip, sizeof(s->lb_ip),
		   json_path_str(spec, "loadBalancerIP"));
	s->n_source_ranges =
		(int)json_len(json_get(spec, "loadBalancerSourceRanges"));
	n = json_len(ports);
	if (n > SLB_MAX_PORTS)
		n = SLB_MAX_PORTS;
	/* calloc: svc_changed compares ports as bytes */
	s->ports = n ? calloc(n, sizeof(*s->ports)) : NULL;
	if (n && !s->ports)
		return -ENOMEM;
	for (i = 0; s->ports && i < json_len(ports); i++) {
		if (s->n_ports == SLB_MAX_PORTS) {
			s->too_many_ports = 1;
			break;
		}
		if (read_port(json_at(ports, i), &s->ports[s->n_ports]) == 0)
			s->n_ports++;
	}
	return 0;
}

/* All ingress IPs joined by commas (EIPs can be several); one that does
 * not fit makes the list compare unequal, so status gets rewritten. */
static void read_ingress_ips(const struct json *ings, char *out, size_t n)
{
	size_t i, l = 0;

	out[0] = '\0';
	for (i = 0; i < json_len(ings); i++) {
		const char *ip = json_path_str(json_at(ings, i), "ip");
		int w;

		if (!ip || !*ip)
			continue;
		w = snprintf(out + l, n - l, "%s%s", l ? "," : "", ip);
		if (w < 0 || (size_t)w >= n - l) {
			snprintf(out, n, "?");
			return;
		}
		l += (size_t)w;
	}
}

static void read_meta(const struct json *obj, struct slb_svc *s)
{
	const struct json *fin = json_path(obj, "metadata.finalizers");
	const struct json *ings = json_path(obj, "status.loadBalancer.ingress");
	const struct json *ing = json_at(ings, 0);
	size_t i;

	slb_strcpy(s->ns, sizeof(s->ns),
		   json_path_str(obj, "metadata.namespace"));
	slb_strcpy(s->uid, sizeof(s->uid), json_path_str(obj, "metadata.uid"));
	slb_strcpy(s->rv, sizeof(s->rv),
		   json_path_str(obj, "metadata.resourceVersion"));
	s->deleting = json_path(obj, "metadata.deletionTimestamp") != NULL;
	for (i = 0; i < json_len(fin); i++) {
		const char *f = json_str(json_at(fin, i));

		if (f && strcmp(f, SLB_FINALIZER) == 0)
			s->has_finalizer = 1;
	}
	read_ingress_ips(ings, s->ingress_ip, sizeof(s->ingress_ip));
	slb_strcpy(s->ingress_host, sizeof(s->ingress_host),
		   json_path_str(ing, "hostname"));
}

int slb_svc_from_json(const struct json *obj, struct slb_svc **ret)
{
	const char *name = json_path_str(obj, "metadata.name");
	const char *cls;
	struct slb_svc *s;
	int r;

	if (!name || strlen(name) >= SLB_NAME_LEN)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	slb_strcpy(s->name, sizeof(s->name), name);
	read_meta(obj, s);
	r = read_annots(json_path(obj, "metadata.annotations"), s);
	if (r == 0)
		r = read_spec(json_get(obj, "spec"), s);
	if (r < 0) {
		slb_svc_free(s);
		return r;
	}
	cls = slb_svc_annot(s, SLB_ANNOT_CLASS);
	if (cls && cls[0])
		s->has_class = 1;
	/* the Go CCM leaves tunnel Services to another controller */
	if (slb_svc_annot(s, SLB_ANNOT_TUNNEL))
		s->has_class = 1;
	*ret = s;
	return 0;
}

int slb_svc_wants_lb(const struct slb_svc *s)
{
	return s->is_lb && !s->has_class && !s->deleting;
}

int slb_svc_needs_cleanup(const struct slb_svc *s)
{
	return s->has_finalizer && !slb_svc_wants_lb(s);
}

void slb_svc_default_name(const struct slb_svc *s, char out[33])
{
	size_t i, o = 0;

	out[o++] = 'a';
	for (i = 0; s->uid[i] && o < 32; i++)
		if (s->uid[i] != '-')
			out[o++] = s->uid[i];
	out[o] = '\0';
}
