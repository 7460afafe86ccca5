/* Flags, durations, controllers and cloud-config: every bad-input case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfg.h"
#include "kube/kube_config.h"

#define AK_ID	  "LTAI5tTestKey123"
#define AK_SECRET "SecretSecret123456"
/* base64 of the two values above */
#define AK_ID_B64     "TFRBSTV0VGVzdEtleTEyMw=="
#define AK_SECRET_B64 "U2VjcmV0U2VjcmV0MTIzNDU2"

static char dir[64];
static char good_cc[128];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_cfg.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(good_cc, sizeof(good_cc), "%s/good.json", dir);
	write_file(good_cc,
		   "{\"Global\": {\"accessKeyID\": \"" AK_ID_B64 "\", "
		   "\"accessKeySecret\": \"" AK_SECRET_B64 "\", "
		   "\"region\": \"cn-hangzhou\"}}",
		   0644);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Parses a NULL-terminated argument list after argv[0]. */
static int parse(struct cfg **c, struct cfg_err *e, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"cloud-controller-manager";
	va_start(ap, e);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	memset(e, 0, sizeof(*e));
	*c = NULL;
	return cfg_parse(argc, argv, c, e);
}

static char *ccflag(const char *path)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "--cloud-config=%s", path);
	return buf;
}

static void test_seed_command_line(void **state)
{
	struct cfg *c;
	struct cfg_err e;

	(void)state;
	assert_int_equal(parse(&c, &e, "--leader-elect=true",
			       "--cloud-provider=alicloud",
			       "--use-service-account-credentials=true",
			       ccflag(good_cc), "--configure-cloud-routes=true",
			       "--route-reconciliation-period=3m",
			       "--leader-elect-resource-lock=endpoints",
			       "--cluster-cidr=172.16.0.0/16", NULL),
			 0);
	assert_int_equal(c->leader_elect, 1);
	assert_int_equal(c->use_service_account_credentials, 1);
	assert_int_equal(c->concurrent_service_syncs, 8); /* the default */
	assert_int_equal(c->route_reconciliation_period_ms, 180000);
	assert_int_equal(c->lock, CFG_LOCK_ENDPOINTS);
	assert_string_equal(c->cluster_cidr, "172.16.0.0/16");
	assert_string_equal(c->lock_name, "ccm");
	assert_string_equal(c->health_bind, "127.0.0.1:10258");
	assert_int_equal(c->controllers,
			 CFG_CTL_SERVICE | CFG_CTL_ROUTE | CFG_CTL_NODE);
	assert_string_equal(c->cloud.access_key_id, AK_ID);
	assert_string_equal(c->cloud.access_key_secret, AK_SECRET);
	assert_string_equal(c->cloud.region, "cn-hangzhou");
	assert_string_equal(c->cloud.cluster_id, "clusterid");
	assert_int_equal(c->cloud.cluster_id_defaulted, 1);
	cfg_free(c);
}

