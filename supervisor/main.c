/*
 * The one executable. Without --worker it is the supervisor; with
 * --worker=NAME (added by the supervisor when it re-executes
 * /proc/self/exe) it runs that controller.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config/cfg.h"
#include "lib/log.h"

int main(int argc, char **argv)
{
	struct cfg_err err = {{0}};
	struct cfg *cfg = NULL;
	int r;

	r = cfg_parse(argc, argv, &cfg, &err);
	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "cloud-controller-manager: %s\n", err.msg);
		return 2;
	}
	log_set_verbosity(cfg->verbosity);
	log_info("alicloud-ccm %s starting", CCM_VERSION);
	cfg_free(cfg);
	return 0;
}
