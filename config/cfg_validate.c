/*
 * Defaults, and the checks that need more than one flag. Everything here
 * runs before any process starts work, so a bad combination never gives a
 * half-configured CCM.
 */
#include "config/cfg.h"
#include "config/cfg_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"

/* Longest socket file name the ipc module puts in the run directory. */
#define CFG_RUN_DIR_SOCK_SUFFIX "/bus-pub.sock"

int cfg_fail(struct cfg_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int cfg_int_parse(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < -2147483647L || v > 2147483647L)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static void default_run_dir(struct cfg *c)
{
	const char *rt = getenv("RUNTIME_DIRECTORY");

	if (rt && *rt && strlen(rt) < sizeof(c->run_dir))
		snprintf(c->run_dir, sizeof(c->run_dir), "%s", rt);
	else if (access("/run", W_OK) == 0)
		snprintf(c->run_dir, sizeof(c->run_dir), "/run/alicloud-ccm");
	else
		snprintf(c->run_dir, sizeof(c->run_dir), "/tmp/alicloud-ccm-%u",
			 (unsigned)getuid());
}

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->controllers = CFG_CTL_SERVICE | CFG_CTL_ROUTE | CFG_CTL_NODE;
	c->configure_cloud_routes = 1;
	c->route_reconciliation_period_ms = INT64_C(5) * 60000;
	c->node_sync_period_ms = INT64_C(5) * 60000;
	c->cloud_resync_period_ms = INT64_C(10) * 60000;
	c->node_event_aggregation_wait_ms = 1000;
	c->route_reconcile_batch_size = 50;
	c->node_reconcile_batch_size = 100;
	c->sg_batch_size = 40;
	c->max_concurrent_actions = 10;
	/* enough calls in flight to keep a 10 calls/s ceiling busy at
	 * ~800 ms per call; a fiber's stack costs only the pages it used */
	c->concurrent_service_syncs = 8;
	c->max_node_deletions_per_sync = 5;
	c->enable_imdsv2 = 1;
	c->kube_api_qps = 20;
	c->cloud_api_qps[0] = c->cloud_api_qps[1] = c->cloud_api_qps[2] = 10;
	c->kube_api_burst = 30;
	c->kube_timeout_ms = 10000;
	c->cloud_timeout_ms = 10000;
	c->leader_elect = 1;
	c->lease_duration_ms = 15000;
	c->renew_deadline_ms = 10000;
	c->retry_period_ms = 2000;
	snprintf(c->lock_name, sizeof(c->lock_name), "ccm");
	snprintf(c->lock_namespace, sizeof(c->lock_namespace), "kube-system");
	snprintf(c->health_bind, sizeof(c->health_bind), "127.0.0.1:10258");
	snprintf(c->metrics_bind, sizeof(c->metrics_bind), ":8080");
	default_run_dir(c);
}

/* Reads one dotted-quad CIDR into network address and prefix. */
static int ipv4_cidr(const char *s, uint32_t *addr, int *prefix)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	uint32_t mask;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1 ||
	    cfg_int_parse(slash + 1, prefix) < 0 || *prefix < 0 || *prefix > 32)
		return -EINVAL;
	mask = *prefix ? 0xffffffffu << (32 - *prefix) : 0;
	*addr = ntohl(a.s_addr) & mask;
	return 0;
}

static int ipv6_cidr(const char *s)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	struct in6_addr a;
	int prefix;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET6, ip, &a) != 1 ||
	    cfg_int_parse(slash + 1, &prefix) < 0 || prefix < 0 || prefix > 128)
		return -EINVAL;
	return 0;
}

int cfg_cluster_cidr_parse(struct cfg *c, const char *v, struct cfg_err *e)
{
	char item[64];
	const char *p = v;
	int have4 = 0;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(item))
			goto bad;
		memcpy(item, p, n);
		item[n] = '\0';
		if (strchr(item, ':')) {
			if (ipv6_cidr(item) < 0)
				goto bad;
		} else {
			if (have4 ||
			    ipv4_cidr(item, &c->cidr_addr, &c->cidr_prefix) < 0)
				goto bad;
			have4 = 1;
		}
		p += n + (p[n] == ',');
	}
	if (!have4)
		goto bad;
	snprintf(c->cluster_cidr, sizeof(c->cluster_cidr), "%u.%u.%u.%u/%d",
		 c->cidr_addr >> 24, (c->cidr_addr >> 16) & 255,
		 (c->cidr_addr >> 8) & 255, c->cidr_addr & 255, c->cidr_prefix);
	return 0;
bad:
	return cfg_fail(e,
			"--cluster-cidr: \"%s\" is not a CIDR; expected "
			"an IPv4 CIDR such as 172.16.0.0/16, or an "
			"IPv4,IPv6 pair (only IPv4 is routed)",
			v);
}

