#include "kube/kube_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/kube_config.h"
#include "kube/kube_internal.h"
#include "kube/kube_ratelimit.h"
#include "lib/clock.h"
#include "lib/fence.h"
#include "lib/log.h"

#ifndef CCM_VERSION
#define CCM_VERSION "0.0.0"
#endif

#define TOKEN_REREAD_MS 60000
/* A throttled caller reports progress at least this often (heartbeat). */
#define WAIT_SLICE_MS 1000

struct kube_client {
	struct kube_conn *conn;
	CURL *easy;
	struct kube_rl rl;
	int64_t timeout_ms;
	char ua[384];
	char *base_url; /* server, or server with tls-server-name host */
	struct curl_slist *connect_to; /* "sni:port:host:port" */
	char *override;		       /* kube_client_set_token */
	char *file_token;	       /* last read of conn->token_file */
	int64_t file_read_ms;
	int file_stale;
	struct kube_client_stats stats;
	int64_t last_retry_after_ms; /* see kube_client_last_retry_after_ms */
	struct kube_mux *mux;
	void (*progress)(void *arg);
	void *progress_arg;
};

static void free_secret(char **p)
{
	if (*p)
		explicit_bzero(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	kube_mux_free(c->mux);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free_secret(&c->override);
	free_secret(&c->file_token);
	free(c->base_url);
	curl_slist_free_all(c->connect_to);
	kube_conn_free(c->conn);
	free(c);
}

/*
 * libcurl cannot set SNI apart from the URL host, so a tls-server-name
 * becomes the URL host and CURLOPT_CONNECT_TO points it at the real
 * address. The Host header then carries that name, which the API server
 * ignores.
 */
static int build_base_url(struct kube_client *c)
{
	const char *srv = c->conn->server, *hs, *he, *path, *colon;
	const char *tsn = c->conn->tls_server_name;
	char port[8], *ct = NULL;
	int https, n;

	if (!tsn) {
		c->base_url = strdup(srv);
		return c->base_url ? 0 : -ENOMEM;
	}
	hs = strstr(srv, "://");
	if (!hs)
		return -EINVAL;
	https = strncmp(srv, "https", 5) == 0;
	hs += 3;
	path = hs + strcspn(hs, "/");
	he = *hs == '[' ? memchr(hs, ']', (size_t)(path - hs)) : hs;
	if (!he)
		return -EINVAL;
	colon = memchr(he, ':', (size_t)(path - he));
	if (colon)
		snprintf(port, sizeof(port), "%.*s", (int)(path - colon - 1),
			 colon + 1);
	else
		snprintf(port, sizeof(port), "%s", https ? "443" : "80");
	if (!colon)
		colon = path;
	n = asprintf(&c->base_url, "%s://%s:%s%s", https ? "https" : "http",
		     tsn, port, path);
	if (n < 0)
		return -ENOMEM;
	n = asprintf(&ct, "%s:%s:%.*s:%s", tsn, port, (int)(colon - hs), hs,
		     port);
	if (n < 0)
		return -ENOMEM;
	c->connect_to = curl_slist_append(NULL, ct);
	free(ct);
	return c->connect_to ? 0 : -ENOMEM;
}

/* "cloud-controller-manager/<ver> (<role>; identity=<id>)": the identity
 * lets the audit log attribute each request to one leader's processes. */
static void kube_client_ua(char *ua, size_t len,
			   const struct kube_client_opts *o)
{
	const char *role = o && o->role && *o->role ? o->role : "client";

	if (o && o->identity && *o->identity)
		snprintf(ua, len,
			 "cloud-controller-manager/%s (%s; identity=%s)",
			 CCM_VERSION, role, o->identity);
	else
		snprintf(ua, len, "cloud-controller-manager/%s (%s)",
			 CCM_VERSION, role);
}

int kube_client_new(const struct kube_client_opts *o, struct kube_client **ret,
		    char *err, size_t errlen)
{
	struct kube_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = kube_conn_load(o ? o->kubeconfig : NULL, &c->conn, err, errlen);
	if (r < 0)
		goto fail;
	r = build_base_url(c);
	if (r < 0) {
		snprintf(err, errlen, "%s: bad server URL", c->conn->source);
		goto fail;
	}
	c->easy = curl_easy_init();
	if (!c->easy) {
		r = -ENOMEM;
		goto fail;
	}
	c->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : 30000;
	kube_rl_init(&c->rl, o ? o->qps : 0, o ? o->burst : 0);
	kube_client_ua(c->ua, sizeof(c->ua), o);
	c->file_stale = 1;
	*ret = c;
	return 0;
fail:
	kube_client_free(c);
	return r;
}

int kube_client_set_token(struct kube_client *c, const char *token)
{
	char *dup = NULL;

	if (token && !(dup = strdup(token)))
		return -ENOMEM;
	free_secret(&c->override);
	c->override = dup;
	return 0;
}

void kube_client_token_stale(struct kube_client *c)
{
	c->file_stale = 1;
}

int64_t kube_client_timeout_ms(const struct kube_client *c)
{
	return c->timeout_ms;
}

struct kube_mux *kube_client_get_mux(const struct kube_client *c)
{
	return c->mux;
}

void kube_client_set_mux(struct kube_client *c, struct kube_mux *m)
{
	c->mux = m;
}

void kube_client_set_progress(struct kube_client *c, void (*fn)(void *arg),
			      void *arg)
{
	c->progress = fn;
	c->progress_arg = arg;
}

void kube_client_get_stats(const struct kube_client *c,
			   struct kube_client_stats *out)
{
	*out = c->stats;
	out->qps = c->rl.qps;
}

const char *kube_client_server(const struct kube_client *c)
{
	return c->conn->server;
}

const char *kube_client_namespace(const struct kube_client *c)
{
	return c->conn->namespace;
}

/* Projected tokens rotate: re-read every minute and after a 401. */
static const char *current_token(struct kube_client *c)
{
	int64_t now = clock_mono_ms();
	char *t = NULL;
	int r;

	if (c->override)
		return c->override;
	if (!c->conn->token_file)
		return c->conn->token;
	if (c->file_stale || now - c->file_read_ms >= TOKEN_REREAD_MS) {
		r = kube_read_small_file(c->conn->token_file, KUBE_TOKEN_MAX,
					 &t);
		if (r == 0) {
			free_secret(&c->file_token);
			c->file_token = t;
		} else {
			log_v(4, "token file %s: %s (keeping the last token)",
			      c->conn->token_file, strerror(-r));
		}
		c->file_read_ms = now;
		c->file_stale = 0;
	}
	return c->file_token ? c->file_token : c->conn->token;
}

static int add_header(struct curl_slist **hdrs, const char *h)
{
	struct curl_slist *n = curl_slist_append(*hdrs, h);

	if (!n)
		return -ENOMEM;
	*hdrs = n;
	return 0;
}

static int auth_header(struct kube_client *c, struct curl_slist **hdrs)
{
	const char *tok = current_token(c);
	char *h = NULL;
	int r;

	if (!tok || !*tok)
		return 0;
	if (asprintf(&h, "Authorization: Bearer %s", tok) < 0)
		return -ENOMEM;
	r = add_header(hdrs, h);
	free_secret(&h);
	return r;
}

static void setup_tls(struct kube_client *c, CURL *e)
{
	const struct kube_conn *k = c->conn;
	struct curl_blob b;

	if (k->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, k->ca_file);
	if (k->ca_pem.data) {
		b = (struct curl_blob){k->ca_pem.data, k->ca_pem.len,
				       CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, k->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, k->insecure ? 0L : 2L);
	if (k->cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, k->cert_file);
	if (k->cert_pem.data) {
		b = (struct curl_blob){k->cert_pem.data, k->cert_pem.len,
				       CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
	}
	if (k->cert_file || k->cert_pem.data)
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	if (k->key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, k->key_file);
	if (k->key_pem.data) {
		b = (struct curl_blob){k->key_pem.data, k->key_pem.len,
				       CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
	}
	if (k->key_file || k->key_pem.data)
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
}

int kube_easy_setup(struct kube_client *c, CURL *e, const char *path,
		    struct curl_slist **hdrs)
{
	char *url = NULL;
	int r;

	if (asprintf(&url, "%s%s", c->base_url, path) < 0)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->ua);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* One stream per connection: a frozen connection then takes down
	 * only the request on it, and a new watch never multiplexes onto a
	 * connection that just went silent. */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	if (c->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
	if (c->conn->proxy_url)
		curl_easy_setopt(e, CURLOPT_PROXY, c->conn->proxy_url);
	setup_tls(c, e);
	r = add_header(hdrs, "Accept: application/json");
	if (!r)
		r = add_header(hdrs, "Expect:");
	if (!r)
		r = auth_header(c, hdrs);
	if (!r)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
	return r;
}

int kube_map_status(long status, int post)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 404:
		return -ENOENT;
	case 409:
		return post ? -EEXIST : -EAGAIN;
	case 401:
	case 403:
		return -EACCES;
	case 410:
		return -EGONE;
	default:
		return -EIO;
	}
}

int64_t kube_retry_after_ms(long status, long long header_s)
{
	if (status != 429)
		return 0;
	if (header_s <= 0)
		return KUBE_RETRY_AFTER_DEFAULT_MS;
	if (header_s >= KUBE_RETRY_AFTER_MAX_MS / 1000)
		return KUBE_RETRY_AFTER_MAX_MS;
	return (int64_t)header_s * 1000;
}

int kube_retry_fits(int64_t now_ms, int64_t wait_ms, int64_t deadline_ms)
{
	return now_ms + wait_ms + KUBE_RETRY_MIN_MS <= deadline_ms;
}

void kube_client_note_answer(struct kube_client *c, long status, int rc)
{
	if (status == 429) {
		c->stats.overloaded++;
		kube_rl_overloaded(&c->rl);
	} else if (rc == 0) {
		kube_rl_ok(&c->rl);
	}
}

int64_t kube_client_last_retry_after_ms(const struct kube_client *c)
{
	return c->last_retry_after_ms;
}

int kube_map_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -ECONNREFUSED;
	}
}

