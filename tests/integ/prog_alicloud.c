/*
 * prog_alicloud - drives the typed Alibaba Cloud calls from the command line
 * for tests/integ/test_alicloud.py.
 *
 *   prog_alicloud <command> [args...]
 *   prog_alicloud loop <count> <interval_ms> <command> [args...]
 *
 * Endpoints, scheme and credentials come from the environment exactly as for
 * the real binary (SLB_ENDPOINT, ..., ACCESS_KEY_ID/ACCESS_KEY_SECRET, else
 * the RAM role of METADATA_ENDPOINT). ALI_REGION sets the region (else
 * metadata), ALI_MAX_ATTEMPTS / ALI_TIMEOUT_MS / ALI_BACKOFF_MS / ALI_V tune
 * the client. ALI_RATE (calls/s, every product) paces it; ALI_FENCE_MS
 * opens a fence window of that lease (and renew deadline) from start, as a
 * frozen leader's worker would have; with it, the number of progress
 * callbacks is printed last as "progress calls=<n>".
 * Results are printed one object per line as "kind k=v ..."; failures as
 * "error rc=<n> status=<s> code=<c> request_id=<r> message=<m>".
 * Exit: 0 ok, 1 API/transport error, 2 usage, 3 ambiguous create.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alicloud/ali_client.h"
#include "alicloud/ali_ecs.h"
#include "alicloud/ali_slb.h"
#include "alicloud/ali_vpc.h"
#include "lib/clock.h"
#include "lib/fence.h"
#include "lib/log.h"

#define MAXV 256

struct ctx {
	struct ali_client *c;
	struct ali_error err;
	int argc;
	char **argv;
};

static int usage(void)
{
	fprintf(stderr, "usage: prog_alicloud [loop N MS] <command> args\n");
	return -EINVAL;
}

static const char *arg(struct ctx *x, int i)
{
	return i < x->argc ? x->argv[i] : NULL;
}

static int need(struct ctx *x, int n)
{
	return x->argc >= n ? 0 : usage();
}

static void print_lb(const char *kind, const struct ali_lb *lb)
{
	size_t i;

	printf("%s id=%s name=%s address=%s address_type=%s vpc=%s vswitch=%s "
	       "spec=%s status=%s delete_protection=%s bandwidth=%lld",
	       kind, lb->id, lb->name, lb->address, lb->address_type,
	       lb->vpc_id, lb->vswitch_id, lb->spec, lb->status,
	       lb->delete_protection, lb->bandwidth);
	for (i = 0; i < lb->n_tags; i++)
		printf(" tag=%s:%s", lb->tags[i].key, lb->tags[i].value);
	for (i = 0; i < lb->n_listeners; i++)
		printf(" listener=%s:%d", lb->listeners[i].protocol,
		       lb->listeners[i].port);
	printf("\n");
}

/* "k:v" */
static size_t parse_tags(char **v, int n, struct ali_tag *out)
{
	int i;

	for (i = 0; i < n && i < 20; i++) {
		char *colon = strchr(v[i], ':');

		snprintf(out[i].key, sizeof(out[i].key), "%.*s",
			 colon ? (int)(colon - v[i]) : (int)strlen(v[i]), v[i]);
		snprintf(out[i].value, sizeof(out[i].value), "%s",
			 colon ? colon + 1 : "");
	}
	return (size_t)i;
}

/* key=value options of create-lb */
static int cmd_create_lb(struct ctx *x)
{
	struct ali_lb_create o = {.bandwidth = ALI_UNSET};
	struct ali_tag tags[20];
	struct ali_lb lb;
	int i, r;

	for (i = 1; i < x->argc; i++) {
		char *k = x->argv[i], *v = strchr(k, '=');

		if (!v)
			return usage();
		*v++ = '\0';
		if (!strcmp(k, "name"))
			o.name = v;
		else if (!strcmp(k, "token"))
			o.client_token = v;
		else if (!strcmp(k, "address_type"))
			o.address_type = v;
		else if (!strcmp(k, "vswitch"))
			o.vswitch_id = v;
		else if (!strcmp(k, "vpc"))
			o.vpc_id = v;
		else if (!strcmp(k, "spec"))
			o.spec = v;
		else if (!strcmp(k, "delete_protection"))
			o.delete_protection = v;
		else if (!strcmp(k, "tag"))
			o.n_tags += parse_tags(&v, 1, &tags[o.n_tags]);
		else
			return usage();
		o.tags = tags;
	}
	r = ali_slb_create_lb(x->c, &o, &lb, &x->err);
	if (r == 0)
		print_lb("lb", &lb);
	ali_lb_done(&lb);
	return r;
}

