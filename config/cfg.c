/* cfg_parse: defaults, argv, cross-checks, then the cloud-config file. */
#include "config/cfg.h"
#include "config/cfg_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

int cfg_parse(int argc, char **argv, struct cfg **ret, struct cfg_err *err)
{
	struct cfg *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return cfg_fail(err, "out of memory");
	cfg_defaults(c);
	r = cfg_parse_argv(c, argc, argv, err);
	if (r == 0)
		r = cfg_validate(c, err);
	if (r == 0)
		r = cfg_cloud_load(c->cloud_config, &c->cloud, err);
	if (r == 0)
		r = cfg_cloud_env(&c->cloud, err);
	if (r != 0) {
		cfg_free(c);
		return r;
	}
	if (c->cloud.cluster_id_defaulted && !c->worker)
		log_warn("cloud-config has no clusterID; using \"clusterid\". "
			 "Clusters that share a CLB need distinct IDs");
	*ret = c;
	return 0;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	explicit_bzero(&c->cloud, sizeof(c->cloud));
	free(c);
}
