/*
 * The command line: a table of every flag the Go CCM and klog accept, plus
 * ours. "--flag=value" and "--flag value"; booleans as "--flag" or
 * "--flag=true|false"; "-v N" as klog's shorthand. A flag that has no effect
 * in this CCM is accepted so existing manifests keep working, with one
 * warning naming it.
 */
#include "config/cfg.h"
#include "config/cfg_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "workers/wk_table.h"

enum ftype { FT_BOOL, FT_STR, FT_DUR, FT_INT, FT_FN };

struct flag {
	const char *name;
	enum ftype type;
	int noeffect; /* accepted, warned about, ignored */
	size_t off;   /* into struct cfg, for typed flags */
	size_t size;  /* FT_STR buffer size */
	int (*fn)(struct cfg *c, const char *val, struct cfg_err *err);
	const char *help;
};

#define F_BOOL(n, field, h)                                                    \
	{                                                                      \
		n, FT_BOOL, 0, offsetof(struct cfg, field), 0, NULL, h         \
	}
#define F_STR(n, field, h)                                                     \
	{                                                                      \
		n, FT_STR, 0, offsetof(struct cfg, field),                     \
			sizeof(((struct cfg *)0)->field), NULL, h              \
	}
#define F_DUR(n, field, h)                                                     \
	{                                                                      \
		n, FT_DUR, 0, offsetof(struct cfg, field), 0, NULL, h          \
	}
#define F_INT(n, field, h)                                                     \
	{                                                                      \
		n, FT_INT, 0, offsetof(struct cfg, field), 0, NULL, h          \
	}
#define F_FN(n, fn, h)                                                         \
	{                                                                      \
		n, FT_FN, 0, 0, 0, fn, h                                       \
	}
#define F_IGN_BOOL(n)                                                          \
	{                                                                      \
		n, FT_BOOL, 1, 0, 0, NULL, NULL                                \
	}
#define F_IGN(n)                                                               \
	{                                                                      \
		n, FT_STR, 1, 0, 0, NULL, NULL                                 \
	}

static int set_controllers(struct cfg *c, const char *v, struct cfg_err *e)
{
	return cfg_controllers_parse(v, &c->controllers, e);
}

static int set_network(struct cfg *c, const char *v, struct cfg_err *e)
{
	if (strcmp(v, "vpc") == 0)
		c->network = CFG_NET_VPC;
	else if (strcmp(v, "public") == 0)
		c->network = CFG_NET_PUBLIC;
	else
		return cfg_fail(e,
				"--network: \"%s\" is not a network type; "
				"expected vpc or public",
				v);
	return 0;
}

static int set_lock(struct cfg *c, const char *v, struct cfg_err *e)
{
	if (strcmp(v, "leases") == 0)
		c->lock = CFG_LOCK_LEASES;
	else if (strcmp(v, "endpoints") == 0)
		c->lock = CFG_LOCK_ENDPOINTS;
	else if (strcmp(v, "endpointsleases") == 0)
		c->lock = CFG_LOCK_ENDPOINTSLEASES;
	else
		return cfg_fail(e,
				"--leader-elect-resource-lock: \"%s\" is not "
				"supported; expected leases, endpoints or "
				"endpointsleases",
				v);
	return 0;
}

static int set_rate(double *dst, const char *flag, const char *v,
		    struct cfg_err *e)
{
	char *end;
	double q = strtod(v, &end);

	if (!*v || *end || q < 0)
		return cfg_fail(e, "--%s: \"%s\" is not a non-negative number",
				flag, v);
	*dst = q;
	return 0;
}

static int set_qps(struct cfg *c, const char *v, struct cfg_err *e)
{
	return set_rate(&c->kube_api_qps, "kube-api-qps", v, e);
}

static int set_slb_qps(struct cfg *c, const char *v, struct cfg_err *e)
{
	return set_rate(&c->cloud_api_qps[0], "slb-api-qps", v, e);
}

static int set_vpc_qps(struct cfg *c, const char *v, struct cfg_err *e)
{
	return set_rate(&c->cloud_api_qps[1], "vpc-api-qps", v, e);
}

static int set_ecs_qps(struct cfg *c, const char *v, struct cfg_err *e)
{
	return set_rate(&c->cloud_api_qps[2], "ecs-api-qps", v, e);
}

static int set_cidr(struct cfg *c, const char *v, struct cfg_err *e)
{
	return cfg_cluster_cidr_parse(c, v, e);
}

static int set_agg_wait(struct cfg *c, const char *v, struct cfg_err *e)
{
	int n;

	if (cfg_int_parse(v, &n) < 0)
		return cfg_fail(e,
				"--node-event-aggregation-wait-seconds: "
				"\"%s\" is not an integer",
				v);
	c->node_event_aggregation_wait_ms = n < 0 ? 0 : (int64_t)n * 1000;
	return 0;
}

static int set_verbosity(struct cfg *c, const char *v, struct cfg_err *e)
{
	if (cfg_int_parse(v, &c->verbosity) < 0 || c->verbosity < 0)
		return cfg_fail(e, "-v: \"%s\" is not a non-negative integer",
				v);
	return 0;
}

