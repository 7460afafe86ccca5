/*
 * sup_event - core/v1 Events about the supervisor, on its Lease object.
 *
 * Until kube/kube_event.h (the shared recorder) is used here, Events are
 * posted directly with kube_create on /api/v1/namespaces/NS/events.
 * Events are never fenced and failures are only logged at -v=2.
 */
#ifndef CCM_SUP_EVENT_H
#define CCM_SUP_EVENT_H

struct sup;

void sup_event_post(struct sup *s, const char *type, const char *reason,
		    const char *message);

#endif
