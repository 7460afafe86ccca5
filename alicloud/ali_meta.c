#include "alicloud/ali_meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alicloud/ali_http.h"
#include "lib/clock.h"
#include "lib/log.h"

#define META_DEFAULT   "http://100.100.100.200"
#define META_BODY_MAX  (64u << 10)
#define META_TOKEN_TTL 21600
#define META_ATTEMPTS  5

struct ali_meta {
	CURL *h;
	char base[512];
	char ua[256];
	int require_token;
	int64_t timeout_ms;
	char token[512];
	int64_t token_until_ms; /* monotonic; 0 = none */
	int token_failed;	/* fell back to plain GETs */
	void (*progress)(void *arg);
	void *progress_arg;
};

void ali_meta_set_progress(struct ali_meta *m, void (*fn)(void *arg), void *arg)
{
	m->progress = fn;
	m->progress_arg = arg;
}

int ali_meta_new(const struct ali_meta_opts *o, struct ali_meta **ret)
{
	struct ali_meta *m = calloc(1, sizeof(*m));
	const char *base = o->base_url;
	size_t n;

	if (!m)
		return -ENOMEM;
	if (!base || !*base)
		base = getenv("METADATA_ENDPOINT");
	if (!base || !*base)
		base = META_DEFAULT;
	snprintf(m->base, sizeof(m->base), "%s", base);
	n = strlen(m->base);
	while (n && m->base[n - 1] == '/')
		m->base[--n] = '\0';
	snprintf(m->ua, sizeof(m->ua), "%s",
		 o->user_agent ? o->user_agent : "alicloud-ccm");
	m->require_token = o->require_token;
	m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	m->h = curl_easy_init();
	if (!m->h) {
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

void ali_meta_free(struct ali_meta *m)
{
	if (!m)
		return;
	curl_easy_cleanup(m->h);
	memset(m->token, 0, sizeof(m->token));
	free(m);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* One request with the transport retries the metadata service needs. */
static int exchange(struct ali_meta *m, const char *method, const char *path,
		    struct curl_slist *hdrs, struct ali_http_resp *resp)
{
	struct ali_http_req req = {
		.method = method,
		.headers = hdrs,
		.user_agent = m->ua,
		.connect_timeout_ms = m->timeout_ms,
		.timeout_ms = m->timeout_ms,
		.no_proxy = 1,
	};
	char url[1024];
	int i, r = 0;

	snprintf(url, sizeof(url), "%s%s", m->base, path);
	req.url = url;
	for (i = 0; i < META_ATTEMPTS; i++) {
		r = ali_http_do(m->h, &req, resp);
		if (r == 0)
			break;
		log_v(4, "metadata %s %s: %s", method, path, resp->errmsg);
		/* a slow metadata service must not make the worker look
		 * wedged: each attempt is bounded, so report after each */
		if (m->progress)
			m->progress(m->progress_arg);
		sleep_ms(200);
	}
	return r;
}

static int fetch_token(struct ali_meta *m)
{
	struct curl_slist *h = curl_slist_append(
		NULL, "X-aliyun-ecs-metadata-token-ttl-seconds: 21600");
	struct ali_http_resp resp;
	int r;

	if (!h)
		return -ENOMEM;
	buf_init(&resp.body, 4096);
	r = exchange(m, "PUT", "/latest/api/token", h, &resp);
	if (r == 0 && resp.status != 200)
		r = -EIO;
	if (r == 0 && (resp.body.len == 0 || resp.body.len >= sizeof(m->token)))
		r = -EBADMSG;
	if (r == 0) {
		memcpy(m->token, resp.body.data, resp.body.len);
		m->token[resp.body.len] = '\0';
		/* Renew well before the server forgets it. */
		m->token_until_ms =
			clock_mono_ms() + (META_TOKEN_TTL - 600) * 1000LL;
	}
	curl_slist_free_all(h);
	buf_done(&resp.body);
	return r;
}

static int token_header(struct ali_meta *m, struct curl_slist **hdrs)
{
	char line[600];
	int r = 0;

	if (m->token_failed && !m->require_token)
		return 0;
	if (!m->token[0] || clock_mono_ms() >= m->token_until_ms)
		r = fetch_token(m);
	if (r < 0) {
		if (m->require_token)
			return r;
		log_v(4, "metadata token unavailable, using plain GETs");
		m->token_failed = 1;
		return 0;
	}
	snprintf(line, sizeof(line), "X-aliyun-ecs-metadata-token: %s",
		 m->token);
	*hdrs = curl_slist_append(NULL, line);
	memset(line, 0, sizeof(line));
	return *hdrs ? 0 : -ENOMEM;
}

int ali_meta_get(struct ali_meta *m, const char *item, struct buf *out)
{
	struct curl_slist *hdrs = NULL;
	struct ali_http_resp resp;
	char path[512];
	int r = token_header(m, &hdrs);

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/latest/meta-data/%s", item);
	buf_init(&resp.body, META_BODY_MAX);
	r = exchange(m, "GET", path, hdrs, &resp);
	if (r == 0 && resp.status == 401 && m->token[0]) {
		m->token[0] = '\0'; /* token expired server-side */
		m->token_until_ms = 0;
	}
	if (r == 0 && resp.status == 404)
		r = -ENOENT;
	else if (r == 0 && resp.status != 200)
		r = -EIO;
	if (r == 0) {
		buf_reset(out);
		r = buf_append(out, resp.body.data ? resp.body.data : "",
			       resp.body.len);
	}
	curl_slist_free_all(hdrs);
	buf_done(&resp.body);
	return r;
}

int ali_meta_get_line(struct ali_meta *m, const char *item, char *out, size_t n)
{
	struct buf b;
	size_t len;
	int r;

	buf_init(&b, META_BODY_MAX);
	r = ali_meta_get(m, item, &b);
	if (r == 0) {
		const char *s = b.data ? b.data : "";

		len = strcspn(s, "\r\n");
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0)
			r = -ENODATA;
		else if (len >= n)
			r = -E2BIG;
		else
			snprintf(out, n, "%.*s", (int)len, s);
	}
	buf_done(&b);
	return r;
}

static int fill(struct ali_meta *m, const char *item, char *field, size_t n)
{
	if (field[0])
		return 0;
	return ali_meta_get_line(m, item, field, n);
}

int ali_meta_fill_cloud(struct ali_meta *m, struct cfg_cloud *c)
{
	int r = fill(m, "region-id", c->region, sizeof(c->region));

	if (!r)
		r = fill(m, "vpc-id", c->vpc_id, sizeof(c->vpc_id));
	if (!r)
		r = fill(m, "zone-id", c->zone_id, sizeof(c->zone_id));
	if (!r && c->n_vswitches == 0) {
		r = ali_meta_get_line(m, "vswitch-id", c->vswitches[0].id,
				      sizeof(c->vswitches[0].id));
		if (!r) {
			snprintf(c->vswitches[0].zone,
				 sizeof(c->vswitches[0].zone), "%s",
				 c->zone_id);
			c->n_vswitches = 1;
		}
	}
	return r;
}

int ali_meta_instance_id(struct ali_meta *m, char *out, size_t n)
{
	return ali_meta_get_line(m, "instance-id", out, n);
}
