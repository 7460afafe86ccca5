/*
 * slb_apply - runs a plan's calls against the cloud, one at a time, and
 * records each success in the last-seen state (slb_note).
 *
 * The CLB is created with its ownership tags, a ClientToken derived from
 * the Service UID and cluster id (a retried or repeated create returns the
 * same CLB), delete protection as annotated (on by default) and the
 * address type and vSwitch; groups with their first backend batch.
 * slb_apply_plan stops at the first failure and returns it with err; the
 * caller then marks the state for a re-describe before the next diff.
 *
 * Borrowed pointers only; nothing to free.
 */
#ifndef CCM_SLB_APPLY_H
#define CCM_SLB_APPLY_H

#include "alicloud/ali_slb.h"
#include "workers/service_lb/slb_diff.h"

struct slb_apply {
	struct ali_client *ali;
	const struct cfg *cfg;
	const struct slb_want *w;
	struct slb_cloud *c;
	struct slb_plan *p;
	const char *token_salt; /* "" or NULL: none; see slb_client_token */
	const struct slb_tick *tick; /* before each call; may be NULL */
	int done;		     /* calls that succeeded */
};

int slb_apply_plan(struct slb_apply *a, struct ali_error *err);

/* Pure helpers, exposed for tests. */
void slb_to_ali_backends(const struct slb_bes *in, struct ali_backend *out);
/* Same Service, cluster and salt -> same token. The salt tells apart
 * two CLBs of one Service over time (LoadBalancer -> NodePort ->
 * LoadBalancer), which a token from the UID alone would merge. */
int slb_client_token(const struct slb_want *w, const char *salt, char out[64]);

#endif
