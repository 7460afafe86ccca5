#include "alicloud/ali_retry.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

int ali_action_mutating(const char *action)
{
	return strncmp(action, "Describe", 8) != 0 &&
	       strncmp(action, "List", 4) != 0;
}

enum ali_idem ali_action_idem(const char *action, const struct ali_params *p)
{
	if (strncmp(action, "Create", 6) != 0)
		return ALI_IDEM_SAFE;
	if (p && ali_params_get(p, "ClientToken"))
		return ALI_IDEM_TOKEN;
	return ALI_IDEM_NONE;
}

int ali_code_throttling(const char *code)
{
	return code && (strncmp(code, "Throttling", 10) == 0 ||
			strcmp(code, "Rejected.Throttling") == 0);
}

int ali_code_retryable(const char *code)
{
	static const char *const codes[] = {
		"ServiceUnavailable",
		"InternalError",
		"SystemBusy",
		"OperationBusy",
		"ServiceIsConfiguring",
		"VServerGroupProcessing",
		"BackendServer.configuring",
		"TaskConflict",
		"IncorrectRouteEntryStatus",
		"InvalidStatus.RouteEntry",
		"SignatureNonceUsed",
		"InvalidOperation.Conflict",
	};
	size_t i;

	if (!code)
		return 0;
	if (ali_code_throttling(code))
		return 1;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

static enum ali_verdict transport(const struct ali_outcome *o,
				  enum ali_idem idem)
{
	if (o->sent && idem == ALI_IDEM_NONE)
		return ALI_AMBIGUOUS;
	/* Oversized answers will not shrink on a retry. */
	if (o->transport_err == -E2BIG)
		return idem == ALI_IDEM_NONE ? ALI_AMBIGUOUS : ALI_FAIL;
	return ALI_RETRY;
}

enum ali_verdict ali_retry_decide(const struct ali_outcome *o,
				  enum ali_idem idem, int once_used)
{
	const char *code = o->code;

	if (o->transport_err)
		return transport(o, idem);
	if (o->http_status >= 200 && o->http_status < 300)
		return ALI_FAIL; /* not an error; nothing to retry */
	if (ali_code_throttling(code))
		return ALI_RETRY_THROTTLED;
	if (code && strcmp(code, "InvalidTimeStamp.Expired") == 0)
		return once_used ? ALI_FAIL : ALI_RETRY_SKEW;
	if (code && strcmp(code, "InvalidSecurityToken.Expired") == 0)
		return once_used ? ALI_FAIL : ALI_RETRY_REFRESH;
	/* A 5xx may come after the work was committed. */
	if (o->http_status >= 500)
		return idem == ALI_IDEM_NONE ? ALI_AMBIGUOUS : ALI_RETRY;
	if (ali_code_retryable(code))
		return ALI_RETRY;
	return ALI_FAIL;
}

int64_t ali_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
		       uint32_t rnd)
{
	int64_t ceil = base_ms;
	int i;

	for (i = 0; i < attempt && ceil < cap_ms; i++)
		ceil *= 2;
	if (ceil > cap_ms)
		ceil = cap_ms;
	if (ceil <= 0)
		return 0;
	return (int64_t)(rnd % (uint64_t)(ceil + 1));
}

int ali_skew_from_date(const char *date, int64_t local_wall_ms,
		       int64_t *skew_ms)
{
	time_t t;

	if (!date || !*date)
		return -EINVAL;
	t = curl_getdate(date, NULL);
	if (t == (time_t)-1)
		return -EINVAL;
	*skew_ms = (int64_t)t * 1000 - local_wall_ms;
	return 0;
}

int ali_client_token(const char *parts[], size_t n, char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;
	size_t i;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i] ? parts[i] : "",
				      strlen(parts[i] ? parts[i] : "") + 1);
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
