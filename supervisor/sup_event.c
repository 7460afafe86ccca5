/*
 * sup_event - Events on the Lease; see sup_event.h.
 */
#include "supervisor/sup.h"
#include "supervisor/sup_event.h"

#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "kube/kube_client.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup_record.h"

static int event_body(struct sup *s, struct buf *b, const char *type,
		      const char *reason, const char *message)
{
	const struct cfg *c = s->cfg;
	static unsigned seq;
	int64_t wall = clock_wall_ms();
	char ts[40];
	int e = 0;

	sup_time_rfc3339(wall, ts, sizeof(ts));
	e |= buf_printf(b,
			"{\"apiVersion\":\"v1\",\"kind\":\"Event\","
			"\"metadata\":{\"name\":\"%s.%llx\",\"namespace\":"
			"\"%s\"},\"involvedObject\":{\"kind\":\"Lease\","
			"\"apiVersion\":\"coordination.k8s.io/v1\","
			"\"namespace\":\"%s\",\"name\":\"%s\"},",
			c->lock_name,
			(unsigned long long)wall * 1000000ULL + seq++,
			c->lock_namespace, c->lock_namespace, c->lock_name);
	e |= buf_printf(b, "\"reason\":\"%s\",\"type\":\"%s\",\"message\":",
			reason, type);
	e |= json_buf_str(b, message);
	e |= buf_printf(b,
			",\"source\":{\"component\":"
			"\"cloud-controller-manager\"},\"firstTimestamp\":"
			"\"%s\",\"lastTimestamp\":\"%s\",\"count\":1}",
			ts, ts);
	return e;
}

void sup_event_post(struct sup *s, const char *type, const char *reason,
		    const char *message)
{
	char path[256];
	struct kube_resp r;
	struct buf b;
	int rc;

	if (s->kube == NULL)
		return;
	buf_init(&b, 16384);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events",
		 s->cfg->lock_namespace);
	kube_resp_init(&r);
	rc = event_body(s, &b, type, reason, message)
		     ? -1
		     : kube_create(s->kube, path, b.data, &r);
	if (rc < 0)
		log_v(2, "event %s not recorded (HTTP %ld)", reason, r.status);
	kube_resp_done(&r);
	buf_done(&b);
}
