/*
 * wk_main - entry of a worker process: pick the controller by name.
 *
 * The table maps --worker=NAME to a controller vtable. Until the real
 * controllers land, the entries point at the scaffolding controllers of
 * wk_scaffold.c; replacing one is a one-line change here.
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

extern const struct wk_controller wk_ctl_node_init;
extern const struct wk_controller wk_ctl_route;
extern const struct wk_controller wk_ctl_service_lb;

static const struct wk_controller *const controllers[] = {
	&wk_ctl_service_lb,
	&wk_ctl_route,
	&wk_ctl_node_init,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

#ifdef CCM_TEST_HOOKS
extern const struct wk_controller wk_scaffold_service_lb;
extern const struct wk_controller wk_scaffold_route;
extern const struct wk_controller wk_scaffold_node_init;

static const struct wk_controller *const scaffolds[] = {
	&wk_scaffold_service_lb,
	&wk_scaffold_route,
	&wk_scaffold_node_init,
};

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

static const struct wk_controller *find_in(const char *name)
{
	int scaffold = want_scaffold(name);
	const struct wk_controller *const *t =
		scaffold ? scaffolds : controllers;
	size_t n = scaffold ? N(scaffolds) : N(controllers);

	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i]->name, name) == 0)
			return t[i];
	return NULL;
}
#else
static const struct wk_controller *find_in(const char *name)
{
	for (size_t i = 0; i < N(controllers); i++)
		if (strcmp(controllers[i]->name, name) == 0)
			return controllers[i];
	return NULL;
}
#endif

const struct wk_controller *wk_controller_find(const char *name)
{
	return find_in(name);
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
