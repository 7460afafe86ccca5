/*
 * sup_creds - per-controller tokens; see sup_creds.h.
 */
#include "supervisor/sup_creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc_proto.h"
#include "lib/log.h"

#define MAX_SA	    8
#define RETRY_MS    (INT64_C(5) * 60 * 1000) /* after a refusal */
#define MIN_LIFE_MS (INT64_C(10) * 60 * 1000)

struct entry {
	char sa[64];
	char token[IPC_TOKEN_MAX + 1];
	int64_t issued, expiry, renew_at; /* wall ms */
	int64_t retry_at;		  /* fallback until then */
	int warned, fresh;
};

struct sup_creds {
	struct sup_creds_ops ops;
	struct entry e[MAX_SA];
	int n;
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
	explicit_bzero(c->e, sizeof(c->e));
	free(c);
}

static struct entry *entry(struct sup_creds *c, const char *sa)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->e[i].sa, sa) == 0)
			return &c->e[i];
	if (c->n == MAX_SA)
		return NULL;
	snprintf(c->e[c->n].sa, sizeof(c->e[0].sa), "%s", sa);
	return &c->e[c->n++];
}

static void fall_back(struct sup_creds *c, struct entry *e, const char *why)
{
	explicit_bzero(e->token, sizeof(e->token));
	e->renew_at = 0;
	e->retry_at = c->ops.now_wall_ms() + RETRY_MS;
	if (!e->warned)
		log_warn("per-controller credentials for kube-system/%s are "
			 "unavailable (%s); its worker uses the supervisor's "
			 "credentials",
			 e->sa, why);
	e->warned = 1;
}

static int verify(struct sup_creds *c, struct entry *e,
		  const struct sup_access *checks, char *why, size_t len)
{
	for (const struct sup_access *a = checks; a && a->verb; a++) {
		int r = c->ops.check(c->ops.ctx, e->token, a);

		if (r == 1)
			continue;
		snprintf(why, len, "%s: missing permission %s %s%s%s%s%s",
			 r == 0 ? "access check failed" : "access check error",
			 a->verb, a->group[0] ? a->group : "",
			 a->group[0] ? "/" : "", a->resource,
			 a->ns[0] ? " in namespace " : "", a->ns);
		return -EACCES;
	}
	return 0;
}

static int refresh(struct sup_creds *c, struct entry *e,
		   const struct sup_access *checks)
{
	char why[256] = "";
	int64_t exp = 0, now = c->ops.now_wall_ms(), life;
	int r;

	r = c->ops.token(c->ops.ctx, e->sa, e->token, sizeof(e->token), &exp,
			 why, sizeof(why));
	if (r == 0)
		r = verify(c, e, checks, why, sizeof(why));
	if (r < 0) {
		fall_back(c, e, why[0] ? why : strerror(-r));
		return r;
	}
	/* Lifetime pinned to at least 10 min, as client-go does, so a
	 * skewed expiry cannot make us renew in a loop. */
	life = exp - now;
	if (life < MIN_LIFE_MS)
		life = MIN_LIFE_MS;
	e->issued = now;
	e->expiry = now + life;
	e->renew_at = now + life * 8 / 10;
	e->fresh = 1;
	if (e->warned)
		log_info("per-controller credentials for kube-system/%s are "
			 "now in use",
			 e->sa);
	e->warned = 0;
	return 0;
}

const char *sup_creds_get(struct sup_creds *c, const char *sa,
			  const struct sup_access *checks, int *fresh)
{
	struct entry *e = entry(c, sa);
	int64_t now = c->ops.now_wall_ms();

	*fresh = 0;
	if (e == NULL)
		return NULL;
	if (e->renew_at == 0 && now < e->retry_at)
		return NULL;
	if (e->renew_at == 0 || now >= e->renew_at) {
		if (refresh(c, e, checks) < 0)
			return NULL;
	}
	*fresh = e->fresh;
	e->fresh = 0;
	return e->token;
}

void sup_creds_invalidate(struct sup_creds *c, const char *sa)
{
	struct entry *e = entry(c, sa);

	if (e && e->renew_at)
		e->renew_at = 1; /* in the past: refetch on next get */
}

int64_t sup_creds_renew_at(const struct sup_creds *c, const char *sa)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->e[i].sa, sa) == 0)
			return c->e[i].renew_at;
	return 0;
}
