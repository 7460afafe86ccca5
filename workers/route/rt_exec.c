/*
 * rt_exec - runs a pass's mutations: one step (a batch of creates or of
 * deletes for one table) per loop turn, never two on the same table within
 * RT_SETTLE_MS, deletes of a table before its creates. Busy answers
 * (TaskConflict, entry status) after the client's own retries push the
 * step back with a growing gap; other answers are recorded per row.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_retry.h"
#include "alicloud/ali_vpc.h"
#include "config/cfg.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "workers/route/rt_ctl.h"

static int code_in(const char *code, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(code, *set) == 0)
			return 1;
	return 0;
}

enum rt_result rt_row_result(const char *code, int del)
{
	static const char *const dup[] = {
		"VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE",
		"InvalidCIDRBlock.Duplicate",
		"RouterEntryConflict.Duplicated",
		"VPC_ROUTE_ENTRY_STATUS_ERROR",
		NULL,
	};
	static const char *const gone[] = {
		"VPC_ROUTER_ENTRY_NOT_EXIST",
		"InvalidRouteEntry.NotFound",
		NULL,
	};
	static const char *const busy[] = {
		"VPC_ROUTE_ENTRY_STATUS_ERROR",
		"IncorrectRouteEntryStatus",
		"InvalidStatus.RouteEntry",
		NULL,
	};

	if (!code || !code[0])
		return RT_RES_OK;
	if (del ? code_in(code, gone) : code_in(code, dup))
		return RT_RES_OK;
	if (code_in(code, busy) || ali_code_retryable(code))
		return RT_RES_BUSY;
	return RT_RES_FAIL;
}

enum rt_result rt_result_of(int rc, const struct ali_error *err)
{
	if (rc == 0)
		return RT_RES_OK;
	if (rc == -EPERM)
		return RT_RES_DRY_RUN;
	if (rc == -ETIMEDOUT && ali_error_is(err, "Fenced"))
		return RT_RES_FENCED;
	if (rc == ALI_E_API)
		return RT_RES_BUSY; /* refined per action by the caller */
	return RT_RES_RETRY;	    /* ambiguous or transport: list again */
}

void rt_exec_kick(struct rt_ctl *c, int64_t delay_ms)
{
	struct timeval tv = {(time_t)(delay_ms / 1000),
			     (suseconds_t)((delay_ms % 1000) * 1000)};

	evtimer_add(c->ev_step, &tv);
}

static const char *node_name(const struct rt_pass *p, size_t i)
{
	return i == RT_NO_NODE ? "" : p->nodes[i].name;
}

static void row_create(struct rt_ctl *c, struct rt_pass *p,
		       const struct rt_op *op, enum rt_result res,
		       const char *msg)
{
	const char *table = c->tables[op->table];
	struct rt_snode *n = &p->nodes[op->node];
	size_t cell = op->node * c->n_tables + op->table;

	switch (res) {
	case RT_RES_OK:
		log_info("created route %s -> %s in %s for node %s", op->dst,
			 op->hop_id, table, n->name);
		p->cell[cell] = RT_CELL_OK;
		rt_job_event(c, n, 0, "CreatedRoute",
			     "Created route for %s with %s -> %s successfully",
			     table, n->name, op->dst);
		break;
	case RT_RES_DRY_RUN:
		log_info("dry-run: would create route %s -> %s in %s for "
			 "node %s",
			 op->dst, op->hop_id, table, n->name);
		rt_job_event(c, n, 0, "WouldCreateRoute",
			     "dry-run: would create route %s -> %s in %s",
			     op->dst, op->hop_id, table);
		break;
	case RT_RES_FAIL:
		log_error("creating route %s -> %s in %s for node %s: %s",
			  op->dst, op->hop_id, table, n->name, msg);
		p->cell[cell] = RT_CELL_FAIL;
		p->failed = 1;
		snprintf(p->fail_msg[op->node], sizeof(p->fail_msg[0]), "%s",
			 msg);
		rt_job_event(c, n, 1, "CreateRouteFailed",
			     "Error creating route entry in %s: %s", table,
			     msg);
		break;
	default:
		p->again = 1;
		break;
	}
}

