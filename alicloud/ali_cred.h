/*
 * ali_cred - where the AccessKey comes from, and keeping STS keys fresh.
 *
 * Chain, first match wins: the cloud-config AK (already base64-decoded by
 * config), env ACCESS_KEY_ID/ACCESS_KEY_SECRET, then the ECS RAM role from
 * the metadata service (STS AK + SecurityToken, refreshed when less than
 * ALI_CRED_REFRESH_MS (or half the key's lifetime, if shorter) remain before
 * Expiration, judged on the caller's skew-corrected wall clock). The provider
 * owns the secrets; ali_cred_get copies them into the caller's struct, which
 * the caller wipes after use.
 */
#ifndef CCM_ALI_CRED_H
#define CCM_ALI_CRED_H

#include <stdint.h>

#include "alicloud/ali_meta.h"
#include "alicloud/ali_sign.h"
#include "config/cfg.h"

#define ALI_CRED_REFRESH_MS (INT64_C(5) * 60 * 1000)

enum ali_cred_source {
	ALI_CRED_CONFIG = 0,
	ALI_CRED_ENV,
	ALI_CRED_RAM_ROLE,
};

struct ali_cred;

/* meta is borrowed (needed only for the RAM role; may be NULL otherwise). */
int ali_cred_new(const struct cfg_cloud *cloud, struct ali_meta *meta,
		 struct ali_cred **ret);
void ali_cred_free(struct ali_cred *c);
enum ali_cred_source ali_cred_source(const struct ali_cred *c);
/* Current credential; refreshes an STS key near expiry. If a refresh
 * fails while the old key is still valid, the old key is returned. */
int ali_cred_get(struct ali_cred *c, int64_t now_wall_ms,
		 struct ali_credential *out);
/* Forces a refresh on the next get (the server said the token expired). */
void ali_cred_invalidate(struct ali_cred *c);
/* Parses the RAM-role JSON document into out (exposed for tests). */
int ali_cred_parse_role(const char *body, size_t len,
			struct ali_credential *out);

#endif
