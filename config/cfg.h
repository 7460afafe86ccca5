/*
 * cfg - command line and cloud-config, parsed once into an immutable struct.
 *
 * cfg_parse accepts the seed's DaemonSet command line verbatim, every flag
 * of the Go CCM and the klog flags. Flags that have no effect here are
 * accepted with one warning each. Every process (supervisor and workers)
 * parses the same argv, so a worker sees exactly the supervisor's config.
 *
 * Bad input never gives a half-configured process: cfg_parse returns
 * -EINVAL with one message in err naming the flag or key, the bad value
 * (secrets redacted) and what is expected; main exits 2.
 *
 * cfg_cloud_load reads the cloud-config file; it is separate so a changed
 * file (key rotation) can be re-read into a new struct cfg_cloud.
 *
 * Secrets (access_key_secret) live only in struct cfg_cloud and must never
 * be logged; cfg_cloud_describe prints a redacted summary.
 */
#ifndef CCM_CFG_H
#define CCM_CFG_H

#include <stddef.h>
#include <stdint.h>

enum cfg_controller {
	CFG_CTL_SERVICE = 1 << 0,
	CFG_CTL_ROUTE = 1 << 1,
	CFG_CTL_NODE = 1 << 2,
};

enum cfg_lock {
	CFG_LOCK_LEASES = 0,
	CFG_LOCK_ENDPOINTS,
	CFG_LOCK_ENDPOINTSLEASES,
};

enum cfg_network {
	CFG_NET_VPC = 0,
	CFG_NET_PUBLIC,
};

#define CFG_MAX_VSWITCHES   16
#define CFG_MAX_ROUTETABLES 16

struct cfg_vswitch {
	char zone[64]; /* may be empty */
	char id[64];
};

/*
 * Account quotas (Alibaba "Limits" page defaults; all can be raised on the
 * account, and then here). Planning stays inside them instead of letting
 * the cloud refuse a half-applied change.
 */
#define CFG_QUOTA_MAX 100000

struct cfg_quotas {
	int backends_per_lb;  /* distinct backend servers per CLB: 200 */
	int lbs_per_instance; /* CLBs one ECS instance is attached to: 50 */
	int listeners_per_lb; /* listeners per CLB: 50 */
	int route_entries_per_table; /* custom route entries per table: 200 */
};

struct cfg_cloud {
	char access_key_id[128];
	char access_key_secret[128]; /* secret: never log */
	int have_ak;
	char region[64];
	char vpc_id[64];
	char zone_id[64];
	struct cfg_vswitch vswitches[CFG_MAX_VSWITCHES];
	int n_vswitches;
	char cluster_id[128];
	int cluster_id_defaulted; /* "clusterid": warn when sharing CLBs */
	char route_table_ids[CFG_MAX_ROUTETABLES][64];
	int n_route_tables;
	char kubernetes_cluster_tag[128];
	char resource_group_id[64];
	char service_backend_type[16]; /* "" or "eni" */
	int disable_public_slb;
	char non_ecs_node_selector[256]; /* "key=value" */
	int initialize_non_ecs_nodes;
	struct cfg_quotas quotas;
};

struct cfg {
	/* which process: NULL for the supervisor, else a controller name */
	const char *worker;

	char cloud_config[4096];
	char kubeconfig[4096];
	unsigned controllers; /* enum cfg_controller bits */

	int configure_cloud_routes;
	char cluster_cidr[64]; /* the IPv4 CIDR, normalized */
	uint32_t cidr_addr;    /* host order */
	int cidr_prefix;
	int64_t route_reconciliation_period_ms;
	int64_t node_monitor_period_ms;
	int64_t node_sync_period_ms;
	int64_t cloud_resync_period_ms;
	int64_t node_event_aggregation_wait_ms;
	int route_reconcile_batch_size;
	int node_reconcile_batch_size;
	int sg_batch_size;
	int max_concurrent_actions;
	int concurrent_service_syncs;
	int max_node_deletions_per_sync;
	int skip_disable_source_dest_check;
	int use_service_account_credentials;
	int enable_imdsv2;
	enum cfg_network network;
	int dry_run;

