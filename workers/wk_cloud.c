/* One way for every controller to build its cloud client. */
#include "workers/wk_runtime.h"

#include <stdio.h>

#include "alicloud/ali_client.h"
#include "config/cfg.h"
#include "lib/log.h"

/* Heartbeats between attempts keep a retrying call from looking wedged. */
static void on_attempt(void *arg)
{
	wk_heartbeat(arg);
}

int wk_cloud_client_new(struct wk_rt *rt, struct ali_client **ret)
{
	const struct cfg *cfg = wk_cfg(rt);
	struct ali_client_opts o = {
		.cloud = &cfg->cloud,
		.network = cfg->network,
		.role = wk_name(rt),
		.identity = wk_identity(rt),
		.timeout_ms = cfg->cloud_timeout_ms,
		.require_imdsv2 = cfg->enable_imdsv2,
	};

	for (int p = 0; p < ALI_N_PRODUCTS; p++) {
		double share = cfg_cloud_rate_share(cfg, wk_name(rt), p);

		/* A configured 0 means "no limit"; a worker outside the
		 * product's users keeps a trickle for incidental calls. */
		if (cfg->cloud_api_qps[p] <= 0)
			o.rate[p] = -1;
		else
			o.rate[p] = share > 0 ? share : 1;
		log_v(1, "cloud rate for product %d: %.2f calls/s", p,
		      o.rate[p]);
	}
	int r = ali_client_new(&o, ret);

	if (r == 0)
		ali_client_set_progress(*ret, on_attempt, rt);
	return r;
}
