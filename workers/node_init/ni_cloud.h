/*
 * ni_cloud - the DescribeInstances lookups of the node-init worker.
 *
 * One call per ≤100 ids or IPs (NextToken paging, MaxResults 100) in an
 * explicit region, answers reduced to struct ni_instance. A lookup records
 * whether it can be trusted for "instance gone" decisions: ok (every page
 * answered) and complete (paging ended and TotalCount matched what
 * arrived). Errors, throttling and partial answers are never turned into
 * "not found" here; ni_lifecycle decides what a batch proves.
 *
 * Ownership: ni_lookup_done frees the instances of a lookup.
 */
#ifndef CCM_NI_CLOUD_H
#define CCM_NI_CLOUD_H

#include <stddef.h>

#include "alicloud/ali_client.h"
#include "workers/node_init/ni_model.h"

#define NI_IDS_PER_CALL 100

struct ni_lookup {
	struct ni_instance *v;
	size_t n;
	int ok;
	int complete;
	int calls;
	struct ali_error err;
};

void ni_lookup_init(struct ni_lookup *l);
void ni_lookup_done(struct ni_lookup *l);
/* n ≤ NI_IDS_PER_CALL; results are appended to l. */
int ni_cloud_by_ids(struct ali_client *c, const char *region,
		    const char *const *ids, size_t n, struct ni_lookup *l);
/* VPC private IPs in vpc_id (may be ""), n ≤ NI_IDS_PER_CALL. */
int ni_cloud_by_ips(struct ali_client *c, const char *region,
		    const char *vpc_id, const char *const *ips, size_t n,
		    struct ni_lookup *l);
/* SourceDestCheck off on the given ENIs (those already off are skipped).
 * Returns 0 or the first failure; failed[i] is set for ENIs that failed. */
int ni_cloud_sdc_off(struct ali_client *c, const char *const *enis, size_t n,
		     int *failed, struct ali_error *err);

#endif
