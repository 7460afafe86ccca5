/*
 * sup_event - Events on the Lease, posted asynchronously; see
 * sup_event.h.
 */
#include "supervisor/sup.h"
#include "supervisor/sup_event.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg.h"
#include "kube/kube_async.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "supervisor/sup_record.h"

struct sup_events {
	struct kube_async *ka;
	char host[256];
	unsigned seq;
	long logged_status; /* last failure status logged, + 1 */
	struct sup_event_stats st;
};

int sup_event_new(struct sup *s)
{
	struct sup_events *ev;
	int r;

	if (s->kube == NULL)
		return 0;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return -ENOMEM;
	if (gethostname(ev->host, sizeof(ev->host) - 1) < 0)
		ev->host[0] = '\0';
	r = kube_async_new(s->kube, s->base, &ev->ka);
	if (r < 0) {
		free(ev);
		return r;
	}
	s->events = ev;
	return 0;
}

void sup_event_free(struct sup *s)
{
	if (s->events == NULL)
		return;
	kube_async_free(s->events->ka);
	free(s->events);
	s->events = NULL;
}

size_t sup_event_pending(const struct sup *s)
{
	return s->events ? kube_async_pending(s->events->ka) : 0;
}

void sup_event_get_stats(const struct sup *s, struct sup_event_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (s->events)
		*out = s->events->st;
}

static void on_posted(void *ctx, int rc, struct kube_resp *resp)
{
	struct sup_events *ev = ctx;

	if (rc == 0) {
		ev->st.created++;
		return;
	}
	ev->st.failed++;
	if (ev->logged_status != resp->status + 1)
		log_v(4, "event create failed: HTTP %ld (%s)", resp->status,
		      strerror(-rc));
	ev->logged_status = resp->status + 1;
}

static int build(struct sup *s, struct buf *b, const char *name,
		 const char *type, const char *reason, const char *msg)
{
	char ts[40];
	int e = 0;

	sup_time_rfc3339(clock_wall_ms(), ts, sizeof(ts));
	e |= buf_puts(b, "{\"apiVersion\":\"v1\",\"kind\":\"Event\","
			 "\"metadata\":{\"name\":");
	e |= json_buf_str(b, name);
	e |= buf_puts(b, ",\"namespace\":");
	e |= json_buf_str(b, s->cfg->lock_namespace);
	e |= buf_puts(b, "},\"involvedObject\":{\"kind\":\"Lease\","
			 "\"apiVersion\":\"coordination.k8s.io/v1\","
			 "\"namespace\":");
	e |= json_buf_str(b, s->cfg->lock_namespace);
	e |= buf_puts(b, ",\"name\":");
	e |= json_buf_str(b, s->cfg->lock_name);
	e |= buf_puts(b, ",\"uid\":\"\"},\"reason\":");
	e |= json_buf_str(b, reason);
	e |= buf_puts(b, ",\"message\":");
	e |= json_buf_str(b, msg);
	e |= buf_puts(b, ",\"type\":");
	e |= json_buf_str(b, type);
	e |= buf_puts(b, ",\"source\":{\"component\":"
			 "\"cloud-controller-manager\",\"host\":");
	e |= json_buf_str(b, s->events->host);
	e |= buf_printf(b,
			"},\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\","
			"\"count\":1}",
			ts, ts);
	return e ? -E2BIG : 0;
}

void sup_event_post(struct sup *s, const char *type, const char *reason,
		    const char *message)
{
	struct sup_events *ev = s->events;
	struct kube_async_call call = {.method = "POST"};
	char name[320], path[320];
	struct buf b;
	int r;

	if (ev == NULL)
		return;
	if (kube_async_pending(ev->ka) >= SUP_EVENT_INFLIGHT) {
		ev->st.dropped++;
		return;
	}
	/* client-go: <object name>.<hex UnixNano>; seq keeps it unique */
	snprintf(name, sizeof(name), "%.250s.%llx", s->cfg->lock_name,
		 (unsigned long long)clock_wall_ms() * 1000000ull +
			 (ev->seq++ % 1000000u));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events",
		 s->cfg->lock_namespace);
	buf_init(&b, 16u << 10);
	r = build(s, &b, name, type, reason, message);
	call.path = path;
	call.body = b.data;
	call.timeout_ms = s->cfg->kube_timeout_ms;
	if (r == 0)
		r = kube_async_send(ev->ka, &call, on_posted, ev, NULL);
	if (r < 0)
		ev->st.failed++;
	buf_done(&b);
}
