/*
 * kube_event - core/v1 Event recorder with client-go style correlation.
 *
 * kube_event() formats the message and sends it synchronously, best
 * effort: an identical event (same object, type, reason and message)
 * within 10 minutes PATCHes the existing Event's count and lastTimestamp
 * instead of creating a new one (a 404 on that PATCH creates a fresh
 * Event); a per-object token bucket (burst 25, one more every 5 minutes)
 * drops event storms. Events of cluster-scoped objects go to "default".
 * Events never ask the fence. Failures (403 in a terminating namespace,
 * 404 for a deleted namespace, a down API server) are counted and logged
 * at -v=4 the first time for each HTTP status, never returned: an Event is
 * never worth failing a reconcile for. A create that fails because the
 * API server is down or overloaded (transport error, 429, 5xx) is kept in
 * a bounded queue (256; the oldest is dropped and counted when full) and
 * sent again, in order, before the next Event or by kube_recorder_flush.
 *
 * Ownership: the recorder borrows the client (which must outlive it) and
 * copies component and host. ref strings are borrowed for the call.
 */
#ifndef CCM_KUBE_EVENT_H
#define CCM_KUBE_EVENT_H

#include <stdint.h>

#include "kube/kube_client.h"

struct kube_recorder;

struct kube_objref {
	const char *kind;
	const char *namespace; /* NULL or "" for cluster-scoped objects */
	const char *name;
	const char *uid;
	const char *api_version;
	const char *resource_version; /* optional */
};

struct kube_recorder_stats {
	uint64_t created;  /* Events POSTed */
	uint64_t patched;  /* repeats folded into an existing Event */
	uint64_t failed;   /* requests that failed */
	uint64_t filtered; /* dropped by the spam filter */
	uint64_t dropped;  /* dropped because the queue was full */
	uint64_t queued;   /* waiting to be sent again */
	uint64_t deferred; /* repeats not sent during a 429's Retry-After */
};

#define KUBE_EVENT_TYPE_NORMAL	"Normal"
#define KUBE_EVENT_TYPE_WARNING "Warning"

int kube_recorder_new(struct kube_client *c, const char *component,
		      const char *host, struct kube_recorder **ret);
void kube_recorder_free(struct kube_recorder *rec);
void kube_event(struct kube_recorder *rec, const struct kube_objref *ref,
		const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Sends queued Events while the API server answers. */
void kube_recorder_flush(struct kube_recorder *rec);
void kube_recorder_get_stats(const struct kube_recorder *rec,
			     struct kube_recorder_stats *out);

#endif
