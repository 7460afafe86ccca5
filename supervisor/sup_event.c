/*
 * sup_event - Events on the Lease through the shared recorder; see
 * sup_event.h.
 */
#include "supervisor/sup.h"
#include "supervisor/sup_event.h"

#include <unistd.h>

#include "config/cfg.h"
#include "kube/kube_event.h"

int sup_event_new(struct sup *s)
{
	char host[256] = "";

	if (s->kube == NULL)
		return 0;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	return kube_recorder_new(s->kube, "cloud-controller-manager", host,
				 &s->rec);
}

void sup_event_free(struct sup *s)
{
	kube_recorder_free(s->rec);
	s->rec = NULL;
}

void sup_event_post(struct sup *s, const char *type, const char *reason,
		    const char *message)
{
	struct kube_objref ref = {
		.kind = "Lease",
		.api_version = "coordination.k8s.io/v1",
		.namespace = s->cfg->lock_namespace,
		.name = s->cfg->lock_name,
		.uid = "",
	};

	if (s->rec)
		kube_event(s->rec, &ref, type, reason, "%s", message);
}
