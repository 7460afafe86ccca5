/*
 * slb_events - Events on a Service (source component service-controller).
 *
 * Best effort by design (kube_event never fails a sync): a namespace that
 * is terminating refuses Events, and cleanup must go on regardless.
 * Cloud errors carry the cloud's code, message and request id, which
 * ali_error keeps free of secrets.
 */
#include <stdarg.h>
#include <stdio.h>

#include "kube/kube_event.h"
#include "lib/log.h"
#include "workers/service_lb/slb_ctl.h"

void slb_event(struct slb_ctl *c, const struct slb_svc *s, int warning,
	       const char *reason, const char *fmt, ...)
{
	struct kube_objref ref = {.kind = "Service",
				  .namespace = s->ns,
				  .name = s->name,
				  .uid = s->uid,
				  .api_version = "v1",
				  .resource_version = s->rv};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (warning)
		log_warn("service %s/%s: %s: %s", s->ns, s->name, reason, msg);
	else
		log_info("service %s/%s: %s: %s", s->ns, s->name, reason, msg);
	kube_event(c->rec, &ref,
		   warning ? KUBE_EVENT_TYPE_WARNING : KUBE_EVENT_TYPE_NORMAL,
		   reason, "%s", msg);
}

void slb_event_cloud_error(struct slb_ctl *c, const struct slb_svc *s,
			   const char *what, const struct ali_error *err)
{
	slb_event(c, s, 1, "SyncLoadBalancerFailed",
		  "Error syncing load balancer: %s: %s: %s (RequestId: %s)",
		  what, err->code[0] ? err->code : "Error", err->message,
		  err->request_id[0] ? err->request_id : "none");
}
