/*
 * wk_main - entry of a worker process: pick the controller by name.
 *
 * workers/wk_table.c maps --worker=NAME to a controller vtable.
 *
 * In the test build only (CCM_TEST_HOOKS), CCM_SCAFFOLD=all (or a comma
 * list of names) selects the scaffolding controller instead of the real
 * one, so supervisor and fencing tests do not depend on what the real
 * controllers need (cloud, nodes). The release binary has no scaffolds.
 */
#include "workers/wk_main.h"

#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "lib/log.h"
#include "workers/wk_runtime.h"
#include "workers/wk_table.h"

#ifdef CCM_TEST_HOOKS
static int want_scaffold(const char *name)
{
	const char *v = getenv("CCM_SCAFFOLD");
	size_t n = strlen(name);

	if (v == NULL || !*v)
		return 0;
	if (strcmp(v, "all") == 0)
		return 1;
	for (const char *p = v; (p = strstr(p, name)) != NULL; p += n)
		if ((p == v || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
	return 0;
}
#else
static int want_scaffold(const char *name)
{
	(void)name;
	return 0;
}
#endif

const struct wk_controller *wk_controller_find(const char *name)
{
	const struct wk_def *d = wk_table_find(name);

	if (d == NULL)
		return NULL;
	return want_scaffold(name) ? d->scaffold : d->ctl;
}

int wk_main(struct cfg *cfg)
{
	const struct wk_controller *ctl = wk_controller_find(cfg->worker);

	if (ctl == NULL) {
		log_error("--worker=%s: no such controller", cfg->worker);
		return 2;
	}
	return wk_run(cfg, ctl);
}
