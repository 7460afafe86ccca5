/*
 * rt_tables - the route tables the worker programs: every table of
 * cloud-config routeTableIDs, else the VPC's only table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_meta.h"
#include "alicloud/ali_vpc.h"
#include "config/cfg.h"
#include "lib/log.h"
#include "workers/route/rt_ctl.h"

static int from_config(struct rt_ctl *c)
{
	const struct cfg_cloud *cl = &c->cfg->cloud;
	int i;

	c->tables = calloc((size_t)cl->n_route_tables, sizeof(*c->tables));
	if (!c->tables)
		return -ENOMEM;
	for (i = 0; i < cl->n_route_tables; i++)
		snprintf(c->tables[i], sizeof(c->tables[i]), "%s",
			 cl->route_table_ids[i]);
	c->n_tables = (size_t)cl->n_route_tables;
	return 0;
}

/* The VPC id: cloud-config, else the instance metadata. */
static int vpc_id(const struct rt_ctl *c, char *out, size_t n)
{
	struct ali_meta_opts o = {.require_token = c->cfg->enable_imdsv2};
	struct ali_meta *m = NULL;
	int r;

	if (c->cfg->cloud.vpc_id[0]) {
		snprintf(out, n, "%s", c->cfg->cloud.vpc_id);
		return 0;
	}
	r = ali_meta_new(&o, &m);
	if (r == 0)
		r = ali_meta_get_line(m, "vpc-id", out, n);
	ali_meta_free(m);
	return r;
}

static int discover(struct rt_ctl *c)
{
	char vpc[64] = "", (*ids)[64] = NULL;
	struct ali_error err;
	size_t n = 0;
	int r;

	r = vpc_id(c, vpc, sizeof(vpc));
	if (r < 0 || !vpc[0]) {
		log_error("route tables: no VPC id in the cloud-config and "
			  "none from the metadata service (%s)",
			  strerror(r < 0 ? -r : EINVAL));
		return -EAGAIN;
	}
	ali_error_clear(&err);
	r = ali_vpc_route_tables(c->ali, vpc, &ids, &n, &err);
	if (r < 0) {
		log_error("route tables of %s: DescribeRouteTableList: %s: %s",
			  vpc, err.code, err.message);
		return -EAGAIN;
	}
	if (n != 1) {
		log_error("route tables: %zu route tables found in VPC %s; "
			  "set routeTableIDs in the cloud-config to the "
			  "table(s) the cluster uses",
			  n, vpc);
		rt_controller_ref_event(
			c, 1, n ? "MultipleRouteTables" : "NoRouteTable",
			"%zu route tables found in VPC %s: set routeTableIDs "
			"in the cloud-config",
			n, vpc);
		free(ids);
		return -EAGAIN;
	}
	c->tables = ids;
	c->n_tables = 1;
	log_info("route table %s (the only one of VPC %s)", ids[0], vpc);
	return 0;
}

int rt_tables_resolve(struct rt_ctl *c)
{
	if (c->n_tables)
		return 0;
	free(c->tables);
	c->tables = NULL;
	if (c->cfg->cloud.n_route_tables > 0)
		return from_config(c);
	return discover(c);
}