static int cmd_describe_lbs(struct ctx *x)
{
	struct ali_lb_filter f = {0};
	struct ali_lb_list l;
	struct ali_tag tags[20];
	const char *ids[MAXV];
	size_t i;
	int a, r;

	for (a = 1; a < x->argc; a++) {
		char *v = x->argv[a];

		if (!strncmp(v, "name=", 5))
			f.name = v + 5;
		else if (!strncmp(v, "tag=", 4) && f.n_tags < 20)
			f.n_tags += parse_tags(&(char *){v + 4}, 1,
					       &tags[f.n_tags]);
		else if (f.n_ids < MAXV)
			ids[f.n_ids++] = v;
	}
	f.ids = ids;
	f.tags = tags;
	r = ali_slb_describe_lbs(x->c, &f, &l, &x->err);
	for (i = 0; r == 0 && i < l.n; i++)
		print_lb("lb", &l.v[i]);
	if (r == 0)
		printf("count=%zu\n", l.n);
	ali_lb_list_done(&l);
	return r;
}

static int cmd_describe_lb(struct ctx *x)
{
	struct ali_lb lb;
	int r = need(x, 2);

	if (r)
		return r;
	r = ali_slb_describe_lb(x->c, arg(x, 1), &lb, &x->err);
	if (r == 0)
		print_lb("lb", &lb);
	ali_lb_done(&lb);
	return r;
}

static int cmd_lb_simple(struct ctx *x)
{
	const char *cmd = arg(x, 0), *id = arg(x, 1), *v = arg(x, 2);

	if (!id)
		return usage();
	if (!strcmp(cmd, "delete-lb"))
		return ali_slb_delete_lb(x->c, id, &x->err);
	if (!v)
		return usage();
	if (!strcmp(cmd, "set-delete-protection"))
		return ali_slb_set_delete_protection(x->c, id, !strcmp(v, "on"),
						     &x->err);
	if (!strcmp(cmd, "set-name"))
		return ali_slb_set_name(x->c, id, v, &x->err);
	if (!strcmp(cmd, "modify-spec"))
		return ali_slb_modify_spec(x->c, id, v, &x->err);
	return usage();
}

static int cmd_tags(struct ctx *x)
{
	struct ali_tag tags[20], *got = NULL;
	const char *cmd = arg(x, 0);
	size_t n, i;
	int r = need(x, 2);

	if (r)
		return r;
	n = parse_tags(x->argv + 2, x->argc - 2, tags);
	if (!strcmp(cmd, "add-tags"))
		return ali_slb_add_tags(x->c, arg(x, 1), tags, n, &x->err);
	if (!strcmp(cmd, "remove-tags"))
		return ali_slb_remove_tags(x->c, arg(x, 1), tags, n, &x->err);
	r = ali_slb_describe_tags(x->c, arg(x, 1), &got, &n, &x->err);
	for (i = 0; r == 0 && i < n; i++)
		printf("tag key=%s value=%s\n", got[i].key, got[i].value);
	free(got);
	return r;
}

static void print_listener(const struct ali_listener *l)
{
	printf("listener lb=%s protocol=%s port=%d backend_port=%d "
	       "bandwidth=%d status=%s vgroup=%s scheduler=%s "
	       "health_check=%s sticky_session=%s\n",
	       l->lb_id, l->protocol, l->port, l->backend_port, l->bandwidth,
	       l->status, l->vserver_group_id, l->scheduler, l->health_check,
	       l->sticky_session);
}

