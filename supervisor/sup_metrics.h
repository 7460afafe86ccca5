/*
 * sup_metrics - counters, gauges and histograms that workers report over
 * the status channel, kept by the supervisor and served as Prometheus
 * text. Each series gets a worker="NAME" label. Counters survive worker
 * restarts (they only go up). The store is bounded (SUP_METRICS_MAX
 * series); reports beyond it are dropped.
 *
 * OWNERSHIP: sup_metrics_new/_free.
 */
#ifndef CCM_SUP_METRICS_H
#define CCM_SUP_METRICS_H

#include "lib/buf.h"

#define SUP_METRICS_MAX 512

struct ipc_metric;
struct sup_metrics;

int sup_metrics_new(struct sup_metrics **ret);
void sup_metrics_free(struct sup_metrics *m);
/* 0, -ENOSPC (store full), -EINVAL (type clash with an existing name). */
int sup_metrics_apply(struct sup_metrics *m, const char *worker,
		      const struct ipc_metric *r);
int sup_metrics_render(const struct sup_metrics *m, struct buf *out);

#endif
