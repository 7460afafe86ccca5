#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_json.h"
#include "alicloud/ali_vpc.h"

#define ROUTE_BATCH 50

static int parse_failures(const struct json *resp,
			  struct ali_route_failure **failed, size_t *n)
{
	const struct json *arr =
		ali_jlist(resp, "FailedRouteEntries", "FailedRouteEntry");
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		const struct json *e = json_at(arr, i);
		struct ali_route_failure *f = ali_grow(failed, n, sizeof(*f));

		if (!f)
			return -ENOMEM;
		ali_jstr(e, "DstCidrBlock", f->cidr, sizeof(f->cidr));
		ali_jstr(e, "NextHop", f->next_hop_id, sizeof(f->next_hop_id));
		ali_jstr(e, "FailedCode", f->code, sizeof(f->code));
		ali_jstr(e, "FailedMessage", f->message, sizeof(f->message));
	}
	return 0;
}

static void row_params(struct ali_params *p, size_t i,
		       const struct ali_route_req *row, int create)
{
	ali_params_set_nth(p, "RouteEntries", i, ".RouteTableId",
			   row->table_id);
	ali_params_set_nth(p, "RouteEntries", i, ".DstCidrBlock", row->cidr);
	ali_params_set_nth(p, "RouteEntries", i, ".NextHop", row->next_hop_id);
	if (!create)
		return;
	ali_params_set_nth(p, "RouteEntries", i, ".NextHopType", "Instance");
	if (row->name)
		ali_params_set_nth(p, "RouteEntries", i, ".Name", row->name);
	if (row->description)
		ali_params_set_nth(p, "RouteEntries", i, ".Description",
				   row->description);
}

static int batches(struct ali_client *c, const char *action, int create,
		   const struct ali_route_req *rows, size_t n,
		   struct ali_route_failure **failed, size_t *n_failed,
		   struct ali_error *err)
{
	size_t i, k;
	int r = 0;

	*failed = NULL;
	*n_failed = 0;
	for (i = 0; r == 0 && i < n; i += ROUTE_BATCH) {
		struct ali_params p;
		struct json *resp = NULL;

		ali_params_init(&p);
		for (k = 0; k < ROUTE_BATCH && i + k < n; k++)
			row_params(&p, k, &rows[i + k], create);
		r = ali_client_call(c, ALI_VPC, action, &p, &resp, err);
		if (r == 0)
			r = parse_failures(resp, failed, n_failed);
		json_free(resp);
		ali_params_done(&p);
	}
	return r;
}

int ali_vpc_create_routes(struct ali_client *c,
			  const struct ali_route_req *rows, size_t n,
			  struct ali_route_failure **failed, size_t *n_failed,
			  struct ali_error *err)
{
	return batches(c, "CreateRouteEntries", 1, rows, n, failed, n_failed,
		       err);
}

int ali_vpc_delete_routes(struct ali_client *c,
			  const struct ali_route_req *rows, size_t n,
			  struct ali_route_failure **failed, size_t *n_failed,
			  struct ali_error *err)
{
	return batches(c, "DeleteRouteEntries", 0, rows, n, failed, n_failed,
		       err);
}
