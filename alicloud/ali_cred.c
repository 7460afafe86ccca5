#include "alicloud/ali_cred.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"

#define ROLE_PATH "ram/security-credentials/"

struct ali_cred {
	enum ali_cred_source source;
	struct ali_meta *meta;
	struct ali_credential cur;
	int have;
	int64_t obtained_ms; /* wall ms of the last refresh */
	char role[128];
};

static int copy_field(char *dst, size_t n, const char *src)
{
	if (!src || !*src)
		return -ENODATA;
	if (strlen(src) >= n)
		return -E2BIG;
	snprintf(dst, n, "%s", src);
	return 0;
}

static int from_static(struct ali_cred *c, const char *id, const char *sec)
{
	int r = copy_field(c->cur.id, sizeof(c->cur.id), id);

	if (!r)
		r = copy_field(c->cur.secret, sizeof(c->cur.secret), sec);
	c->have = r == 0;
	return r;
}

int ali_cred_new(const struct cfg_cloud *cloud, struct ali_meta *meta,
		 struct ali_cred **ret)
{
	struct ali_cred *c = calloc(1, sizeof(*c));
	const char *eid = getenv("ACCESS_KEY_ID");
	const char *esec = getenv("ACCESS_KEY_SECRET");
	int r = 0;

	if (!c)
		return -ENOMEM;
	c->meta = meta;
	if (cloud && cloud->have_ak && cloud->access_key_id[0] &&
	    cloud->access_key_secret[0]) {
		c->source = ALI_CRED_CONFIG;
		r = from_static(c, cloud->access_key_id,
				cloud->access_key_secret);
	} else if (eid && *eid && esec && *esec) {
		c->source = ALI_CRED_ENV;
		r = from_static(c, eid, esec);
	} else {
		c->source = ALI_CRED_RAM_ROLE;
		r = meta ? 0 : -ENOKEY;
	}
	if (r < 0) {
		ali_cred_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void ali_cred_free(struct ali_cred *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

enum ali_cred_source ali_cred_source(const struct ali_cred *c)
{
	return c->source;
}

static int parse_expiration(const char *s, int64_t *ms)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end)
		return -EINVAL;
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

int ali_cred_parse_role(const char *body, size_t len,
			struct ali_credential *out)
{
	static const struct json_limits lim = {65536, 8, 256};
	struct json *root = NULL;
	const char *code;
	int r;

	memset(out, 0, sizeof(*out));
	r = json_parse(body, len, &lim, &root, NULL, 0);
	if (r < 0)
		return -EBADMSG;
	code = json_str(json_get(root, "Code"));
	r = code && strcmp(code, "Success") != 0 ? -EACCES : 0;
	if (!r)
		r = copy_field(out->id, sizeof(out->id),
			       json_str(json_get(root, "AccessKeyId")));
	if (!r)
		r = copy_field(out->secret, sizeof(out->secret),
			       json_str(json_get(root, "AccessKeySecret")));
	if (!r)
		r = copy_field(out->token, sizeof(out->token),
			       json_str(json_get(root, "SecurityToken")));
	if (!r)
		r = parse_expiration(json_str(json_get(root, "Expiration")),
				     &out->expire_ms);
	json_free(root);
	if (r < 0)
		OPENSSL_cleanse(out, sizeof(*out));
	return r;
}

static int fetch_role(struct ali_cred *c, struct ali_credential *fresh)
{
	char path[256];
	struct buf b;
	int r = 0;

	if (!c->role[0])
		r = ali_meta_get_line(c->meta, ROLE_PATH, c->role,
				      sizeof(c->role));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), ROLE_PATH "%s", c->role);
	buf_init(&b, 64u << 10);
	r = ali_meta_get(c->meta, path, &b);
	if (r == 0)
		r = ali_cred_parse_role(b.data ? b.data : "", b.len, fresh);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	buf_done(&b);
	if (r == -ENOENT)
		c->role[0] = '\0'; /* role replaced: look it up again */
	return r;
}

static int refresh(struct ali_cred *c, int64_t now)
{
	struct ali_credential fresh;
	int r = fetch_role(c, &fresh);

	if (r == 0) {
		c->cur = fresh;
		c->have = 1;
		c->obtained_ms = now;
		log_v(4, "RAM role %s: STS key %.4s*** valid for %llds",
		      c->role, fresh.id,
		      (long long)((fresh.expire_ms - now) / 1000));
	}
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return r;
}

/* Short-lived keys (tests, odd roles) refresh at half their lifetime. */
static int64_t margin(const struct ali_cred *c)
{
	int64_t half = (c->cur.expire_ms - c->obtained_ms) / 2;

	return half > 0 && half < ALI_CRED_REFRESH_MS ? half
						      : ALI_CRED_REFRESH_MS;
}

int ali_cred_get(struct ali_cred *c, int64_t now_wall_ms,
		 struct ali_credential *out)
{
	int r = 0;

	if (c->source == ALI_CRED_RAM_ROLE &&
	    (!c->have || c->cur.expire_ms - now_wall_ms < margin(c)))
		r = refresh(c, now_wall_ms);
	if (r < 0 && c->have && c->cur.expire_ms > now_wall_ms) {
		log_v(4, "STS refresh failed (%d); old key still valid", r);
		r = 0;
	}
	if (r < 0)
		return r;
	if (!c->have)
		return -ENOKEY;
	*out = c->cur;
	return 0;
}

void ali_cred_invalidate(struct ali_cred *c)
{
	if (c->source == ALI_CRED_RAM_ROLE)
		c->cur.expire_ms = 0;
}
