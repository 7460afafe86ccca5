/*
 * rt_condition - the Node side of the route worker: NetworkUnavailable
 * (strategic merge patch on nodes/status, merged by condition type so
 * kubelet's conditions stay) and Events on Nodes. Both go through a queue
 * drained RT_JOBS_PER_TURN per loop turn: 200 new nodes mean 400 requests
 * under the client's rate limiter, which must not stall the loop.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/kube_client.h"
#include "kube/kube_event.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "workers/route/rt_ctl.h"
#include "workers/wk_runtime.h"

int rt_cond_body(char *out, size_t n, int cond_true, int64_t wall_ms)
{
	time_t secs = (time_t)(wall_ms / 1000);
	char ts[32];
	struct tm tm;
	int len;

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -EINVAL;
	len = snprintf(out, n,
		       "{\"status\":{\"conditions\":[{\"type\":"
		       "\"NetworkUnavailable\",\"status\":\"%s\","
		       "\"reason\":\"%s\",\"message\":\"%s\","
		       "\"lastHeartbeatTime\":\"%s\","
		       "\"lastTransitionTime\":\"%s\"}]}}",
		       cond_true ? "True" : "False",
		       cond_true ? "NoRouteCreated" : "RouteCreated",
		       cond_true ? "RouteController failed to create a route"
				 : "RouteController created a route",
		       ts, ts);
	return len < 0 || (size_t)len >= n ? -E2BIG : 0;
}

/* Queue slots kept once drained (the first allocation's size). */
#define RT_JOBS_KEEP 64

static struct rt_job *push_job(struct rt_ctl *c, const struct rt_snode *n)
{
	struct rt_job *j;

	if (c->job_head == c->n_jobs)
		c->job_head = c->n_jobs = 0;
	if (c->n_jobs == c->cap_jobs) {
		size_t ncap = c->cap_jobs ? c->cap_jobs * 2 : RT_JOBS_KEEP;
		struct rt_job *v = realloc(c->jobs, ncap * sizeof(*v));

		if (!v)
			return NULL;
		c->jobs = v;
		c->cap_jobs = ncap;
	}
	if (c->job_head == c->n_jobs) {
		struct timeval now = {0, 0};

		evtimer_add(c->ev_jobs, &now);
	}
	j = &c->jobs[c->n_jobs++];
	memset(j, 0, sizeof(*j));
	snprintf(j->node, sizeof(j->node), "%s", n->name);
	snprintf(j->uid, sizeof(j->uid), "%s", n->uid);
	return j;
}

void rt_job_event(struct rt_ctl *c, const struct rt_snode *n, int warning,
		  const char *reason, const char *fmt, ...)
{
	struct rt_job *j = push_job(c, n);
	va_list ap;

	if (!j)
		return;
	j->warning = warning;
	snprintf(j->reason, sizeof(j->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
	va_end(ap);
}

/* A node's condition patch still waiting in the queue, or NULL. */
static struct rt_job *queued_cond(struct rt_ctl *c, const struct rt_snode *n)
{
	size_t i;

	for (i = c->job_head; i < c->n_jobs; i++)
		if (c->jobs[i].is_cond &&
		    strcmp(c->jobs[i].node, n->name) == 0 &&
		    strcmp(c->jobs[i].uid, n->uid) == 0)
			return &c->jobs[i];
	return NULL;
}

void rt_job_cond(struct rt_ctl *c, const struct rt_snode *n, int cond_true)
{
	/* Passes run faster than the API rate drains the queue: one pending
	 * patch per node, carrying the latest verdict. */
	struct rt_job *j = queued_cond(c, n);

	if (!j)
		j = push_job(c, n);
	if (!j)
		return;
	j->is_cond = 1;
	j->cond_true = cond_true;
}

static void run_cond(struct rt_ctl *c, const struct rt_job *j)
{
	char path[320], body[512];
	struct kube_resp resp;
	int r;

	if (rt_cond_body(body, sizeof(body), j->cond_true, clock_wall_ms()))
		return;
	snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", j->node);
	kube_resp_init(&resp);
	r = kube_patch(c->kube, path, KUBE_PATCH_STRATEGIC, body, &resp);
	if (r == -EACCES && resp.status == 401)
		wk_auth_failed(c->rt);
	kube_resp_done(&resp);
	if (r == -EPERM) {
		log_info("dry-run: would set NetworkUnavailable=%s on node %s",
			 j->cond_true ? "True" : "False", j->node);
	} else if (r == 0) {
		log_v(1, "node %s: NetworkUnavailable=%s", j->node,
		      j->cond_true ? "True" : "False");
		if (!j->cond_true)
			wk_publish(c->rt, IPC_TOPIC_ROUTE_READY, j->node, 0);
	} else if (r != -ENOENT) {
		log_warn("node %s: setting NetworkUnavailable: %s", j->node,
			 strerror(-r));
		rt_trigger(c, 5000);
	}
}

static void run_event(struct rt_ctl *c, const struct rt_job *j)
{
	struct kube_objref ref = {.kind = "Node",
				  .name = j->node,
				  .uid = j->uid,
				  .api_version = "v1"};

	kube_event(c->rec, &ref,
		   j->warning ? KUBE_EVENT_TYPE_WARNING
			      : KUBE_EVENT_TYPE_NORMAL,
		   j->reason, "%s", j->msg);
}

void rt_jobs_run(struct rt_ctl *c)
{
	int k;

	for (k = 0; k < RT_JOBS_PER_TURN && c->job_head < c->n_jobs; k++) {
		/* copy: running a job may queue more and move the array */
		struct rt_job j = c->jobs[c->job_head++];

		if (j.is_cond)
			run_cond(c, &j);
		else
			run_event(c, &j);
	}
	if (c->job_head < c->n_jobs) {
		struct timeval now = {0, 0};

		evtimer_add(c->ev_jobs, &now);
	} else if (c->cap_jobs > RT_JOBS_KEEP) {
		/* A burst (every Node's condition at start, ~900 B a job) would
		 * otherwise stay allocated for the worker's life. */
		free(c->jobs);
		c->jobs = NULL;
		c->cap_jobs = c->job_head = c->n_jobs = 0;
	}
}
