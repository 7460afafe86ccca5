/*
 * sup_http - health and metrics endpoints; see sup_http.h.
 */
#include "supervisor/sup_http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "supervisor/sup.h"
#include "supervisor/sup_elect.h"
#include "supervisor/sup_event.h"
#include "supervisor/sup_metrics.h"

struct sup_http;

struct listener {
	struct sup_http *h;
	int serves_metrics;
};

struct sup_http {
	struct sup *s;
	struct listener lh, lm;
	struct evhttp *health, *metrics;
};

int sup_http_healthz(struct sup *s, struct buf *out)
{
	int64_t now = clock_mono_ms();
	int ok = 1;

	if (now - s->last_tick_ms > SUP_WATCHDOG_FAILMS ||
	    now < s->stalled_until_ms) {
		buf_puts(out, "[-]supervisor-loop failed: missed its "
			      "watchdog tick\n");
		ok = 0;
	}
	for (int i = 0; i < s->nw; i++)
		if (s->w[i].kill_failed) {
			buf_printf(out,
				   "[-]worker-control failed: cannot kill "
				   "or reap worker %s\n",
				   s->w[i].name);
			ok = 0;
		}
	buf_puts(out, ok ? "ok" : "healthz check failed\n");
	return ok;
}

static void leadership(struct sup *s, struct buf *out)
{
	if (!s->cfg->leader_elect)
		buf_printf(out, "[+]leadership: election disabled%s\n",
			   s->cfg->dry_run ? " (dry-run)" : "");
	else if (s->leading)
		buf_printf(out, "[+]leadership: leader (%s)\n", s->identity);
	else
		buf_printf(out, "[+]leadership: standby (%s)\n", s->identity);
}

int sup_http_readyz(struct sup *s, struct buf *out)
{
	char d[160];
	int ok = 1, wok;

	leadership(s, out);
	for (int i = 0; i < s->nw; i++) {
		sup_worker_describe(s, &s->w[i], d, sizeof(d), &wok);
		buf_printf(out, "[%c]worker %s: %s\n", wok ? '+' : '-',
			   s->w[i].name, d);
		ok &= wok;
	}
	buf_puts(out, ok ? "readyz check passed\n" : "readyz check failed\n");
	return ok;
}

static void worker_metrics(struct sup *s, struct buf *out)
{
	int64_t now = clock_mono_ms();

	buf_puts(out, "# TYPE ccm_worker_up gauge\n");
	for (int i = 0; i < s->nw; i++)
		buf_printf(out, "ccm_worker_up{worker=\"%s\"} %d\n",
			   s->w[i].name, s->w[i].state == WS_UP);
	buf_puts(out, "# TYPE ccm_worker_restarts_total counter\n");
	for (int i = 0; i < s->nw; i++)
		buf_printf(out,
			   "ccm_worker_restarts_total{worker=\"%s\"} %llu\n",
			   s->w[i].name, (unsigned long long)s->w[i].restarts);
	buf_puts(out, "# TYPE ccm_worker_last_heartbeat_seconds gauge\n");
	for (int i = 0; i < s->nw; i++)
		buf_printf(out,
			   "ccm_worker_last_heartbeat_seconds{worker=\"%s\"} "
			   "%.3f\n",
			   s->w[i].name,
			   s->w[i].pid > 0
				   ? (double)(now - s->w[i].last_hb_ms) / 1000
				   : -1.0);
}

static void election_metrics(struct sup *s, struct buf *out)
{
	struct sup_event_stats ev;
	struct sup_elect_stats st;

	sup_event_get_stats(s, &ev);
	buf_printf(out,
		   "# TYPE ccm_events_total counter\n"
		   "ccm_events_total{result=\"created\"} %llu\n"
		   "ccm_events_total{result=\"failed\"} %llu\n"
		   "ccm_events_total{result=\"dropped\"} %llu\n",
		   (unsigned long long)ev.created,
		   (unsigned long long)ev.failed,
		   (unsigned long long)ev.dropped);
	if (s->elect == NULL)
		return;
	sup_elect_get_stats(s->elect, &st);
	buf_printf(out,
		   "# TYPE ccm_leader_election_rounds_total counter\n"
		   "ccm_leader_election_rounds_total %llu\n"
		   "# TYPE ccm_leader_election_failed_rounds_total counter\n"
		   "ccm_leader_election_failed_rounds_total %llu\n"
		   "# TYPE ccm_leader_election_conflicts_total counter\n"
		   "ccm_leader_election_conflicts_total %llu\n"
		   "# TYPE ccm_leader_election_acquired_round gauge\n"
		   "ccm_leader_election_acquired_round %llu\n",
		   (unsigned long long)st.rounds,
		   (unsigned long long)st.failed_rounds,
		   (unsigned long long)st.conflicts,
		   (unsigned long long)st.acquired_round);
}

