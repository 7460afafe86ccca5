/*
 * sup_event - core/v1 Events about the supervisor, on its Lease object,
 * sent through the shared recorder (kube/kube_event.h), which folds
 * repeats and drops storms. Events are never fenced; failures are only
 * counted by the recorder.
 *
 * Ownership: the recorder lives in struct sup (s->rec), borrows s->kube
 * and is created by sup_event_new after it, freed by sup_event_free
 * before it.
 */
#ifndef CCM_SUP_EVENT_H
#define CCM_SUP_EVENT_H

struct sup;

int sup_event_new(struct sup *s);
void sup_event_free(struct sup *s);
void sup_event_post(struct sup *s, const char *type, const char *reason,
		    const char *message);

#endif