static void test_go_ccm_and_klog_flags(void **state)
{
	struct cfg *c;
	struct cfg_err e;

	(void)state;
	assert_int_equal(
		parse(&c, &e, ccflag(good_cc), "--configure-cloud-routes=false",
		      "--controllers=node,route,service,nlb",
		      "--node-monitor-period", "2m",
		      "--concurrent-service-syncs=3", "--dry-run=false",
		      "--network=public", "--sg-batch-size=20",
		      "--max-concurrent-actions=5",
		      "--max-throttling-retry-times=10",
		      "--enable-imdsv2=false", "--node-reconcile-batch-size=0",
		      "--route-reconcile-batch-size=25",
		      "--skip-disable-source-dest-check",
		      "--node-event-aggregation-wait-seconds=-3",
		      "--allow-untagged-cloud", "--cluster-name=k",
		      "--allocate-node-cidrs=false", "--metrics-bind-addr=0",
		      "--health-probe-bind-addr=:10258",
		      "--pprof-bind-addr=:6060", "--kube-api-qps=12.5",
		      "--kube-api-burst", "40",
		      "--leader-elect-lease-duration=20s",
		      "--leader-elect-renew-deadline=15s",
		      "--leader-elect-retry-period=3s",
		      "--leader-elect-resource-name=other",
		      "--leader-elect-resource-namespace=ns",
		      "--kubeconfig=/etc/kubernetes/x.conf", "--logtostderr",
		      "--alsologtostderr=false", "--vmodule=foo=2",
		      "--log-dir=/tmp", "--stderrthreshold=2", "-v=3", NULL),
		0);
	assert_int_equal(c->node_sync_period_ms, 120000);
	assert_int_equal(c->network, CFG_NET_PUBLIC);
	assert_int_equal(c->sg_batch_size, 20);
	assert_int_equal(c->concurrent_service_syncs, 3);
	assert_int_equal(c->node_reconcile_batch_size, 100);
	assert_int_equal(c->route_reconcile_batch_size, 25);
	assert_int_equal(c->skip_disable_source_dest_check, 1);
	assert_int_equal(c->node_event_aggregation_wait_ms, 0);
	assert_int_equal(c->enable_imdsv2, 0);
	assert_true(c->kube_api_qps > 12.4 && c->kube_api_qps < 12.6);
	assert_int_equal(c->kube_api_burst, 40);
	assert_int_equal(c->lease_duration_ms, 20000);
	assert_string_equal(c->lock_name, "other");
	assert_string_equal(c->kubeconfig, "/etc/kubernetes/x.conf");
	assert_int_equal(c->verbosity, 3);
	/* route is off because --configure-cloud-routes=false */
	assert_int_equal(c->controllers, CFG_CTL_SERVICE | CFG_CTL_NODE);
	cfg_free(c);
}

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} ok[] = {{"3m", 180000},  {"15s", 15000},     {"1h30m", 5400000},
		  {"500ms", 500},  {"1.5s", 1500},     {"0", 0},
		  {"2h", 7200000}, {"1m30s", 90000},   {"100us", 0},
		  {"-1s", -1000},  {"1h1m1s", 3661000}};
	static const char *const bad[] = {"",	  "3",	"m",	 "3x",
					  "1.s5", "s3", "1h-1m", "--1s"};
	size_t i;
	int64_t ms;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cfg_duration_parse(ok[i].in, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cfg_duration_parse(bad[i], &ms), -EINVAL);
}

static void test_controllers(void **state)
{
	struct cfg_err e;
	unsigned bits;

	(void)state;
	assert_int_equal(cfg_controllers_parse("*", &bits, &e), 0);
	assert_int_equal(bits, CFG_CTL_SERVICE | CFG_CTL_ROUTE | CFG_CTL_NODE);
	assert_int_equal(cfg_controllers_parse("service,route", &bits, &e), 0);
	assert_int_equal(bits, CFG_CTL_SERVICE | CFG_CTL_ROUTE);
	assert_int_equal(cfg_controllers_parse("-route", &bits, &e), 0);
	assert_int_equal(bits, CFG_CTL_SERVICE | CFG_CTL_NODE);
	assert_int_equal(cfg_controllers_parse("*,-node-init", &bits, &e), 0);
	assert_int_equal(bits, CFG_CTL_SERVICE | CFG_CTL_ROUTE);
	assert_int_equal(
		cfg_controllers_parse("service-lb,ingress,pvtz", &bits, &e), 0);
	assert_int_equal(bits, CFG_CTL_SERVICE);
	assert_int_equal(cfg_controllers_parse("service,bogus", &bits, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "bogus"));
}

/* Each case must fail with exit class -EINVAL and mention `want`. */
static void expect_fail(const char *want, ...)
{
	char *argv[32];
	int argc = 0;
	struct cfg *c = NULL;
	struct cfg_err e = {{0}};
	va_list ap;

	argv[argc++] = (char *)"ccm";
	va_start(ap, want);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	assert_int_equal(cfg_parse(argc, argv, &c, &e), -EINVAL);
	assert_null(c);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
	/* no secret ever appears in a message */
	assert_null(strstr(e.msg, AK_SECRET));
	assert_null(strstr(e.msg, AK_SECRET_B64));
}

