#include "alicloud/ali_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/clock.h"

/*
 * A container's /etc/ssl/certs and /etc/pki are often host mounts (the
 * seed's DaemonSet does it), so the image's own bundle lives where they
 * cannot shadow it; ALICLOUD_CA_FILE overrides it.
 */
const char *ali_http_ca_file(void)
{
	const char *env = getenv("ALICLOUD_CA_FILE");

	if (env && *env)
		return env;
	if (access(ALI_HTTP_CA_BUNDLE, R_OK) == 0)
		return ALI_HTTP_CA_BUNDLE;
	return NULL;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct ali_http_resp *r = ud;

	if (buf_append(&r->body, p, sz * n) < 0)
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct ali_http_resp *r = ud;
	size_t len = sz * n;

	if (len > 5 && strncasecmp(p, "date:", 5) == 0) {
		size_t v = 5;

		while (v < len && p[v] == ' ')
			v++;
		while (len > v && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		snprintf(r->date, sizeof(r->date), "%.*s", (int)(len - v),
			 p + v);
	}
	return sz * n;
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_WRITE_ERROR:
		return -E2BIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

/* Only the chosen bundle: a shadowed CA directory must not widen trust. */
static void set_ca(CURL *h)
{
	const char *ca = ali_http_ca_file();

	if (!ca)
		return;
	curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
}

static void setup(CURL *h, const struct ali_http_req *req,
		  struct ali_http_resp *resp)
{
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)req->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	set_ca(h);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, req->user_agent);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	if (req->no_proxy)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (strcmp(req->method, "GET") == 0)
		return;
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
	if (strcmp(req->method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
}

int ali_http_do(CURL *h, const struct ali_http_req *req,
		struct ali_http_resp *resp)
{
	return ali_http_do_with(h, req, resp, NULL, NULL);
}

int ali_http_do_with(CURL *h, const struct ali_http_req *req,
		     struct ali_http_resp *resp, ali_http_perform_fn perform,
		     void *arg)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	int64_t t0 = clock_mono_ms();
	long reqsize = 0;
	CURLcode cc;

	resp->status = 0;
	resp->err = 0;
	resp->sent = 0;
	resp->date[0] = resp->errmsg[0] = '\0';
	buf_reset(&resp->body);
	setup(h, req, resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	cc = perform ? perform(arg, h) : curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	resp->latency_ms = clock_mono_ms() - t0;
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		return 0;
	}
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &reqsize);
	resp->sent = reqsize > 0;
	resp->err = curl_errno(cc);
	snprintf(resp->errmsg, sizeof(resp->errmsg), "%s",
		 errbuf[0] ? errbuf : curl_easy_strerror(cc));
	return resp->err;
}
