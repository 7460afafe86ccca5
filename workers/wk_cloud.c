/* One way for every controller to build its cloud client. */
#include "workers/wk_runtime.h"

#include <stdio.h>

#include "alicloud/ali_client.h"
#include "config/cfg.h"

int wk_cloud_client_new(const struct wk_rt *rt, struct ali_client **ret)
{
	const struct cfg *cfg = wk_cfg(rt);
	char role[64];
	struct ali_client_opts o = {
		.cloud = &cfg->cloud,
		.network = cfg->network,
		.role = role,
		.timeout_ms = cfg->cloud_timeout_ms,
		.require_imdsv2 = cfg->enable_imdsv2,
	};

	snprintf(role, sizeof(role), "worker/%s", wk_name(rt));
	return ali_client_new(&o, ret);
}
