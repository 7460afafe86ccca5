/*
 * sup_record - the leader election record and its two wire forms.
 *
 * A Lease carries it in spec (MicroTime: UTC, exactly 6 fractional digits,
 * "leaseTransitions"); the legacy Endpoints lock carries it as JSON in the
 * annotation control-plane.alpha.kubernetes.io/leader (metav1.Time: second
 * precision, "leaderTransitions"). Times are wall-clock ms, for humans
 * only: election decisions use the local monotonic clock.
 *
 * Pure functions over caller buffers; no allocation beyond struct buf.
 */
#ifndef CCM_SUP_RECORD_H
#define CCM_SUP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct json;

#define SUP_LEADER_ANNOTATION "control-plane.alpha.kubernetes.io/leader"

struct sup_record {
	char holder[256];
	long long duration_s;
	int64_t acquire_ms, renew_ms; /* wall clock; 0 = unset */
	long long transitions;
};

/* "2021-03-04T10:11:12.123000Z" (out >= 32 bytes). */
void sup_time_micro(int64_t wall_ms, char *out, size_t len);
/* "2021-03-04T10:11:12Z" (out >= 24 bytes). */
void sup_time_rfc3339(int64_t wall_ms, char *out, size_t len);
/* RFC3339 with optional fraction and Z or +hh:mm; -EINVAL otherwise. */
int sup_time_parse(const char *s, int64_t *wall_ms);

/* From a Lease object's spec (missing fields are zero). */
void sup_record_from_lease(const struct json *lease, struct sup_record *r);
/* From the annotation text; -EINVAL when it is not a record. */
int sup_record_from_annotation(const char *text, struct sup_record *r);
/* Canonical text for change detection ("raw record"). */
void sup_record_key(const struct sup_record *r, char *out, size_t len);
/* {"holderIdentity":...} as a Lease spec. */
int sup_record_lease_spec(struct buf *b, const struct sup_record *r);
/* The annotation's JSON text (to be embedded as a string). */
int sup_record_annotation(struct buf *b, const struct sup_record *r);

#endif
