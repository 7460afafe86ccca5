#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alicloud/ali_json.h"
#include "alicloud/ali_slb.h"

#define LISTENER_PAGE 50

enum fkind { F_STR, F_INT };

/* One listener attribute: API name, place in the struct, kind, size. */
struct field {
	const char *name;
	size_t off;
	enum fkind kind;
	size_t size;
};

#define S(n, m)                                                                \
	{                                                                      \
		n, offsetof(struct ali_listener, m), F_STR,                    \
			sizeof(((struct ali_listener *)0)->m)                  \
	}
#define I(n, m)                                                                \
	{                                                                      \
		n, offsetof(struct ali_listener, m), F_INT, sizeof(int)        \
	}

/* Attributes shared by the create, set and describe APIs. */
static const struct field fields[] = {
	I("BackendServerPort", backend_port),
	I("Bandwidth", bandwidth),
	S("VServerGroupId", vserver_group_id),
	S("Scheduler", scheduler),
	S("Description", description),
	I("PersistenceTimeout", persistence_timeout),
	I("EstablishedTimeout", established_timeout),
	S("HealthCheck", health_check),
	S("HealthCheckType", health_check_type),
	I("HealthCheckConnectPort", health_check_connect_port),
	I("HealthCheckConnectTimeout", health_check_connect_timeout),
	I("HealthCheckInterval", health_check_interval),
	I("HealthyThreshold", healthy_threshold),
	I("UnhealthyThreshold", unhealthy_threshold),
	I("HealthCheckTimeout", health_check_timeout),
	S("HealthCheckDomain", health_check_domain),
	S("HealthCheckURI", health_check_uri),
	S("HealthCheckHttpCode", health_check_http_code),
	S("HealthCheckMethod", health_check_method),
	S("StickySession", sticky_session),
	S("StickySessionType", sticky_session_type),
	S("Cookie", cookie),
	I("CookieTimeout", cookie_timeout),
	S("XForwardedFor", x_forwarded_for),
	S("XForwardedFor_proto", xff_proto),
	S("XForwardedFor_SLBIP", xff_slbip),
	S("XForwardedFor_SLBID", xff_slbid),
	S("XForwardedFor_SLBPORT", xff_slbport),
	S("XForwardedFor_ClientSrcPort", xff_client_src_port),
	S("Gzip", gzip),
	I("IdleTimeout", idle_timeout),
	I("RequestTimeout", request_timeout),
	S("ListenerForward", listener_forward),
	I("ForwardPort", forward_port),
	S("ServerCertificateId", server_certificate_id),
	S("CACertificateId", ca_certificate_id),
	S("EnableHttp2", enable_http2),
	S("TLSCipherPolicy", tls_cipher_policy),
	S("AclId", acl_id),
	S("AclType", acl_type),
	S("AclStatus", acl_status),
	S("ConnectionDrain", connection_drain),
	I("ConnectionDrainTimeout", connection_drain_timeout),
	S("ProxyProtocolV2Enabled", proxy_protocol_v2),
	S("Status", status),
};

#undef S
#undef I

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

void ali_listener_init(struct ali_listener *l)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	l->port = ALI_UNSET;
	for (i = 0; i < NFIELDS; i++)
		if (fields[i].kind == F_INT)
			*(int *)(void *)((char *)l + fields[i].off) = ALI_UNSET;
}

void ali_listener_list_done(struct ali_listener_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const char *proto_upper(const char *proto)
{
	if (strcasecmp(proto, "tcp") == 0)
		return "TCP";
	if (strcasecmp(proto, "udp") == 0)
		return "UDP";
	if (strcasecmp(proto, "http") == 0)
		return "HTTP";
	if (strcasecmp(proto, "https") == 0)
		return "HTTPS";
	return NULL;
}

/* The TCP/UDP create APIs spell the interval with a lower-case h. */
static const char *param_name(const struct field *f, const char *up, int create)
{
	if (create &&
	    f->off == offsetof(struct ali_listener, health_check_interval) &&
	    (strcmp(up, "TCP") == 0 || strcmp(up, "UDP") == 0))
		return "healthCheckInterval";
	return f->name;
}

int ali_slb_listener_params(const struct ali_listener *l, int create,
			    struct ali_params *p)
{
	const char *up = proto_upper(l->protocol);
	size_t i;

	if (!up || l->port == ALI_UNSET || !l->lb_id[0])
		return -EINVAL;
	ali_params_set(p, "LoadBalancerId", l->lb_id);
	ali_params_set_int(p, "ListenerPort", l->port);
	for (i = 0; i < NFIELDS; i++) {
		const char *src = (const char *)l + fields[i].off;
		const char *name = param_name(&fields[i], up, create);

		if (strcmp(fields[i].name, "Status") == 0)
			continue;
		if (fields[i].kind == F_STR && *src)
			ali_params_set(p, name, src);
		else if (fields[i].kind == F_INT &&
			 *(const int *)(const void *)src != ALI_UNSET)
			ali_params_set_int(p, name,
					   *(const int *)(const void *)src);
	}
	if (!create && l->vserver_group_id[0])
		ali_params_set(p, "VServerGroup", "on");
	return p->err;
}

static int listener_call(struct ali_client *c, const char *prefix,
			 const char *suffix, const struct ali_listener *l,
			 int create, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	char action[96];
	int r;

	ali_params_init(&p);
	r = ali_slb_listener_params(l, create, &p);
	if (r == 0) {
		snprintf(action, sizeof(action), "%s%s%s", prefix,
			 proto_upper(l->protocol), suffix);
		r = ali_client_call(c, ALI_SLB, action, &p, &resp, err);
	} else {
		ali_error_set(err, 0, "Client", "bad listener %s:%d",
			      l->protocol, l->port);
	}
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_slb_create_listener(struct ali_client *c, const struct ali_listener *l,
			    struct ali_error *err)
{
	return listener_call(c, "CreateLoadBalancer", "Listener", l, 1, err);
}

int ali_slb_set_listener(struct ali_client *c, const struct ali_listener *l,
			 struct ali_error *err)
{
	return listener_call(c, "SetLoadBalancer", "ListenerAttribute", l, 0,
			     err);
}

static void parse_fields(const struct json *o, struct ali_listener *l)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		char *dst = (char *)l + fields[i].off;

		if (!json_get(o, fields[i].name))
			continue;
		if (fields[i].kind == F_STR)
			ali_jstr(o, fields[i].name, dst, fields[i].size);
		else
			*(int *)(void *)dst =
				(int)ali_jint(o, fields[i].name, ALI_UNSET);
	}
}