void kube_resp_init(struct kube_resp *r)
{
	r->status = 0;
	r->retry_after_ms = 0;
	buf_init(&r->body, KUBE_BODY_MAX);
	r->obj = NULL;
}

void kube_resp_done(struct kube_resp *r)
{
	if (!r)
		return;
	buf_done(&r->body);
	json_free(r->obj);
	r->obj = NULL;
	r->status = 0;
}

struct req {
	const char *method;
	const char *path;
	const char *ctype; /* body content type, NULL without body */
	const char *body;
	struct kube_resp *resp;
	int overflow;
	int fenced;	  /* a mutation the fence guards (not an Event) */
	int64_t deadline; /* retries after a 429 end by then; 0 = unsent */
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct req *q = ud;

	if (buf_append(&q->resp->body, p, sz * n) < 0) {
		q->overflow = 1;
		return 0;
	}
	return sz * n;
}

/* core/v1 and events.k8s.io Events are exempt from the fence. */
static int is_event_path(const char *path)
{
	const char *p;

	if (strncmp(path, "/apis/events.k8s.io/", 20) == 0)
		return 1;
	if (strncmp(path, "/api/v1/namespaces/", 19) != 0)
		return 0;
	p = strchr(path + 19, '/');
	return p && strncmp(p, "/events", 7) == 0 &&
	       (p[7] == '\0' || p[7] == '/' || p[7] == '?');
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A low --kube-api-qps or a 429's Retry-After can hold a caller past its
 * heartbeat deadline, so the wait is cut into slices that each report
 * progress. */
static void wait_ms(struct kube_client *c, int64_t wait)
{
	int64_t until = clock_mono_ms() + wait, left;

	while ((left = until - clock_mono_ms()) > 0) {
		sleep_ms(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS);
		if (c->progress)
			c->progress(c->progress_arg);
	}
}

static void throttle(struct kube_client *c)
{
	int64_t wait = kube_rl_reserve(&c->rl);

	if (wait <= 0)
		return;
	c->stats.throttled_ms += (uint64_t)wait;
	wait_ms(c, wait);
}

/* Decodes a JSON object or array body into resp->obj (else leaves it NULL). */
void kube_resp_parse(struct kube_resp *resp)
{
	const char *b = resp->body.data;
	struct json_limits lim = json_default_limits;

	if (!b)
		return;
	while (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t')
		b++;
	if (*b != '{' && *b != '[')
		return;
	lim.max_bytes = KUBE_BODY_MAX;
	lim.max_nodes = 4u << 20;
	if (json_parse(resp->body.data, resp->body.len, &lim, &resp->obj, NULL,
		       0) < 0)
		resp->obj = NULL;
}

static void setup_method(CURL *e, struct req *q)
{
	if (strcmp(q->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(q->method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->method);
	if (q->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(q->body));
	} else if (strcmp(q->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	}
}

/* A retry after a 429 gets what is left of the time since the first
 * send, so callers see about one --kube-api-timeout in all; never less
 * than KUBE_RETRY_MIN_MS (the fence bounds each send on its own). */
static int64_t attempt_ms(const struct kube_client *c, const struct req *q)
{
	int64_t left = q->deadline - clock_mono_ms();

	if (left >= c->timeout_ms)
		return c->timeout_ms;
	if (left < KUBE_RETRY_MIN_MS)
		left = KUBE_RETRY_MIN_MS;
	return left < c->timeout_ms ? left : c->timeout_ms;
}

static int perform(struct kube_client *c, struct req *q)
{
	struct curl_slist *hdrs = NULL;
	char ct[96];
	CURLcode cc;
	int r;

	curl_easy_reset(c->easy);
	r = kube_easy_setup(c, c->easy, q->path, &hdrs);
	if (!r && q->ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", q->ctype);
		r = add_header(&hdrs, ct);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdrs);
	}
	if (r < 0)
		goto out;
	setup_method(c->easy, q);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)attempt_ms(c, q));
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	/* the last step before the request leaves: nothing below waits
	 * except the request itself, bounded by CURLOPT_TIMEOUT_MS */
	if (q->fenced && (r = fence_allow(c->timeout_ms)) < 0)
		goto out;
	c->stats.requests++;
	cc = curl_easy_perform(c->easy);
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &q->resp->status);
	if (q->resp->status == 429) {
		curl_off_t ra = 0;

		curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &ra);
		q->resp->retry_after_ms =
			kube_retry_after_ms(429, (long long)ra);
	}
	if (q->overflow)
		r = -E2BIG;
	else if (cc != CURLE_OK)
		r = kube_map_curl(cc);
	if (cc != CURLE_OK && !q->overflow) {
		c->stats.failures++;
		log_v(4, "%s %s: %s", q->method, q->path,
		      curl_easy_strerror(cc));
	}
