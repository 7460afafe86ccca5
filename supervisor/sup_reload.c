/*
 * sup_reload - the cloud-config while the CCM runs.
 *
 * Every SUP_RELOAD_POLL_MS the supervisor reads the --cloud-config file by
 * content (config/cfg_watch.c), which follows a ConfigMap volume's atomic
 * "..data" symlink swap as well as an edit in place. Valid new content
 * goes to the snapshot in the run directory, the only cloud-config the
 * workers read (sup_spawn passes it), and the workers are restarted on it.
 * Invalid content, or a changed identity key, leaves the snapshot and the
 * running workers alone and is logged once per distinct content; so a
 * worker restarted later for any reason still runs on accepted content.
 *
 * Metrics (worker="supervisor"): ccm_cloud_config_checks_total, and
 * ccm_cloud_config_reloads_total{result="applied|invalid|refused"}.
 */
#include "supervisor/sup.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfg.h"
#include "ipc/ipc_proto.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup_metrics.h"

#define SUP_RELOAD_POLL_MS 2000

struct sup_reload {
	struct cfg_watch w;
	int64_t next_ms;
};

/* Workers are stopped through the graceful path (stop starting mutations,
 * exit, killed only after the grace) and started again on the new copy. */
static void reload_restart_workers(struct sup *s)
{
	(void)sup_workers_restart_graceful(s);
}

static void count(struct sup *s, const char *name, const char *labels)
{
	struct ipc_metric m;

	memset(&m, 0, sizeof(m));
	m.op = IPC_METRIC_COUNTER_ADD;
	m.value = 1;
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.labels, sizeof(m.labels), "%s", labels);
	(void)sup_metrics_apply(s->metrics, "supervisor", &m);
}

/* A ConfigMap volume (or a pod at all) is 0644 by the kubelet's choice. */
static int in_pod(const char *path)
{
	char target[PATH_MAX];
	ssize_t n;

	if (getenv("KUBERNETES_SERVICE_HOST"))
		return 1;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	return strncmp(target, "..data/", 7) == 0;
}

static void warn_if_world_readable(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & S_IROTH) && !in_pod(path))
		log_warn("--cloud-config %s is readable by every user (mode "
			 "%04o) and holds the AccessKey secret; make it "
			 "readable by the CCM's user only (chmod 600)",
			 path, (unsigned)(st.st_mode & 07777));
}

int sup_reload_new(struct sup *s)
{
	struct sup_reload *r = calloc(1, sizeof(*r));
	char snap[4200];
	struct cfg_err e = {0};

	if (!r)
		return -ENOMEM;
	snprintf(snap, sizeof(snap), "%s/cloud-config.json", s->cfg->run_dir);
	if (cfg_watch_init(&r->w, s->cfg->cloud_config, snap, &e) < 0) {
		log_error("%s", e.msg);
		free(r);
		return -EINVAL;
	}
	warn_if_world_readable(s->cfg->cloud_config);
	r->next_ms = clock_mono_ms() + SUP_RELOAD_POLL_MS;
	s->reload = r;
	return 0;
}

const char *sup_reload_snapshot(const struct sup *s)
{
	return s->reload ? s->reload->w.snapshot : NULL;
}

void sup_reload_tick(struct sup *s)
{
	struct sup_reload *r = s->reload;
	int64_t now = clock_mono_ms();
	struct cfg_err e = {0};
	int rc;

	if (!r || now < r->next_ms || s->stopping)
		return;
	r->next_ms = now + SUP_RELOAD_POLL_MS;
	rc = cfg_watch_check(&r->w, &e);
	count(s, "ccm_cloud_config_checks_total", "");
	if (rc == 1) {
		log_info("--cloud-config %s changed: restarting the workers "
			 "on the new content",
			 r->w.path);
		count(s, "ccm_cloud_config_reloads_total",
		      "result=\"applied\"");
		reload_restart_workers(s);
	} else if (rc < 0) {
		log_error("%s; the workers keep running on the last accepted "
			  "cloud-config",
			  e.msg);
		count(s, "ccm_cloud_config_reloads_total",
		      rc == -EPERM ? "result=\"refused\""
				   : "result=\"invalid\"");
	}
}

void sup_reload_free(struct sup *s)
{
	if (!s->reload)
		return;
	cfg_watch_done(&s->reload->w);
	free(s->reload);
	s->reload = NULL;
}