static void row_delete(struct rt_ctl *c, struct rt_pass *p,
		       const struct rt_op *op, enum rt_result res,
		       const char *msg)
{
	const char *table = c->tables[op->table];
	const char *why = op->reason == RT_DEL_CONFLICT ? "conflict"
			  : op->reason == RT_DEL_GONE	? "node deleted"
							: "no node";

	switch (res) {
	case RT_RES_OK:
		log_info("deleted route %s -> %s from %s (%s%s%s)", op->dst,
			 op->hop_id, table, why,
			 op->node != RT_NO_NODE ? " with node " : "",
			 node_name(p, op->node));
		break;
	case RT_RES_DRY_RUN:
		log_info("dry-run: would delete route %s -> %s from %s (%s)",
			 op->dst, op->hop_id, table, why);
		rt_controller_ref_event(
			c, 0, "WouldDeleteRoute",
			"dry-run: would delete route %s -> %s from %s (%s)",
			op->dst, op->hop_id, table, why);
		break;
	case RT_RES_FAIL:
		log_error("deleting route %s -> %s from %s: %s", op->dst,
			  op->hop_id, table, msg);
		p->failed = 1;
		rt_controller_ref_event(c, 1, "DeleteRouteFailed",
					"Error deleting route %s -> %s from "
					"%s: %s",
					op->dst, op->hop_id, table, msg);
		break;
	default:
		p->again = 1;
		break;
	}
}

static const struct rt_op *step_ops(const struct rt_pass *p,
				    const struct rt_step *s)
{
	return (s->del ? p->plan.deletes : p->plan.creates) + s->first;
}

static void rows_all(struct rt_ctl *c, struct rt_pass *p,
		     const struct rt_step *s, enum rt_result res,
		     const char *msg)
{
	const struct rt_op *ops = step_ops(p, s);
	size_t i;

	for (i = 0; i < s->count; i++) {
		if (s->del)
			row_delete(c, p, &ops[i], res, msg);
		else
			row_create(c, p, &ops[i], res, msg);
	}
}

static const struct ali_route_failure *
find_failure(const struct ali_route_failure *f, size_t n,
	     const struct rt_op *op)
{
	char a[RT_CIDR_MAX], b[RT_CIDR_MAX];
	size_t i;

	rt_cidr_norm(op->dst, a, sizeof(a));
	for (i = 0; i < n; i++) {
		rt_cidr_norm(f[i].cidr, b, sizeof(b));
		if ((strcmp(f[i].cidr, op->dst) == 0 || strcmp(a, b) == 0) &&
		    (!f[i].next_hop_id[0] ||
		     strcmp(f[i].next_hop_id, op->hop_id) == 0))
			return &f[i];
	}
	return NULL;
}

static void rows_from_failures(struct rt_ctl *c, struct rt_pass *p,
			       const struct rt_step *s,
			       const struct ali_route_failure *f, size_t nf)
{
	const struct rt_op *ops = step_ops(p, s);
	size_t i;

	for (i = 0; i < s->count; i++) {
		const struct ali_route_failure *x =
			find_failure(f, nf, &ops[i]);
		enum rt_result res =
			x ? rt_row_result(x->code, s->del) : RT_RES_OK;
		char msg[400];

		snprintf(msg, sizeof(msg), "%s: %s", x ? x->code : "",
			 x ? x->message : "");
		if (s->del)
			row_delete(c, p, &ops[i], res, msg);
		else
			row_create(c, p, &ops[i], res, msg);
	}
}

static int call_single(struct rt_ctl *c, struct rt_pass *p,
		       const struct rt_step *s, struct ali_error *err)
{
	const struct rt_op *op = step_ops(p, s);
	const char *table = c->tables[s->table];
	char seq[48], token[64], desc[RT_MARK_DESC_MAX];
	const char *parts[7];
	struct ali_route_marks marks = {.name = c->mark, .description = desc};

	if (s->del)
		return ali_vpc_delete_route(c->ali, table, op->dst, op->hop_id,
					    err);
	/* stable across the client's retries of this call, fresh for a
	 * later attempt so a deleted route can be created again */
	snprintf(seq, sizeof(seq), "%lld-%llu", (long long)c->started_wall_ms,
		 (unsigned long long)++c->token_seq);
	parts[0] = "route";
	parts[1] = c->cfg->cloud.cluster_id;
	parts[2] = table;
	parts[3] = op->dst;
	parts[4] = op->hop_id;
	parts[5] = p->nodes[op->node].uid;
	parts[6] = seq;
	if (ali_client_token(parts, 7, token) < 0)
		token[0] = '\0';
	rt_mark_desc(c->cfg->cloud.cluster_id, p->nodes[op->node].name, desc);
	return ali_vpc_create_route(c->ali, table, op->dst, op->hop_id, &marks,
				    token[0] ? token : NULL, NULL, err);
}

