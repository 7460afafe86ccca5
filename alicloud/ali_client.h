/*
 * ali_client - signed, paced, retried calls to SLB, VPC and ECS RPC APIs.
 *
 * One client per process; not thread-safe, but calls may overlap on one
 * thread when ali_client_set_io makes their waits yield (each in-flight
 * call then takes its own curl handle from a per-product pool). It owns
 * the keep-alive curl handles, the credential provider (and the metadata client
 * the RAM role needs), a token bucket per product and the clock offset learnt
 * from InvalidTimeStamp.Expired answers.
 *
 * ali_client_call is synchronous and bounded: each attempt by the connect
 * and total timeouts, the whole call by max_attempts. Return values:
 *   0                success; *resp holds the parsed body (caller frees)
 *   ALI_E_API        the cloud answered with an error: err->code etc.
 *   ALI_E_AMBIGUOUS  a create without ClientToken may or may not have taken
 *                    effect (timeout after send, 5xx): describe, then decide
 *   -EPERM           dry-run: the fence refused a mutating call
 *                    (err->code "DryRun"); nothing was sent
 *   -ETIMEDOUT       with err->code "Fenced": not leading / lease too short;
 *                    with "Transport": the last attempt timed out
 *   -ECANCELED       the process is stopping (ali_client_set_io): the call
 *                    was given up, err->code "Cancelled"
 *   other -errno     transport failure (err->code "Transport"), bad
 *                    response ("InvalidResponse"), local errors ("Client")
 * err is always filled on failure and never contains secrets.
 */
#ifndef CCM_ALI_CLIENT_H
#define CCM_ALI_CLIENT_H

#include <errno.h>
#include <stdint.h>

#include <curl/curl.h>

#include "alicloud/ali_error.h"
#include "alicloud/ali_params.h"
#include "alicloud/ali_retry.h"
#include "config/cfg.h"
#include "lib/json.h"

#define ALI_E_API	(-EREMOTEIO)
#define ALI_E_AMBIGUOUS (-EINPROGRESS)

enum ali_product {
	ALI_SLB = 0,
	ALI_VPC,
	ALI_ECS,
	ALI_N_PRODUCTS,
};

struct ali_client_opts {
	const struct cfg_cloud *cloud; /* AK (optional), region (or metadata) */
	enum cfg_network network;      /* vpc (default) or public endpoints */
	const char *role;	       /* process role for the User-Agent */
	const char *identity;	       /* supervisor identity, ditto */
	int64_t connect_timeout_ms;    /* 0: 5 s */
	int64_t timeout_ms;	       /* per attempt, 0: 20 s */
	int max_attempts;	       /* 0: 5 */
	int64_t backoff_base_ms;       /* 0: 200 ms */
	int64_t backoff_max_ms;	       /* 0: 5 s */
	double rate[ALI_N_PRODUCTS];   /* calls/s; 0: 10, < 0: unlimited */
	int require_imdsv2;	       /* metadata token mandatory */
	int backend_batch;	       /* vServer backends per call; 0: 20 */
};

struct ali_client;

int ali_client_new(const struct ali_client_opts *o, struct ali_client **ret);
void ali_client_free(struct ali_client *c);

/* Sends Action/Version/RegionId plus params. flags: none defined yet (0).
 * A Create* with a ClientToken param is retried with the same token. */
int ali_client_call(struct ali_client *c, enum ali_product p,
		    const char *action, const struct ali_params *params,
		    struct json **resp, struct ali_error *err);

/*
 * How calls wait, for a process that runs several at once on its event
 * loop (coroutines): sleep waits for the rate or a retry backoff (< 0:
 * the process is stopping, give the call up), perform runs one transfer
 * (CURLE_ABORTED_BY_CALLBACK: stopping). Without it calls block. A call
 * given up returns -ECANCELED with err->code "Cancelled".
 */
struct ali_client_io {
	int (*sleep)(void *arg, int64_t ms);
	CURLcode (*perform)(void *arg, CURL *h);
	void *arg;
};

void ali_client_set_io(struct ali_client *c, const struct ali_client_io *io);

void ali_client_set_rate(struct ali_client *c, enum ali_product p,
			 double calls_per_sec);
/* fn(arg) runs before every attempt (retries included), at least every
 * second while the call waits for its rate or a retry backoff, and after
 * each failed metadata attempt of a credential refresh, so a worker can
 * send its heartbeat and read fence updates while a call waits. The fence
 * itself is asked after all of these, just before the request is sent. */
void ali_client_set_progress(struct ali_client *c, void (*fn)(void *arg),
			     void *arg);
const char *ali_client_region(const struct ali_client *c);
/* Server minus local wall clock, learnt from Date headers (ms). */
int64_t ali_client_skew_ms(const struct ali_client *c);
/* Local wall clock corrected by the learnt skew. */
int64_t ali_client_now_ms(const struct ali_client *c);
int ali_client_backend_batch(const struct ali_client *c);
/* The endpoint host[:port] for a product (after env overrides). */
const char *ali_client_host(const struct ali_client *c, enum ali_product p);

/* Pure: endpoint host for product/region/network, honouring the
 * SLB_ENDPOINT/VPC_ENDPOINT/ECS_ENDPOINT override (scheme stripped). */
int ali_endpoint_host(enum ali_product p, const char *region,
		      enum cfg_network net, const char *override, char *out,
		      size_t n);

#endif
