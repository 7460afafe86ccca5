/*
 * sup_http - /healthz, /livez, /readyz and /metrics over libevent evhttp.
 *
 * /healthz and /livez fail only when the supervisor itself is unhealthy:
 * its loop missed its watchdog tick for 10 s, or it cannot kill or reap a
 * worker. /readyz lists leadership and each worker. /metrics is
 * Prometheus text; it may share the health port. "" or "0" disables a
 * listener.
 *
 * OWNERSHIP: sup_http_new/_free; struct sup is borrowed.
 */
#ifndef CCM_SUP_HTTP_H
#define CCM_SUP_HTTP_H

#include "lib/buf.h"

struct sup;
struct sup_http;

/* -EADDRINUSE / -EINVAL for a listener that cannot be bound. */
int sup_http_new(struct sup *s, struct sup_http **ret);
void sup_http_free(struct sup_http *h);

/* Exposed for tests: 1 healthy; the text goes to out. */
int sup_http_healthz(struct sup *s, struct buf *out);
int sup_http_readyz(struct sup *s, struct buf *out);
int sup_http_metrics(struct sup *s, struct buf *out);

#endif
