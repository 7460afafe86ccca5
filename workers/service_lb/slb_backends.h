/*
 * slb_backends - which servers back one Service port, with which weight.
 *
 * Cluster policy: every eligible node (slb_node_eligible) on its nodePort
 * by ECS instance id, plus ENI backends for ready pods on virtual-kubelet
 * nodes. Local policy: nodes with ready endpoints, weight = pods on the
 * node (virtual-kubelet pods as ENI, weight 1). backend-type eni: every
 * ready pod IP as an ENI backend on its target port.
 *
 * ENI backends come out with server_ip set and server_id empty: the
 * caller resolves IPs to ENI ids (DescribeNetworkInterfaces) and drops
 * the ones it cannot resolve.
 *
 * Eligibility keeps Ready=Unknown nodes on purpose: an API-server
 * partition turns every node Unknown while pods still serve. Only
 * Ready=False removes a node.
 *
 * Pure; out is caller-owned (slb_bes_done).
 */
#ifndef CCM_SLB_BACKENDS_H
#define CCM_SLB_BACKENDS_H

#include "config/cfg.h"
#include "workers/service_lb/slb_annot.h"

struct slb_be_in {
	const struct slb_svc *svc;
	const struct slb_annot *annot;
	const char *cluster_id;
	struct wk_node *const *nodes;
	size_t n_nodes;
	const struct slb_eps *eps;
	const struct cfg_quotas *quotas; /* NULL: no quota checks */
};

int slb_node_eligible(const struct wk_node *n, const struct slb_annot *a);

/* The group-name port of a Service port: nodePort (ECS mode) or the
 * targetPort, number or name (ENI mode). */
void slb_vg_port_str(const struct slb_annot *a, const struct slb_port *p,
		     char *out, size_t n);
/* "k8s/<vgport>/<svc>/<ns>/<clusterID>" */
void slb_owner_desc(const struct slb_svc *s, const char *vg_port,
		    const char *cluster_id, char *out, size_t n);
/* Does desc (a group name, listener or backend description) belong to
 * this Service in this cluster? The port part is not compared. */
int slb_desc_is_ours(const char *desc, const struct slb_svc *s,
		     const char *cluster_id);
/* Does desc name any Service of any cluster (k8s/a/b/c/d)? */
int slb_desc_is_k8s(const char *desc);

/* -EINVAL with err for a nodePort 0 in ECS mode. */
int slb_backends_for_port(const struct slb_be_in *in, const struct slb_port *p,
			  struct slb_bes *out, char *err, size_t errlen);

#endif