/* lb proto port [k=v: backend_port vgroup bandwidth scheduler hc sticky] */
static int listener_from_args(struct ctx *x, struct ali_listener *l)
{
	int i;

	ali_listener_init(l);
	if (x->argc < 4)
		return usage();
	snprintf(l->lb_id, sizeof(l->lb_id), "%s", arg(x, 1));
	snprintf(l->protocol, sizeof(l->protocol), "%s", arg(x, 2));
	l->port = atoi(arg(x, 3));
	for (i = 4; i < x->argc; i++) {
		const char *a = x->argv[i], *v = strchr(a, '=');

		if (!v)
			return usage();
		v++;
		if (!strncmp(a, "backend_port=", 13))
			l->backend_port = atoi(v);
		else if (!strncmp(a, "bandwidth=", 10))
			l->bandwidth = atoi(v);
		else if (!strncmp(a, "vgroup=", 7))
			snprintf(l->vserver_group_id,
				 sizeof(l->vserver_group_id), "%s", v);
		else if (!strncmp(a, "scheduler=", 10))
			snprintf(l->scheduler, sizeof(l->scheduler), "%s", v);
		else if (!strncmp(a, "hc=", 3))
			snprintf(l->health_check, sizeof(l->health_check), "%s",
				 v);
		else if (!strncmp(a, "sticky=", 7))
			snprintf(l->sticky_session, sizeof(l->sticky_session),
				 "%s", v);
		else if (!strncmp(a, "cert=", 5))
			snprintf(l->server_certificate_id,
				 sizeof(l->server_certificate_id), "%s", v);
		else
			return usage();
	}
	return 0;
}

static int cmd_listener(struct ctx *x)
{
	const char *cmd = arg(x, 0);
	struct ali_listener l;
	int r = listener_from_args(x, &l);

	if (r)
		return r;
	if (!strcmp(cmd, "create-listener"))
		return ali_slb_create_listener(x->c, &l, &x->err);
	if (!strcmp(cmd, "set-listener"))
		return ali_slb_set_listener(x->c, &l, &x->err);
	if (!strcmp(cmd, "start-listener"))
		return ali_slb_start_listener(x->c, l.lb_id, l.protocol, l.port,
					      &x->err);
	if (!strcmp(cmd, "stop-listener"))
		return ali_slb_stop_listener(x->c, l.lb_id, l.protocol, l.port,
					     &x->err);
	if (!strcmp(cmd, "delete-listener"))
		return ali_slb_delete_listener(x->c, l.lb_id, l.protocol,
					       l.port, &x->err);
	r = ali_slb_describe_listener(x->c, l.lb_id, l.protocol, l.port, &l,
				      &x->err);
	if (r == 0)
		print_listener(&l);
	return r;
}

static int cmd_describe_listeners(struct ctx *x)
{
	struct ali_listener_list l;
	size_t i;
	int r = need(x, 2);

	if (r)
		return r;
	r = ali_slb_describe_listeners(x->c, arg(x, 1), &l, &x->err);
	for (i = 0; r == 0 && i < l.n; i++)
		print_listener(&l.v[i]);
	if (r == 0)
		printf("count=%zu\n", l.n);
	ali_listener_list_done(&l);
	return r;
}

/* "server:port[:weight[:type[:ip]]]" */
static size_t parse_backends(char **v, int n, struct ali_backend *out)
{
	int i;

	for (i = 0; i < n && i < MAXV; i++) {
		struct ali_backend *b = &out[i];
		char *save = NULL, *tok;
		int f = 0;

		memset(b, 0, sizeof(*b));
		b->weight = 100;
		for (tok = strtok_r(v[i], ":", &save); tok;
		     tok = strtok_r(NULL, ":", &save), f++) {
			if (f == 0)
				snprintf(b->server_id, sizeof(b->server_id),
					 "%s", tok);
			else if (f == 1)
				b->port = atoi(tok);
			else if (f == 2)
				b->weight = atoi(tok);
			else if (f == 3)
				snprintf(b->type, sizeof(b->type), "%s", tok);
			else
				snprintf(b->server_ip, sizeof(b->server_ip),
					 "%s", tok);
		}
	}
	return (size_t)i;
}

