/*
 * The one executable. Without --worker it is the supervisor; with
 * --worker=NAME (added by the supervisor when it re-executes
 * /proc/self/exe) it runs that controller. Every process parses the same
 * command line, so a worker's configuration is the supervisor's.
 */
#include <curl/curl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/cfg.h"
#include "lib/log.h"
#include "supervisor/sup_main.h"
#include "workers/wk_main.h"

int main(int argc, char **argv)
{
	struct cfg_err err = {{0}};
	struct cfg *cfg = NULL;
	int r;

	/* glibc raises its mmap threshold whenever a large mmapped block is
	 * freed; after that, response bodies and parsed LIST pages (up to
	 * MiBs) are carved from the heap and their holes are never returned.
	 * A fixed threshold keeps them mmapped and unmapped at free (bench:
	 * 500 nodes, PSS of all processes 15.6 -> 13.3 MiB). */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);
	r = cfg_parse(argc, argv, &cfg, &err);
	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "cloud-controller-manager: %s\n", err.msg);
		return 2;
	}
	log_set_verbosity(cfg->verbosity);
	/* Once per process, before any thread exists (libcurl's rule). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr,
			"cloud-controller-manager: libcurl init failed\n");
		cfg_free(cfg);
		return 1;
	}
	if (cfg->worker) {
		log_set_role(cfg->worker);
		r = wk_main(cfg);
	} else {
		log_set_role("supervisor");
		log_info("alicloud-ccm %s starting", CCM_VERSION);
		r = sup_main(cfg, argc, argv);
	}
	curl_global_cleanup();
	cfg_free(cfg);
	return r;
}