static int call_batch(struct rt_ctl *c, struct rt_pass *p,
		      const struct rt_step *s, struct ali_route_failure **f,
		      size_t *nf, struct ali_error *err)
{
	const struct rt_op *ops = step_ops(p, s);
	struct ali_route_req rows[RT_MAX_BATCH];
	/* 12 KiB: off the stack; the worker has one thread */
	static char desc[RT_MAX_BATCH][RT_MARK_DESC_MAX];
	size_t i;

	memset(rows, 0, sizeof(rows));
	for (i = 0; i < s->count && i < RT_MAX_BATCH; i++) {
		rows[i].table_id = c->tables[s->table];
		rows[i].cidr = ops[i].dst;
		rows[i].next_hop_id = ops[i].hop_id;
		if (s->del)
			continue;
		rt_mark_desc(c->cfg->cloud.cluster_id,
			     p->nodes[ops[i].node].name, desc[i]);
		rows[i].name = c->mark;
		rows[i].description = desc[i];
	}
	if (s->del)
		return ali_vpc_delete_routes(c->ali, rows, i, f, nf, err);
	return ali_vpc_create_routes(c->ali, rows, i, f, nf, err);
}

/* A busy table: try the same step again later, up to a limit. */
static int requeue(struct rt_pass *p, struct rt_step *s, int64_t now)
{
	if (++s->attempts >= RT_STEP_ATTEMPTS)
		return 0;
	p->free_at[s->table] = now + ((int64_t)RT_SETTLE_MS << s->attempts);
	return 1;
}

static void settle(struct rt_ctl *c, struct rt_pass *p, struct rt_step *s,
		   int rc, const struct ali_error *err,
		   struct ali_route_failure *f, size_t nf)
{
	enum rt_result res = rt_result_of(rc, err);
	char msg[700];

	snprintf(msg, sizeof(msg), "%s: %s", err->code, err->message);
	if (rc == ALI_E_API && s->count == 1)
		res = rt_row_result(err->code, s->del);
	else if (rc == ALI_E_API && !ali_code_retryable(err->code))
		res = RT_RES_FAIL;
	if (res == RT_RES_BUSY && requeue(p, s, clock_mono_ms())) {
		log_v(2, "route table %s busy (%s): step retried later",
		      c->tables[s->table], err->code);
		return;
	}
	s->done = 1;
	if (res == RT_RES_FENCED) {
		p->fenced = 1;
		return;
	}
	if (rc == 0 && f)
		rows_from_failures(c, p, s, f, nf);
	else
		rows_all(c, p, s, res == RT_RES_BUSY ? RT_RES_RETRY : res, msg);
	if (res == RT_RES_RETRY || res == RT_RES_BUSY) {
		log_warn("route table %s: %s; listing again later",
			 c->tables[s->table], msg);
		p->failed = 1;
	}
}

static void run_step(struct rt_ctl *c, struct rt_pass *p, struct rt_step *s)
{
	struct ali_route_failure *f = NULL;
	struct ali_error err;
	size_t nf = 0;
	int rc;

	ali_error_clear(&err);
	if (s->count == 1)
		rc = call_single(c, p, s, &err);
	else
		rc = call_batch(c, p, s, &f, &nf, &err);
	settle(c, p, s, rc, &err, f, nf);
	free(f);
	if (rc != -EPERM)
		p->free_at[s->table] =
			p->free_at[s->table] > clock_mono_ms() + RT_SETTLE_MS
				? p->free_at[s->table]
				: clock_mono_ms() + RT_SETTLE_MS;
}

static void abort_rest(struct rt_pass *p)
{
	size_t i;

	for (i = 0; i < p->n_steps; i++)
		p->steps[i].done = 1;
}

void rt_exec_on_timer(struct rt_ctl *c)
{
	struct rt_pass *p = c->pass;
	int64_t now = clock_mono_ms(), wake = -1;
	unsigned char *seen;
	size_t i;

	if (!p)
		return;
	if (p->fenced)
		abort_rest(p);
	seen = calloc(c->n_tables + 1, 1);
	for (i = 0; seen && i < p->n_steps; i++) {
		struct rt_step *s = &p->steps[i];

		if (s->done || seen[s->table])
			continue;
		seen[s->table] = 1; /* later steps of this table wait */
		if (p->free_at[s->table] <= now) {
			run_step(c, p, s);
			wake = 0;
			break;
		}
		if (wake < 0 || p->free_at[s->table] - now < wake)
			wake = p->free_at[s->table] - now;
	}
	if (!seen)
		wake = 1000; /* out of memory: try again soon */
	free(seen);
	if (wake < 0)
		rt_pass_finish(c);
	else
		rt_exec_kick(c, wake);
}