int ali_slb_describe_listener(struct ali_client *c, const char *lb_id,
			      const char *protocol, int port,
			      struct ali_listener *out, struct ali_error *err)
{
	const char *up = proto_upper(protocol ? protocol : "");
	struct ali_params p;
	struct json *resp = NULL;
	char action[96];
	int r;

	if (!up)
		return -EINVAL;
	snprintf(action, sizeof(action),
		 "DescribeLoadBalancer%sListenerAttribute", up);
	ali_params_init(&p);
	/* Inputs may point into *out: copy them before it is reset. */
	ali_params_set(&p, "LoadBalancerId", lb_id);
	ali_params_set(&p, "ListenerProtocol", protocol);
	ali_params_set_int(&p, "ListenerPort", port);
	r = ali_client_call(c, ALI_SLB, action, &p, &resp, err);
	ali_listener_init(out);
	snprintf(out->lb_id, sizeof(out->lb_id), "%s",
		 ali_params_get(&p, "LoadBalancerId"));
	snprintf(out->protocol, sizeof(out->protocol), "%s",
		 ali_params_get(&p, "ListenerProtocol"));
	out->port = port;
	if (r == 0) {
		parse_fields(resp, out);
		out->port = (int)ali_jint(resp, "ListenerPort", port);
	}
	json_free(resp);
	ali_params_done(&p);
	return r;
}

static int port_action(struct ali_client *c, const char *action,
		       const char *lb_id, const char *protocol, int port,
		       struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", lb_id);
	ali_params_set_int(&p, "ListenerPort", port);
	ali_params_set(&p, "ListenerProtocol", protocol);
	r = ali_client_call(c, ALI_SLB, action, &p, &resp, err);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_slb_start_listener(struct ali_client *c, const char *lb_id,
			   const char *protocol, int port,
			   struct ali_error *err)
{
	return port_action(c, "StartLoadBalancerListener", lb_id, protocol,
			   port, err);
}

int ali_slb_stop_listener(struct ali_client *c, const char *lb_id,
			  const char *protocol, int port, struct ali_error *err)
{
	return port_action(c, "StopLoadBalancerListener", lb_id, protocol, port,
			   err);
}

int ali_slb_delete_listener(struct ali_client *c, const char *lb_id,
			    const char *protocol, int port,
			    struct ali_error *err)
{
	return port_action(c, "DeleteLoadBalancerListener", lb_id, protocol,
			   port, err);
}

static int append_listeners(const struct json *resp,
			    struct ali_listener_list *out)
{
	static const char *const cfgs[] = {
		"TCPListenerConfig", "UDPListenerConfig", "HTTPListenerConfig",
		"HTTPSListenerConfig"};
	const struct json *arr = ali_jlist(resp, "Listeners", "Listener");
	size_t i, k;

	for (i = 0; i < json_len(arr); i++) {
		const struct json *e = json_at(arr, i);
		struct ali_listener *l = ali_grow(&out->v, &out->n, sizeof(*l));

		if (!l)
			return -ENOMEM;
		ali_listener_init(l);
		parse_fields(e, l);
		for (k = 0; k < 4; k++)
			parse_fields(json_get(e, cfgs[k]), l);
		ali_jstr(e, "LoadBalancerId", l->lb_id, sizeof(l->lb_id));
		ali_jstr(e, "ListenerProtocol", l->protocol,
			 sizeof(l->protocol));
		l->port = (int)ali_jint(e, "ListenerPort", ALI_UNSET);
	}
	return 0;
}

int ali_slb_describe_listeners(struct ali_client *c, const char *lb_id,
			       struct ali_listener_list *out,
			       struct ali_error *err)
{
	char token[512] = "";
	int r;

	memset(out, 0, sizeof(*out));
	do {
		struct ali_params p;
		struct json *resp = NULL;

		ali_params_init(&p);
		ali_params_set(&p, "LoadBalancerId.1", lb_id);
		ali_params_set_int(&p, "MaxResults", LISTENER_PAGE);
		if (token[0])
			ali_params_set(&p, "NextToken", token);
		r = ali_client_call(c, ALI_SLB, "DescribeLoadBalancerListeners",
				    &p, &resp, err);
		if (r == 0)
			r = append_listeners(resp, out);
		ali_jstr(resp, "NextToken", token, sizeof(token));
		json_free(resp);
		ali_params_done(&p);
	} while (r == 0 && token[0]);
	if (r < 0)
		ali_listener_list_done(out);
	return r;
}
