/*
 * fence - may this process send a mutating request now?
 *
 * A worker acts for a leader whose Lease another candidate may take over at
 * (last renew sent + lease duration). The supervisor passes the time the
 * last successful renew was sent over the status channel, read on
 * CLOCK_BOOTTIME (clock_boot_ms()): it is one clock for every process of
 * the host and, unlike CLOCK_MONOTONIC, keeps counting while the host is
 * suspended, as the candidates' clocks on other hosts do.
 *
 * fence_allow(timeout_ms) lets a mutating request whose whole attempt is
 * bounded by timeout_ms leave the process only if that attempt ends before
 * renew_sent + lease - FENCE_SLACK_MS, and never at or after
 * renew_sent + renew_deadline (where the supervisor itself gives up).
 *
 * Why renew_sent and not the answer's arrival: a candidate can only see
 * our renew after it was sent, so its own expiry timer starts no earlier
 * than renew_sent. FENCE_SLACK_MS (1 s) covers what renew_sent does not:
 * the few ms between fence_allow() and the first byte on the wire, the
 * rate difference of two hosts' clocks over one lease (ppm, well under
 * 1 s for leases of minutes), and the scheduling delay of the timer that
 * ends a request at its timeout. It cannot cover a request the remote end
 * accepted before the deadline and executes after it.
 *
 * Both clients ask fence_allow() as the LAST step before a request leaves
 * the process: after rate-limit waits, credential refresh and signing, so
 * no wait can push a send past the window (Events are exempt). Processes
 * without leader election run FENCE_OPEN; --dry-run processes run
 * FENCE_DRY_RUN, where every mutation is refused so the caller logs what
 * it would have done. A status record older than the one applied never
 * moves the window (records can be read late, never out of their order of
 * sending, but a stale one must not reopen a window).
 */
#ifndef CCM_FENCE_H
#define CCM_FENCE_H

#include <stdint.h>

#define FENCE_SLACK_MS 1000

enum fence_mode {
	FENCE_OPEN = 0, /* no election: always allowed */
	FENCE_LEASED,	/* allowed inside the lease window */
	FENCE_CLOSED,	/* not (yet) leading */
	FENCE_DRY_RUN,	/* never mutate */
};

void fence_set_mode(enum fence_mode m);
enum fence_mode fence_mode(void);
/* Times are clock_boot_ms() values; lease and deadline are durations. */
void fence_set_lease(int64_t renew_sent_ms, int64_t lease_ms,
		     int64_t renew_deadline_ms);
/* 0 when allowed; -EPERM in dry-run; -ETIMEDOUT when fenced. */
int fence_allow(int64_t timeout_ms);
/* fence_allow() at a given clock_boot_ms() time (the arithmetic alone). */
int fence_allow_at(int64_t now_ms, int64_t timeout_ms);
/* Boot-clock ms until which no mutation may start (0 when none). */
int64_t fence_deadline_ms(void);

#endif
