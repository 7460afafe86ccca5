/*
 * sup_lock - one leader-election lock object (a Lease, or the legacy
 * Endpoints annotation lock), with client-go's tryAcquireOrRenew.
 *
 * GET -> POST when missing -> PUT with the object's resourceVersion (a
 * 409 means someone else won). observed_mono is when the record last
 * changed by the local CLOCK_MONOTONIC; the record's own timestamps are
 * never compared with the local clock.
 *
 * OWNERSHIP: sup_lock_new/_free; the kube_client is borrowed.
 */
#ifndef CCM_SUP_LOCK_H
#define CCM_SUP_LOCK_H

#include <stdint.h>

#include "supervisor/sup_record.h"

struct kube_client;
struct sup_lock;

enum sup_lock_kind {
	SUP_LOCK_LEASE = 0,
	SUP_LOCK_ENDPOINTS,
};

enum sup_lock_result {
	SUP_LOCK_HELD = 0, /* another holder, not expired (or lost a race) */
	SUP_LOCK_OURS = 1, /* acquired or renewed */
};

int sup_lock_new(enum sup_lock_kind kind, const char *ns, const char *name,
		 struct sup_lock **ret);
void sup_lock_free(struct sup_lock *l);

/* Returns SUP_LOCK_OURS (sent_mono = when the successful write was sent),
 * SUP_LOCK_HELD, or a negative errno (request failed). */
int sup_lock_try(struct sup_lock *l, struct kube_client *kc, const char *me,
		 int64_t lease_ms, int64_t *sent_mono);
/* Gives the lock up if we hold it (holder "", duration 1 s). */
int sup_lock_release(struct sup_lock *l, struct kube_client *kc,
		     const char *me);
const struct sup_record *sup_lock_observed(const struct sup_lock *l);
const char *sup_lock_describe(const struct sup_lock *l); /* "leases/x" */

#endif
