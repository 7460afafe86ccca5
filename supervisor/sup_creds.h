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
 * OWNERSHIP: sup_creds_new/_free; returned tokens are borrowed until the
 * next call on the same object.
 */
#ifndef CCM_SUP_CREDS_H
#define CCM_SUP_CREDS_H

#include <stddef.h>
#include <stdint.h>

struct kube_client;
struct sup_creds;

/* A check: verb on resource (group "" = core) in namespace ("" = all). */
struct sup_access {
	const char *verb, *group, *resource, *ns;
};

/* Obtains a token; returns 0 and sets token and expiry (wall ms), or a
 * negative errno with a reason (no secrets) in why. Injected in tests. */
typedef int (*sup_token_fn)(void *ctx, const char *sa, char *token, size_t len,
			    int64_t *expiry_wall_ms, char *why, size_t whylen);
/* 1 allowed, 0 denied, < 0 error. */
typedef int (*sup_check_fn)(void *ctx, const char *token,
			    const struct sup_access *a);

struct sup_creds_ops {
	sup_token_fn token;
	sup_check_fn check;
	void *ctx;
	int64_t (*now_wall_ms)(void);
};

int sup_creds_new(const struct sup_creds_ops *ops, struct sup_creds **ret);
void sup_creds_free(struct sup_creds *c);
/* Real ops: TokenRequest with kc, access reviews with check_kc (its token
 * is replaced per check). Both clients are borrowed. */
void sup_creds_kube_ops(struct kube_client *kc, struct kube_client *check_kc,
			struct sup_creds_ops *ops);

/* The token for sa, fetching or renewing it as needed; NULL means use the
 * supervisor's credentials (warned once per sa). checks ends with a zero
 * entry. *fresh is set when the token changed since the last call. */
const char *sup_creds_get(struct sup_creds *c, const char *sa,
			  const struct sup_access *checks, int *fresh);
/* A worker saw 401: the next sup_creds_get fetches a new token. */
void sup_creds_invalidate(struct sup_creds *c, const char *sa);
/* Wall ms at which sa's token must be renewed (0 when none held). */
int64_t sup_creds_renew_at(const struct sup_creds *c, const char *sa);

#endif