static void test_bad_flags(void **state)
{
	char cc[256];

	(void)state;
	snprintf(cc, sizeof(cc), "--cloud-config=%s", good_cc);
	expect_fail("unknown flag: --bogus", cc, "--bogus=1", NULL);
	expect_fail("--route-reconciliation-period", cc,
		    "--cluster-cidr=10.0.0.0/8",
		    "--route-reconciliation-period=3 minutes", NULL);
	expect_fail("--cluster-cidr must be set", cc, NULL);
	expect_fail("must be greater than --leader-elect-renew-deadline", cc,
		    "--configure-cloud-routes=false",
		    "--leader-elect-renew-deadline=15s", NULL);
	expect_fail("1.2 x", cc, "--configure-cloud-routes=false",
		    "--leader-elect-retry-period=9s", NULL);
	expect_fail("leave no room", cc, "--configure-cloud-routes=false",
		    "--kube-api-timeout=13s", NULL);
	expect_fail("not a boolean", cc, "--leader-elect=yes", NULL);
	expect_fail("flag needs an argument", cc, "--cluster-cidr", NULL);
	expect_fail("--network", cc, "--configure-cloud-routes=false",
		    "--network=classic", NULL);
	expect_fail("--leader-elect-resource-lock", cc,
		    "--configure-cloud-routes=false",
		    "--leader-elect-resource-lock=configmaps", NULL);
	expect_fail("--sg-batch-size", cc, "--configure-cloud-routes=false",
		    "--sg-batch-size=41", NULL);
	expect_fail("--concurrent-service-syncs: 0 is out of range; expected "
		    "1-64",
		    cc, "--configure-cloud-routes=false",
		    "--concurrent-service-syncs=0", NULL);
	expect_fail("--concurrent-service-syncs: 65", cc,
		    "--configure-cloud-routes=false",
		    "--concurrent-service-syncs=65", NULL);
	expect_fail("--controllers", cc, "--configure-cloud-routes=false",
		    "--controllers=service,lb", NULL);
	expect_fail("--cloud-config is required",
		    "--configure-cloud-routes=false", NULL);
	expect_fail("--run-dir", cc, "--configure-cloud-routes=false",
		    "--run-dir=/tmp/"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    NULL);
	expect_fail("unexpected argument", cc, "positional", NULL);
	expect_fail("--kube-api-qps", cc, "--kube-api-qps=fast", NULL);
}

static void test_cluster_cidr_pair(void **state)
{
	struct cfg *c;
	struct cfg_err e;

	(void)state;
	assert_int_equal(parse(&c, &e, ccflag(good_cc),
			       "--cluster-cidr=172.16.5.0/16,fd00::/104", NULL),
			 0);
	assert_string_equal(c->cluster_cidr, "172.16.0.0/16");
	assert_int_equal(c->cidr_prefix, 16);
	cfg_free(c);
	expect_fail("--cluster-cidr", ccflag(good_cc),
		    "--cluster-cidr=fd00::/104", NULL);
	expect_fail("--cluster-cidr", ccflag(good_cc),
		    "--cluster-cidr=172.16.0.0/33", NULL);
}

static void cc_case(const char *name, const char *text, mode_t mode,
		    const char *want)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, text, mode);
	expect_fail(want, ccflag(path), "--configure-cloud-routes=false", NULL);
}