out:
	/* the header list holds the bearer token */
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return r;
}

static int attempt(struct kube_client *c, struct req *q)
{
	int64_t t0;
	int r;

	kube_resp_done(q->resp);
	kube_resp_init(q->resp);
	q->overflow = 0;
	throttle(c);
	/* Also when the limiter did not wait: a run of requests that each
	 * take a while keeps the caller from its loop just as long, and the
	 * fence checked at send time would judge a lease renewal it has not
	 * read yet (node-init's 500-node batches were fenced that way). */
	if (c->progress)
		c->progress(c->progress_arg);
	/* counted from the first send: the rate wait is not the server's */
	if (!q->deadline)
		q->deadline = clock_mono_ms() + c->timeout_ms;
	t0 = clock_mono_ms();
	r = perform(c, q);
	log_v(6, "%s %s %ld in %lld ms", q->method, q->path, q->resp->status,
	      (long long)(clock_mono_ms() - t0));
	if (r == 0) {
		kube_resp_parse(q->resp);
		if (q->resp->status == 401)
			c->file_stale = 1;
		r = kube_map_status(q->resp->status,
				    strcmp(q->method, "POST") == 0);
	}
	return r;
}

/* After a 429: 1 when waiting as asked still leaves the retry
 * KUBE_RETRY_MIN_MS before the request's deadline (then it has waited),
 * else 0. A 429 means the request was not served, so sending it again is
 * safe for every method. Events do not wait: the recorder holds them. */
