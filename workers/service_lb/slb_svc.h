/*
 * slb_svc - one Service in the compact form the worker keeps.
 *
 * slb_svc_from_json extracts what the controller reads (ports,
 * annotations, policy, finalizer, status); slb_svc_wants_lb is the
 * qualification rule of the issue: type LoadBalancer, no
 * spec.loadBalancerClass, no service.beta.kubernetes.io/class annotation,
 * not being deleted. A Service that does not want a CLB but carries our
 * finalizer needs cleanup.
 *
 * Ownership: the caller frees the result with slb_svc_free (NULL no-op).
 */
#ifndef CCM_SLB_SVC_H
#define CCM_SLB_SVC_H

#include "workers/service_lb/slb_types.h"

#define SLB_ANNOT_CLASS "service.beta.kubernetes.io/class"
#define SLB_ANNOT_TUNNEL                                                       \
	"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-tunnel-type"

int slb_svc_from_json(const struct json *obj, struct slb_svc **ret);
void slb_svc_free(struct slb_svc *s);

const char *slb_svc_annot(const struct slb_svc *s, const char *key);
int slb_svc_wants_lb(const struct slb_svc *s);
int slb_svc_needs_cleanup(const struct slb_svc *s);
/* "a" + uid without dashes, 32 characters at most. */
void slb_svc_default_name(const struct slb_svc *s, char out[33]);

#endif
