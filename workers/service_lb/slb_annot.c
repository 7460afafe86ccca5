#include "workers/service_lb/slb_annot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "workers/service_lb/slb_svc.h"

/* LP_BOOL: "on"/"off" in the annotation, "true"/"false" to the API. */
enum lp_kind { LP_INT, LP_ONOFF, LP_ENUM, LP_STR, LP_BOOL };

struct lp_def {
	const char *suffix;
	const char *param;
	const char *values; /* LP_ENUM: "|a|b|" */
	enum lp_kind kind;
	int lo, hi;
	unsigned protos;
};

#define P_TU  (SLB_LP_TCP | SLB_LP_UDP)
#define P_HH  (SLB_LP_HTTP | SLB_LP_HTTPS)
#define P_ALL (P_TU | P_HH)

/* Suffix -> listener API parameter; ranges from the CLB API reference. */
static const struct lp_def lp_defs[] = {
	{"loadbalancer-scheduler", "Scheduler", "|rr|wrr|wlc|sch|tch|qch|",
	 LP_ENUM, 0, 0, P_ALL},
	{"loadbalancer-persistence-timeout", "PersistenceTimeout", NULL, LP_INT,
	 0, 3600, SLB_LP_TCP},
	{"loadbalancer-established-timeout", "EstablishedTimeout", NULL, LP_INT,
	 10, 900, SLB_LP_TCP},
	{"loadbalancer-connection-drain", "ConnectionDrain", NULL, LP_ONOFF, 0,
	 0, P_TU},
	{"loadbalancer-connection-drain-timeout", "ConnectionDrainTimeout",
	 NULL, LP_INT, 10, 900, P_TU},
	{"loadbalancer-idle-timeout", "IdleTimeout", NULL, LP_INT, 1, 60, P_HH},
	{"loadbalancer-request-timeout", "RequestTimeout", NULL, LP_INT, 1, 180,
	 P_HH},
	{"loadbalancer-sticky-session", "StickySession", NULL, LP_ONOFF, 0, 0,
	 P_HH},
	{"loadbalancer-sticky-session-type", "StickySessionType",
	 "|insert|server|", LP_ENUM, 0, 0, P_HH},
	{"loadbalancer-cookie", "Cookie", NULL, LP_STR, 0, 0, P_HH},
	{"loadbalancer-cookie-timeout", "CookieTimeout", NULL, LP_INT, 1, 86400,
	 P_HH},
	{"loadbalancer-xforwardedfor-proto", "XForwardedFor_proto", NULL,
	 LP_ONOFF, 0, 0, P_HH},
	{"loadbalancer-xforwardedfor-slbport", "XForwardedFor_SLBPORT", NULL,
	 LP_ONOFF, 0, 0, P_HH},
	{"loadbalancer-xforwardedfor-clientsrcport",
	 "XForwardedFor_ClientSrcPort", NULL, LP_ONOFF, 0, 0, P_HH},
	{"loadbalancer-acl-status", "AclStatus", NULL, LP_ONOFF, 0, 0, P_ALL},
	{"loadbalancer-acl-id", "AclId", NULL, LP_STR, 0, 0, P_ALL},
	{"loadbalancer-acl-type", "AclType", "|white|black|", LP_ENUM, 0, 0,
	 P_ALL},
	{"loadbalancer-health-check-switch", "HealthCheckSwitch", NULL,
	 LP_ONOFF, 0, 0, P_TU},
	{"loadbalancer-health-check-flag", "HealthCheck", NULL, LP_ONOFF, 0, 0,
	 P_HH},
	{"loadbalancer-health-check-type", "HealthCheckType", "|tcp|http|",
	 LP_ENUM, 0, 0, SLB_LP_TCP},
	{"loadbalancer-health-check-uri", "HealthCheckURI", NULL, LP_STR, 0, 0,
	 SLB_LP_TCP | P_HH},
	{"loadbalancer-health-check-domain", "HealthCheckDomain", NULL, LP_STR,
	 0, 0, SLB_LP_TCP | P_HH},
	{"loadbalancer-health-check-httpcode", "HealthCheckHttpCode", NULL,
	 LP_STR, 0, 0, SLB_LP_TCP | P_HH},
	{"loadbalancer-health-check-method", "HealthCheckMethod", "|head|get|",
	 LP_ENUM, 0, 0, P_HH},
	{"loadbalancer-health-check-connect-port", "HealthCheckConnectPort",
	 NULL, LP_INT, -520, 65535, P_ALL},
	{"loadbalancer-health-check-interval", "HealthCheckInterval", NULL,
	 LP_INT, 1, 50, P_ALL},
	{"loadbalancer-healthy-threshold", "HealthyThreshold", NULL, LP_INT, 2,
	 10, P_ALL},
	{"loadbalancer-unhealthy-threshold", "UnhealthyThreshold", NULL, LP_INT,
	 2, 10, P_ALL},
	{"loadbalancer-health-check-connect-timeout",
	 "HealthCheckConnectTimeout", NULL, LP_INT, 1, 300, P_TU},
	{"loadbalancer-health-check-timeout", "HealthCheckTimeout", NULL,
	 LP_INT, 1, 300, P_HH},
	{"loadbalancer-tls-cipher-policy", "TLSCipherPolicy", NULL, LP_STR, 0,
	 0, SLB_LP_HTTPS},
	{"loadbalancer-http2-enabled", "EnableHttp2", NULL, LP_ONOFF, 0, 0,
	 SLB_LP_HTTPS},
	{"loadbalancer-proxy-protocol", "ProxyProtocolV2Enabled", NULL, LP_BOOL,
	 0, 0, P_TU},
};