static void print_vgroup(const struct ali_vgroup *g)
{
	size_t i;

	printf("vgroup id=%s name=%s lb=%s backends=%zu", g->id, g->name,
	       g->lb_id, g->n_backends);
	for (i = 0; i < g->n_backends; i++)
		printf(" backend=%s:%d:%d", g->backends[i].server_id,
		       g->backends[i].port, g->backends[i].weight);
	printf("\n");
}

static int cmd_vgroup(struct ctx *x)
{
	static struct ali_backend b[MAXV];
	const char *cmd = arg(x, 0);
	char id[64];
	size_t n;
	int r = need(x, 2);

	if (r)
		return r;
	if (!strcmp(cmd, "create-vgroup")) {
		if ((r = need(x, 3)))
			return r;
		n = parse_backends(x->argv + 3, x->argc - 3, b);
		r = ali_slb_create_vgroup(x->c, arg(x, 1), arg(x, 2), b, n, id,
					  &x->err);
		if (r == 0)
			printf("vgroup id=%s\n", id);
		return r;
	}
	if (!strcmp(cmd, "delete-vgroup"))
		return ali_slb_delete_vgroup(x->c, arg(x, 1), &x->err);
	n = parse_backends(x->argv + 2, x->argc - 2, b);
	if (!strcmp(cmd, "add-backends"))
		return ali_slb_add_backends(x->c, arg(x, 1), b, n, &x->err);
	if (!strcmp(cmd, "remove-backends"))
		return ali_slb_remove_backends(x->c, arg(x, 1), b, n, &x->err);
	if (!strcmp(cmd, "set-backends"))
		return ali_slb_set_backends(x->c, arg(x, 1), b, n, &x->err);
	return usage();
}

static int cmd_modify_backends(struct ctx *x)
{
	static struct ali_backend old[MAXV], new_[MAXV];
	int i, r = need(x, 4);

	if (r || (x->argc - 2) % 2)
		return usage();
	for (i = 2; i + 1 < x->argc; i += 2) {
		parse_backends(&x->argv[i], 1, &old[(i - 2) / 2]);
		parse_backends(&x->argv[i + 1], 1, &new_[(i - 2) / 2]);
	}
	return ali_slb_modify_backends(x->c, arg(x, 1), old, new_,
				       (size_t)(x->argc - 2) / 2, &x->err);
}

static int cmd_describe_vgroups(struct ctx *x)
{
	struct ali_vgroup_list l;
	struct ali_vgroup g;
	size_t i;
	int r = need(x, 2);

	if (r)
		return r;
	if (!strcmp(arg(x, 0), "describe-vgroup")) {
		r = ali_slb_describe_vgroup(x->c, arg(x, 1), &g, &x->err);
		if (r == 0)
			print_vgroup(&g);
		ali_vgroup_done(&g);
		return r;
	}
	r = ali_slb_describe_vgroups(x->c, arg(x, 1), &l, &x->err);
	for (i = 0; r == 0 && i < l.n; i++)
		print_vgroup(&l.v[i]);
	if (r == 0)
		printf("count=%zu\n", l.n);
	ali_vgroup_list_done(&l);
	return r;
}

#include "prog_alicloud_net.inc"

static const struct {
	const char *name;
	int (*fn)(struct ctx *);
} cmds[] = {{"create-lb", cmd_create_lb},
	    {"delete-lb", cmd_lb_simple},
	    {"describe-lbs", cmd_describe_lbs},
	    {"describe-lb", cmd_describe_lb},
	    {"set-delete-protection", cmd_lb_simple},
	    {"set-name", cmd_lb_simple},
	    {"modify-spec", cmd_lb_simple},
	    {"add-tags", cmd_tags},
	    {"remove-tags", cmd_tags},
	    {"describe-tags", cmd_tags},
	    {"create-listener", cmd_listener},
	    {"set-listener", cmd_listener},
	    {"describe-listener", cmd_listener},
	    {"start-listener", cmd_listener},
	    {"stop-listener", cmd_listener},
	    {"delete-listener", cmd_listener},
	    {"describe-listeners", cmd_describe_listeners},
	    {"create-vgroup", cmd_vgroup},
	    {"delete-vgroup", cmd_vgroup},
	    {"add-backends", cmd_vgroup},
	    {"remove-backends", cmd_vgroup},
	    {"set-backends", cmd_vgroup},
	    {"modify-backends", cmd_modify_backends},
	    {"describe-vgroups", cmd_describe_vgroups},
	    {"describe-vgroup", cmd_describe_vgroups},
	    NET_COMMANDS};

