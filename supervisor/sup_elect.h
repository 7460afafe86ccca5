/*
 * sup_elect - leader election driven by the supervisor's event loop.
 *
 * Candidates try every retry period plus jitter (client-go JitterUntil,
 * factor 1.2); the leader renews every retry period. With lock types
 * endpoints/endpointsleases the Endpoints annotation lock is taken first
 * and the Lease second, and the supervisor leads only while it holds both,
 * so an old CCM holding either lock is respected.
 *
 * Outcomes go to sup_on_leading / sup_on_renewed / sup_on_lost with the
 * CLOCK_MONOTONIC time the successful write was sent. Losing: a renew that
 * shows another holder, or no successful renew within the renew deadline.
 *
 * OWNERSHIP: sup_elect_new/_free; struct sup is borrowed.
 */
#ifndef CCM_SUP_ELECT_H
#define CCM_SUP_ELECT_H

struct sup;
struct sup_elect;

int sup_elect_new(struct sup *s, struct sup_elect **ret);
void sup_elect_free(struct sup_elect *e);
void sup_elect_start(struct sup_elect *e);
/* Gives the locks up when held (graceful handover). */
void sup_elect_release(struct sup_elect *e);
int sup_elect_leading(const struct sup_elect *e);
/* The lock request timeout: min(5 s, renew deadline / 2). */
long long sup_elect_timeout_ms(long long renew_deadline_ms);

#endif
