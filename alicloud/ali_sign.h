/*
 * ali_sign - Alibaba Cloud RPC signature V1 (HMAC-SHA1, SignatureVersion 1.0).
 *
 * Pure functions over a parameter set: percent-encoding, canonical query,
 * StringToSign, HMAC, timestamp and nonce. ali_sign_request adds the common
 * parameters of one attempt (fresh nonce, timestamp from the caller's
 * skew-corrected clock, AccessKeyId, SecurityToken for STS) and produces the
 * form body "k=v&...&Signature=..." ready to POST.
 *
 * The credential struct is filled by ali_cred and holds secrets: callers
 * keep it on the stack or in memory they wipe, and never log it.
 */
#ifndef CCM_ALI_SIGN_H
#define CCM_ALI_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "alicloud/ali_params.h"
#include "lib/buf.h"

#define ALI_SIG_MAX   64 /* base64 of 20 bytes is 28 chars */
#define ALI_TS_LEN    24 /* "YYYY-MM-DDThh:mm:ssZ" + NUL */
#define ALI_NONCE_LEN 33 /* 128 bits in hex + NUL */

struct ali_credential {
	char id[128];
	char secret[128];  /* secret: never log */
	char token[4096];  /* STS SecurityToken, "" for a plain AK; secret */
	int64_t expire_ms; /* wall ms; 0 = never */
};

/* Appends the RFC 3986 encoding Alibaba requires (uppercase hex, only
 * A-Za-z0-9-_.~ literal). */
int ali_pct_encode(struct buf *out, const char *s);
/* Sorted "k=v&..." over every parameter except Signature. */
int ali_canonical_query(const struct ali_params *p, struct buf *out);
/* METHOD "&%2F&" enc(canonical). */
int ali_string_to_sign(const char *method, const struct ali_params *p,
		       struct buf *out);
int ali_hmac_sha1_b64(const char *secret, const char *msg, size_t len,
		      char out[ALI_SIG_MAX]);
int ali_sign(const char *method, const struct ali_params *p, const char *secret,
	     char out[ALI_SIG_MAX]);
/* UTC "YYYY-MM-DDThh:mm:ssZ" of a wall time in ms. */
int ali_timestamp(int64_t wall_ms, char out[ALI_TS_LEN]);
/* 128 random bits (RAND_bytes) as lowercase hex. */
int ali_nonce(char out[ALI_NONCE_LEN]);

/*
 * Adds Format, SignatureMethod, SignatureVersion, SignatureNonce (new),
 * Timestamp, AccessKeyId and SecurityToken (or removes a stale one) to p,
 * signs, and writes the form body with Signature last into body.
 */
int ali_sign_request(struct ali_params *p, const char *method,
		     const struct ali_credential *cred, int64_t wall_ms,
		     struct buf *body);

#endif