static int set_worker(struct cfg *c, const char *v, struct cfg_err *e)
{
	const struct wk_def *d = wk_table_find(v);

	if (d == NULL)
		return cfg_fail(e, "--worker: unknown worker \"%s\"", v);
	c->worker = d->name;
	return 0;
}

static const struct flag flags[] = {
	F_STR("cloud-config", cloud_config,
	      "path of the cloud-config JSON file (required)"),
	F_STR("kubeconfig", kubeconfig,
	      "kubeconfig path; default $KUBECONFIG, then in-cluster"),
	F_FN("controllers", set_controllers,
	     "controllers to run: *, service, route, node, -name"),
	F_BOOL("configure-cloud-routes", configure_cloud_routes,
	       "write pod CIDR routes into the VPC route tables"),
	F_FN("cluster-cidr", set_cidr, "pod CIDR (IPv4, or IPv4,IPv6)"),
	F_DUR("route-reconciliation-period", route_reconciliation_period_ms,
	      "full route reconcile period"),
	F_DUR("node-monitor-period", node_sync_period_ms,
	      "period of the node address/label/lifecycle sync"),
	F_DUR("cloud-resync-period", cloud_resync_period_ms,
	      "period after which every CLB is re-described"),
	F_BOOL("dry-run", dry_run,
	       "log and report what would change; change nothing"),
	F_FN("network", set_network, "vpc or public API endpoints"),
	F_INT("sg-batch-size", sg_batch_size, "backends per call (1-40)"),
	F_INT("concurrent-service-syncs", concurrent_service_syncs,
	      "Services the service-LB worker syncs at once (1-64)"),
	F_INT("max-concurrent-actions", max_concurrent_actions,
	      "parallel cloud actions per Service"),
	F_INT("node-reconcile-batch-size", node_reconcile_batch_size,
	      "instances per DescribeInstances call"),
	F_INT("route-reconcile-batch-size", route_reconcile_batch_size,
	      "route entries per batch call"),
	F_INT("max-node-deletions-per-sync", max_node_deletions_per_sync,
	      "cap on Nodes deleted in one sync"),
	F_BOOL("skip-disable-source-dest-check", skip_disable_source_dest_check,
	       "do not turn off SourceDestCheck on node ENIs"),
	F_FN("node-event-aggregation-wait-seconds", set_agg_wait,
	     "wait before handling a batch of node events"),
	F_BOOL("use-service-account-credentials",
	       use_service_account_credentials,
	       "run each worker under its own service account"),
	F_BOOL("enable-imdsv2", enable_imdsv2,
	       "use the metadata service's token mode"),
	F_STR("metrics-bind-addr", metrics_bind, "address of /metrics"),
	F_STR("health-probe-bind-addr", health_bind,
	      "address of /healthz, /livez, /readyz"),
	F_FN("kube-api-qps", set_qps, "API server queries per second"),
	F_INT("kube-api-burst", kube_api_burst, "API server burst"),
	F_FN("slb-api-qps", set_slb_qps,
	     "SLB calls per second for the whole CCM"),
	F_FN("vpc-api-qps", set_vpc_qps,
	     "VPC calls per second for the whole CCM"),
	F_FN("ecs-api-qps", set_ecs_qps,
	     "ECS calls per second for the whole CCM"),
	F_DUR("kube-api-timeout", kube_timeout_ms,
	      "timeout of one API server request"),
	F_DUR("cloud-api-timeout", cloud_timeout_ms,
	      "timeout of one cloud API request"),
	F_BOOL("leader-elect", leader_elect, "run leader election"),
	F_DUR("leader-elect-lease-duration", lease_duration_ms,
	      "lease duration"),
	F_DUR("leader-elect-renew-deadline", renew_deadline_ms,
	      "renew deadline"),
	F_DUR("leader-elect-retry-period", retry_period_ms, "retry period"),
	F_FN("leader-elect-resource-lock", set_lock,
	     "leases, endpoints or endpointsleases"),
	F_STR("leader-elect-resource-name", lock_name, "lock object name"),
	F_STR("leader-elect-resource-namespace", lock_namespace,
	      "lock object namespace"),
	F_STR("run-dir", run_dir, "private directory for sockets and lock"),
	F_FN("v", set_verbosity, "log verbosity"),
	F_FN("worker", set_worker, NULL),
	/* Go CCM flags with no effect here. */
	F_IGN("cloud-provider"),
	F_IGN("cluster-name"),
	F_IGN("max-throttling-retry-times"),
	F_IGN("pprof-bind-addr"),
	F_IGN_BOOL("allow-untagged-cloud"),
	F_IGN_BOOL("allocate-node-cidrs"),
	/* klog flags: logs always go to stderr in klog format. */
	F_IGN_BOOL("logtostderr"),
	F_IGN_BOOL("alsologtostderr"),
	F_IGN_BOOL("skip-headers"),
	F_IGN_BOOL("skip-log-headers"),
	F_IGN_BOOL("one-output"),
	F_IGN_BOOL("add-dir-header"),
	F_IGN("log-dir"),
	F_IGN("log-file"),
	F_IGN("log-file-max-size"),
	F_IGN("log-backtrace-at"),
	F_IGN("log-flush-frequency"),
	F_IGN("stderrthreshold"),
	F_IGN("vmodule"),
};

