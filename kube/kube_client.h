/*
 * kube_client - synchronous Kubernetes REST requests over libcurl.
 *
 * A kube_client holds one connection configuration (kubeconfig,
 * $KUBECONFIG or in-cluster), a keep-alive curl handle, a client-side rate
 * limiter (--kube-api-qps/--kube-api-burst) and a User-Agent naming the
 * program, version and process role ("cloud-controller-manager/<ver>
 * (supervisor)", "... (worker/route)").
 *
 * Every request is bounded by the client's timeout. Mutating methods
 * (POST/PUT/PATCH/DELETE) ask fence_allow(timeout) unless the path is an
 * Event (core/v1 events), as the last step before the request is sent
 * (after the rate-limit wait), and return -EPERM (dry-run) or -ETIMEDOUT
 * (fenced) without sending anything. While it waits for its rate the
 * client calls the progress callback at least every second.
 *
 * Results: 0 for HTTP 2xx. Otherwise a negative code, and resp (when given)
 * still carries the status and body for messages:
 *   -ENOENT 404, -EEXIST 409 on POST (AlreadyExists), -EAGAIN 409 on
 *   PUT/PATCH (Conflict: re-read and retry), -EACCES 401/403, -EGONE 410,
 *   -EIO any other HTTP status, -ETIMEDOUT / -ECONNREFUSED transport.
 * A 401 makes the client re-read a token file before the next request.
 *
 * Ownership: resp is caller-owned; kube_resp_done frees its body and tree.
 */
#ifndef CCM_KUBE_CLIENT_H
#define CCM_KUBE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/json.h"

#define EGONE 1410 /* HTTP 410: resourceVersion too old */

struct kube_client;

struct kube_client_opts {
	const char *kubeconfig; /* NULL: $KUBECONFIG, then in-cluster */
	const char *role;	/* for the User-Agent */
	const char *identity;	/* supervisor identity for the User-Agent */
	double qps;		/* <= 0: unlimited */
	int burst;
	int64_t timeout_ms; /* per request; 0 = 30 s */
};

struct kube_resp {
	long status;	  /* HTTP status, 0 if none */
	struct buf body;  /* raw body (bounded) */
	struct json *obj; /* parsed body when it was JSON, else NULL */
	/* after a 429: how long the server asked to wait (Retry-After,
	 * bounded by KUBE_RETRY_AFTER_MAX_MS), else 0 */
	int64_t retry_after_ms;
};

enum kube_patch_type {
	KUBE_PATCH_MERGE = 0, /* application/merge-patch+json */
	KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
	KUBE_PATCH_JSON,      /* application/json-patch+json */
};

/* err receives a one-line reason naming the kubeconfig field at fault. */
int kube_client_new(const struct kube_client_opts *o, struct kube_client **ret,
		    char *err, size_t errlen);
void kube_client_free(struct kube_client *c);

/* Replaces the bearer token (per-worker credentials); NULL restores the
 * configured identity. The token is copied and never logged. */
int kube_client_set_token(struct kube_client *c, const char *token);

void kube_resp_init(struct kube_resp *r);
void kube_resp_done(struct kube_resp *r);

/* path is absolute from the server root, e.g. "/api/v1/nodes/n1". */
int kube_get(struct kube_client *c, const char *path, struct kube_resp *r);
int kube_create(struct kube_client *c, const char *path, const char *body,
		struct kube_resp *r);
int kube_update(struct kube_client *c, const char *path, const char *body,
		struct kube_resp *r);
int kube_patch(struct kube_client *c, const char *path,
	       enum kube_patch_type type, const char *body,
	       struct kube_resp *r);
int kube_delete(struct kube_client *c, const char *path, struct kube_resp *r);
/* DELETE with a DeleteOptions body (NULL: none), e.g. preconditions; a
 * failed precondition answers 409, returned as -EAGAIN. */
int kube_delete_opts(struct kube_client *c, const char *path,
		     const char *options, struct kube_resp *r);

/* Lists a collection page by page (limit per page, following continue);
 * cb sees each item; returns the list's resourceVersion in rv. */
typedef int (*kube_list_cb)(void *ctx, const struct json *item);
int kube_list(struct kube_client *c, const char *path, int limit,
	      kube_list_cb cb, void *ctx, char *rv, size_t rvlen);

/*
 * Additions (kube helper):
 * - a response body over KUBE_BODY_MAX (16 MiB) fails with -E2BIG;
 * - a cb returning < 0 stops kube_list with that code; an expired continue
 *   token (410) returns -EGONE and the caller relists from scratch;
 * - transport failures other than timeouts map to -ECONNREFUSED;
 * - resp may be NULL; a given resp must have been kube_resp_init'ed and
 *   may be reused across calls (each call resets it);
 * - requests use HTTP/1.1, accept JSON, and are rate-limited by sleeping;
 * - a 429 halves the client's rate (kube_ratelimit.h) and is sent again
 *   after its Retry-After (default 1 s, at most 30 s) while the request's
 *   deadline (one timeout from the first send) leaves a retry at least
 *   1 s; otherwise, and at once for Events, it returns -EIO with
 *   resp->status 429 and resp->retry_after_ms. The asynchronous requests
 *   (kube_async.h) and watches on this client teach the same rate.
 */
struct kube_client_stats {
	uint64_t requests;     /* HTTP requests sent (sync API) */
	uint64_t failures;     /* transport failures (no HTTP status) */
	uint64_t throttled_ms; /* time spent waiting on the rate limiter */
	uint64_t overloaded;   /* 429 answers, sync, async and watches */
	double qps;	       /* the adapted rate now (<= --kube-api-qps) */
	int last_list_pages;   /* pages fetched by the last kube_list */
};
void kube_client_get_stats(const struct kube_client *c,
			   struct kube_client_stats *out);
/* fn(arg) runs at least every second while a request waits for its rate
 * (a worker's heartbeat), and once right before every request is sent,
 * ahead of its fence check (a worker applies the lease renewals waiting on
 * its status channel there); NULL for none. fn must not issue requests
 * on c. */
void kube_client_set_progress(struct kube_client *c, void (*fn)(void *arg),
			      void *arg);
/* Borrowed until kube_client_free. namespace: kubeconfig context or
 * service-account namespace, NULL when neither says. */
const char *kube_client_server(const struct kube_client *c);
const char *kube_client_namespace(const struct kube_client *c);

#endif
