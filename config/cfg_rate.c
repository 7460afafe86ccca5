/*
 * Which worker calls which cloud product, and its share of the product's
 * rate. Every process computes the same shares from the same command line,
 * so the total for the CCM never exceeds the configured rate.
 */
#include "config/cfg.h"

#include <string.h>

struct use {
	const char *worker;
	enum cfg_controller ctl;
	unsigned products; /* bit per product: 1 SLB, 2 VPC, 4 ECS */
};

static const struct use uses[] = {
	{"service-lb", CFG_CTL_SERVICE, 1 | 4}, /* CLBs; ENI lookup */
	{"route", CFG_CTL_ROUTE, 2},
	{"node-init", CFG_CTL_NODE, 4},
};

#define N_USES (sizeof(uses) / sizeof(uses[0]))

double cfg_cloud_rate_share(const struct cfg *c, const char *worker,
			    int product)
{
	unsigned bit = 1u << product;
	int users = 0, mine = 0;
	size_t i;

	if (product < 0 || product > 2)
		return 0;
	for (i = 0; i < N_USES; i++) {
		if (!(c->controllers & uses[i].ctl) ||
		    !(uses[i].products & bit))
			continue;
		users++;
		if (worker && strcmp(worker, uses[i].worker) == 0)
			mine = 1;
	}
	return mine ? c->cloud_api_qps[product] / users : 0;
}