struct actx {
	const struct slb_svc *s;
	char *err;
	size_t errlen;
};

const char *slb_annot_get(const struct slb_svc *s, const char *suffix)
{
	char key[256];
	const char *v;

	snprintf(key, sizeof(key), "%s%s", SLB_ANNOT_PREFIX, suffix);
	v = slb_svc_annot(s, key);
	if (v)
		return v;
	snprintf(key, sizeof(key), "%s%s", SLB_ANNOT_PREFIX_LEGACY, suffix);
	return slb_svc_annot(s, key);
}

/* The key under which the suffix was actually found, for messages. */
static const char *found_key(const struct slb_svc *s, const char *suffix,
			     char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", SLB_ANNOT_PREFIX, suffix);
	if (slb_svc_annot(s, buf))
		return buf;
	snprintf(buf, n, "%s%s", SLB_ANNOT_PREFIX_LEGACY, suffix);
	return buf;
}

static int bad(struct actx *c, const char *suffix, const char *val,
	       const char *why)
{
	char key[256];

	snprintf(c->err, c->errlen, "annotation %s: \"%.64s\" %s",
		 found_key(c->s, suffix, key, sizeof(key)), val, why);
	return -EINVAL;
}

static int parse_int(const char *v, int lo, int hi, int *out)
{
	char *end;
	long x;

	if (!v || !*v)
		return -EINVAL;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -EINVAL;
	*out = (int)x;
	return 0;
}

static int svc_has_port(const struct slb_svc *s, int port)
{
	size_t i;

	for (i = 0; i < s->n_ports; i++)
		if (s->ports[i].port == port)
			return 1;
	return 0;
}

static int get_str(struct actx *c, const char *suffix, char *dst, size_t n)
{
	const char *v = slb_annot_get(c->s, suffix);

	if (v && slb_strcpy(dst, n, v) < 0)
		return bad(c, suffix, v, "is too long");
	return 0;
}

