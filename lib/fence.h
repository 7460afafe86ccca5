/*
 * fence - may this process start a mutating call now?
 *
 * A worker acts for a leader whose Lease another candidate may take over at
 * (last renew sent + lease duration). The supervisor passes the time the
 * last successful renew was sent (CLOCK_MONOTONIC ms, same clock in every
 * process of the host) over the status channel; fence_allow() lets a
 * mutating call of up to timeout_ms start only if it ends before
 * renew_sent + lease - 1 s, and never after renew_sent + renew_deadline.
 *
 * Every mutating request of the Kubernetes and cloud clients calls
 * fence_allow() first (Events excepted). Processes without leader election
 * run FENCE_OPEN; --dry-run processes run FENCE_DRY_RUN, where every
 * mutation is refused so the caller logs what it would have done.
 */
#ifndef CCM_FENCE_H
#define CCM_FENCE_H

#include <stdint.h>

enum fence_mode {
	FENCE_OPEN = 0, /* no election: always allowed */
	FENCE_LEASED,	/* allowed inside the lease window */
	FENCE_CLOSED,	/* not (yet) leading */
	FENCE_DRY_RUN,	/* never mutate */
};

void fence_set_mode(enum fence_mode m);
enum fence_mode fence_mode(void);
void fence_set_lease(int64_t renew_sent_ms, int64_t lease_ms,
		     int64_t renew_deadline_ms);
/* 0 when allowed; -EPERM in dry-run; -ETIMEDOUT when fenced. */
int fence_allow(int64_t timeout_ms);
/* Monotonic ms until which no mutation may start (0 when none). */
int64_t fence_deadline_ms(void);

#endif
