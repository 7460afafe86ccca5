/*
 * sup_elect - leader election driven by the supervisor's event loop,
 * without ever waiting on the network.
 *
 * One election round: GET every lock at once (with lock types
 * endpoints/endpointsleases the Endpoints annotation lock and the Lease,
 * both observed on every round, so a candidate acquires on the first
 * round after both expired by its own observation), then, when every lock
 * is free for us, write them all (acquire or renew). The supervisor leads
 * only while it holds all, so an old CCM holding either is respected.
 * Requests run on kube_async; the whole round, retries included, ends by
 * its deadline: the renew deadline from the round's start, and for a
 * leader no later than last renew_sent + renew deadline. Each request's
 * timeout is what is left of the round, so kube_async retries a 429 after
 * its Retry-After only inside the round; when that does not fit, the
 * request fails at once and so does the round (the next one starts a
 * retry period later). renew_sent stays the first send of a retried
 * write: a conservative start for the fence window. A 409 on a write
 * re-reads and writes again until then (client-go's renew loop), instead
 * of dropping leadership at once.
 *
 * Candidates start a round every retry period plus jitter (client-go
 * JitterUntil, factor 1.2) after the last ended; the leader every retry
 * period. Outcomes go to sup_on_leading / sup_on_renewed / sup_on_lost with
 * the boot-clock time the successful writes were sent (the earliest, the
 * conservative start of the window). Losing: a round that finds another
 * holder, or no successful renew within the renew deadline (a timer, not
 * the round, decides). The leader Event is posted after that timer is
 * re-armed and never delays it.
 *
 * Release (sup_elect_release): after a stop, at not_before (boot ms), GET
 * every lock and give up those the answer shows as ours (holder "", as
 * client-go ReleaseOnCancel); done(arg) runs once when finished either way.
 *
 * OWNERSHIP: sup_elect_new/_free; struct sup is borrowed.
 */
#ifndef CCM_SUP_ELECT_H
#define CCM_SUP_ELECT_H

#include <stdint.h>

struct sup;
struct sup_elect;

struct sup_elect_stats {
	uint64_t rounds;	 /* election rounds started */
	uint64_t acquired_round; /* the round that last acquired, 0 none */
	uint64_t conflicts;	 /* 409s retried inside a round */
	uint64_t failed_rounds;	 /* rounds ended by an error or deadline */
};

int sup_elect_new(struct sup *s, struct sup_elect **ret);
void sup_elect_free(struct sup_elect *e);
void sup_elect_start(struct sup_elect *e);
/* Stops campaigning and renewing (shutdown); leadership is kept until
 * sup_elect_release. */
void sup_elect_stop(struct sup_elect *e);
void sup_elect_release(struct sup_elect *e, int64_t not_before_boot_ms,
		       void (*done)(void *arg), void *arg);
int sup_elect_leading(const struct sup_elect *e);
void sup_elect_get_stats(const struct sup_elect *e,
			 struct sup_elect_stats *out);

#endif
