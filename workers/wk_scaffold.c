/*
 * wk_scaffold - SCAFFOLDING controllers for service-lb, route and node-init.
 *
 * These stand in for the real controllers until they land, so the
 * supervisor, fencing and credentials can be tested end to end. Each one
 * reports "reconciled" once and idles. With CCM_SCAFFOLD_FENCE_PROBE=1 it
 * instead performs a tagged no-op write every 200 ms while inside its
 * fence: a merge patch of the annotation fence-probe.ccm/<worker> on the
 * ConfigMap kube-system/ccm-fence-probe, value "<identity>/<seq>", so a test
 * can check from the audit log or a watch that no two leaders ever wrote
 * at once.
 *
 * Test build only (CCM_TEST_HOOKS): the release binary has none of it.
 *
 * Test knobs (comma-separated worker names, or "all"):
 *   CCM_SCAFFOLD_EXIT   the worker fails at start (exit 1)
 *   CCM_SCAFFOLD_WEDGE  the worker's loop wedges after 1 s (no heartbeat)
 */
#ifdef CCM_TEST_HOOKS

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "kube/kube_client.h"
#include "lib/fence.h"
#include "lib/log.h"
#include "workers/wk_runtime.h"

#define PROBE_MS   200
#define PROBE_NS   "kube-system"
#define PROBE_NAME "ccm-fence-probe"
#define PROBE_PATH "/api/v1/namespaces/" PROBE_NS "/configmaps/" PROBE_NAME

struct scaffold {
	struct wk_rt *rt;
	struct event *ev;
	long long seq;
	int reported;
	int probe;
};

static int env_names(const char *var, const char *name)
{
	const char *v = getenv(var);
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

static void report_once(struct scaffold *s)
{
	if (!s->reported) {
		s->reported = 1;
		wk_reconciled(s->rt);
	}
}

static int create_probe(struct scaffold *s, const char *value)
{
	struct kube_resp r;
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	buf_printf(&b,
		   "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
		   "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
		   "\"annotations\":{\"fence-probe.ccm/%s\":",
		   PROBE_NAME, PROBE_NS, wk_name(s->rt));
	json_buf_str(&b, value);
	buf_puts(&b, "}}}");
	kube_resp_init(&r);
	rc = kube_create(wk_kube(s->rt),
			 "/api/v1/namespaces/" PROBE_NS "/configmaps", b.data,
			 &r);
	kube_resp_done(&r);
	buf_done(&b);
	return rc == -EEXIST ? -EAGAIN : rc;
}

static int write_probe(struct scaffold *s)
{
	char value[320];
	struct kube_resp r;
	struct buf b;
	int rc;

	snprintf(value, sizeof(value), "%s/%lld", wk_identity(s->rt), ++s->seq);
	buf_init(&b, 4096);
	buf_printf(&b,
		   "{\"metadata\":{\"annotations\":{"
		   "\"fence-probe.ccm/%s\":",
		   wk_name(s->rt));
	json_buf_str(&b, value);
	buf_puts(&b, "}}}");
	kube_resp_init(&r);
	rc = kube_patch(wk_kube(s->rt), PROBE_PATH, KUBE_PATCH_MERGE, b.data,
			&r);
	if (rc == -EACCES && r.status == 401)
		wk_auth_failed(s->rt);
	kube_resp_done(&r);
	buf_done(&b);
	if (rc == -ENOENT)
		rc = create_probe(s, value);
	return rc;
}

static void on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct scaffold *s = arg;
	const struct cfg *cfg = wk_cfg(s->rt);
	int r;

	(void)fd;
	(void)what;
	r = fence_allow(cfg->kube_timeout_ms);
	if (r == -EPERM) {
		log_info("dry-run: would patch configmap %s/%s", PROBE_NS,
			 PROBE_NAME);
		report_once(s);
		return;
	}
	if (r < 0)
		return; /* fenced: not leading now */
	r = write_probe(s);
	if (r == 0)
		report_once(s);
	else
		log_v(2, "fence probe write: %s", strerror(-r));
}

static void on_wedge(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_warn("CCM_SCAFFOLD_WEDGE: wedging this worker's loop");
	for (;;)
		pause();
}

static void on_idle_pass(evutil_socket_t fd, short what, void *arg)
{
	struct scaffold *s = arg;

	(void)fd;
	(void)what;
	if (wk_dry_run(s->rt))
		log_info("dry-run: scaffolding controller has nothing to do");
	report_once(s);
}

static int scaffold_init(struct wk_rt *rt, void **state)
{
	struct scaffold *s;
	struct timeval tv = {0, PROBE_MS * 1000L}, one = {1, 0};
	const char *probe = getenv("CCM_SCAFFOLD_FENCE_PROBE");

	if (env_names("CCM_SCAFFOLD_EXIT", wk_name(rt)))
		return -ECANCELED;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->rt = rt;
	s->probe = probe && strcmp(probe, "1") == 0;
	if (s->probe)
		s->ev = event_new(wk_base(rt), -1, EV_PERSIST, on_probe, s);
	else
		s->ev = event_new(wk_base(rt), -1, 0, on_idle_pass, s);
	if (s->ev == NULL) {
		free(s);
		return -ENOMEM;
	}
	event_add(s->ev, &tv);
	if (env_names("CCM_SCAFFOLD_WEDGE", wk_name(rt)))
		event_base_once(wk_base(rt), -1, EV_TIMEOUT, on_wedge, NULL,
				&one);
	log_info("scaffolding controller %s started%s", wk_name(rt),
		 s->probe ? " (fence probe on)" : "");
	*state = s;
	return 0;
}

static void scaffold_done(void *state)
{
	struct scaffold *s = state;

	if (s->ev)
		event_free(s->ev);
	free(s);
}

const struct wk_controller wk_scaffold_service_lb = {
	.name = "service-lb",
	.init = scaffold_init,
	.done = scaffold_done,
};

const struct wk_controller wk_scaffold_route = {
	.name = "route",
	.init = scaffold_init,
	.done = scaffold_done,
};

const struct wk_controller wk_scaffold_node_init = {
	.name = "node-init",
	.init = scaffold_init,
	.done = scaffold_done,
};

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int wk_scaffold_absent;
#endif