#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

static const struct flag *find_flag(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < N_FLAGS; i++)
		if (strlen(flags[i].name) == n &&
		    strncmp(flags[i].name, name, n) == 0)
			return &flags[i];
	return NULL;
}

static int bool_parse(const char *v, int *out)
{
	static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const f[] = {"0",	 "f",	  "F",
					"false", "FALSE", "False"};
	size_t i;

	for (i = 0; i < 6; i++) {
		if (strcmp(v, t[i]) == 0)
			return *out = 1, 0;
		if (strcmp(v, f[i]) == 0)
			return *out = 0, 0;
	}
	return -EINVAL;
}

static int set_typed(struct cfg *c, const struct flag *f, const char *v,
		     struct cfg_err *e)
{
	char *field = (char *)c + f->off;
	int64_t ms;
	int b;

	switch (f->type) {
	case FT_BOOL:
		if (bool_parse(v, &b) < 0)
			return cfg_fail(e,
					"--%s: \"%s\" is not a boolean; "
					"expected true or false",
					f->name, v);
		memcpy(field, &b, sizeof(b));
		return 0;
	case FT_STR:
		if (strlen(v) >= f->size)
			return cfg_fail(e,
					"--%s: value is longer than %zu "
					"bytes",
					f->name, f->size - 1);
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case FT_DUR:
		if (cfg_duration_parse(v, &ms) < 0 || ms < 0)
			return cfg_fail(e,
					"--%s: \"%s\" is not a duration; "
					"expected e.g. 15s, 3m, 1h30m, "
					"500ms",
					f->name, v);
		memcpy(field, &ms, sizeof(ms));
		return 0;
	case FT_INT:
		if (cfg_int_parse(v, &b) < 0)
			return cfg_fail(e, "--%s: \"%s\" is not an integer",
					f->name, v);
		memcpy(field, &b, sizeof(b));
		return 0;
	case FT_FN:
		break;
	}
	return f->fn(c, v, e);
}

static int apply(struct cfg *c, const struct flag *f, const char *v,
		 unsigned char *warned, struct cfg_err *e)
{
	int dummy;

	if (!f->noeffect)
		return set_typed(c, f, v, e);
	if (f->type == FT_BOOL && bool_parse(v, &dummy) < 0)
		return cfg_fail(e, "--%s: \"%s\" is not a boolean", f->name, v);
	/* The supervisor warns; its workers parse the same line silently. */
	if (!warned[f - flags] && !c->worker &&
	    strcmp(f->name, "logtostderr") != 0)
		log_warn("flag --%s has no effect in this CCM; ignored",
			 f->name);
	warned[f - flags] = 1;
	return 0;
}

/* One argument (and maybe the next); returns how many were consumed. */
static int parse_one(struct cfg *c, int argc, char **argv, int i,
		     unsigned char *warned, struct cfg_err *e)
{
	const char *a = argv[i];
	const char *name = a + (a[1] == '-' ? 2 : 1);
	const char *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	const struct flag *f = find_flag(name, n);

	if (!f || (a[1] != '-' && strcmp(f->name, "v") != 0))
		return cfg_fail(e, "unknown flag: %s (see --help)", a);
	if (eq)
		return apply(c, f, eq + 1, warned, e) < 0 ? -EINVAL : 1;
	if (f->type == FT_BOOL)
		return apply(c, f, "true", warned, e) < 0 ? -EINVAL : 1;
	if (i + 1 >= argc)
		return cfg_fail(e, "flag needs an argument: %s", a);
	return apply(c, f, argv[i + 1], warned, e) < 0 ? -EINVAL : 2;
}

static void print_help(void)
{
	size_t i;

	printf("Usage: cloud-controller-manager [flags]\n\n"
	       "Kubernetes cloud controller manager for Alibaba Cloud.\n\n");
	for (i = 0; i < N_FLAGS; i++)
		if (flags[i].help)
			printf("  --%-38s %s\n", flags[i].name, flags[i].help);
	printf("\nAlso accepted and ignored: the Go CCM's --cloud-provider, "
	       "--cluster-name, --max-throttling-retry-times, ... and klog "
	       "flags.\n");
}

int cfg_parse_argv(struct cfg *c, int argc, char **argv, struct cfg_err *e)
{
	unsigned char warned[N_FLAGS] = {0};
	int i = 1;

	while (i < argc) {
		const char *a = argv[i];
		int used;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_help();
			return 1;
		}
		if (strcmp(a, "--version") == 0) {
			printf("alicloud-ccm %s\n", CCM_VERSION);
			return 1;
		}
		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
			return cfg_fail(e,
					"unexpected argument \"%s\"; this "
					"program takes only flags",
					a);
		used = parse_one(c, argc, argv, i, warned, e);
		if (used < 0)
			return -EINVAL;
		i += used;
	}
	return 0;
}
