/*
 * ni_classify - is a Node an ECS instance, and how do we learn which?
 *
 *   NI_KIND_NON_ECS   the node matches cloud-config nonECSNodeSelector
 *                     (default type=virtual-kubelet), or its providerID is
 *                     set and does not parse as [alicloud://]<region>.<i-…>
 *   NI_KIND_ECS       its providerID names an ECS instance
 *   NI_KIND_DISCOVER  no providerID yet: look the instance up (by IP, or by
 *                     an instance id used as node name / hostname)
 *
 * A DISCOVER node for which discovery finds nothing is non-ECS when
 * cloud-config initializeNonECSNodes is true (machines in a data centre),
 * see ni_discovery_none_is_non_ecs. Non-ECS nodes only get the
 * uninitialized taint removed (when initializeNonECSNodes) and one Normal
 * Event, never repeated Warnings.
 *
 * Pure functions, no allocation.
 */
#ifndef CCM_NI_CLASSIFY_H
#define CCM_NI_CLASSIFY_H

#include "config/cfg.h"
#include "workers/wk_node.h"

enum ni_kind {
	NI_KIND_ECS = 0,
	NI_KIND_DISCOVER,
	NI_KIND_NON_ECS,
};

enum ni_kind ni_classify(const struct wk_node *n, const struct cfg_cloud *cc);
int ni_discovery_none_is_non_ecs(const struct cfg_cloud *cc);
/* May the worker drop the uninitialized taint of a non-ECS node? */
int ni_non_ecs_may_init(const struct cfg_cloud *cc);
const char *ni_kind_name(enum ni_kind k);

#endif
