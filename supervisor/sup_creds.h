/*
 * sup_creds - per-controller bearer tokens (--use-service-account-credentials).
 *
 * For each service account the supervisor asks the TokenRequest API for a
 * token (kube-system/<sa>, expirationSeconds 3600), then checks with
 * SelfSubjectAccessReviews made with that token that it grants the verbs
 * the worker needs. Tokens are renewed at 80 % of their lifetime and when a
 * worker reports a 401. Where TokenRequest is refused or a check fails, the
 * worker runs on the supervisor's credentials and one warning names the
 * missing permission. ServiceAccounts are never created.
 *
 * Token text is secret: it lives only here and on the status channel.
 *
 * Requests never block the supervisor's loop: a worker whose first token
 * is being fetched starts when the fetch ends (ops.ready), a renewal sends
 * the new token when it is ready.
 *
 * OWNERSHIP: sup_creds_new/_free; returned tokens are borrowed until the
 * next call on the same object.
 */
#ifndef CCM_SUP_CREDS_H
#define CCM_SUP_CREDS_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct kube_client;
struct sup_creds;

/* A check: verb on resource (group "" = core) in namespace ("" = all). */
struct sup_access {
	const char *verb, *group, *resource, *ns;
};

/* The API steps, asynchronous: each calls its done callback exactly once,
 * possibly before it returns, unless it returns a negative errno. Tokens
 * and reasons (no secrets) are borrowed for the callback. Injected in
 * tests. */
typedef void (*sup_token_done)(void *arg, int rc, const char *token,
			       int64_t expiry_wall_ms, const char *why);
typedef int (*sup_token_fn)(void *ctx, const char *sa, sup_token_done done,
			    void *arg);
/* result: 1 allowed, 0 denied, < 0 error. */
typedef void (*sup_check_done)(void *arg, int result);
typedef int (*sup_check_fn)(void *ctx, const char *token,
			    const struct sup_access *a, sup_check_done done,
			    void *arg);

struct sup_creds_ops {
	sup_token_fn token;
	sup_check_fn check;
	void *ctx;
	void (*free_ctx)(void *ctx); /* by sup_creds_free, first */
	int64_t (*now_wall_ms)(void);
	/* A fetch for sa ended (token in use, or fallback): send it. */
	void (*ready)(void *arg, const char *sa);
	void *ready_arg;
};

int sup_creds_new(const struct sup_creds_ops *ops, struct sup_creds **ret);
void sup_creds_free(struct sup_creds *c);
/* Real ops on base: TokenRequest with kc, access reviews with check_kc
 * (each review carries the token being checked), all on kube_async, each
 * request bounded by timeout_ms. Both clients and base are borrowed; ops
 * owns what it allocates (freed through ops->free_ctx). */
int sup_creds_kube_ops(struct kube_client *kc, struct kube_client *check_kc,
		       struct event_base *base, int64_t timeout_ms,
		       struct sup_creds_ops *ops);

/* Makes sure sa's token is being obtained or renewed when due (checks
 * ends with a zero entry and must outlive c). Returns 1 when the caller
 * may go on now (a valid token, or the fallback to the supervisor's
 * credentials, warned once per sa), 0 when a first fetch is in flight:
 * ops.ready(sa) follows. A renewal keeps the current token usable until
 * the new one has passed its checks. */
int sup_creds_want(struct sup_creds *c, const char *sa,
		   const struct sup_access *checks);
/* The token in use for sa, NULL for the supervisor's credentials.
 * *fresh is set when it changed since the last call. */
const char *sup_creds_token(struct sup_creds *c, const char *sa, int *fresh);
/* A worker saw 401: the next sup_creds_want fetches a new token. */
void sup_creds_invalidate(struct sup_creds *c, const char *sa);
/* Wall ms at which sa's token must be renewed (0 when none held). */
int64_t sup_creds_renew_at(const struct sup_creds *c, const char *sa);

#endif
