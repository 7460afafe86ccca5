/*
 * slb_find - locate a Service's CLB and read its full state.
 *
 * Lookup order: loadbalancer-id (DescribeLoadBalancerAttribute), else the
 * ownership tag kubernetes.do.not.delete=<default name>, else the default
 * name. More than one match is an error (never guess). A found CLB is
 * described fully (listeners with their groups and description, every
 * vServer group with its backends) into struct slb_cloud. Used on the
 * first sync, every cloud resync period, after a failed mutating call and
 * after an ambiguous create (describe before retrying).
 *
 * c is cleared first; the caller owns it (slb_cloud_clear).
 */
#ifndef CCM_SLB_FIND_H
#define CCM_SLB_FIND_H

#include "alicloud/ali_slb.h"
#include "workers/service_lb/slb_cloud.h"
#include "workers/service_lb/slb_model.h"

/* tick (may be NULL) runs before each cloud call. */
int slb_find(struct ali_client *ali, const struct slb_want *w,
	     struct slb_cloud *c, const struct slb_tick *tick,
	     struct ali_error *err);

/* Pure: fills the top-level attributes of c from a described CLB. */
void slb_cloud_from_lb(const struct ali_lb *lb, struct slb_cloud *c);

#endif