static int dispatch(struct ctx *x)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, x->argv[0]))
			return cmds[i].fn(x);
	return usage();
}

static void report(int r, const struct ali_error *e)
{
	printf("error rc=%d ambiguous=%d status=%d code=%s request_id=%s "
	       "message=%s\n",
	       r, r == ALI_E_AMBIGUOUS, e->http_status,
	       e->code[0] ? e->code : "-",
	       e->request_id[0] ? e->request_id : "-", e->message);
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : def;
}

static int progress_calls;

static void on_progress(void *arg)
{
	(void)arg;
	progress_calls++;
}

static int open_client(struct ali_client **c)
{
	static struct cfg_cloud cloud;
	struct ali_client_opts o = {.cloud = &cloud, .role = "prog_alicloud"};
	const char *region = getenv("ALI_REGION");
	int r;

	snprintf(cloud.region, sizeof(cloud.region), "%s",
		 region ? region : "");
	o.max_attempts = (int)env_long("ALI_MAX_ATTEMPTS", 0);
	o.timeout_ms = env_long("ALI_TIMEOUT_MS", 0);
	o.backoff_base_ms = env_long("ALI_BACKOFF_MS", 0);
	o.rate[ALI_SLB] = o.rate[ALI_VPC] = o.rate[ALI_ECS] = -1;
	if (getenv("ALI_RATE"))
		o.rate[ALI_SLB] = o.rate[ALI_VPC] = o.rate[ALI_ECS] =
			atof(getenv("ALI_RATE"));
	if (env_long("ALI_FENCE_MS", 0) > 0)
		fence_set_lease(clock_boot_ms(), env_long("ALI_FENCE_MS", 0),
				env_long("ALI_FENCE_MS", 0));
	r = ali_client_new(&o, c);
	if (r == 0)
		ali_client_set_progress(*c, on_progress, NULL);
	return r;
}

static int run_loop(struct ctx *x, int count, long interval)
{
	struct timespec ts = {interval / 1000, (interval % 1000) * 1000000L};
	int i, r = 0;

	for (i = 0; i < count; i++) {
		ali_error_clear(&x->err);
		r = dispatch(x);
		if (r)
			report(r, &x->err);
		else
			printf("ok\n");
		fflush(stdout);
		if (i + 1 < count)
			nanosleep(&ts, NULL);
	}
	return r;
}

int main(int argc, char **argv)
{
	struct ctx x = {.argc = argc - 1, .argv = argv + 1};
	int r, count = 1;
	long interval = 0;

	log_set_verbosity((int)env_long("ALI_V", 0));
	if (argc > 3 && !strcmp(argv[1], "loop")) {
		count = atoi(argv[2]);
		interval = atol(argv[3]);
		x.argc -= 3;
		x.argv += 3;
	}
	if (x.argc < 1)
		return usage(), 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = open_client(&x.c);
	if (r < 0) {
		printf("error rc=%d code=ClientInit message=%s\n", r,
		       strerror(-r));
		return 1;
	}
	r = run_loop(&x, count, interval);
	if (getenv("ALI_FENCE_MS"))
		printf("progress calls=%d\n", progress_calls);
	ali_client_free(x.c);
	curl_global_cleanup();
	if (r == -EINVAL && !x.err.code[0])
		return 2;
	return r == 0 ? 0 : r == ALI_E_AMBIGUOUS ? 3 : 1;
}
