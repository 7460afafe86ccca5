/*
 * ali_meta - the ECS instance metadata service (100.100.100.200).
 *
 * Plain-text items under <base>/latest/meta-data/. Token mode first
 * (PUT /latest/api/token, then X-aliyun-ecs-metadata-token on every GET);
 * when the PUT fails and the token is not required, plain GETs are used as
 * the Go SDK does. Requests never go through a proxy. Transport failures are
 * retried a few times 200 ms apart. The base URL comes from
 * METADATA_ENDPOINT unless given. Not thread-safe; one per process.
 */
#ifndef CCM_ALI_META_H
#define CCM_ALI_META_H

#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"
#include "lib/buf.h"

struct ali_meta;

struct ali_meta_opts {
	const char *base_url; /* NULL: $METADATA_ENDPOINT or default */
	int require_token;    /* IMDSv2 mandatory (--enable-imdsv2) */
	int64_t timeout_ms;   /* per request; 0 = 5 s */
	const char *user_agent;
};

int ali_meta_new(const struct ali_meta_opts *o, struct ali_meta **ret);
void ali_meta_free(struct ali_meta *m);
/* Called after each failed attempt (a worker's heartbeat). */
void ali_meta_set_progress(struct ali_meta *m, void (*fn)(void *arg),
			   void *arg);
/* Raw body of <base>/latest/meta-data/<item> (bounded to 64 KiB).
 * -ENOENT for 404, -EIO for other non-200 answers. */
int ali_meta_get(struct ali_meta *m, const char *item, struct buf *out);
/* First line, trimmed, of an item (region-id, vpc-id, ...). */
int ali_meta_get_line(struct ali_meta *m, const char *item, char *out,
		      size_t n);
/* Fills region, vpc_id, zone_id and the first vswitch of cloud where the
 * cloud-config left them empty. */
int ali_meta_fill_cloud(struct ali_meta *m, struct cfg_cloud *cloud);
int ali_meta_instance_id(struct ali_meta *m, char *out, size_t n);

#endif
