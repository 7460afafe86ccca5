/*
 * sup_lock - one leader-election lock object (a Lease, or the legacy
 * Endpoints annotation lock): client-go's tryAcquireOrRenew split into
 * steps that do no I/O, so the election loop can send the requests
 * asynchronously.
 *
 *   GET sup_lock_path()   -> sup_lock_got(rc, obj)
 *   sup_lock_wait_ms()    -> 0 when this candidate may write now
 *   sup_lock_write_req()  -> POST (missing) or PUT with the object's
 *                            resourceVersion (a 409 means someone else
 *                            wrote first) -> sup_lock_wrote(rc)
 *
 * Expiry: another holder's record is expired when it has not changed for
 * max(own lease duration, the record's leaseDurationSeconds capped at
 * SUP_LOCK_RECORD_CAP_MS) since this process saw it change, on the boot
 * clock (clock_boot_ms: counts through suspend). The record's timestamps
 * are never compared with the local clock. Honouring a longer record lets
 * an old leader with a longer lease keep it; the cap keeps one bad record
 * from blocking failover forever. This binds this CCM's candidates only.
 *
 * OWNERSHIP: sup_lock_new/_free; sup_lock_got takes obj.
 */
#ifndef CCM_SUP_LOCK_H
#define CCM_SUP_LOCK_H

#include <stdint.h>

#include "lib/buf.h"
#include "supervisor/sup_record.h"

struct json;
struct sup_lock;

#define SUP_LOCK_RECORD_CAP_MS 300000LL /* 5 min */

enum sup_lock_kind {
	SUP_LOCK_LEASE = 0,
	SUP_LOCK_ENDPOINTS,
};

/* A write to send: method "POST" or "PUT", path, body in the caller's
 * buffer. */
struct sup_lock_write {
	const char *method;
	const char *path;
};

int sup_lock_new(enum sup_lock_kind kind, const char *ns, const char *name,
		 struct sup_lock **ret);
void sup_lock_free(struct sup_lock *l);
const char *sup_lock_path(const struct sup_lock *l);

/* The answer to GET sup_lock_path(): rc 0 with the object, -ENOENT (no
 * object yet), or another error (returned, nothing observed). Takes obj
 * in every case. now_boot is the local time of the observation. */
int sup_lock_got(struct sup_lock *l, int rc, struct json *obj,
		 int64_t now_boot);
/* How long until me may take the lock by own observation: 0 when it is
 * missing, unheld, mine or expired; own_lease_ms is our own flag. */
int64_t sup_lock_wait_ms(const struct sup_lock *l, const char *me,
			 int64_t own_lease_ms, int64_t now_boot);
/* The write that acquires or renews for me (wall clock for the record's
 * times). */
int sup_lock_write_req(struct sup_lock *l, const char *me, int64_t lease_ms,
		       struct buf *b, struct sup_lock_write *w);
/* The write that gives the lock up (holder "", duration 1 s, as client-go
 * ReleaseOnCancel): 1 with w filled when the last GET showed me as the
 * holder, 0 when there is nothing of ours to give up. */
int sup_lock_release_req(struct sup_lock *l, const char *me, struct buf *b,
			 struct sup_lock_write *w);
/* The answer to the last write; on success the written record counts as
 * observed at now_boot. */
void sup_lock_wrote(struct sup_lock *l, int rc, int64_t now_boot);

const struct sup_record *sup_lock_observed(const struct sup_lock *l);
const char *sup_lock_describe(const struct sup_lock *l); /* "lease ns/x" */

#endif
