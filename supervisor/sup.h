/*
 * sup - the supervisor's shared state (internal to supervisor/).
 *
 * One struct sup lives for the whole process, built by sup_main. Each
 * sup_*.c file owns one concern and the fields it names below; the event
 * loop (single-threaded: every fork happens from it) drives them all.
 *
 *   sup_rundir.c  private run directory and its flock
 *   sup_spawn.c   fork + exec of one worker, fd layout
 *   sup_worker.c  worker table: want up/down, reap, backoff, heartbeats,
 *                 status records, fence windows sent to workers
 *   sup_elect.c   leader election loop (Lease, optional Endpoints lock)
 *   sup_lock.c    one lock object: GET/POST/PUT and the record
 *   sup_record.c  leader record parse/format (pure, unit-tested)
 *   sup_creds.c   per-controller tokens (TokenRequest + access checks)
 *   sup_event.c   core/v1 Events on the Lease (asynchronous)
 *   sup_http.c    /healthz /livez /readyz /metrics
 *   sup_metrics.c metric store and Prometheus text
 *   sup_reload.c  cloud-config watch, snapshot for workers, reload
 */
#ifndef CCM_SUP_H
#define CCM_SUP_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/backoff.h"
#include "lib/fence.h"
#include "supervisor/sup_main.h"
#include "workers/wk_table.h"

struct event;
struct event_base;
struct kube_client;
struct ipc_bus;
struct ipc_msg;
struct sup_elect;
struct sup_events;
struct sup_creds;
struct sup_http;
struct sup_metrics;
struct sup_reload;

#define SUP_MAX_WORKERS	    WK_NCONTROLLERS
#define SUP_HEARTBEAT_MS    10000 /* least silence that counts as wedged */
#define SUP_STABLE_MS	    60000 /* up this long: reset the backoff */
#define SUP_TERM_GRACE_MS   2000  /* SIGTERM, then SIGKILL */
#define SUP_DRAIN_MS	    3000  /* shutdown: Events in flight */
#define SUP_WATCHDOG_MS	    1000
#define SUP_WATCHDOG_FAILMS 10000

enum sup_wstate {
	WS_DOWN = 0, /* not wanted, or not started yet */
	WS_UP,	     /* running */
	WS_STOPPING, /* SIGTERM sent, waiting for reap */
	WS_BACKOFF,  /* died; next start at next_start_ms */
	WS_FAILED,   /* exit 2/78: not restarted */
};

struct sup_worker {
	const char *name;
	const char *sa; /* service account for per-controller creds */
	int index;
	int wanted;
	enum sup_wstate state;
	pid_t pid;
	int fd; /* our end of the status socketpair */
	struct event *ev_status;
	int64_t started_ms, last_hb_ms, stop_ms, next_start_ms, last_start_ms;
	int ready;
	int64_t reconciled;
	int64_t fence_ack;
	uint64_t restarts;
	struct backoff bo;
	int crash_loop; /* consecutive failures */
	char last_exit[64];
	int kill_failed;
	int restart_now; /* stopped by a graceful restart */
};

struct sup {
	struct cfg *cfg;
	int argc;
	char **argv;
	char identity[256];
	struct event_base *base;
	struct event *ev_tick, *ev_term, *ev_int, *ev_chld, *ev_bus, *ev_kill;
	struct event *ev_stop;
	struct sup_worker w[SUP_MAX_WORKERS];
	int nw;
	struct ipc_bus *bus;
	struct kube_client *kube;  /* events, tokens (cfg timeout) */
	struct sup_events *events; /* Events on the Lease (sup_event.c) */
	struct sup_elect *elect;
	struct sup_creds *creds;
	struct sup_http *http;
	struct sup_metrics *metrics;
	struct sup_reload *reload; /* cloud-config watch (sup_reload.c) */
	int lock_fd;

	/* leadership as the workers see it */
	int leading;
	enum fence_mode mode;
	int64_t renew_sent_ms;

	int stopping;
	int stop_phase;	    /* sup_main.c: 1 workers, 2 release, 3 drain */
	int64_t stop_t0_ms; /* boot clock */
	int64_t release_after_ms; /* boot: last fence window of a killed
				     worker; the Lease is released after */
	int exit_code;
	int64_t last_tick_ms;
	int64_t stalled_until_ms; /* /healthz fails until then */
	int dry_run_done;
};

/* sup_rundir.c */
int sup_rundir_lock(const char *dir, int *ret_fd);

/* sup_reload.c */
int sup_reload_new(struct sup *s);
void sup_reload_tick(struct sup *s);
/* The accepted cloud-config the workers read; NULL before sup_reload_new. */
const char *sup_reload_snapshot(const struct sup *s);
void sup_reload_free(struct sup *s);

/* sup_spawn.c */
int sup_spawn(struct sup *s, struct sup_worker *w);

/* sup_worker.c */
void sup_workers_init(struct sup *s);
void sup_workers_want(struct sup *s, int up);
void sup_workers_tick(struct sup *s);
void sup_workers_forgive(struct sup *s, int64_t now);
void sup_workers_reap(struct sup *s);
void sup_workers_kill_all(struct sup *s, int sig);
/* Tells every running worker to stop (SIGTERM: it starts no new mutation
 * and exits) and starts it again at once when it has exited, without the
 * crash backoff; one that does not exit within SUP_TERM_GRACE_MS is
 * killed (and its fence window delays a later Lease release). Returns the
 * number of workers told to stop, or -ECANCELED while shutting down. */
int sup_workers_restart_graceful(struct sup *s);
int sup_workers_running(const struct sup *s);
void sup_workers_send_lease(struct sup *s);
void sup_worker_send_lease(struct sup *s, struct sup_worker *w);
void sup_worker_send_token(struct sup *s, struct sup_worker *w);
/* Per-controller tokens due for renewal: fetched in the background. */
void sup_workers_renew_tokens(struct sup *s);
/* sup_creds ops.ready: sa's fetch ended (arg is struct sup). */
void sup_workers_token_ready(void *arg, const char *sa);
void sup_workers_free(struct sup *s);
const char *sup_worker_describe(const struct sup *s, const struct sup_worker *w,
				char *buf, size_t len, int *ok);

/* leadership changes from sup_elect.c, applied by sup_main.c */
void sup_on_leading(struct sup *s, int64_t renew_sent_ms);
void sup_on_renewed(struct sup *s, int64_t renew_sent_ms);
void sup_on_lost(struct sup *s, const char *why);
/* Graceful stop (SIGTERM, dry-run done): workers stop, then the Lease is
 * released, then the loop ends; see sup_main.c. */
void sup_stop(struct sup *s);

#endif
