#include "alicloud/ali_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"

static const struct json_limits err_limits = {
	.max_bytes = 1u << 20,
	.max_depth = 16,
	.max_nodes = 4096,
};

void ali_error_clear(struct ali_error *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Control characters would let a remote body forge log lines. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void ali_error_set(struct ali_error *e, int status, const char *code,
		   const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	e->http_status = status;
	copy(e->code, sizeof(e->code), code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	sanitize(e->message);
}

/* The SignatureDoesNotMatch message echoes the server StringToSign, which
 * contains the SecurityToken; keep only the human part. */
static void strip_string_to_sign(char *msg)
{
	char *p = strstr(msg, "server string to sign is");

	if (!p)
		p = strstr(msg, "string to sign");
	if (p)
		*p = '\0';
	for (p = msg + strlen(msg); p > msg && (p[-1] == ' ' || p[-1] == ':');)
		*--p = '\0';
}

static void from_json(const struct json *root, struct ali_error *e)
{
	copy(e->code, sizeof(e->code), json_str(json_get(root, "Code")));
	copy(e->message, sizeof(e->message),
	     json_str(json_get(root, "Message")));
	if (!e->message[0])
		copy(e->message, sizeof(e->message),
		     json_str(json_get(root, "message")));
	copy(e->request_id, sizeof(e->request_id),
	     json_str(json_get(root, "RequestId")));
}

int ali_error_parse(int status, const char *body, size_t len,
		    struct ali_error *e)
{
	struct json *root = NULL;

	ali_error_clear(e);
	e->http_status = status;
	if (body && len &&
	    json_parse(body, len, &err_limits, &root, NULL, 0) == 0 &&
	    root->type == JSON_OBJECT)
		from_json(root, e);
	json_free(root);
	if (!e->code[0]) {
		snprintf(e->code, sizeof(e->code), "HTTP%d", status);
		if (!e->message[0] && body)
			snprintf(e->message, sizeof(e->message), "%.*s",
				 (int)(len < 200 ? len : 200), body);
	}
	strip_string_to_sign(e->message);
	sanitize(e->code);
	sanitize(e->message);
	sanitize(e->request_id);
	return 0;
}

int ali_error_is(const struct ali_error *e, const char *code)
{
	return e && code && strcmp(e->code, code) == 0;
}

int ali_error_has_prefix(const struct ali_error *e, const char *prefix)
{
	return e && prefix && strncmp(e->code, prefix, strlen(prefix)) == 0;
}

void ali_error_redact(struct ali_error *e, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (!e || n < 4)
		return;
	while ((p = strstr(e->message, secret)) != NULL) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		p[0] = p[1] = p[2] = '*';
	}
}
