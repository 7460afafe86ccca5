/*
 * ali_retry - when may a failed Alibaba Cloud call be sent again?
 *
 * Pure decision functions, kept apart from the transport so they can be
 * tested directly. The rule that matters: a call the API does not make
 * idempotent (a Create* without ClientToken) is never re-sent after an
 * answer that leaves open whether it took effect (timeout or reset after the
 * request went out, 5xx): the caller gets ALI_AMBIGUOUS and must describe
 * the cloud before trying again. Creates that carry a ClientToken are re-sent
 * with the same token; the server deduplicates them.
 */
#ifndef CCM_ALI_RETRY_H
#define CCM_ALI_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "alicloud/ali_params.h"

enum ali_idem {
	ALI_IDEM_SAFE = 0, /* reads, deletes, sets: repeating is harmless */
	ALI_IDEM_TOKEN,	   /* creates deduplicated by ClientToken */
	ALI_IDEM_NONE,	   /* creates without token: never blind-retried */
};

enum ali_verdict {
	ALI_FAIL = 0,	     /* final error: report it */
	ALI_RETRY,	     /* back off and send again (new nonce) */
	ALI_RETRY_THROTTLED, /* as ALI_RETRY, and slow the product down */
	ALI_RETRY_SKEW,	     /* fix the clock offset from Date, retry once */
	ALI_RETRY_REFRESH,   /* refresh STS credentials, retry once */
	ALI_AMBIGUOUS,	     /* may have taken effect: caller must look */
};

struct ali_outcome {
	int transport_err; /* 0, or negative errno when no HTTP answer */
	int sent;	   /* transport error after request bytes went out */
	int http_status;
	const char *code; /* error Code from the body, may be NULL */
};

/* Describe* and List* are reads; everything else mutates and is fenced. */
int ali_action_mutating(const char *action);
enum ali_idem ali_action_idem(const char *action, const struct ali_params *p);
int ali_code_throttling(const char *code);
/* Busy/transient codes that mean "not done, try later". */
int ali_code_retryable(const char *code);
/* once: whether the one-shot skew/refresh retry was already used. */
enum ali_verdict ali_retry_decide(const struct ali_outcome *o,
				  enum ali_idem idem, int once_used);
/* Full jitter: uniform in [0, min(cap, base * 2^attempt)]. */
int64_t ali_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
		       uint32_t rnd);
/* Server clock minus local clock, from an HTTP Date header; -EINVAL if
 * unparsable. */
int ali_skew_from_date(const char *date, int64_t local_wall_ms,
		       int64_t *skew_ms);
/*
 * Stable idempotency token over parts (e.g. cluster id, service uid, port):
 * 32 lowercase hex chars of SHA-256 over the NUL-separated parts, well under
 * the 64-char ClientToken limit.
 */
int ali_client_token(const char *parts[], size_t n, char out[64]);

#endif
