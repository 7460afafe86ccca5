#include "workers/node_init/ni_cloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_ecs.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"

#define MAX_PAGES 50

void ni_lookup_init(struct ni_lookup *l)
{
	memset(l, 0, sizeof(*l));
	l->ok = 1;
	l->complete = 1;
}

void ni_lookup_done(struct ni_lookup *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int json_array(const char *const *v, size_t n, struct buf *b)
{
	size_t i;

	buf_puts(b, "[");
	for (i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ",");
		json_buf_str(b, v[i]);
	}
	return buf_puts(b, "]");
}

/* Pages through one filtered DescribeInstances. */
static int describe(struct ali_client *c, struct ali_params *p,
		    struct ni_lookup *l)
{
	char next[512] = "";
	size_t before = l->n;
	long long total = -1;
	int page, r = 0;

	ali_params_set_int(p, "MaxResults", NI_IDS_PER_CALL);
	for (page = 0; page < MAX_PAGES; page++) {
		struct json *resp = NULL;

		if (next[0])
			ali_params_set(p, "NextToken", next);
		l->calls++;
		r = ali_client_call(c, ALI_ECS, "DescribeInstances", p, &resp,
				    &l->err);
		if (r == 0)
			r = ni_instances_parse(resp, &l->v, &l->n, next,
					       sizeof(next), &total);
		json_free(resp);
		if (r < 0 || !next[0])
			break;
	}
	if (r < 0)
		l->ok = 0;
	if (next[0] || (total >= 0 && (size_t)total != l->n - before))
		l->complete = 0;
	return r;
}

int ni_cloud_by_ids(struct ali_client *c, const char *region,
		    const char *const *ids, size_t n, struct ni_lookup *l)
{
	struct ali_params p;
	struct buf b;
	int r;

	if (n == 0 || n > NI_IDS_PER_CALL)
		return -EINVAL;
	ali_params_init(&p);
	buf_init(&b, ALI_PARAM_MAX);
	json_array(ids, n, &b);
	ali_params_set(&p, "RegionId", region);
	ali_params_set(&p, "InstanceIds", b.data);
	r = describe(c, &p, l);
	buf_done(&b);
	ali_params_done(&p);
	return r;
}

int ni_cloud_by_ips(struct ali_client *c, const char *region,
		    const char *vpc_id, const char *const *ips, size_t n,
		    struct ni_lookup *l)
{
	struct ali_params p;
	struct buf b;
	int r;

	if (n == 0 || n > NI_IDS_PER_CALL)
		return -EINVAL;
	ali_params_init(&p);
	buf_init(&b, ALI_PARAM_MAX);
	json_array(ips, n, &b);
	ali_params_set(&p, "RegionId", region);
	ali_params_set(&p, "InstanceNetworkType", "vpc");
	if (vpc_id && *vpc_id)
		ali_params_set(&p, "VpcId", vpc_id);
	ali_params_set(&p, "PrivateIpAddresses", b.data);
	r = describe(c, &p, l);
	buf_done(&b);
	ali_params_done(&p);
	return r;
}

static int sdc_one(struct ali_client *c, const char *eni, struct ali_error *err)
{
	int attempt, r = 0;

	/* The ENI may be busy right after the instance started. */
	for (attempt = 0; attempt < 5; attempt++) {
		r = ali_ecs_set_source_dest_check(c, eni, 0, err);
		if (r != ALI_E_API ||
		    !ali_error_is(err, "InvalidOperation.Conflict"))
			break;
	}
	return r;
}

int ni_cloud_sdc_off(struct ali_client *c, const char *const *enis, size_t n,
		     int *failed, struct ali_error *err)
{
	struct ali_eni_filter f = {.ids = enis, .n_ids = n};
	struct ali_eni_list l = {0};
	struct ali_error e2;
	size_t i, k;
	int r, first = 0;

	memset(failed, 0, n * sizeof(*failed));
	r = ali_ecs_enis(c, &f, &l, err);
	if (r < 0) {
		for (i = 0; i < n; i++)
			failed[i] = 1;
		return r;
	}
	for (i = 0; i < n; i++) {
		int on = 1;

		for (k = 0; k < l.n; k++)
			if (strcmp(l.v[k].id, enis[i]) == 0)
				on = l.v[k].source_dest_check != 0;
		if (!on)
			continue;
		r = sdc_one(c, enis[i], &e2);
		if (r < 0) {
			failed[i] = 1;
			if (!first) {
				first = r;
				*err = e2;
			}
		}
	}
	ali_eni_list_done(&l);
	return first;
}
