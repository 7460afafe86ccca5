/*
 * slb_types - the plain data the service-LB worker computes with.
 *
 * struct slb_svc is the compact form of one Service (slb_svc_from_json);
 * struct slb_ep one endpoint address for one port; struct slb_backend one
 * member of a vServer group, desired or observed. Pure modules (annotation
 * parsing, backend computation, model, diff) work only on these, so they
 * can be unit-tested without an API server or a cloud.
 *
 * Ownership: a struct slb_svc owns its annotation strings and its ports
 * array (slb_svc_free); struct slb_bes and struct slb_eps own their arrays
 * (slb_bes_done, slb_eps_done). Everything else is plain fixed-size values.
 *
 * Memory: the worker keeps one slb_svc, one slb_eps and one cached CLB
 * (slb_cloud.h) per Service, thousands of them, so arrays are sized to
 * what they hold: ports to the Service's count, copies exactly, and
 * growing arrays start small.
 */
#ifndef CCM_SLB_TYPES_H
#define CCM_SLB_TYPES_H

#include <stddef.h>

#include "lib/json.h"
#include "workers/wk_node.h"

#define SLB_FINALIZER "service.k8s.alibaba/resources"
/* Ports one Service can have here: the listener quota (cloud-config
 * maxListenersPerLoadBalancer) is enforced below this bound. */
#define SLB_MAX_PORTS 100
#define SLB_ID_LEN    64
#define SLB_DESC_LEN  256
#define SLB_NAME_LEN  254

enum slb_proto { SLB_TCP = 0, SLB_UDP, SLB_HTTP, SLB_HTTPS, SLB_PROTO_BAD };

enum slb_btype { SLB_BE_ECS = 0, SLB_BE_ENI };

const char *slb_proto_str(enum slb_proto p);
/* Case-insensitive "tcp", "UDP", ...; SLB_PROTO_BAD otherwise. */
enum slb_proto slb_proto_parse(const char *s);

struct slb_port {
	char name[64];
	enum slb_proto proto; /* from spec.ports[].protocol */
	int port;
	int node_port;
	int target_port;      /* 0 when the targetPort is a name */
	char target_name[64]; /* named targetPort */
};

struct slb_svc {
	char ns[64];
	char name[SLB_NAME_LEN];
	char uid[64];
	char rv[32];
	int is_lb;     /* spec.type == LoadBalancer */
	int has_class; /* spec.loadBalancerClass or the class annotation */
	int deleting;  /* metadata.deletionTimestamp */
	int has_finalizer;
	int local;	   /* externalTrafficPolicy: Local */
	int no_node_ports; /* allocateLoadBalancerNodePorts: false */
	char lb_ip[64];	   /* spec.loadBalancerIP */
	int n_source_ranges;
	struct wk_kv *annots;
	size_t n_annots;
	struct slb_port *ports; /* n_ports of them, owned */
	size_t n_ports;
	int too_many_ports;
	char ingress_ip[256]; /* every ingress[].ip, comma-separated */
	char ingress_host[256];
};

struct slb_ep {
	char ip[64];
	char node[SLB_NAME_LEN]; /* "" when unknown */
	char port_name[64];
	int port;
	int ready;
};

struct slb_eps {
	struct slb_ep *v;
	size_t n, cap;
};

struct slb_backend {
	char server_id[SLB_ID_LEN]; /* ECS instance or ENI id */
	char server_ip[64];	    /* ENI backends */
	int port;
	int weight;
	enum slb_btype type;
	char desc[SLB_DESC_LEN];
};

struct slb_bes {
	struct slb_backend *v;
	size_t n, cap;
};

int slb_bes_push(struct slb_bes *b, const struct slb_backend *be);
void slb_bes_done(struct slb_bes *b);
int slb_bes_copy(struct slb_bes *dst, const struct slb_bes *src);
int slb_eps_push(struct slb_eps *e, const struct slb_ep *ep);
void slb_eps_done(struct slb_eps *e);
/* Gives back the unused capacity of a list that is kept (cached). */
void slb_eps_trim(struct slb_eps *e);

/* Same member of a group: (ServerId, Port), plus ServerIp for ENI. */
int slb_backend_same(const struct slb_backend *a, const struct slb_backend *b);

/* Copies src into dst (size n) when it fits; -E2BIG otherwise. */
int slb_strcpy(char *dst, size_t n, const char *src);

/* Called before each cloud call of a sync that may make many of them, so
 * the worker can show progress (its heartbeat) while the loop waits; fn
 * NULL or the pointer NULL: nothing. */
struct slb_tick {
	void (*fn)(void *arg);
	void *arg;
};

void slb_tick(const struct slb_tick *t);

#endif
