/*
 * ali_http - one synchronous HTTP exchange on a caller-owned curl handle.
 *
 * Used by the API client (keep-alive handles per product, several when
 * calls run concurrently) and by the metadata client. The response body is
 * bounded by the buf's limit; the Date header is kept for clock-skew
 * correction. A transport failure says whether request bytes had already gone
 * out (sent), which decides whether a non-idempotent call may be retried.
 */
#ifndef CCM_ALI_HTTP_H
#define CCM_ALI_HTTP_H

#include <curl/curl.h>
#include <stdint.h>

#include "lib/buf.h"

struct ali_http_req {
	const char *method; /* "GET", "POST", "PUT" */
	const char *url;
	const char *body; /* may be NULL */
	size_t body_len;
	struct curl_slist *headers;
	const char *user_agent;
	int64_t connect_timeout_ms;
	int64_t timeout_ms;
	int no_proxy; /* metadata: never through a proxy */
};

struct ali_http_resp {
	long status;	  /* 0 when no HTTP answer */
	int err;	  /* 0 or negative errno (transport) */
	int sent;	  /* request bytes went out before err */
	char date[64];	  /* Date header */
	char errmsg[256]; /* curl's message when err */
	struct buf body;  /* caller inits with a limit and frees */
	int64_t latency_ms;
};

/* The CA bundle an image ships, used by the cloud client when present. */
#define ALI_HTTP_CA_BUNDLE "/usr/share/alicloud-ccm/ca-certificates.crt"

/* ALICLOUD_CA_FILE, else ALI_HTTP_CA_BUNDLE if readable, else NULL (curl's
 * default store). */
const char *ali_http_ca_file(void);

/* Runs a prepared transfer to its end; NULL: curl_easy_perform. A
 * worker running calls concurrently hands them to its event loop. */
typedef CURLcode (*ali_http_perform_fn)(void *arg, CURL *h);

int ali_http_do(CURL *h, const struct ali_http_req *req,
		struct ali_http_resp *resp);
int ali_http_do_with(CURL *h, const struct ali_http_req *req,
		     struct ali_http_resp *resp, ali_http_perform_fn perform,
		     void *arg);

#endif
