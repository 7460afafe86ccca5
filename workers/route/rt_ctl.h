/*
 * rt_ctl - internal state of the route worker, shared by its files.
 *
 *   rt_main.c       wk_controller entry, node informer, triggers, timers
 *   rt_tables.c     which route tables to program
 *   rt_pass.c       one reconcile pass: snapshot, list, plan, finish
 *   rt_exec.c       the pass's cloud mutations, one per table at a time
 *   rt_condition.c  NetworkUnavailable patches and Node Events (a queue
 *                   drained a few per loop turn, so the loop never stalls)
 *   rt_report.c     foreign entries and the route-entry quota: Warnings
 *                   and gauges
 *   rt_mark.c       the marker (RouteEntryName) of this cluster's entries
 *
 * A pass is asynchronous: its mutations run from a timer so that a table
 * that just changed can settle (the VPC answers TaskConflict while a route
 * of the table is Pending) without blocking the loop. Only one pass runs
 * at a time; triggers during a pass mark it dirty.
 *
 * Ownership: struct rt_ctl is owned by the controller (init/done); a pass
 * owns copies of everything it read from the informer.
 */
#ifndef CCM_RT_CTL_H
#define CCM_RT_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "alicloud/ali_error.h"
#include "lib/backoff.h"
#include "workers/route/rt_mark.h"
#include "workers/route/rt_plan.h"

struct ali_client;
struct cfg;
struct event;
struct kube_client;
struct kube_informer;
struct kube_recorder;
struct wk_rt;

#define RT_SETTLE_MS	 400  /* a table's gap between two mutations */
#define RT_MAX_BATCH	 50   /* rows per Create/DeleteRouteEntries */
#define RT_STEP_ATTEMPTS 6    /* busy answers before a step gives up */
#define RT_MAX_GONE	 4096 /* remembered DELETE events */
#define RT_JOBS_PER_TURN 5
#define RT_MAX_WARNED	 4096 /* foreign entries remembered as warned */

/* A foreign entry already warned about: table, entry id, destination. */
struct rt_warned {
	char key[3 * RT_ID_MAX + 8];
};

enum rt_result {
	RT_RES_OK = 0,	/* done, or the error means done */
	RT_RES_BUSY,	/* the table or API is busy: same step later */
	RT_RES_RETRY,	/* unknown outcome: list again in a later pass */
	RT_RES_FAIL,	/* the cloud refused: report it */
	RT_RES_DRY_RUN, /* would have been done */
	RT_RES_FENCED,	/* not leading now */
};

/* One node as a pass saw it (copied out of the informer). */
struct rt_snode {
	char name[RT_NAME_MAX];
	char uid[64];
	char cidr[RT_CIDR_MAX];
	char instance[RT_ID_MAX];
	int eligible;
};

struct rt_step {
	size_t table;
	int del;	     /* deletes run before creates of the same table */
	size_t first, count; /* slice of plan.creates or plan.deletes */
	int attempts;
	int done;
};

enum rt_cell {
	RT_CELL_NONE = 0,
	RT_CELL_OK,
	RT_CELL_FAIL,
};

struct rt_pass {
	struct rt_snode *nodes;
	struct rt_pnode *pn;
	size_t n_nodes;
	struct rt_entry **entries; /* per table */
	struct rt_table_obs *obs;
	struct rt_plan plan;
	struct rt_step *steps;
	size_t n_steps;
	int64_t *free_at;      /* per table, monotonic ms */
	unsigned char *cell;   /* enum rt_cell [node * n_tables + t] */
	char (*fail_msg)[256]; /* per node: last failure message */
	int again;	       /* something to retry soon */
	int failed;	       /* something failed: back off */
	int fenced;
};

struct rt_job {
	char node[RT_NAME_MAX];
	char uid[64];
	int is_cond;   /* else an Event */
	int cond_true; /* NetworkUnavailable status wanted */
	int warning;
	char reason[40];
	char msg[512];
};

struct rt_ctl {
	struct wk_rt *rt;
	const struct cfg *cfg;
	struct kube_client *kube;
	struct kube_informer *inf;
	struct kube_recorder *rec;
	struct ali_client *ali;
	struct event *ev_trigger, *ev_period, *ev_step, *ev_jobs;
	int64_t trigger_at; /* 0: no pass scheduled */

	char (*tables)[64];
	size_t n_tables;

	char mark[RT_MARK_NAME_MAX]; /* RouteEntryName of our entries */
	struct rt_warned *warned;    /* foreign entries already reported */
	size_t n_warned;
	size_t quota_short[8]; /* last shortfall reported, per table (first 8)
				*/

	struct rt_gone *gone;
	size_t n_gone;

	struct rt_pass *pass;
	int dirty;
	int reported;
	struct backoff bo_fail, bo_wait;
	uint64_t token_seq;
	int64_t started_wall_ms;

	struct rt_job *jobs;
	size_t n_jobs, job_head, cap_jobs;
};

/* rt_main.c */
void rt_trigger(struct rt_ctl *c, int64_t delay_ms);
void rt_controller_ref_event(struct rt_ctl *c, int warning, const char *reason,
			     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* rt_tables.c: 0, or -EAGAIN when the tables cannot be decided now. */
int rt_tables_resolve(struct rt_ctl *c);

/* rt_pass.c */
void rt_pass_start(struct rt_ctl *c);
void rt_pass_finish(struct rt_ctl *c);
void rt_pass_free(struct rt_pass *p);

/* rt_report.c */
/* custom route entries per route table, from cloud-config */
size_t rt_quota_route_entries(const struct rt_ctl *c);
void rt_report_foreign(struct rt_ctl *c, const struct rt_pass *p);
void rt_report_quota(struct rt_ctl *c, const struct rt_pass *p);

/* rt_exec.c */
enum rt_result rt_result_of(int rc, const struct ali_error *err);
enum rt_result rt_row_result(const char *code, int del);
void rt_exec_kick(struct rt_ctl *c, int64_t delay_ms);
void rt_exec_on_timer(struct rt_ctl *c);

/* rt_condition.c */
int rt_cond_body(char *out, size_t n, int cond_true, int64_t wall_ms);
void rt_job_event(struct rt_ctl *c, const struct rt_snode *n, int warning,
		  const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void rt_job_cond(struct rt_ctl *c, const struct rt_snode *n, int cond_true);
void rt_jobs_run(struct rt_ctl *c);

#endif
