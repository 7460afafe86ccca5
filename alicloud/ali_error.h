/*
 * ali_error - the typed error of a failed Alibaba Cloud call.
 *
 * Filled from the JSON error body ({"Code","Message","RequestId",...}) or,
 * when the cloud never answered, with a client-side code: "Transport",
 * "Ambiguous", "Fenced", "DryRun", "InvalidResponse", "Client". Messages are
 * bounded and stripped of control characters and of the server's echoed
 * StringToSign (it carries the SecurityToken), so an ali_error may be logged
 * or put in an Event as is.
 */
#ifndef CCM_ALI_ERROR_H
#define CCM_ALI_ERROR_H

#include <stddef.h>

struct ali_error {
	int http_status; /* 0 when no HTTP answer */
	char code[128];
	char message[512];
	char request_id[64];
};

void ali_error_clear(struct ali_error *e);
void ali_error_set(struct ali_error *e, int status, const char *code,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Parses an error body. Non-JSON bodies give code "HTTP<status>" and a
 * printable prefix of the body as message. Always fills e; returns 0. */
int ali_error_parse(int status, const char *body, size_t len,
		    struct ali_error *e);
/* Exact code match; NULL-safe. */
int ali_error_is(const struct ali_error *e, const char *code);
/* Code starts with prefix (e.g. "Throttling"). */
int ali_error_has_prefix(const struct ali_error *e, const char *prefix);
/* Replaces any occurrence of secret in the message by "***". */
void ali_error_redact(struct ali_error *e, const char *secret);

#endif
