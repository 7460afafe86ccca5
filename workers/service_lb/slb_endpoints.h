/*
 * slb_endpoints - endpoint addresses of a Service from core/v1 Endpoints
 * or discovery.k8s.io/v1 EndpointSlices (v1beta1 is not read: its
 * endpoints carry no nodeName on a 1.20 server).
 *
 * Each parse appends one struct slb_ep per (address, port) to out. v1
 * slices: conditions.ready absent counts as ready; FQDN slices are
 * skipped. Pure; out is the caller's (slb_eps_done).
 */
#ifndef CCM_SLB_ENDPOINTS_H
#define CCM_SLB_ENDPOINTS_H

#include "workers/service_lb/slb_types.h"

int slb_eps_from_endpoints(const struct json *obj, struct slb_eps *out);
int slb_eps_from_slice(const struct json *obj, struct slb_eps *out);

#endif
