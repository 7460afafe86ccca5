/*
 * wk_table - the controller table (see wk_table.h). The rules are what
 * the code does: informers list and watch, status and finalizer writes
 * are patches, Events are created and then patched when they repeat
 * (kube/kube_event.c), node-init deletes Nodes whose instance is gone.
 */
#include "workers/wk_table.h"

#include <string.h>

#include "config/cfg.h"

extern const struct wk_controller wk_ctl_service_lb, wk_ctl_route,
	wk_ctl_node_init;
#ifdef CCM_TEST_HOOKS
extern const struct wk_controller wk_scaffold_service_lb, wk_scaffold_route,
	wk_scaffold_node_init;
#define SCAFFOLD(x) (&(x))
#else
/* the release binary has no scaffolding controllers */
#define SCAFFOLD(x) NULL
#endif

#define EVENTS                                                                 \
	{                                                                      \
		"", {"events"}, {"create", "patch"}, 0                         \
	}

const struct wk_def wk_table[WK_NCONTROLLERS] = {
	{
		.name = "service-lb",
		.aliases = {"service"},
		.bit = CFG_CTL_SERVICE,
		.ctl = &wk_ctl_service_lb,
		.scaffold = SCAFFOLD(wk_scaffold_service_lb),
		.service_account = "service-controller",
		.products = WK_PRODUCT_SLB | WK_PRODUCT_ECS, /* ENI lookup */
		.rules =
			{
				{"",
				 {"services"},
				 {"list", "watch", "patch"},
				 0},
				{"", {"services/status"}, {"patch"}, 0},
				{"", {"nodes"}, {"list", "watch"}, 0},
				/* the fallback when EndpointSlices are not
				 * readable, as under the seed's ClusterRole */
				{"", {"endpoints"}, {"list", "watch"}, 0},
				{"discovery.k8s.io",
				 {"endpointslices"},
				 {"list", "watch"},
				 1},
				EVENTS,
			},
		.flags = {"cloud-resync-period", "slb-api-qps", "ecs-api-qps",
			  "sg-batch-size",
			  "node-event-aggregation-wait-seconds"},
	},
	{
		.name = "route",
		.bit = CFG_CTL_ROUTE,
		.ctl = &wk_ctl_route,
		.scaffold = SCAFFOLD(wk_scaffold_route),
		.service_account = "route-controller",
		.products = WK_PRODUCT_VPC,
		.rules =
			{
				{"", {"nodes"}, {"list", "watch"}, 0},
				{"", {"nodes/status"}, {"patch"}, 0},
				EVENTS,
			},
		.flags = {"configure-cloud-routes", "cluster-cidr",
			  "route-reconciliation-period",
			  "route-reconcile-batch-size", "vpc-api-qps",
			  "enable-imdsv2",
			  "node-event-aggregation-wait-seconds"},
	},
	{
		.name = "node-init",
		.aliases = {"node"},
		.bit = CFG_CTL_NODE,
		.ctl = &wk_ctl_node_init,
		.scaffold = SCAFFOLD(wk_scaffold_node_init),
		.service_account = "cloud-node-controller",
		.products = WK_PRODUCT_ECS,
		.rules =
			{
				{"",
				 {"nodes"},
				 {"get", "list", "watch", "patch", "delete"},
				 0},
				{"", {"nodes/status"}, {"patch"}, 0},
				EVENTS,
			},
		.flags = {"node-monitor-period", "max-node-deletions-per-sync",
			  "node-reconcile-batch-size",
			  "skip-disable-source-dest-check", "ecs-api-qps",
			  "node-event-aggregation-wait-seconds"},
	},
};

const struct wk_def wk_supervisor = {
	.name = "supervisor",
	.service_account = "cloud-controller-manager",
	.rules =
		{
			{"coordination.k8s.io",
			 {"leases"},
			 {"get", "create", "update"},
			 0},
			/* --leader-elect-resource-lock=endpoints (the seed's)
			 */
			{"", {"endpoints"}, {"get", "create", "update"}, 0},
			EVENTS,
			/* --use-service-account-credentials: TokenRequest */
			{"", {"serviceaccounts/token"}, {"create"}, 1},
		},
	.flags = {"leader-elect", "leader-elect-resource-lock",
		  "leader-elect-resource-name",
		  "leader-elect-resource-namespace",
		  "use-service-account-credentials"},
};

const struct wk_def *wk_table_find(const char *name)
{
	for (size_t i = 0; i < WK_NCONTROLLERS; i++)
		if (strcmp(wk_table[i].name, name) == 0)
			return &wk_table[i];
	return NULL;
}

static int same(const char *name, const char *s, size_t n)
{
	return strlen(name) == n && strncmp(name, s, n) == 0;
}

const struct wk_def *wk_table_lookup(const char *s, size_t n)
{
	for (size_t i = 0; i < WK_NCONTROLLERS; i++) {
		const struct wk_def *d = &wk_table[i];

		if (same(d->name, s, n))
			return d;
		for (size_t a = 0; a < 3 && d->aliases[a]; a++)
			if (same(d->aliases[a], s, n))
				return d;
	}
	return NULL;
}

unsigned wk_table_all_bits(void)
{
	unsigned bits = 0;

	for (size_t i = 0; i < WK_NCONTROLLERS; i++)
		bits |= wk_table[i].bit;
	return bits;
}

size_t wk_table_checks(const struct wk_def *d, struct wk_check *out, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < WK_MAX_RULES && d->rules[k].group; k++) {
		const struct wk_rule *r = &d->rules[k];

		if (r->optional)
			continue;
		for (size_t i = 0; i < 4 && r->resources[i]; i++)
			for (size_t v = 0; v < 7 && r->verbs[v]; v++)
				if (n < max)
					out[n++] = (struct wk_check){
						r->verbs[v], r->group,
						r->resources[i]};
	}
	return n;
}