static int wait_retry_after(struct kube_client *c, const struct req *q)
{
	int64_t wait = q->resp->retry_after_ms;

	if (is_event_path(q->path) ||
	    !kube_retry_fits(clock_mono_ms(), wait, q->deadline))
		return 0;
	log_v(4, "%s %s: API server overloaded (429), retrying in %lld ms",
	      q->method, q->path, (long long)wait);
	wait_ms(c, wait);
	return 1;
}

static int request(struct kube_client *c, const struct req *in)
{
	struct kube_resp local;
	struct req q = *in;
	int r;

	q.fenced = strcmp(q.method, "GET") != 0 && !is_event_path(q.path);
	/* dry run and "not leading" can never send: fail before any wait */
	if (q.fenced &&
	    (fence_mode() == FENCE_DRY_RUN || fence_mode() == FENCE_CLOSED))
		return fence_allow(c->timeout_ms);
	kube_resp_init(&local);
	if (!q.resp)
		q.resp = &local;
	for (;;) {
		r = attempt(c, &q);
		kube_client_note_answer(c, q.resp->status, r);
		if (q.resp->status != 429 || !wait_retry_after(c, &q))
			break;
	}
	c->last_retry_after_ms =
		q.resp->status == 429 ? q.resp->retry_after_ms : 0;
	kube_resp_done(&local);
	return r;
}