static void test_bad_cloud_config(void **state)
{
	char path[256];

	(void)state;
	cc_case("malformed.json", "{\"Global\": {", 0644, "not valid JSON");
	cc_case("noglobal.json", "{\"global2\": {}}", 0644, "no \"Global\"");
	cc_case("badb64.json",
		"{\"Global\":{\"accessKeyID\":\"!!!!\","
		"\"accessKeySecret\":\"" AK_SECRET_B64 "\"}}",
		0644, "accessKeyID: not valid base64");
	/* a raw key that happens to be valid base64 decodes to garbage */
	cc_case("rawkey.json",
		"{\"Global\":{\"accessKeyID\":\"" AK_ID_B64 "\","
		"\"accessKeySecret\":\"abcdabcd\"}}",
		0644, "not an AccessKey secret");
	cc_case("rawid.json",
		"{\"Global\":{\"accessKeyID\":\"LTAI5tTestKey123\","
		"\"accessKeySecret\":\"" AK_SECRET_B64 "\"}}",
		0644, "not an AccessKey id");
	cc_case("half.json", "{\"Global\":{\"accessKeyID\":\"" AK_ID_B64 "\"}}",
		0644, "must be set together");
	cc_case("worldw.json", "{\"Global\":{}}", 0666, "world-writable");
	cc_case("vsw.json", "{\"Global\":{\"vswitchid\":\"zone-a:nope\"}}",
		0644, "vswitchid");
	cc_case("rtb.json", "{\"Global\":{\"routeTableIDs\":\"rtb-1\"}}", 0644,
		"routeTableIDs");
	cc_case("type.json", "{\"Global\":{\"region\":5}}", 0644,
		"Global.region: expected a string");
	cc_case("sbt.json", "{\"Global\":{\"serviceBackendType\":\"x\"}}", 0644,
		"serviceBackendType");
	snprintf(path, sizeof(path), "%s/other-owner.json", dir);
	write_file(path, "{\"Global\":{}}", 0644);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 4321, 4321), 0);
		expect_fail("owned by uid 4321", ccflag(path),
			    "--configure-cloud-routes=false", NULL);
	}
	expect_fail("cannot open", "--cloud-config=/nonexistent/cc.json",
		    "--configure-cloud-routes=false", NULL);
}

