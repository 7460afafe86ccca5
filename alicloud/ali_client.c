#include "alicloud/ali_client.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alicloud/ali_calllog.h"
#include "alicloud/ali_cred.h"
#include "alicloud/ali_http.h"
#include "alicloud/ali_meta.h"
#include "alicloud/ali_rate.h"
#include "alicloud/ali_sign.h"
#include "lib/clock.h"
#include "lib/fence.h"
#include "lib/log.h"

#ifndef CCM_VERSION
#define CCM_VERSION "0.0.0"
#endif

#define RESP_MAX     (8u << 20)
#define BODY_MAX     (4u << 20)
#define DEFAULT_RATE 10.0
/* A waiting worker reports progress at least this often (heartbeat). */
#define WAIT_SLICE_MS 1000
/* Idle keep-alive handles kept per product: one per concurrent call. */
#define HANDLE_POOL 16

static const struct {
	const char *name;
	const char *version;
	const char *env;
} products[ALI_N_PRODUCTS] = {
	[ALI_SLB] = {"slb", "2014-05-15", "SLB_ENDPOINT"},
	[ALI_VPC] = {"vpc", "2016-04-28", "VPC_ENDPOINT"},
	[ALI_ECS] = {"ecs", "2014-05-26", "ECS_ENDPOINT"},
};

struct ali_client {
	char region[64];
	char host[ALI_N_PRODUCTS][256];
	int https;
	char ua[384];
	CURL *idle[ALI_N_PRODUCTS][HANDLE_POOL];
	int n_idle[ALI_N_PRODUCTS];
	struct ali_client_io io; /* .perform NULL: calls block */
	struct ali_rate rate[ALI_N_PRODUCTS];
	struct ali_meta *meta;
	struct ali_cred *cred;
	int64_t skew_ms;
	int64_t connect_ms, timeout_ms, base_ms, max_ms;
	int max_attempts, backend_batch;
	void (*progress)(void *arg);
	void *progress_arg;
	uint64_t rng;
};

/* Per-call state threaded through the attempts. */
struct call {
	enum ali_product p;
	const char *action;
	const struct ali_params *params;
	enum ali_idem idem;
	int mutating;
	int once_used;
	struct ali_params sent; /* params of the current attempt */
	struct ali_http_resp resp;
	struct ali_outcome out;
};

int ali_endpoint_host(enum ali_product p, const char *region,
		      enum cfg_network net, const char *override, char *out,
		      size_t n)
{
	const char *s = override;
	size_t len;
	int w;

	if (s && *s) {
		const char *sep = strstr(s, "://");

		if (sep)
			s = sep + 3;
		len = strcspn(s, "/");
		w = snprintf(out, n, "%.*s", (int)len, s);
	} else if (!region || !*region) {
		return -EINVAL;
	} else {
		w = snprintf(out, n, "%s%s.%s.aliyuncs.com", products[p].name,
			     net == CFG_NET_PUBLIC ? "" : "-vpc", region);
	}
	return w < 0 || (size_t)w >= n || !out[0] ? -EINVAL : 0;
}

static int setup_hosts(struct ali_client *c, enum cfg_network net)
{
	const char *scheme = getenv("ALICLOUD_CLIENT_SCHEME");
	int p, r;

	c->https = !(scheme && strcasecmp(scheme, "HTTP") == 0);
	for (p = 0; p < ALI_N_PRODUCTS; p++) {
		r = ali_endpoint_host((enum ali_product)p, c->region, net,
				      getenv(products[p].env), c->host[p],
				      sizeof(c->host[p]));
		if (r < 0)
			return r;
		c->idle[p][0] = curl_easy_init();
		if (!c->idle[p][0])
			return -ENOMEM;
		c->n_idle[p] = 1;
	}
	return 0;
}

/* "alicloud-ccm/<ver> (<role>; identity=<id>)": the identity lets the
 * cloud's call log attribute each call to one leader's processes. */
static void ali_client_ua(char *ua, size_t len, const struct ali_client_opts *o)
{
	const char *role = o->role && *o->role ? o->role : "client";

	if (o->identity && *o->identity)
		snprintf(ua, len, "alicloud-ccm/%s (%s; identity=%s)",
			 CCM_VERSION, role, o->identity);
	else
		snprintf(ua, len, "alicloud-ccm/%s (%s)", CCM_VERSION, role);
}