int sup_http_metrics(struct sup *s, struct buf *out)
{
	buf_printf(out,
		   "# TYPE leader_election_master_status gauge\n"
		   "leader_election_master_status{name=\"%s\"} %d\n",
		   s->cfg->lock_name, s->leading ? 1 : 0);
	election_metrics(s, out);
	worker_metrics(s, out);
	return sup_metrics_render(s->metrics, out) == 0;
}

static void reply(struct evhttp_request *req, int code, const char *ctype,
		  const struct buf *b)
{
	struct evbuffer *eb = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", ctype);
	evbuffer_add(eb, b->data ? b->data : "", b->len);
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct listener *l = arg;
	struct sup_http *h = l->h;
	const char *uri = evhttp_request_get_uri(req);
	size_t n = strcspn(uri, "?");
	struct buf b;
	int ok;

	buf_init(&b, 4u << 20);
	if ((n == 8 && !strncmp(uri, "/healthz", n)) ||
	    (n == 6 && !strncmp(uri, "/livez", n))) {
		ok = sup_http_healthz(h->s, &b);
		reply(req, ok ? 200 : 500, "text/plain", &b);
	} else if (n == 7 && !strncmp(uri, "/readyz", n)) {
		ok = sup_http_readyz(h->s, &b);
		reply(req, ok ? 200 : 500, "text/plain", &b);
	} else if (n == 8 && !strncmp(uri, "/metrics", n) &&
		   l->serves_metrics) {
		sup_http_metrics(h->s, &b);
		reply(req, 200, "text/plain; version=0.0.4", &b);
	} else {
		buf_puts(&b, "not found\n");
		reply(req, 404, "text/plain", &b);
	}
	buf_done(&b);
}

static int disabled(const char *bind)
{
	return !bind[0] || !strcmp(bind, "0");
}

static int listen_on(struct sup_http *h, const char *bind, struct listener *l,
		     struct evhttp **ret)
{
	char host[128];
	const char *colon = strrchr(bind, ':');
	long port;

	if (colon == NULL || (size_t)(colon - bind) >= sizeof(host))
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - bind), bind);
	port = strtol(colon + 1, NULL, 10);
	if (port < 0 || port > 65535)
		return -EINVAL;
	*ret = evhttp_new(h->s->base);
	if (*ret == NULL)
		return -ENOMEM;
	evhttp_set_gencb(*ret, on_request, l);
	evhttp_set_allowed_methods(*ret, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	if (evhttp_bind_socket(*ret, host[0] ? host : "0.0.0.0",
			       (unsigned short)port) < 0) {
		log_error("cannot listen on %s", bind);
		return -EADDRINUSE;
	}
	return 0;
}

int sup_http_new(struct sup *s, struct sup_http **ret)
{
	const struct cfg *c = s->cfg;
	struct sup_http *h = calloc(1, sizeof(*h));
	int r = 0;

	*ret = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->s = s;
	h->lh.h = h->lm.h = h;
	h->lm.serves_metrics = 1;
	h->lh.serves_metrics = !disabled(c->metrics_bind) &&
			       !strcmp(c->metrics_bind, c->health_bind);
	if (!disabled(c->health_bind))
		r = listen_on(h, c->health_bind, &h->lh, &h->health);
	if (r == 0 && !disabled(c->metrics_bind) && !h->lh.serves_metrics)
		r = listen_on(h, c->metrics_bind, &h->lm, &h->metrics);
	if (r < 0) {
		sup_http_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void sup_http_free(struct sup_http *h)
{
	if (h == NULL)
		return;
	if (h->health)
		evhttp_free(h->health);
	if (h->metrics)
		evhttp_free(h->metrics);
	free(h);
}
