/*
 * slb_model - the desired state of one Service's CLB.
 *
 * slb_model_build turns a Service, its parsed annotations, the node cache
 * and the endpoints into listeners and vServer groups (one per port, named
 * k8s/<port>/<svc>/<ns>/<clusterID>) with their backends. It refuses
 * (-EINVAL, err names the field or quota) anything that cannot be applied
 * whole: more ports than the listener quota, more servers than the
 * backend quota, nodePort 0 in ECS mode.
 *
 * slb_model_resolve_eni fills ENI ids of pod-IP backends through a lookup
 * callback and drops the IPs that have none (listed in skipped).
 *
 * Ownership: struct slb_want owns its backend lists (slb_model_free).
 */
#ifndef CCM_SLB_MODEL_H
#define CCM_SLB_MODEL_H

#include "workers/service_lb/slb_backends.h"

struct slb_want_port {
	int port;
	enum slb_proto proto;
	char vg_name[SLB_DESC_LEN];   /* our group's name */
	char reuse_vg_id[SLB_ID_LEN]; /* vgroup-port: a user group */
	char ldesc[SLB_DESC_LEN];     /* listener description */
	char lp_sig[20];	      /* signature of listener params */
	int fwd_port;		      /* HTTP: forward to this HTTPS port */
	struct slb_bes be;
};

struct slb_want {
	const struct slb_svc *svc; /* borrowed */
	struct slb_annot annot;
	char cluster_id[128];
	char default_name[33];
	int reused;	      /* loadbalancer-id */
	int manage_listeners; /* our CLB, or force-override */
	int max_backends;     /* quota of distinct servers, 0: none */
	struct slb_want_port ports[SLB_MAX_PORTS];
	size_t n_ports;
	/* additional-resource-tags keys this process set on the CLB, "\n"
	 * after each; borrowed, may be NULL (slb_attrs.h) */
	const char *tag_keys;
};

int slb_model_build(const struct slb_be_in *in, struct slb_want **ret,
		    char *err, size_t errlen);
void slb_model_free(struct slb_want *w);
/* Distinct servers (ServerId, ServerIp) across all groups: what the
 * backend-servers-per-CLB quota counts. */
int slb_model_servers(const struct slb_want *w);

typedef int (*slb_eni_lookup)(void *ctx, const char *ip, char *eni_id,
			      size_t n);
/* Returns how many IPs were dropped; their list goes to skipped. */
int slb_model_resolve_eni(struct slb_want *w, slb_eni_lookup fn, void *ctx,
			  char *skipped, size_t n);

/* Listener parameters that apply to a protocol, as "K=V;" in order. */
void slb_model_lparams_sig(const struct slb_annot *a, enum slb_proto p,
			   char out[20]);

#endif