static int get_choice(struct actx *c, const char *suffix, const char *a,
		      const char *b, int *out)
{
	const char *v = slb_annot_get(c->s, suffix);
	char why[128];

	if (!v)
		return 0;
	if (strcasecmp(v, a) == 0)
		*out = 1;
	else if (strcasecmp(v, b) == 0)
		*out = 0;
	else {
		snprintf(why, sizeof(why), "must be \"%s\" or \"%s\"", a, b);
		return bad(c, suffix, v, why);
	}
	return 1;
}

/* Splits v on commas and calls fn for each non-empty item. */
static int each_item(struct actx *c, const char *suffix, const char *v,
		     int (*fn)(struct actx *, const char *, const char *,
			       void *),
		     void *arg)
{
	char item[512];
	const char *p = v, *comma;
	size_t l;
	int r;

	while (p && *p) {
		comma = strchr(p, ',');
		l = comma ? (size_t)(comma - p) : strlen(p);
		if (l >= sizeof(item))
			return bad(c, suffix, v,
				   "has an item that is too long");
		memcpy(item, p, l);
		item[l] = '\0';
		if (l) {
			r = fn(c, suffix, item, arg);
			if (r < 0)
				return r;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int split_pair(const char *item, char sep, char *k, size_t kn,
		      const char **v)
{
	const char *s = strchr(item, sep);
	size_t l = s ? (size_t)(s - item) : strlen(item);

	if (l >= kn)
		return -EINVAL;
	memcpy(k, item, l);
	k[l] = '\0';
	*v = s ? s + 1 : NULL;
	return 0;
}

static int proto_port_item(struct actx *c, const char *suffix, const char *item,
			   void *arg)
{
	struct slb_annot *a = arg;
	char proto[16];
	const char *pv;
	int port;

	if (split_pair(item, ':', proto, sizeof(proto), &pv) < 0 || !pv)
		return bad(c, suffix, item, "is not <protocol>:<port>");
	if (slb_proto_parse(proto) == SLB_PROTO_BAD)
		return bad(c, suffix, item,
			   "names an unknown protocol (http, https, tcp, udp)");
	if (parse_int(pv, 1, 65535, &port) < 0)
		return bad(c, suffix, item, "has a port that is not a number");
	if (!svc_has_port(c->s, port))
		return bad(c, suffix, item, "names a port not in the Service");
	if (a->n_proto_ports == SLB_MAX_PORTS)
		return bad(c, suffix, item, "has too many entries");
	a->proto_ports[a->n_proto_ports].port = port;
	a->proto_ports[a->n_proto_ports++].proto = slb_proto_parse(proto);
	return 0;
}

static int vg_port_item(struct actx *c, const char *suffix, const char *item,
			void *arg)
{
	struct slb_annot *a = arg;
	char id[SLB_ID_LEN];
	const char *pv;
	int port;

	if (split_pair(item, ':', id, sizeof(id), &pv) < 0 || !pv ||
	    strncmp(id, "rsp-", 4) != 0 || strlen(id) < 5)
		return bad(c, suffix, item, "is not rsp-<id>:<port>");
	if (parse_int(pv, 1, 65535, &port) < 0)
		return bad(c, suffix, item, "has a port that is not a number");
	if (!svc_has_port(c->s, port))
		return bad(c, suffix, item, "names a port not in the Service");
	if (slb_annot_vg_for(a, port))
		return bad(c, suffix, item, "names a port twice");
	a->vg_ports[a->n_vg_ports].port = port;
	slb_strcpy(a->vg_ports[a->n_vg_ports++].vg_id, SLB_ID_LEN, id);
	return 0;
}

static int kv_item(struct actx *c, const char *suffix, const char *item,
		   struct slb_kv *kv, size_t *n, size_t max, int need_val)
{
	const char *v;

	if (*n == max)
		return bad(c, suffix, item, "has too many entries");
	if (split_pair(item, '=', kv[*n].key, sizeof(kv[*n].key), &v) < 0 ||
	    !kv[*n].key[0] || (need_val && (!v || !*v)))
		return bad(c, suffix, item, "is not key=value");
	if (slb_strcpy(kv[*n].val, sizeof(kv[*n].val), v ? v : "") < 0)
		return bad(c, suffix, item, "has a value that is too long");
	(*n)++;
	return 0;
}

static int label_item(struct actx *c, const char *suffix, const char *item,
		      void *arg)
{
	struct slb_annot *a = arg;

	return kv_item(c, suffix, item, a->backend_label, &a->n_backend_label,
		       8, 1);
}

static int tag_item(struct actx *c, const char *suffix, const char *item,
		    void *arg)
{
	struct slb_annot *a = arg;

	return kv_item(c, suffix, item, a->tags, &a->n_tags, SLB_MAX_TAGS, 0);
}

/* "must be one of rr, wrr, wlc" from "|rr|wrr|wlc|". */
static int bad_enum(struct actx *c, const struct lp_def *d, const char *v)
{
	char why[160];
	size_t l = 0, i;

	l = (size_t)snprintf(why, sizeof(why), "must be one of ");
	for (i = 1; d->values[i] && l + 3 < sizeof(why); i++) {
		if (d->values[i] != '|') {
			why[l++] = d->values[i];
			continue;
		}
		if (d->values[i + 1]) {
			why[l++] = ',';
			why[l++] = ' ';
		}
	}
	why[l] = '\0';
	return bad(c, d->suffix, v, why);
}

static int check_lp(struct actx *c, const struct lp_def *d, const char *v)
{
	char pat[80];
	int x;

	switch (d->kind) {
	case LP_INT:
		if (parse_int(v, d->lo, d->hi, &x) < 0) {
			snprintf(pat, sizeof(pat), "must be an integer %d-%d",
				 d->lo, d->hi);
			return bad(c, d->suffix, v, pat);
		}
		return 0;
	case LP_ONOFF:
	case LP_BOOL:
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return bad(c, d->suffix, v,
				   "must be \"on\" or \"off\"");
		return 0;
	case LP_ENUM:
		snprintf(pat, sizeof(pat), "|%.64s|", v);
		if (!*v || strchr(v, '|') || !strstr(d->values, pat))
			return bad_enum(c, d, v);
		return 0;
	case LP_STR:
		return *v ? 0 : bad(c, d->suffix, v, "must not be empty");
	}
	return 0;
}

static int parse_lparams(struct actx *c, struct slb_annot *a)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(lp_defs) / sizeof(lp_defs[0]); i++) {
		const char *v = slb_annot_get(c->s, lp_defs[i].suffix);
		struct slb_lparam *lp = &a->lparams[a->n_lparams];

		if (!v)
			continue;
		r = check_lp(c, &lp_defs[i], v);
		if (r < 0)
			return r;
		if (lp_defs[i].kind == LP_BOOL)
			v = strcmp(v, "on") == 0 ? "true" : "false";
		if (slb_strcpy(lp->val, sizeof(lp->val), v) < 0)
			return bad(c, lp_defs[i].suffix, v, "is too long");
		slb_strcpy(lp->key, sizeof(lp->key), lp_defs[i].param);
		lp->protos = lp_defs[i].protos;
		a->n_lparams++;
	}
	for (i = 0; i < a->n_lparams; i++)
		if (strcmp(a->lparams[i].key, "AclStatus") == 0)
			a->acl_on = strcmp(a->lparams[i].val, "on") == 0;
	return 0;
}

static int parse_lb_attrs(struct actx *c, struct slb_annot *a)
{
	const char *v;
	int r = 0, on = 0;

	r |= get_str(c, "loadbalancer-id", a->lb_id, sizeof(a->lb_id));
	r |= get_str(c, "loadbalancer-vswitch-id", a->vswitch_id,
		     sizeof(a->vswitch_id));
	r |= get_str(c, "loadbalancer-name", a->name, sizeof(a->name));
	r |= get_str(c, "loadbalancer-spec", a->spec, sizeof(a->spec));
	r |= get_str(c, "loadbalancer-master-zoneid", a->master_zone,
		     sizeof(a->master_zone));
	r |= get_str(c, "loadbalancer-slave-zoneid", a->slave_zone,
		     sizeof(a->slave_zone));
	r |= get_str(c, "loadbalancer-resource-group-id", a->resource_group,
		     sizeof(a->resource_group));
	r |= get_str(c, "loadbalancer-hostname", a->hostname,
		     sizeof(a->hostname));
	r |= get_str(c, "loadbalancer-cert-id", a->cert_id, sizeof(a->cert_id));
	if (r)
		return -EINVAL;
	if (get_choice(c, "loadbalancer-address-type", "intranet", "internet",
		       &a->intranet) < 0 ||
	    get_choice(c, "loadbalancer-force-override-listeners", "true",
		       "false", &a->force_override) < 0)
		return -EINVAL;
	r = get_choice(c, "loadbalancer-delete-protection", "on", "off", &on);
	if (r < 0)
		return r;
	if (r > 0) {
		a->delete_protection = on;
		a->delete_protection_set = 1;
	}
	v = slb_annot_get(c->s, "loadbalancer-preserve-lb-on-delete");
	a->preserve = v && *v;
	return 0;
}

static int parse_billing(struct actx *c, struct slb_annot *a)
{
	const char *v;
	int x;

	v = slb_annot_get(c->s, "loadbalancer-instance-charge-type");
	if (v && strcasecmp(v, "PayBySpec") != 0 &&
	    strcasecmp(v, "PayByCLCU") != 0)
		return bad(c, "loadbalancer-instance-charge-type", v,
			   "must be PayBySpec or PayByCLCU");
	slb_strcpy(a->instance_charge_type, sizeof(a->instance_charge_type),
		   v ? (strcasecmp(v, "PayBySpec") ? "PayByCLCU" : "PayBySpec")
		     : "");
	v = slb_annot_get(c->s, "loadbalancer-charge-type");
	if (v && strcasecmp(v, "paybytraffic") != 0 &&
	    strcasecmp(v, "paybybandwidth") != 0)
		return bad(c, "loadbalancer-charge-type", v,
			   "must be paybytraffic or paybybandwidth");
	if (v)
		snprintf(a->internet_charge_type,
			 sizeof(a->internet_charge_type), "%s",
			 strcasecmp(v, "paybytraffic") ? "paybybandwidth"
						       : "paybytraffic");
	v = slb_annot_get(c->s, "loadbalancer-bandwidth");
	if (v && parse_int(v, 1, 5000, &x) < 0)
		return bad(c, "loadbalancer-bandwidth", v,
			   "must be an integer 1-5000");
	a->bandwidth = v ? x : 0;
	v = slb_annot_get(c->s, "loadbalancer-modification-protection");
	if (v && strcmp(v, "ConsoleProtection") != 0 &&
	    strcmp(v, "NonProtection") != 0)
		return bad(c, "loadbalancer-modification-protection", v,
			   "must be ConsoleProtection or NonProtection");
	slb_strcpy(a->modification_protection,
		   sizeof(a->modification_protection), v);
	v = slb_annot_get(c->s, "loadbalancer-ip-version");
	if (v && strcmp(v, "ipv4") != 0 && strcmp(v, "ipv6") != 0)
		return bad(c, "loadbalancer-ip-version", v,
			   "must be ipv4 or ipv6");
	slb_strcpy(a->ip_version, sizeof(a->ip_version), v);
	return 0;
}

static int parse_weights(struct actx *c, struct slb_annot *a)
{
	const char *v;
	int on = 0;

	v = slb_annot_get(c->s, "loadbalancer-weight");
	if (v && parse_int(v, 0, 100, &a->weight) < 0)
		return bad(c, "loadbalancer-weight", v,
			   "must be an integer 0-100");
	v = slb_annot_get(c->s, "loadbalancer-default-weight");
	if (v && parse_int(v, 0, 100, &a->default_weight) < 0)
		return bad(c, "loadbalancer-default-weight", v,
			   "must be an integer 0-100");
	if (get_choice(c, "loadbalancer-ignore-weight-update", "on", "off",
		       &on) < 0)
		return -EINVAL;
	a->ignore_weight_update = on;
	on = 0;
	if (get_choice(c, "loadbalancer-remove-unscheduled-backend", "on",
		       "off", &on) < 0)
		return -EINVAL;
	a->remove_unscheduled = on;
	return 0;
}

static int parse_backend_type(struct actx *c, struct slb_annot *a,
			      const struct cfg_cloud *cloud)
{
	const char *v = slb_svc_annot(c->s, SLB_ANNOT_BACKEND_TYPE);

	if (!v) {
		a->eni = cloud &&
			 strcasecmp(cloud->service_backend_type, "eni") == 0;
		return 0;
	}
	if (strcmp(v, "eni") != 0 && strcmp(v, "ecs") != 0) {
		snprintf(c->err, c->errlen,
			 "annotation %s: \"%.64s\" must be \"eni\" or \"ecs\"",
			 SLB_ANNOT_BACKEND_TYPE, v);
		return -EINVAL;
	}
	a->eni = strcmp(v, "eni") == 0;
	return 0;
}

static int parse_lists(struct actx *c, struct slb_annot *a)
{
	const char *v;
	int r;

	v = slb_annot_get(c->s, "loadbalancer-protocol-port");
	if (v && (r = each_item(c, "loadbalancer-protocol-port", v,
				proto_port_item, a)) < 0)
		return r;
	v = slb_annot_get(c->s, "loadbalancer-vgroup-port");
	if (v && !*v)
		return bad(c, "loadbalancer-vgroup-port", v, "is empty");
	if (v && (r = each_item(c, "loadbalancer-vgroup-port", v, vg_port_item,
				a)) < 0)
		return r;
	if (v && !a->lb_id[0])
		return bad(c, "loadbalancer-vgroup-port", v,
			   "needs the loadbalancer-id annotation");
	v = slb_annot_get(c->s, "loadbalancer-backend-label");
	if (v && (r = each_item(c, "loadbalancer-backend-label", v, label_item,
				a)) < 0)
		return r;
	v = slb_annot_get(c->s, "loadbalancer-additional-resource-tags");
	if (v && (r = each_item(c, "loadbalancer-additional-resource-tags", v,
				tag_item, a)) < 0)
		return r;
	return 0;
}

static enum slb_proto port_proto(const struct actx *c,
				 const struct slb_annot *a, int port)
{
	size_t i;

	for (i = 0; i < c->s->n_ports; i++)
		if (c->s->ports[i].port == port)
			return slb_annot_port_proto(a, &c->s->ports[i]);
	return SLB_PROTO_BAD;
}

static int fwd_item(struct actx *c, const char *suffix, const char *item,
		    void *arg)
{
	struct slb_annot *a = arg;
	char from[16];
	const char *to;
	int f, t;

	if (split_pair(item, ':', from, sizeof(from), &to) < 0 || !to ||
	    parse_int(from, 1, 65535, &f) < 0 ||
	    parse_int(to, 1, 65535, &t) < 0)
		return bad(c, suffix, item,
			   "is not <http port>:<https port> (e.g. 80:443)");
	if (port_proto(c, a, f) != SLB_HTTP)
		return bad(c, suffix, item,
			   "must start with a Service port whose listener is "
			   "http (loadbalancer-protocol-port)");
	if (port_proto(c, a, t) != SLB_HTTPS)
		return bad(c, suffix, item,
			   "must end with a Service port whose listener is "
			   "https (loadbalancer-protocol-port)");
	if (slb_annot_fwd_for(a, f))
		return bad(c, suffix, item, "names an http port twice");
	a->fwd[a->n_fwd].from = f;
	a->fwd[a->n_fwd++].to = t;
	return 0;
}

static int get_enum2(struct actx *c, const char *suffix, const char *x,
		     const char *y, char *dst, size_t n)
{
	const char *v = slb_annot_get(c->s, suffix);
	char why[96];

	if (!v)
		return 0;
	if (strcmp(v, x) != 0 && (!y || strcmp(v, y) != 0)) {
		if (y)
			snprintf(why, sizeof(why), "must be \"%s\" or \"%s\"",
				 x, y);
		else
			snprintf(why, sizeof(why), "must be \"%s\"", x);
		return bad(c, suffix, v, why);
	}
	return slb_strcpy(dst, n, v);
}

static int domain_ok(const char *d)
{
	for (; *d; d++)
		if (!(*d >= 'a' && *d <= 'z') && !(*d >= 'A' && *d <= 'Z') &&
		    !(*d >= '0' && *d <= '9') && !strchr(".-*_", *d))
			return 0;
	return 1;
}

static int domext_item(struct actx *c, const char *suffix, const char *item,
		       void *arg)
{
	struct slb_annot *a = arg;
	struct slb_domext *d = &a->domext[a->n_domext];
	const char *cert;
	size_t i;

	if (a->n_domext == SLB_MAX_DOMEXT)
		return bad(c, suffix, item, "has more than 16 entries");
	if (split_pair(item, ':', d->domain, sizeof(d->domain), &cert) < 0 ||
	    !cert || !*cert || !d->domain[0] || !domain_ok(d->domain) ||
	    strchr(cert, ' ') || slb_strcpy(d->cert, sizeof(d->cert), cert) < 0)
		return bad(c, suffix, item,
			   "is not <domain>:<certificate id> (e.g. "
			   "www.example.com:123_cert)");
	for (i = 0; i < a->n_domext; i++)
		if (strcasecmp(a->domext[i].domain, d->domain) == 0)
			return bad(c, suffix, item, "names a domain twice");
	a->n_domext++;
	return 0;
}

static int has_https(const struct actx *c, const struct slb_annot *a)
{
	size_t i;

	for (i = 0; i < c->s->n_ports; i++)
		if (slb_annot_port_proto(a, &c->s->ports[i]) == SLB_HTTPS)
			return 1;
	return 0;
}

/* An empty value is kept: it asks for no domain extensions at all. */
static int parse_domext(struct actx *c, struct slb_annot *a)
{
	const char *k = "loadbalancer-domain-extensions";
	const char *v = slb_annot_get(c->s, k);
	int r;

	if (!v)
		return 0;
	a->domext_set = 1;
	r = each_item(c, k, v, domext_item, a);
	if (r < 0)
		return r;
	if (a->n_domext && !has_https(c, a))
		return bad(c, k, v,
			   "needs an https port (loadbalancer-protocol-port)");
	return 0;
}

/* IPv6 backends are pod IPv6 addresses on ENIs (a node has no IPv6
 * address the CLB could reach by instance id), and only an IPv6 CLB
 * can forward to them. */
static int check_backend_ipv6(struct actx *c, struct slb_annot *a)
{
	const char *bt = slb_svc_annot(c->s, SLB_ANNOT_BACKEND_TYPE);

	if (strcmp(a->backend_ip_version, "ipv6") != 0)
		return 0;
	if (strcmp(a->ip_version, "ipv6") != 0)
		return bad(c, "loadbalancer-backend-ip-version", "ipv6",
			   "needs an IPv6 CLB (loadbalancer-ip-version: "
			   "ipv6); use \"ipv4\" or remove it");
	if (bt && strcmp(bt, "ecs") == 0)
		return bad(c, "loadbalancer-backend-ip-version", "ipv6",
			   "cannot be combined with backend-type ecs (IPv6 "
			   "backends are pod ENIs); remove backend-type");
	a->eni = 1;
	return 0;
}

/* Keys of the Go CCM that reach here after protocol-port is known. */
static int parse_more(struct actx *c, struct slb_annot *a)
{
	char eip[8] = "";
	const char *v;
	int r;

	v = slb_annot_get(c->s, "loadbalancer-forward-port");
	if (v && !*v)
		return bad(c, "loadbalancer-forward-port", v,
			   "is empty (expected <http port>:<https port>)");
	if (v &&
	    (r = each_item(c, "loadbalancer-forward-port", v, fwd_item, a)) < 0)
		return r;
	if (get_enum2(c, "loadbalancer-external-ip-type", "eip", NULL, eip,
		      sizeof(eip)) < 0 ||
	    get_enum2(c, "loadbalancer-network-type", "classic", "vpc",
		      a->network_type, sizeof(a->network_type)) < 0 ||
	    get_enum2(c, "loadbalancer-backend-ip-version", "ipv4", "ipv6",
		      a->backend_ip_version, sizeof(a->backend_ip_version)) < 0)
		return -EINVAL;
	a->eip_status = eip[0] != '\0';
	r = parse_domext(c, a);
	if (r < 0)
		return r;
	r = check_backend_ipv6(c, a);
	if (r < 0)
		return r;
	if (!strcmp(a->network_type, "classic") && a->vswitch_id[0])
		return bad(c, "loadbalancer-network-type", "classic",
			   "cannot be combined with loadbalancer-vswitch-id "
			   "(a classic-network CLB has no vSwitch)");
	return 0;
}

static int check_https(struct actx *c, const struct slb_annot *a)
{
	size_t i;

	for (i = 0; i < a->n_proto_ports; i++)
		if (a->proto_ports[i].proto == SLB_HTTPS && !a->cert_id[0]) {
			snprintf(c->err, c->errlen,
				 "annotation %sloadbalancer-protocol-port: "
				 "https port %d needs the %sloadbalancer-"
				 "cert-id annotation",
				 SLB_ANNOT_PREFIX, a->proto_ports[i].port,
				 SLB_ANNOT_PREFIX);
			return -EINVAL;
		}
	return 0;
}

int slb_annot_parse(const struct slb_svc *s, const struct cfg_cloud *cloud,
		    struct slb_annot *a, char *err, size_t errlen)
{
	struct actx c = {s, err, errlen};
	const char *v;
	int r;

	memset(a, 0, sizeof(*a));
	a->weight = -1;
	a->default_weight = 100;
	a->delete_protection = 1;
	r = parse_lb_attrs(&c, a);
	if (r == 0)
		r = parse_billing(&c, a);
	if (r == 0)
		r = parse_weights(&c, a);
	if (r == 0)
		r = parse_backend_type(&c, a, cloud);
	if (r == 0)
		r = parse_lists(&c, a);
	if (r == 0)
		r = parse_lparams(&c, a);
	if (r == 0)
		r = check_https(&c, a);
	if (r == 0)
		r = parse_more(&c, a);
	if (r < 0)
		return r;
	v = slb_annot_get(s, "loadbalancer-ip");
	slb_strcpy(a->address, sizeof(a->address), v ? v : s->lb_ip);
	return 0;
}

enum slb_proto slb_annot_port_proto(const struct slb_annot *a,
				    const struct slb_port *p)
{
	size_t i;

	for (i = 0; i < a->n_proto_ports; i++)
		if (a->proto_ports[i].port == p->port)
			return a->proto_ports[i].proto;
	return p->proto;
}

int slb_annot_fwd_for(const struct slb_annot *a, int port)
{
	size_t i;

	for (i = 0; i < a->n_fwd; i++)
		if (a->fwd[i].from == port)
			return a->fwd[i].to;
	return 0;
}

const char *slb_annot_vg_for(const struct slb_annot *a, int port)
{
	size_t i;

	for (i = 0; i < a->n_vg_ports; i++)
		if (a->vg_ports[i].port == port)
			return a->vg_ports[i].vg_id;
	return NULL;
}