int kube_get(struct kube_client *c, const char *path, struct kube_resp *r)
{
	struct req q = {.method = "GET", .path = path, .resp = r};

	return request(c, &q);
}

int kube_create(struct kube_client *c, const char *path, const char *body,
		struct kube_resp *r)
{
	struct req q = {.method = "POST",
			.path = path,
			.body = body,
			.ctype = "application/json",
			.resp = r};

	return request(c, &q);
}

int kube_update(struct kube_client *c, const char *path, const char *body,
		struct kube_resp *r)
{
	struct req q = {.method = "PUT",
			.path = path,
			.body = body,
			.ctype = "application/json",
			.resp = r};

	return request(c, &q);
}

int kube_patch(struct kube_client *c, const char *path,
	       enum kube_patch_type type, const char *body, struct kube_resp *r)
{
	static const char *const ctypes[] = {
		[KUBE_PATCH_MERGE] = "application/merge-patch+json",
		[KUBE_PATCH_STRATEGIC] =
			"application/strategic-merge-patch+json",
		[KUBE_PATCH_JSON] = "application/json-patch+json",
	};
	struct req q = {
		.method = "PATCH", .path = path, .body = body, .resp = r};

	if ((unsigned)type > KUBE_PATCH_JSON)
		return -EINVAL;
	q.ctype = ctypes[type];
	return request(c, &q);
}

int kube_delete(struct kube_client *c, const char *path, struct kube_resp *r)
{
	struct req q = {.method = "DELETE", .path = path, .resp = r};

	return request(c, &q);
}

int kube_delete_opts(struct kube_client *c, const char *path,
		     const char *options, struct kube_resp *r)
{
	struct req q = {.method = "DELETE",
			.path = path,
			.body = options,
			.ctype = options ? "application/json" : NULL,
			.resp = r};

	return request(c, &q);
}

static int page_path(struct kube_client *c, struct buf *p, const char *path,
		     int limit, const char *cont)
{
	char sep = strchr(path, '?') ? '&' : '?';
	char *esc;
	int r;

	buf_reset(p);
	r = buf_puts(p, path);
	if (!r && limit > 0) {
		r = buf_printf(p, "%climit=%d", sep, limit);
		sep = '&';
	}
	if (!r && cont && *cont) {
		esc = curl_easy_escape(c->easy, cont, 0);
		if (!esc)
			return -ENOMEM;
		r = buf_printf(p, "%ccontinue=%s", sep, esc);
		curl_free(esc);
	}
	return r;
}

static int list_items(const struct json *obj, kube_list_cb cb, void *ctx)
{
	const struct json *items = json_get(obj, "items");
	size_t i;
	int r;

	for (i = 0; i < json_len(items); i++) {
		r = cb(ctx, json_at(items, i));
		if (r < 0)
			return r;
	}
	return 0;
}

int kube_list(struct kube_client *c, const char *path, int limit,
	      kube_list_cb cb, void *ctx, char *rv, size_t rvlen)
{
	struct kube_resp resp;
	struct buf p;
	char *cont = NULL;
	const char *s;
	int r;

	buf_init(&p, 64u << 10);
	kube_resp_init(&resp);
	c->stats.last_list_pages = 0;
	for (;;) {
		r = page_path(c, &p, path, limit, cont);
		if (!r)
			r = kube_get(c, p.data, &resp);
		if (!r && !resp.obj)
			r = -EIO;
		if (r < 0)
			break;
		c->stats.last_list_pages++;
		r = list_items(resp.obj, cb, ctx);
		if (r < 0)
			break;
		s = json_path_str(resp.obj, "metadata.resourceVersion");
		if (rv && rvlen)
			snprintf(rv, rvlen, "%s", s ? s : "");
		s = json_path_str(resp.obj, "metadata.continue");
		free(cont);
		cont = s && *s ? strdup(s) : NULL;
		if (!s || !*s)
			break;
		if (!cont) {
			r = -ENOMEM;
			break;
		}
	}
	free(cont);
	kube_resp_done(&resp);
	buf_done(&p);
	return r;
}