static int validate_election(const struct cfg *c, struct cfg_err *e)
{
	int64_t room;

	if (!c->leader_elect)
		return 0;
	if (c->lease_duration_ms <= c->renew_deadline_ms)
		return cfg_fail(e,
				"--leader-elect-lease-duration (%lldms) "
				"must be greater than "
				"--leader-elect-renew-deadline (%lldms)",
				(long long)c->lease_duration_ms,
				(long long)c->renew_deadline_ms);
	if (c->renew_deadline_ms * 10 <= c->retry_period_ms * 12)
		return cfg_fail(e,
				"--leader-elect-renew-deadline (%lldms) "
				"must be greater than 1.2 x "
				"--leader-elect-retry-period (%lldms)",
				(long long)c->renew_deadline_ms,
				(long long)c->retry_period_ms);
	if (!c->lock_name[0] || !c->lock_namespace[0])
		return cfg_fail(e, "--leader-elect-resource-name and "
				   "--leader-elect-resource-namespace must not "
				   "be empty");
	/* A request must fit inside the fence window (see lib/fence.h). */
	room = c->lease_duration_ms - c->retry_period_ms - 1000;
	if (c->kube_timeout_ms >= room || c->cloud_timeout_ms >= room)
		return cfg_fail(e,
				"request timeouts (--kube-api-timeout "
				"%lldms, --cloud-api-timeout %lldms) leave "
				"no room for a call inside the lease; "
				"expected both below lease duration - "
				"retry period - 1s = %lldms",
				(long long)c->kube_timeout_ms,
				(long long)c->cloud_timeout_ms,
				(long long)room);
	return 0;
}

static int validate_numbers(struct cfg *c, struct cfg_err *e)
{
	if (c->sg_batch_size < 1 || c->sg_batch_size > 40)
		return cfg_fail(e,
				"--sg-batch-size: %d is out of range; "
				"expected 1-40",
				c->sg_batch_size);
	if (c->concurrent_service_syncs < 1 || c->concurrent_service_syncs > 64)
		return cfg_fail(e,
				"--concurrent-service-syncs: %d is out of "
				"range; expected 1-64",
				c->concurrent_service_syncs);
	if (c->max_concurrent_actions < 1)
		return cfg_fail(e,
				"--max-concurrent-actions: %d; expected a "
				"positive number",
				c->max_concurrent_actions);
	if (c->node_reconcile_batch_size == 0)
		c->node_reconcile_batch_size = 100;
	if (c->node_reconcile_batch_size < 1 ||
	    c->node_reconcile_batch_size > 100)
		return cfg_fail(e,
				"--node-reconcile-batch-size: %d; expected "
				"1-100",
				c->node_reconcile_batch_size);
	if (c->route_reconcile_batch_size < 1)
		return cfg_fail(e,
				"--route-reconcile-batch-size: %d; "
				"expected a positive number",
				c->route_reconcile_batch_size);
	if (c->max_node_deletions_per_sync < 0)
		return cfg_fail(e,
				"--max-node-deletions-per-sync: %d; "
				"expected 0 or more",
				c->max_node_deletions_per_sync);
	if (c->kube_api_burst < 1)
		return cfg_fail(e,
				"--kube-api-burst: %d; expected a positive "
				"number",
				c->kube_api_burst);
	if (c->kube_timeout_ms < 100 || c->cloud_timeout_ms < 100)
		return cfg_fail(e, "--kube-api-timeout and --cloud-api-timeout "
				   "must be at least 100ms");
	if (c->route_reconciliation_period_ms < 1000 ||
	    c->node_sync_period_ms < 1000 || c->cloud_resync_period_ms < 1000)
		return cfg_fail(e, "--route-reconciliation-period, "
				   "--node-monitor-period and "
				   "--cloud-resync-period must be at least 1s");
	return 0;
}

static int validate_paths(struct cfg *c, struct cfg_err *e)
{
	struct sockaddr_un sun;

	if (strlen(c->run_dir) + strlen("ipc://") +
		    strlen(CFG_RUN_DIR_SOCK_SUFFIX) >=
	    sizeof(sun.sun_path))
		return cfg_fail(e,
				"--run-dir: \"%s\" is too long for a unix "
				"socket path (limit %zu bytes with the "
				"socket names)",
				c->run_dir,
				sizeof(sun.sun_path) -
					strlen(CFG_RUN_DIR_SOCK_SUFFIX) - 1);
	if (c->run_dir[0] != '/')
		return cfg_fail(e,
				"--run-dir: \"%s\" must be an absolute "
				"path",
				c->run_dir);
	if (!c->cloud_config[0])
		return cfg_fail(e, "--cloud-config is required: the path of "
				   "the cloud-config JSON file");
	return 0;
}

int cfg_validate(struct cfg *c, struct cfg_err *e)
{
	if (c->configure_cloud_routes && !c->cluster_cidr[0])
		return cfg_fail(e, "--cluster-cidr must be set when "
				   "--configure-cloud-routes=true");
	if (c->dry_run && c->leader_elect) {
		if (!c->worker)
			log_warn("--dry-run: leader election is turned off; "
				 "this process changes nothing");
		c->leader_elect = 0;
	}
	if (validate_numbers(c, e) < 0 || validate_election(c, e) < 0 ||
	    validate_paths(c, e) < 0)
		return -EINVAL;
	if (!c->configure_cloud_routes)
		c->controllers &= ~(unsigned)CFG_CTL_ROUTE;
	if (c->lock != CFG_LOCK_LEASES && c->leader_elect && !c->worker)
		log_warn("--leader-elect-resource-lock=%s: this CCM holds "
			 "both the Lease and the Endpoints lock; leases is "
			 "recommended once no old CCM runs",
			 c->lock == CFG_LOCK_ENDPOINTS ? "endpoints"
						       : "endpointsleases");
	if (c->route_reconciliation_period_ms < 60000 && !c->worker)
		log_warn("--route-reconciliation-period below 1m costs "
			 "cloud API calls; the Go CCM clamps it to 1m");
	return 0;
}
