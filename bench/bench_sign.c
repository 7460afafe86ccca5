/*
 * bench_sign - throughput of the two CPU-bound hot paths of a sync pass:
 * the RPC V1 signer (every cloud call) and json_parse (every LIST/watch
 * answer). Prints "name value unit" lines; never asserts anything.
 *
 * Each measurement repeats its operation until BENCH_SECONDS of CPU-time
 * have passed or BENCH_MAX_ITERS iterations ran, whichever comes first, so
 * the program always stops by itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alicloud/ali_params.h"
#include "alicloud/ali_sign.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "bench/nodelist_gen.h"

#define BENCH_SECONDS	1.5
#define BENCH_MAX_ITERS 5000000L
#define NODELIST_BYTES	(1u << 20)

typedef int (*bench_fn)(void *arg);

/* CPU time, so a busy neighbour on a shared machine skews less. */
static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn until the time or iteration bound; returns iterations per
 * CPU-second, or a negative errno from fn. */
static double run_bench(bench_fn fn, void *arg)
{
	double t0 = cpu_seconds(), el = 0;
	long n = 0, batch = 16;

	while (el < BENCH_SECONDS && n < BENCH_MAX_ITERS) {
		for (long i = 0; i < batch; i++) {
			int r = fn(arg);

			if (r < 0)
				return r;
		}
		n += batch;
		if (batch < 4096)
			batch *= 2;
		el = cpu_seconds() - t0;
	}
	return el > 0 ? (double)n / el : 0;
}

/* ------------------------------------------------------------ signer */

struct sign_case {
	struct ali_params p;
	struct ali_credential cred;
	struct buf body;
};

/* A DescribeLoadBalancers by ownership tag: the most frequent read. */
static void fill_describe(struct ali_params *p)
{
	ali_params_set(p, "Action", "DescribeLoadBalancers");
	ali_params_set(p, "Version", "2014-05-15");
	ali_params_set(p, "RegionId", "cn-hangzhou");
	ali_params_set(p, "Tags",
		       "[{\"TagKey\":\"kubernetes.do.not.delete\","
		       "\"TagValue\":\"a0c3f5e2b7d9411e8a3f00163e0c1d2e\"}]");
	ali_params_set(p, "PageNumber", "1");
	ali_params_set(p, "PageSize", "100");
}

/* AddVServerGroupBackendServers with a full batch of 20 backends: the
 * largest request the service worker signs. */
static void fill_backends(struct ali_params *p)
{
	char item[256];
	struct buf js;

	buf_init(&js, 16u << 10);
	buf_puts(&js, "[");
	for (int i = 0; i < 20; i++) {
		snprintf(item, sizeof(item),
			 "%s{\"ServerId\":\"i-bp1%017d\",\"Port\":\"31%03d\","
			 "\"Weight\":\"100\",\"Type\":\"ecs\",\"Description\":"
			 "\"k8s/31080/web-%02d/default/c0ffee42\"}",
			 i ? "," : "", 4711 + i, 80 + i, i);
		buf_puts(&js, item);
	}
	buf_puts(&js, "]");
	ali_params_set(p, "Action", "AddVServerGroupBackendServers");
	ali_params_set(p, "Version", "2014-05-15");
	ali_params_set(p, "RegionId", "cn-hangzhou");
	ali_params_set(p, "VServerGroupId", "rsp-bp1a2b3c4d5e6f7g8h9i0");
	ali_params_set(p, "BackendServers", js.data);
	buf_done(&js);
}

static int sign_case_init(struct sign_case *c,
			  void (*fill)(struct ali_params *))
{
	int64_t now = 1700000000000LL;
	int r;

	memset(c, 0, sizeof(*c));
	ali_params_init(&c->p);
	fill(&c->p);
	snprintf(c->cred.id, sizeof(c->cred.id), "LTAI5tBenchAccessKey01");
	snprintf(c->cred.secret, sizeof(c->cred.secret),
		 "BenchSecret0123456789abcdefXYZ");
	buf_init(&c->body, 1u << 20);
	/* one full request first: adds the common parameters the plain
	 * signer then sees on every call */
	r = ali_sign_request(&c->p, "POST", &c->cred, now, &c->body);
	return r ? r : c->p.err;
}

static void sign_case_done(struct sign_case *c)
{
	ali_params_done(&c->p);
	buf_done(&c->body);
	memset(&c->cred, 0, sizeof(c->cred));
}

static int do_sign(void *arg)
{
	struct sign_case *c = arg;
	char sig[ALI_SIG_MAX];

	return ali_sign("POST", &c->p, c->cred.secret, sig);
}

static int do_sign_request(void *arg)
{
	struct sign_case *c = arg;

	buf_reset(&c->body);
	return ali_sign_request(&c->p, "POST", &c->cred, 1700000000000LL,
				&c->body);
}

static int bench_signer(const char *name, void (*fill)(struct ali_params *))
{
	struct sign_case c;
	double v;
	int r = sign_case_init(&c, fill);

	if (r < 0)
		goto out;
	printf("%s_request_bytes %zu bytes\n", name, c.body.len);
	v = run_bench(do_sign, &c);
	if (v < 0) {
		r = (int)v;
		goto out;
	}
	printf("%s_sign %.0f signatures/s\n", name, v);
	v = run_bench(do_sign_request, &c);
	if (v < 0) {
		r = (int)v;
		goto out;
	}
	printf("%s_sign_request %.0f requests/s\n", name, v);
out:
	sign_case_done(&c);
	return r;
}

/* -------------------------------------------------------------- json */

struct json_case {
	struct buf text;
	struct json_limits lim;
	size_t items;
};

static int do_json(void *arg)
{
	struct json_case *c = arg;
	struct json *j = NULL;
	int r = json_parse(c->text.data, c->text.len, &c->lim, &j, NULL, 0);

	if (r == 0 && json_len(json_get(j, "items")) != c->items)
		r = -EPROTO;
	json_free(j);
	return r;
}

static int bench_json(void)
{
	struct json_case c = {.lim = json_default_limits};
	double v;
	int n;

	buf_init(&c.text, 4u << 20);
	n = bench_make_nodelist(&c.text, NODELIST_BYTES);
	if (n < 0)
		goto out;
	c.items = (size_t)n;
	/* the kube client's caps for a LIST body */
	c.lim.max_bytes = 16u << 20;
	c.lim.max_nodes = 4u << 20;
	printf("json_nodelist_bytes %zu bytes\n", c.text.len);
	printf("json_nodelist_nodes %d nodes\n", n);
	v = run_bench(do_json, &c);
	if (v < 0) {
		n = (int)v;
		goto out;
	}
	printf("json_parse_nodelist %.1f MiB/s\n",
	       v * (double)c.text.len / (1024.0 * 1024.0));
	printf("json_parse_nodelist_nodes %.0f nodes/s\n", v * n);
	n = 0;
out:
	buf_done(&c.text);
	return n;
}

int main(void)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = bench_signer("describe_lbs", fill_describe);
	if (r == 0)
		r = bench_signer("add_backends20", fill_backends);
	if (r == 0)
		r = bench_json();
	if (r < 0) {
		fprintf(stderr, "bench_sign: failed: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
