/*
 * sup_creds - per-controller tokens, fetched asynchronously; see
 * sup_creds.h.
 */
#include "supervisor/sup_creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc_proto.h"
#include "lib/log.h"

#define MAX_SA	    8
#define MAX_CHECKS  16
#define RETRY_MS    (INT64_C(5) * 60 * 1000) /* after a refusal */
#define MIN_LIFE_MS (INT64_C(10) * 60 * 1000)

struct sup_creds;
struct entry;

struct check {
	struct entry *e;
	const struct sup_access *a;
};

struct entry {
	struct sup_creds *c;
	char sa[64];
	char token[IPC_TOKEN_MAX + 1]; /* in use */
	char next[IPC_TOKEN_MAX + 1];  /* being checked */
	int64_t next_expiry;
	int64_t issued, expiry, renew_at; /* wall ms */
	int64_t retry_at;		  /* fallback until then */
	int warned, fresh;
	int busy;      /* a fetch is in flight */
	int waiting;   /* checks still out */
	char why[256]; /* first failed check */
	const struct sup_access *checks;
	struct check chk[MAX_CHECKS];
};

struct sup_creds {
	struct sup_creds_ops ops;
	struct entry e[MAX_SA];
	int n;
	int quiet; /* inside sup_creds_want: no ready() re-entry */
};

int sup_creds_new(const struct sup_creds_ops *ops, struct sup_creds **ret)
{
	*ret = calloc(1, sizeof(**ret));
	if (*ret == NULL)
		return -ENOMEM;
	(*ret)->ops = *ops;
	return 0;
}

void sup_creds_free(struct sup_creds *c)
{
	if (c == NULL)
		return;
	if (c->ops.free_ctx) /* cancels what is in flight */
		c->ops.free_ctx(c->ops.ctx);
	explicit_bzero(c->e, sizeof(c->e));
	free(c);
}

static struct entry *find(const struct sup_creds *c, const char *sa)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->e[i].sa, sa) == 0)
			return (struct entry *)&c->e[i];
	return NULL;
}

static struct entry *entry(struct sup_creds *c, const char *sa)
{
	struct entry *e = find(c, sa);

	if (e || c->n == MAX_SA)
		return e;
	e = &c->e[c->n++];
	e->c = c;
	snprintf(e->sa, sizeof(e->sa), "%s", sa);
	return e;
}

static void finish(struct entry *e)
{
	struct sup_creds *c = e->c;

	explicit_bzero(e->next, sizeof(e->next));
	e->busy = 0;
	if (!c->quiet && c->ops.ready)
		c->ops.ready(c->ops.ready_arg, e->sa);
}

static void fall_back(struct entry *e, const char *why)
{
	struct sup_creds *c = e->c;

	explicit_bzero(e->token, sizeof(e->token));
	e->renew_at = 0;
	e->retry_at = c->ops.now_wall_ms() + RETRY_MS;
	if (!e->warned)
		log_warn("per-controller credentials for kube-system/%s are "
			 "unavailable (%s); its worker uses the supervisor's "
			 "credentials",
			 e->sa, why);
	e->warned = 1;
	finish(e);
}

static void install(struct entry *e)
{
	int64_t now = e->c->ops.now_wall_ms(), life;

	/* Lifetime pinned to at least 10 min, as client-go does, so a
	 * skewed expiry cannot make us renew in a loop. */
	life = e->next_expiry - now;
	if (life < MIN_LIFE_MS)
		life = MIN_LIFE_MS;
	memcpy(e->token, e->next, sizeof(e->token));
	e->issued = now;
	e->expiry = now + life;
	e->renew_at = now + life * 8 / 10;
	e->fresh = 1;
	if (e->warned)
		log_info("per-controller credentials for kube-system/%s are "
			 "now in use",
			 e->sa);
	e->warned = 0;
	finish(e);
}

static void on_check(void *arg, int result)
{
	struct check *k = arg;
	struct entry *e = k->e;
	const struct sup_access *a = k->a;

	if (result != 1 && !e->why[0])
		snprintf(e->why, sizeof(e->why),
			 "%s: missing permission %s %s%s%s%s%s",
			 result == 0 ? "access check failed"
				     : "access check error",
			 a->verb, a->group[0] ? a->group : "",
			 a->group[0] ? "/" : "", a->resource,
			 a->ns[0] ? " in namespace " : "", a->ns);
	if (--e->waiting > 0)
		return;
	if (e->why[0])
		fall_back(e, e->why);
	else
		install(e);
}

/* All checks at once; one pending count, so a callback that runs before
 * its start returns cannot finish the entry early. */
static void start_checks(struct entry *e)
{
	struct sup_creds *c = e->c;
	int n = 0, r;

	e->why[0] = '\0';
	e->waiting = 1;
	for (const struct sup_access *a = e->checks;
	     a && a->verb && n < MAX_CHECKS; a++, n++) {
		e->chk[n] = (struct check){e, a};
		e->waiting++;
		r = c->ops.check(c->ops.ctx, e->next, a, on_check, &e->chk[n]);
		if (r < 0)
			on_check(&e->chk[n], r);
	}
	on_check(&(struct check){e, NULL}, 1);
}

static void on_token(void *arg, int rc, const char *token, int64_t expiry,
		     const char *why)
{
	struct entry *e = arg;

	if (rc == 0 &&
	    (token == NULL || !token[0] || strlen(token) >= sizeof(e->next)))
		rc = -EPROTO;
	if (rc < 0) {
		fall_back(e, why && why[0] ? why : strerror(-rc));
		return;
	}
	snprintf(e->next, sizeof(e->next), "%s", token);
	e->next_expiry = expiry;
	start_checks(e);
}

static int due(const struct entry *e, int64_t now)
{
	if (e->renew_at == 0)
		return now >= e->retry_at;
	return now >= e->renew_at;
}

int sup_creds_want(struct sup_creds *c, const char *sa,
		   const struct sup_access *checks)
{
	struct entry *e = entry(c, sa);
	int r, first;

	if (e == NULL)
		return 1;
	e->checks = checks;
	first = e->renew_at == 0;
	if (!e->busy && due(e, c->ops.now_wall_ms())) {
		e->busy = 1;
		c->quiet = 1;
		r = c->ops.token(c->ops.ctx, sa, on_token, e);
		if (r < 0)
			on_token(e, r, NULL, 0, NULL);
		c->quiet = 0;
	}
	/* a renewal keeps the current token meanwhile */
	return !(e->busy && first);
}

const char *sup_creds_token(struct sup_creds *c, const char *sa, int *fresh)
{
	struct entry *e = find(c, sa);

	*fresh = 0;
	if (e == NULL || e->renew_at == 0)
		return NULL;
	*fresh = e->fresh;
	e->fresh = 0;
	return e->token;
}

void sup_creds_invalidate(struct sup_creds *c, const char *sa)
{
	struct entry *e = find(c, sa);

	if (e && e->renew_at)
		e->renew_at = 1; /* in the past: refetch on next want */
}

int64_t sup_creds_renew_at(const struct sup_creds *c, const char *sa)
{
	const struct entry *e = find(c, sa);

	return e ? e->renew_at : 0;
}
