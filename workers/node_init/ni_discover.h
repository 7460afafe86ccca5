/*
 * ni_discover - which ECS instance is this node? (pure matching)
 *
 * The worker queries DescribeInstances in the cluster's VPC by the nodes'
 * IPs (PrivateIpAddresses, ≤100 per call) and by instance ids used as node
 * names or hostnames (InstanceIds, ≤100 per call), pools the answers, and
 * asks ni_discover_match for each node. A candidate must be in the
 * cluster's VPC (when one is configured) and either carry the node's IP as
 * a VPC private IP or have the node's name/hostname as its id.
 *
 *   NI_DISC_FOUND      exactly one candidate: *out points into the pool
 *   NI_DISC_AMBIGUOUS  several: their ids, comma-separated, in cands
 *   NI_DISC_NONE       nothing matched
 *
 * Never a guess: two candidates is an answer of its own.
 */
#ifndef CCM_NI_DISCOVER_H
#define CCM_NI_DISCOVER_H

#include <stddef.h>

#include "workers/node_init/ni_model.h"

enum ni_disc {
	NI_DISC_FOUND = 0,
	NI_DISC_AMBIGUOUS,
	NI_DISC_NONE,
};

/* The instance id the node's name or hostname label spells, or NULL. */
const char *ni_discover_id_hint(const struct ni_node *n);
enum ni_disc ni_discover_match(const struct ni_node *n,
			       const struct ni_instance *pool, size_t npool,
			       const char *vpc_id,
			       const struct ni_instance **out, char *cands,
			       size_t candlen);
/* "<region>.<instance-id>" */
int ni_provider_id(const char *region, const char *instance, char *out,
		   size_t n);

#endif