	/* Calls per second per cloud product (SLB, VPC, ECS) for the whole
	 * CCM; cfg_cloud_rate_share gives each worker its part. */
	double cloud_api_qps[3];
	double kube_api_qps;
	int kube_api_burst;
	int64_t kube_timeout_ms;
	int64_t cloud_timeout_ms;

	int leader_elect;
	int64_t lease_duration_ms;
	int64_t renew_deadline_ms;
	int64_t retry_period_ms;
	enum cfg_lock lock;
	char lock_name[254];
	char lock_namespace[64];

	char health_bind[128];	/* "" disables */
	char metrics_bind[128]; /* "" disables; may equal health_bind */
	char run_dir[4096];
	int verbosity;

	struct cfg_cloud cloud;
};

struct cfg_err {
	char msg[1024];
};

/* Result of parsing argv: 0, -EINVAL (message in err), or 1 when --help or
 * --version printed something and the process should exit 0. */
int cfg_parse(int argc, char **argv, struct cfg **ret, struct cfg_err *err);
void cfg_free(struct cfg *c);

int cfg_cloud_load(const char *path, struct cfg_cloud *out,
		   struct cfg_err *err);
/* The same from text already read; path only names it in messages. */
int cfg_cloud_parse(const char *text, size_t len, const char *path,
		    struct cfg_cloud *out, struct cfg_err *err);
/* Environment fallbacks (ACCESS_KEY_ID/ACCESS_KEY_SECRET), validated. */
int cfg_cloud_env(struct cfg_cloud *out, struct cfg_err *err);

/*
 * Alibaba throttles per account and API across all keys, so the rate of a
 * product is one total for the CCM: each enabled worker that calls the
 * product gets an equal share. product: 0 SLB, 1 VPC, 2 ECS (the order of
 * enum ali_product). Returns 0 when the worker does not use the product.
 */
double cfg_cloud_rate_share(const struct cfg *c, const char *worker,
			    int product);

/* Go-style duration: "3m", "15s", "1h30m", "500ms", "1.5s". */
int cfg_duration_parse(const char *s, int64_t *ms);
/* Kubernetes --controllers syntax into enum cfg_controller bits. */
int cfg_controllers_parse(const char *s, unsigned *out, struct cfg_err *err);
/* "zone:vsw-1,zone2:vsw-2" or plain "vsw-1". */
int cfg_vswitch_parse(const char *s, struct cfg_cloud *out,
		      struct cfg_err *err);

const char *cfg_controller_name(enum cfg_controller c);

/*
 * Key rotation without a restart: the supervisor polls the cloud-config
 * file by content (a ConfigMap update swaps a symlink; editors may keep
 * the mtime). cfg_watch_check returns
 *   0        unchanged (or a bad content already reported),
 *   1        changed and valid: the content is now in the snapshot file
 *            (written atomically, mode 0600) and the caller restarts the
 *            workers, which read the snapshot,
 *   -EINVAL  invalid or unreadable (message in err), reported once per
 *            distinct content, or once until the file reads again,
 *   -EPERM   valid but an identity key changed (clusterID, region, vpcid,
 *            routeTableIDs): a new clusterID would disown every resource,
 *            so the running config stays; reported once per content.
 * The snapshot is what workers read, so a worker restarted later never
 * sees content the supervisor refused. cfg_watch_init writes the first
 * snapshot from the file as validated at startup.
 */
struct cfg_watch {
	char path[4096];
	char snapshot[4096]; /* "" = none */
	unsigned char digest[32];
	unsigned char bad_digest[32];
	int have_bad;
	int unreadable;	      /* reported until the file reads again */
	struct cfg_cloud cur; /* the accepted content (holds the secret) */
};

/* snapshot may be NULL. 0 or -errno with err set. */
int cfg_watch_init(struct cfg_watch *w, const char *path, const char *snapshot,
		   struct cfg_err *err);
int cfg_watch_check(struct cfg_watch *w, struct cfg_err *err);
/* Zeroes the secret it holds. */
void cfg_watch_done(struct cfg_watch *w);
/* The first identity key that differs between a and b, or NULL. */
const char *cfg_cloud_identity_diff(const struct cfg_cloud *a,
				    const struct cfg_cloud *b);

#endif