static void test_cloud_config_fields(void **state)
{
	struct cfg_cloud cc;
	struct cfg_err e;
	char path[256], target[256];

	(void)state;
	snprintf(target, sizeof(target), "%s/full.json", dir);
	write_file(target,
		   "{\"global\": {\"REGION\": \"cn-beijing\", \"VpcId\": "
		   "\"vpc-1\", \"vswitchid\": \"cn-beijing-a:vsw-a,:vsw-b\", "
		   "\"clusterid\": \"c1\", \"routeTableIDs\": \" vtb-1, vtb-2 "
		   "\", \"disablePublicSLB\": true, \"initializeNonECSNodes\": "
		   "\"true\", \"serviceBackendType\": \"eni\"}}",
		   0644);
	/* ConfigMap mounts are symlinks */
	snprintf(path, sizeof(path), "%s/link.json", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(cfg_cloud_load(path, &cc, &e), 0);
	assert_string_equal(cc.region, "cn-beijing");
	assert_string_equal(cc.vpc_id, "vpc-1");
	assert_int_equal(cc.n_vswitches, 2);
	assert_string_equal(cc.vswitches[0].zone, "cn-beijing-a");
	assert_string_equal(cc.vswitches[1].id, "vsw-b");
	assert_string_equal(cc.vswitches[1].zone, "");
	assert_string_equal(cc.cluster_id, "c1");
	assert_int_equal(cc.cluster_id_defaulted, 0);
	assert_int_equal(cc.n_route_tables, 2);
	assert_string_equal(cc.route_table_ids[1], "vtb-2");
	assert_int_equal(cc.disable_public_slb, 1);
	assert_int_equal(cc.initialize_non_ecs_nodes, 1);
	assert_int_equal(cc.have_ak, 0);
	assert_string_equal(cc.kubernetes_cluster_tag, "ack.aliyun.com");
	assert_string_equal(cc.non_ecs_node_selector, "type=virtual-kubelet");
	/* plain vsw-xxx is one vSwitch with no zone (the Go CCM drops it) */
	assert_int_equal(cfg_vswitch_parse("vsw-plain", &cc, &e), 0);
	assert_int_equal(cc.n_vswitches, 1);
	assert_string_equal(cc.vswitches[0].id, "vsw-plain");
}

static void test_quota_keys(void **state)
{
	struct cfg_cloud cc;
	struct cfg_err e;
	const char *dflt = "{\"Global\": {}}";
	const char *set = "{\"Global\": {\"maxBackendServersPerLoadBalancer\": "
			  "300, \"MAXLOADBALANCERSPERINSTANCE\": \"5\", "
			  "\"maxListenersPerLoadBalancer\": 60, "
			  "\"maxRouteEntriesPerRouteTable\": \"1000\"}}";

	(void)state;
	assert_int_equal(cfg_cloud_parse(dflt, strlen(dflt), "d", &cc, &e), 0);
	assert_int_equal(cc.quotas.backends_per_lb, 200);
	assert_int_equal(cc.quotas.lbs_per_instance, 50);
	assert_int_equal(cc.quotas.listeners_per_lb, 50);
	assert_int_equal(cc.quotas.route_entries_per_table, 200);
	assert_int_equal(cfg_cloud_parse(set, strlen(set), "s", &cc, &e), 0);
	assert_int_equal(cc.quotas.backends_per_lb, 300);
	assert_int_equal(cc.quotas.lbs_per_instance, 5);
	assert_int_equal(cc.quotas.listeners_per_lb, 60);
	assert_int_equal(cc.quotas.route_entries_per_table, 1000);
	cc_case("q0.json", "{\"Global\":{\"maxLoadBalancersPerInstance\":0}}",
		0644, "maxLoadBalancersPerInstance: \"0\" is not valid");
	cc_case("qneg.json",
		"{\"Global\":{\"maxListenersPerLoadBalancer\":-3}}", 0644,
		"expected a whole number from 1 to 100000");
	cc_case("qfrac.json",
		"{\"Global\":{\"maxBackendServersPerLoadBalancer\":2.5}}", 0644,
		"maxBackendServersPerLoadBalancer: \"2.5\"");
	cc_case("qbig.json",
		"{\"Global\":{\"maxRouteEntriesPerRouteTable\":\"100001\"}}",
		0644, "maxRouteEntriesPerRouteTable");
	cc_case("qtext.json",
		"{\"Global\":{\"maxRouteEntriesPerRouteTable\":\"lots\"}}",
		0644, "\"lots\" is not valid");
	cc_case("qbool.json",
		"{\"Global\":{\"maxLoadBalancersPerInstance\":true}}", 0644,
		"(not a number)");
}

static void test_env_keys(void **state)
{
	struct cfg_cloud cc;
	struct cfg_err e;

	(void)state;
	memset(&cc, 0, sizeof(cc));
	setenv("ACCESS_KEY_ID", AK_ID, 1);
	setenv("ACCESS_KEY_SECRET", AK_SECRET, 1);
	assert_int_equal(cfg_cloud_env(&cc, &e), 0);
	assert_int_equal(cc.have_ak, 1);
	assert_string_equal(cc.access_key_secret, AK_SECRET);
	memset(&cc, 0, sizeof(cc));
	setenv("ACCESS_KEY_ID", "short", 1);
	assert_int_equal(cfg_cloud_env(&cc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not an AccessKey id"));
	assert_null(strstr(e.msg, AK_SECRET));
	unsetenv("ACCESS_KEY_ID");
	unsetenv("ACCESS_KEY_SECRET");
}

static void test_help_version(void **state)
{
	struct cfg *c;
	struct cfg_err e;

	(void)state;
	assert_int_equal(parse(&c, &e, "--version", NULL), 1);
	assert_null(c);
	assert_int_equal(parse(&c, &e, "--help", NULL), 1);
}

static void test_dry_run_turns_off_election(void **state)
{
	struct cfg *c;
	struct cfg_err e;

	(void)state;
	assert_int_equal(parse(&c, &e, ccflag(good_cc), "--dry-run",
			       "--configure-cloud-routes=false", NULL),
			 0);
	assert_int_equal(c->dry_run, 1);
	assert_int_equal(c->leader_elect, 0);
	cfg_free(c);
}

static void test_watch_rotation(void **state)
{
	struct cfg_watch w;
	struct cfg_err e;
	char path[256], snap[256], *text = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/rot.json", dir);
	snprintf(snap, sizeof(snap), "%s/snap.json", dir);
	write_file(path, "{\"Global\":{\"region\":\"a\",\"zoneid\":\"z1\"}}",
		   0644);
	assert_int_equal(cfg_watch_init(&w, path, snap, &e), 0);
	assert_int_equal(cfg_watch_check(&w, &e), 0);
	write_file(path, "{\"Global\":{\"region\":\"a\",\"zoneid\":\"z2\"}}",
		   0644);
	assert_int_equal(cfg_watch_check(&w, &e), 1);
	assert_int_equal(cfg_watch_check(&w, &e), 0);
	assert_int_equal(kube_read_small_file(snap, 4096, &text), 0);
	assert_non_null(strstr(text, "z2"));
	free(text);
	/* a broken rotation is reported once and changes nothing */
	write_file(path, "{\"Global\":{\"accessKeyID\":\"!\"}}", 0644);
	assert_int_equal(cfg_watch_check(&w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "accessKeyID"));
	assert_int_equal(cfg_watch_check(&w, &e), 0);
	/* an identity key is pinned: refused once, the snapshot stays */
	write_file(path, "{\"Global\":{\"region\":\"b\"}}", 0644);
	assert_int_equal(cfg_watch_check(&w, &e), -EPERM);
	assert_non_null(strstr(e.msg, "region changed"));
	assert_int_equal(cfg_watch_check(&w, &e), 0);
	assert_int_equal(kube_read_small_file(snap, 4096, &text), 0);
	assert_non_null(strstr(text, "z2"));
	free(text);
	write_file(path,
		   "{\"Global\":{\"region\":\"a\",\"accessKeyID\":\"" AK_ID_B64
		   "\",\"accessKeySecret\":\"" AK_SECRET_B64 "\"}}",
		   0644);
	assert_int_equal(cfg_watch_check(&w, &e), 1);
	/* a file that cannot be read is reported once, until it reads */
	assert_int_equal(rename(path, snap), 0);
	assert_int_equal(cfg_watch_check(&w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cannot read"));
	assert_int_equal(cfg_watch_check(&w, &e), 0);
	assert_int_equal(rename(snap, path), 0);
	assert_int_equal(cfg_watch_check(&w, &e), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cfg_watch_check(&w, &e), -EINVAL);
	cfg_watch_done(&w);
}

static void test_cloud_rate_shares(void **state)
{
	struct cfg *c;
	struct cfg_err e;

	(void)state;
	assert_int_equal(parse(&c, &e, ccflag(good_cc),
			       "--cluster-cidr=10.0.0.0/8", "--ecs-api-qps=30",
			       "--slb-api-qps=8", NULL),
			 0);
	/* ECS is shared by service-lb (ENI lookup) and node-init */
	assert_true(cfg_cloud_rate_share(c, "service-lb", 2) == 15);
	assert_true(cfg_cloud_rate_share(c, "node-init", 2) == 15);
	assert_true(cfg_cloud_rate_share(c, "route", 2) == 0);
	assert_true(cfg_cloud_rate_share(c, "service-lb", 0) == 8);
	assert_true(cfg_cloud_rate_share(c, "route", 1) == 10);
	cfg_free(c);
	assert_int_equal(parse(&c, &e, ccflag(good_cc),
			       "--configure-cloud-routes=false",
			       "--controllers=node", "--ecs-api-qps=30", NULL),
			 0);
	assert_true(cfg_cloud_rate_share(c, "node-init", 2) == 30);
	cfg_free(c);
	expect_fail("--vpc-api-qps", ccflag(good_cc), "--vpc-api-qps=-1", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_command_line),
		cmocka_unit_test(test_go_ccm_and_klog_flags),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_controllers),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_cluster_cidr_pair),
		cmocka_unit_test(test_bad_cloud_config),
		cmocka_unit_test(test_cloud_config_fields),
		cmocka_unit_test(test_quota_keys),
		cmocka_unit_test(test_env_keys),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_dry_run_turns_off_election),
		cmocka_unit_test(test_watch_rotation),
		cmocka_unit_test(test_cloud_rate_shares),
	};

	return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}
