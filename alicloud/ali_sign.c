#include "alicloud/ali_sign.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CANON_LIMIT (8u << 20)

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

int ali_pct_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	int r = 0;

	while (r == 0 && *p) {
		const unsigned char *run = p;
		char esc[3];

		/* copy each run of unreserved bytes at once (bench_sign) */
		while (*p && unreserved(*p))
			p++;
		if (p > run)
			r = buf_append(out, run, (size_t)(p - run));
		if (r || !*p)
			break;
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		r = buf_append(out, esc, 3);
		p++;
	}
	return r;
}

static int cmp_param(const void *a, const void *b)
{
	const struct ali_param *const *x = a;
	const struct ali_param *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

int ali_canonical_query(const struct ali_params *p, struct buf *out)
{
	const struct ali_param **sorted;
	size_t i, n = 0;
	int r = 0;

	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	sorted = calloc(p->n ? p->n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, "Signature") != 0)
			sorted[n++] = &p->v[i];
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	qsort(sorted, n, sizeof(*sorted), cmp_param);
	for (i = 0; r == 0 && i < n; i++) {
		if (i)
			r = buf_append(out, "&", 1);
		if (!r)
			r = ali_pct_encode(out, sorted[i]->name);
		if (!r)
			r = buf_append(out, "=", 1);
		if (!r)
			r = ali_pct_encode(out, sorted[i]->value);
	}
	free(sorted);
	return r;
}

int ali_string_to_sign(const char *method, const struct ali_params *p,
		       struct buf *out)
{
	struct buf canon;
	int r;

	buf_init(&canon, CANON_LIMIT);
	r = ali_canonical_query(p, &canon);
	if (!r)
		r = buf_printf(out, "%s&%%2F&", method);
	if (!r)
		r = ali_pct_encode(out, canon.data ? canon.data : "");
	buf_done(&canon);
	return r;
}

int ali_hmac_sha1_b64(const char *secret, const char *msg, size_t len,
		      char out[ALI_SIG_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char key[160];
	int n = snprintf(key, sizeof(key), "%s&", secret);

	if (n < 0 || (size_t)n >= sizeof(key))
		return -E2BIG;
	if (!HMAC(EVP_sha1(), key, n, (const unsigned char *)msg, len, md,
		  &mdlen)) {
		OPENSSL_cleanse(key, sizeof(key));
		return -EIO;
	}
	OPENSSL_cleanse(key, sizeof(key));
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	return 0;
}

int ali_sign(const char *method, const struct ali_params *p, const char *secret,
	     char out[ALI_SIG_MAX])
{
	struct buf sts;
	int r;

	buf_init(&sts, (size_t)3 * CANON_LIMIT);
	r = ali_string_to_sign(method, p, &sts);
	if (!r)
		r = ali_hmac_sha1_b64(secret, sts.data, sts.len, out);
	buf_done(&sts);
	return r;
}

int ali_timestamp(int64_t wall_ms, char out[ALI_TS_LEN])
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	if (!strftime(out, ALI_TS_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -EINVAL;
	return 0;
}

int ali_nonce(char out[ALI_NONCE_LEN])
{
	unsigned char raw[16];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static int set_common(struct ali_params *p, const struct ali_credential *cred,
		      int64_t wall_ms)
{
	char ts[ALI_TS_LEN], nonce[ALI_NONCE_LEN];
	int r = ali_timestamp(wall_ms, ts);

	if (!r)
		r = ali_nonce(nonce);
	if (r)
		return r;
	ali_params_set(p, "Format", "JSON");
	ali_params_set(p, "SignatureMethod", "HMAC-SHA1");
	ali_params_set(p, "SignatureVersion", "1.0");
	ali_params_set(p, "SignatureNonce", nonce);
	ali_params_set(p, "Timestamp", ts);
	ali_params_set(p, "AccessKeyId", cred->id);
	ali_params_del(p, "Signature");
	if (cred->token[0])
		ali_params_set(p, "SecurityToken", cred->token);
	else
		ali_params_del(p, "SecurityToken");
	return p->err;
}

int ali_sign_request(struct ali_params *p, const char *method,
		     const struct ali_credential *cred, int64_t wall_ms,
		     struct buf *body)
{
	char sig[ALI_SIG_MAX];
	int r = set_common(p, cred, wall_ms);

	if (!r)
		r = ali_sign(method, p, cred->secret, sig);
	if (!r)
		r = ali_canonical_query(p, body);
	if (!r)
		r = buf_puts(body, "&Signature=");
	if (!r)
		r = ali_pct_encode(body, sig);
	return r;
}
