/*
 * slb_eip - loadbalancer-external-ip-type: eip. The Service's status shows
 * the EIPs bound to its CLB (DescribeEipAddresses by associated instance)
 * instead of the CLB's own address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_vpc.h"
#include "workers/service_lb/slb_ctl.h"

int slb_eip_ips(struct slb_ctl *c, const char *lb_id, char *out, size_t n,
		struct ali_error *err)
{
	struct ali_eip *eips = NULL;
	size_t i, k = 0, l = 0;
	int r;

	out[0] = '\0';
	r = ali_vpc_describe_eips(c->ali, "SlbInstance", lb_id, &eips, &k, err);
	for (i = 0; r == 0 && i < k; i++) {
		int w;

		if (!eips[i].ip[0] || strcmp(eips[i].instance_id, lb_id) != 0)
			continue;
		w = snprintf(out + l, n - l, "%s%s", l ? "," : "", eips[i].ip);
		if (w < 0 || (size_t)w >= n - l) {
			out[l] = '\0'; /* the ones that fit */
			break;
		}
		l += (size_t)w;
	}
	free(eips);
	return r;
}
