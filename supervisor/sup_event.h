/*
 * sup_event - core/v1 Events about the supervisor, on its Lease object,
 * posted asynchronously (kube/kube_async.h) so a slow API server never
 * holds up the supervisor's loop: each POST has the --kube-api-timeout
 * deadline, at most SUP_EVENT_INFLIGHT are in flight, and further Events
 * are dropped (and counted) until one ends. Events are never fenced and
 * never retried; failures are counted and logged at -v=4.
 *
 * Ownership: the sender lives in struct sup (s->events), borrows s->kube
 * and s->base; sup_event_new after both, sup_event_free before them
 * (Events still in flight are then cancelled).
 */
#ifndef CCM_SUP_EVENT_H
#define CCM_SUP_EVENT_H

#include <stddef.h>
#include <stdint.h>

struct sup;

#define SUP_EVENT_INFLIGHT 8

struct sup_event_stats {
	uint64_t created, failed, dropped;
};

int sup_event_new(struct sup *s);
void sup_event_free(struct sup *s);
void sup_event_post(struct sup *s, const char *type, const char *reason,
		    const char *message);
/* Events still in flight (shutdown waits for them, bounded). */
size_t sup_event_pending(const struct sup *s);
void sup_event_get_stats(const struct sup *s, struct sup_event_stats *out);

#endif