static void set_defaults(struct ali_client *c, const struct ali_client_opts *o)
{
	int p;

	c->connect_ms =
		o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 20000;
	c->max_attempts = o->max_attempts > 0 ? o->max_attempts : 5;
	c->base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : 200;
	c->max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 5000;
	c->backend_batch = o->backend_batch > 0 ? o->backend_batch : 20;
	for (p = 0; p < ALI_N_PRODUCTS; p++)
		ali_rate_init(&c->rate[p],
			      o->rate[p] == 0 ? DEFAULT_RATE : o->rate[p],
			      clock_mono_ms());
	if (RAND_bytes((unsigned char *)&c->rng, sizeof(c->rng)) != 1 ||
	    !c->rng)
		c->rng = (uint64_t)clock_mono_ms() | 1;
	ali_client_ua(c->ua, sizeof(c->ua), o);
}

static int setup_identity(struct ali_client *c, const struct ali_client_opts *o)
{
	struct ali_meta_opts mo = {.require_token = o->require_imdsv2,
				   .user_agent = c->ua};
	int r = ali_meta_new(&mo, &c->meta);

	if (r < 0)
		return r;
	if (o->cloud && o->cloud->region[0])
		snprintf(c->region, sizeof(c->region), "%s", o->cloud->region);
	else if ((r = ali_meta_get_line(c->meta, "region-id", c->region,
					sizeof(c->region))) < 0)
		return r;
	return ali_cred_new(o->cloud, c->meta, &c->cred);
}

