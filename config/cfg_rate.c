/*
 * A worker's share of a cloud product's rate (which worker calls which
 * product is in workers/wk_table.c). Every process computes the same shares
 * from the same command line, so the total for the CCM never exceeds the
 * configured rate.
 */
#include "config/cfg.h"

#include <string.h>

#include "workers/wk_table.h"

double cfg_cloud_rate_share(const struct cfg *c, const char *worker,
			    int product)
{
	unsigned bit = 1u << product;
	int users = 0, mine = 0;
	size_t i;

	if (product < 0 || product > 2)
		return 0;
	for (i = 0; i < WK_NCONTROLLERS; i++) {
		if (!(c->controllers & wk_table[i].bit) ||
		    !(wk_table[i].products & bit))
			continue;
		users++;
		if (worker && strcmp(worker, wk_table[i].name) == 0)
			mine = 1;
	}
	return mine ? c->cloud_api_qps[product] / users : 0;
}
