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
#include <sys/prctl.h>

#include "config/cfg.h"
#include "lib/log.h"
#include "supervisor/sup_main.h"
#include "workers/wk_main.h"

int main(int argc, char **argv)
{
	struct cfg_err err = {{0}};
	struct cfg *cfg = NULL;
	int r;

	/* No core dump or same-uid ptrace of a process that holds the
	 * AccessKey secret or tokens. The flag resets at every execve, and
	 * workers are re-executed, so this runs first in every process. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		perror("cloud-controller-manager: prctl(PR_SET_DUMPABLE)");
		return 1;
	}
	/* glibc raises its mmap threshold whenever a large mmapped block is
	 * freed; after that, response bodies and parsed LIST pages (up to
	 * MiBs) are carved from the heap and their holes are never returned.
	 * A fixed threshold keeps them mmapped and unmapped at free (bench:
	 * 500 nodes, private memory of all processes 13.5 -> 11.1 MiB). */
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
	log_set_role(cfg->worker ? cfg->worker : "supervisor");
	log_v(1, "core dumps off (dumpable=%d)",
	      prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	if (cfg->worker) {
		r = wk_main(cfg);
	} else {
		log_info("alicloud-ccm %s starting", CCM_VERSION);
		r = sup_main(cfg, argc, argv);
	}
	curl_global_cleanup();
	cfg_free(cfg);
	return r;
}