int ali_client_new(const struct ali_client_opts *o, struct ali_client **ret)
{
	struct ali_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	set_defaults(c, o);
	r = setup_identity(c, o);
	if (!r)
		r = setup_hosts(c, o->network);
	if (r < 0) {
		ali_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void ali_client_free(struct ali_client *c)
{
	int p;

	if (!c)
		return;
	for (p = 0; p < ALI_N_PRODUCTS; p++)
		while (c->n_idle[p] > 0)
			curl_easy_cleanup(c->idle[p][--c->n_idle[p]]);
	ali_cred_free(c->cred);
	ali_meta_free(c->meta);
	free(c);
}

void ali_client_set_rate(struct ali_client *c, enum ali_product p,
			 double calls_per_sec)
{
	ali_rate_set_ceiling(&c->rate[p], calls_per_sec, clock_mono_ms());
}

const char *ali_client_region(const struct ali_client *c)
{
	return c->region;
}

int64_t ali_client_skew_ms(const struct ali_client *c)
{
	return c->skew_ms;
}

int64_t ali_client_now_ms(const struct ali_client *c)
{
	return clock_wall_ms() + c->skew_ms;
}

int ali_client_backend_batch(const struct ali_client *c)
{
	return c->backend_batch;
}

const char *ali_client_host(const struct ali_client *c, enum ali_product p)
{
	return c->host[p];
}

static int sleep_ms(struct ali_client *c, int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return 0;
	if (c->io.sleep)
		return c->io.sleep(c->io.arg, ms);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

void ali_client_set_io(struct ali_client *c, const struct ali_client_io *io)
{
	if (io)
		c->io = *io;
	else
		memset(&c->io, 0, sizeof(c->io));
}

/* A keep-alive handle for one attempt; NULL when out of memory. */
static CURL *handle_take(struct ali_client *c, enum ali_product p)
{
	if (c->n_idle[p] > 0)
		return c->idle[p][--c->n_idle[p]];
	return curl_easy_init();
}

static void handle_put(struct ali_client *c, enum ali_product p, CURL *h)
{
	if (c->n_idle[p] < HANDLE_POOL)
		c->idle[p][c->n_idle[p]++] = h;
	else
		curl_easy_cleanup(h);
}

static uint32_t next_rand(struct ali_client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return (uint32_t)(c->rng >> 16);
}

static void report_progress(struct ali_client *c)
{
	if (c->progress)
		c->progress(c->progress_arg);
}

/* A rate or backoff wait can outlast the worker's heartbeat deadline, so
 * it is cut into slices that each report progress. */
static int wait_ms(struct ali_client *c, int64_t ms)
{
	int64_t until = clock_mono_ms() + ms, left;

	while ((left = until - clock_mono_ms()) > 0) {
		if (sleep_ms(c, left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS) <
		    0)
			return -ECANCELED;
		report_progress(c);
	}
	return 0;
}

static int cancelled(struct call *k, struct ali_error *err)
{
	ali_error_set(err, 0, "Cancelled", "stopping: %s given up", k->action);
	return -ECANCELED;
}

static int pace(struct ali_client *c, struct call *k, struct ali_error *err)
{
	int64_t wait;

	while ((wait = ali_rate_take(&c->rate[k->p], k->action,
				     clock_mono_ms())) > 0)
		if (wait_ms(c, wait) < 0)
			return cancelled(k, err);
	return 0;
}

static int fence_check(struct ali_client *c, struct call *k,
		       struct ali_error *err)
{
	int r;

	if (!k->mutating)
		return 0;
	/* CURLOPT_TIMEOUT_MS bounds the whole attempt, connect included */
	r = fence_allow(c->timeout_ms);
	if (r == -EPERM)
		ali_error_set(err, 0, "DryRun", "dry run: %s not sent",
			      k->action);
	else if (r < 0) {
		ali_error_set(err, 0, "Fenced",
			      "not allowed to mutate now: %s not sent",
			      k->action);
		log_v(2, "%s %s: outside the fence window, not sent",
		      products[k->p].name, k->action);
	}
	return r;
}

/* The request parameters of one attempt, Action/Version/RegionId added. */
static int build_params(struct ali_client *c, struct call *k,
			struct ali_error *err)
{
	ali_params_done(&k->sent);
	ali_params_copy(&k->sent, k->params);
	ali_params_set(&k->sent, "Action", k->action);
	ali_params_set(&k->sent, "Version", products[k->p].version);
	if (!ali_params_get(&k->sent, "RegionId"))
		ali_params_set(&k->sent, "RegionId", c->region);
	if (k->sent.err) {
		ali_error_set(err, 0, "Client", "building %s: %s", k->action,
			      strerror(-k->sent.err));
		return k->sent.err;
	}
	return 0;
}

/*
 * Builds, signs and sends one attempt; the outcome lands in call->resp.
 * The credential refresh (metadata service, seconds when slow) and the
 * signing come first and the fence last, so nothing between the fence
 * and the first byte on the wire can wait.
 */
static int send_once(struct ali_client *c, struct call *k,
		     struct ali_error *err)
{
	struct ali_credential cred;
	struct buf body;
	char url[320];
	CURL *h;
	int r;

	r = build_params(c, k, err);
	if (r < 0)
		return r;
	r = ali_cred_get(c->cred, ali_client_now_ms(c), &cred);
	if (r < 0) {
		ali_error_set(err, 0, "Credentials", "no usable AccessKey: %s",
			      strerror(-r));
		return r;
	}
	buf_init(&body, BODY_MAX);
	r = ali_sign_request(&k->sent, "POST", &cred, ali_client_now_ms(c),
			     &body);
	OPENSSL_cleanse(&cred, sizeof(cred));
	if (r < 0)
		ali_error_set(err, 0, "Client", "signing %s: %s", k->action,
			      strerror(-r));
	else
		r = fence_check(c, k, err);
	if (r < 0) {
		buf_done(&body);
		return r;
	}
	snprintf(url, sizeof(url), "%s://%s/", c->https ? "https" : "http",
		 c->host[k->p]);
	h = handle_take(c, k->p);
	if (!h) {
		buf_done(&body);
		ali_error_set(err, 0, "Client", "%s: out of memory", k->action);
		return -ENOMEM;
	}
	/* its result is also in k->resp.err, which evaluate() reads */
	(void)ali_http_do_with(h,
			       &(struct ali_http_req){
				       .method = "POST",
				       .url = url,
				       .body = body.data,
				       .body_len = body.len,
				       .headers = NULL,
				       .user_agent = c->ua,
				       .connect_timeout_ms = c->connect_ms,
				       .timeout_ms = c->timeout_ms,
			       },
			       &k->resp, c->io.perform, c->io.arg);
	handle_put(c, k->p, h);
	buf_done(&body);
	return 0; /* transport errors are in k->resp */
}

static void redact(struct ali_client *c, struct ali_error *err)
{
	struct ali_credential cred;

	if (ali_cred_get(c->cred, ali_client_now_ms(c), &cred) == 0) {
		ali_error_redact(err, cred.secret);
		ali_error_redact(err, cred.token);
	}
	OPENSSL_cleanse(&cred, sizeof(cred));
}

/* Fills k->out from k->resp; parses the body on success. */
static int evaluate(struct ali_client *c, struct call *k, struct json **resp,
		    struct ali_error *err)
{
	const struct ali_http_resp *h = &k->resp;
	char jerr[128];
	int r;

	memset(&k->out, 0, sizeof(k->out));
	k->out.transport_err = h->err;
	k->out.sent = h->sent;
	k->out.http_status = (int)h->status;
	if (h->err == -ECANCELED)
		return cancelled(k, err);
	if (h->err) {
		ali_error_set(err, (int)h->status, "Transport", "%s %s: %s",
			      products[k->p].name, k->action, h->errmsg);
		return h->err;
	}
	if (h->status < 200 || h->status >= 300) {
		ali_error_parse((int)h->status, h->body.data, h->body.len, err);
		redact(c, err);
		k->out.code = err->code;
		return ALI_E_API;
	}
	r = json_parse(h->body.data ? h->body.data : "", h->body.len, NULL,
		       resp, jerr, sizeof(jerr));
	if (r == 0 && (*resp)->type != JSON_OBJECT) {
		json_free(*resp);
		*resp = NULL;
		r = -EBADMSG;
	}
	if (r < 0)
		ali_error_set(err, (int)h->status, "InvalidResponse",
			      "%s %s: unparsable answer (%s)",
			      products[k->p].name, k->action,
			      r == -EINVAL ? jerr : strerror(-r));
	return r;
}

static void log_attempt(struct call *k, int attempt, const struct json *resp,
			const struct ali_error *err)
{
	struct ali_calllog l = {
		.product = products[k->p].name,
		.action = k->action,
		.params = &k->sent,
		.attempt = attempt,
		.status = k->resp.status,
		.code = k->resp.status >= 200 && k->resp.status < 300
				? NULL
				: err->code,
		.request_id = resp ? json_str(json_get(resp, "RequestId"))
				   : err->request_id,
		.latency_ms = k->resp.latency_ms,
	};

	ali_calllog(&l);
}

/* Acts on a retry verdict: 1 try again, 0 do not, -1 stopping. */
static int prepare_retry(struct ali_client *c, struct call *k,
			 enum ali_verdict v, int attempt)
{
	int64_t skew;

	switch (v) {
	case ALI_RETRY_SKEW:
		k->once_used = 1;
		if (ali_skew_from_date(k->resp.date, clock_wall_ms(), &skew) <
		    0)
			return 0;
		c->skew_ms = skew;
		log_v(4, "clock skew vs %s: %lld ms", products[k->p].name,
		      (long long)skew);
		return 1;
	case ALI_RETRY_REFRESH:
		k->once_used = 1;
		ali_cred_invalidate(c->cred);
		return 1;
	case ALI_RETRY_THROTTLED:
		ali_rate_throttled(&c->rate[k->p], k->action, clock_mono_ms());
		/* fall through */
	case ALI_RETRY:
		return wait_ms(c, ali_backoff_ms(attempt, c->base_ms, c->max_ms,
						 next_rand(c))) == 0
			       ? 1
			       : -1;
	default:
		return 0;
	}
}

static int run(struct ali_client *c, struct call *k, struct json **resp,
	       struct ali_error *err)
{
	enum ali_verdict v;
	int attempt, r;

	for (attempt = 0;; attempt++) {
		report_progress(c);
		/* a mode that can never send (dry run, not leading) fails
		 * before any wait; the window itself is asked at send time */
		if (fence_mode() == FENCE_DRY_RUN ||
		    fence_mode() == FENCE_CLOSED) {
			r = fence_check(c, k, err);
			if (r < 0)
				return r;
		}
		r = pace(c, k, err);
		if (r == 0)
			r = send_once(c, k, err);
		if (r < 0)
			return r;
		r = evaluate(c, k, resp, err);
		if (r == -ECANCELED)
			return r;
		log_attempt(k, attempt + 1, r == 0 ? *resp : NULL, err);
		if (r == 0)
			ali_rate_ok(&c->rate[k->p], k->action, clock_mono_ms());
		if (r == 0 || (r != ALI_E_API && !k->out.transport_err))
			return r;
		v = ali_retry_decide(&k->out, k->idem, k->once_used);
		if (v == ALI_AMBIGUOUS)
			return ALI_E_AMBIGUOUS;
		if (attempt + 1 >= c->max_attempts)
			return r;
		switch (prepare_retry(c, k, v, attempt)) {
		case 0:
			return r;
		case -1:
			return cancelled(k, err);
		default:
			break;
		}
	}
}

void ali_client_set_progress(struct ali_client *c, void (*fn)(void *arg),
			     void *arg)
{
	c->progress = fn;
	c->progress_arg = arg;
	ali_meta_set_progress(c->meta, fn, arg);
}

int ali_client_call(struct ali_client *c, enum ali_product p,
		    const char *action, const struct ali_params *params,
		    struct json **resp, struct ali_error *err)
{
	struct ali_params none;
	struct call k;
	int r;

	ali_error_clear(err);
	*resp = NULL;
	ali_params_init(&none);
	memset(&k, 0, sizeof(k));
	k.p = p;
	k.action = action;
	k.params = params ? params : &none;
	k.idem = ali_action_idem(action, k.params);
	k.mutating = ali_action_mutating(action);
	ali_params_init(&k.sent);
	buf_init(&k.resp.body, RESP_MAX);
	r = run(c, &k, resp, err);
	buf_done(&k.resp.body);
	ali_params_done(&k.sent);
	return r;
}
