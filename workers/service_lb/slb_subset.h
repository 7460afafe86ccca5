/*
 * slb_subset - which nodes back a Cluster-policy Service when the account
 * quotas cannot hold every eligible node in every CLB.
 *
 * Under externalTrafficPolicy: Cluster kube-proxy forwards from any node,
 * so any healthy subset of nodes serves the Service. Two quotas bound the
 * subsets: backend servers per CLB (the size of one subset) and CLBs one
 * ECS instance can be attached to (how many subsets one node can be in).
 *
 * slb_subset_size gives the size every subsetted Service gets: all
 * eligible nodes up to the backend quota, shrunk evenly when that many
 * members for every Service would not fit the instances' attachment
 * quota, but never below SLB_SUBSET_FLOOR (or all nodes when fewer).
 *
 * slb_subset_pick chooses the members of one Service:
 *  - current members stay while their node is eligible and its instance
 *    is not over the attachment quota (stickiness: a change of the node
 *    set moves as few backends as possible);
 *  - over the size, members leave from the zone holding the most of them,
 *    the least wanted first (not Ready, most loaded, lowest hash);
 *  - vacancies go to the zone holding the fewest members, and in it to
 *    the best candidate: Ready first, then the instance in the fewest
 *    other CLBs (so the attachment quota is spread, never exceeded), then
 *    the highest rendezvous hash of (Service UID, node name), which makes
 *    the choice deterministic and independent of node order.
 *
 * Pure: no I/O, no allocation visible to the caller.
 */
#ifndef CCM_SLB_SUBSET_H
#define CCM_SLB_SUBSET_H

#include <stddef.h>
#include <stdint.h>

#define SLB_SUBSET_FLOOR 3

struct slb_sub_node {
	const char *name; /* node name */
	const char *zone; /* topology zone, "" when unknown */
	int ready;	  /* Ready=True (Unknown is eligible, less wanted) */
	int others;	  /* CLBs of other Services its instance is in */
	int current;	  /* a member of this Service's CLB now */
};

struct slb_sub_size_in {
	int eligible;	      /* eligible nodes */
	int services;	      /* subsetted Services sharing them (>= 1) */
	int fixed;	      /* attachments held by CLBs not subsetted */
	int backends_per_lb;  /* quota */
	int lbs_per_instance; /* quota */
};

/* The fitted subset size; *full gets the size before shrinking. */
int slb_subset_size(const struct slb_sub_size_in *in, int *full);

/* The rendezvous hash of one (Service UID, node name) pair. */
uint64_t slb_subset_hash(const char *uid, const char *node);

/*
 * Marks chosen[i] for the members among nodes[0..n) (the eligible nodes)
 * and returns how many: size unless too few candidates are under
 * max_per_instance. -ENOMEM when the work arrays cannot be allocated.
 */
int slb_subset_pick(const char *uid, const struct slb_sub_node *nodes, size_t n,
		    int size, int max_per_instance, unsigned char *chosen);

#endif
