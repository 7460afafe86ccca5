/*
 * slb_annot - the Service annotations the CLB path understands, parsed and
 * validated in one place.
 *
 * Keys are service.beta.kubernetes.io/alibaba-cloud-<suffix>, or the
 * legacy service.beta.kubernetes.io/alicloud-<suffix> (the new prefix wins
 * when both are set); backend-type and class have their own full keys.
 * slb_annot_parse never half-succeeds: on a bad value it returns -EINVAL
 * and err names the full annotation key, the value and what is expected,
 * and the caller must not touch the cloud for that Service.
 *
 * Listener tuning annotations (health checks, timeouts, sticky sessions,
 * ACLs ...) are collected as API parameter name/value pairs in lparams
 * (validated here, sent as is on create and compared on update).
 *
 * Plain value struct, no ownership.
 */
#ifndef CCM_SLB_ANNOT_H
#define CCM_SLB_ANNOT_H

#include "config/cfg.h"
#include "workers/service_lb/slb_types.h"

#define SLB_ANNOT_PREFIX	"service.beta.kubernetes.io/alibaba-cloud-"
#define SLB_ANNOT_PREFIX_LEGACY "service.beta.kubernetes.io/alicloud-"
#define SLB_ANNOT_BACKEND_TYPE	"service.beta.kubernetes.io/backend-type"
#define SLB_MAX_LPARAMS		40
#define SLB_MAX_TAGS		16
#define SLB_MAX_DOMEXT		16

enum slb_lp_proto {
	SLB_LP_TCP = 1 << SLB_TCP,
	SLB_LP_UDP = 1 << SLB_UDP,
	SLB_LP_HTTP = 1 << SLB_HTTP,
	SLB_LP_HTTPS = 1 << SLB_HTTPS,
};

struct slb_lparam {
	char key[48]; /* API parameter name */
	char val[256];
	unsigned protos; /* enum slb_lp_proto bits it applies to */
};

struct slb_proto_port {
	int port;
	enum slb_proto proto;
};

struct slb_vg_port {
	int port;
	char vg_id[SLB_ID_LEN];
};

struct slb_kv {
	char key[128];
	char val[256];
};

/* loadbalancer-forward-port: the HTTP listener on from forwards to the
 * HTTPS listener on to. */
struct slb_fwd {
	int from, to;
};

/* loadbalancer-domain-extensions: an SNI certificate on every HTTPS
 * listener of the Service. */
struct slb_domext {
	char domain[128];
	char cert[128];
};

struct slb_annot {
	char lb_id[SLB_ID_LEN];
	int force_override;
	int intranet;
	char vswitch_id[SLB_ID_LEN];
	char name[81];
	char spec[32];
	char instance_charge_type[16];
	char internet_charge_type[32];
	int bandwidth;	       /* 0: unset */
	char address[64];      /* loadbalancer-ip, else spec.loadBalancerIP */
	int delete_protection; /* 1 on (default), 0 off */
	int delete_protection_set;
	char modification_protection[32];
	char master_zone[64];
	char slave_zone[64];
	char ip_version[8];
	char resource_group[64];
	char hostname[256];
	int preserve;
	char cert_id[128];
	struct slb_proto_port proto_ports[SLB_MAX_PORTS];
	size_t n_proto_ports;
	struct slb_vg_port vg_ports[SLB_MAX_PORTS];
	size_t n_vg_ports;
	int weight; /* -1: unset */
	int default_weight;
	int ignore_weight_update;
	int eni;
	int remove_unscheduled;
	struct slb_kv backend_label[8];
	size_t n_backend_label;
	int acl_on;
	struct slb_lparam lparams[SLB_MAX_LPARAMS];
	size_t n_lparams;
	struct slb_kv tags[SLB_MAX_TAGS];
	size_t n_tags;
	struct slb_fwd fwd[SLB_MAX_PORTS];
	size_t n_fwd;
	int eip_status;		    /* loadbalancer-external-ip-type: eip */
	char network_type[8];	    /* "", classic, vpc */
	char backend_ip_version[8]; /* "", ipv4, ipv6 */
	int domext_set; /* annotation present (even empty): managed */
	struct slb_domext domext[SLB_MAX_DOMEXT];
	size_t n_domext;
};

/* The value of <prefix><suffix> under either prefix, or NULL. */
const char *slb_annot_get(const struct slb_svc *s, const char *suffix);

/* cloud supplies defaults (backend type); may be NULL. */
int slb_annot_parse(const struct slb_svc *s, const struct cfg_cloud *cloud,
		    struct slb_annot *a, char *err, size_t errlen);

/* The listener protocol of a Service port (annotation, else spec). */
enum slb_proto slb_annot_port_proto(const struct slb_annot *a,
				    const struct slb_port *p);
/* The HTTPS port an HTTP listener forwards to, or 0. */
int slb_annot_fwd_for(const struct slb_annot *a, int port);
/* The reused vServer group id for a port, or NULL. */
const char *slb_annot_vg_for(const struct slb_annot *a, int port);

#endif
