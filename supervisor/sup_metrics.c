/*
 * sup_metrics - worker-reported metrics; see sup_metrics.h.
 */
#include "supervisor/sup_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc_proto.h"

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				 0.5,	1,    2.5,   5,	   10,	30};
#define NB (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	char worker[32];
	char name[IPC_METRIC_NAME_MAX];
	char labels[IPC_METRIC_LABELS_MAX];
	int op;
	double value, sum;
	unsigned long long count, bucket[NB];
};

struct sup_metrics {
	struct series s[SUP_METRICS_MAX];
	int n;
};

int sup_metrics_new(struct sup_metrics **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void sup_metrics_free(struct sup_metrics *m)
{
	free(m);
}

static struct series *find(struct sup_metrics *m, const char *worker,
			   const struct ipc_metric *r, int *clash)
{
	*clash = 0;
	for (int i = 0; i < m->n; i++) {
		struct series *s = &m->s[i];

		if (strcmp(s->name, r->name) != 0)
			continue;
		if (s->op != r->op) {
			*clash = 1;
			return NULL;
		}
		if (!strcmp(s->worker, worker) && !strcmp(s->labels, r->labels))
			return s;
	}
	return NULL;
}

int sup_metrics_apply(struct sup_metrics *m, const char *worker,
		      const struct ipc_metric *r)
{
	int clash;
	struct series *s = find(m, worker, r, &clash);

	if (clash)
		return -EINVAL;
	if (s == NULL) {
		if (m->n == SUP_METRICS_MAX)
			return -ENOSPC;
		s = &m->s[m->n++];
		memset(s, 0, sizeof(*s));
		snprintf(s->worker, sizeof(s->worker), "%s", worker);
		memcpy(s->name, r->name, sizeof(s->name));
		memcpy(s->labels, r->labels, sizeof(s->labels));
		s->op = r->op;
	}
	switch (r->op) {
	case IPC_METRIC_COUNTER_ADD:
		if (r->value > 0) /* counters never go down */
			s->value += r->value;
		break;
	case IPC_METRIC_GAUGE_SET:
		s->value = r->value;
		break;
	default:
		s->count++;
		s->sum += r->value;
		for (size_t i = 0; i < NB; i++)
			s->bucket[i] += r->value <= buckets[i];
		break;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct series *x = *(const struct series *const *)a;
	const struct series *y = *(const struct series *const *)b;

	return strcmp(x->name, y->name);
}

static void labels(char *out, size_t len, const struct series *s,
		   const char *extra)
{
	snprintf(out, len, "worker=\"%s\"%s%s%s", s->worker,
		 s->labels[0] ? "," : "", s->labels, extra);
}

static int render_one(const struct series *s, struct buf *b)
{
	char l[IPC_METRIC_LABELS_MAX + 96], le[48];
	int e = 0;

	if (s->op != IPC_METRIC_HIST_OBSERVE) {
		labels(l, sizeof(l), s, "");
		return buf_printf(b, "%s{%s} %.17g\n", s->name, l, s->value);
	}
	for (size_t i = 0; i < NB; i++) {
		snprintf(le, sizeof(le), ",le=\"%g\"", buckets[i]);
		labels(l, sizeof(l), s, le);
		e |= buf_printf(b, "%s_bucket{%s} %llu\n", s->name, l,
				s->bucket[i]);
	}
	labels(l, sizeof(l), s, ",le=\"+Inf\"");
	e |= buf_printf(b, "%s_bucket{%s} %llu\n", s->name, l, s->count);
	labels(l, sizeof(l), s, "");
	e |= buf_printf(b, "%s_sum{%s} %.17g\n%s_count{%s} %llu\n", s->name, l,
			s->sum, s->name, l, s->count);
	return e;
}

static const char *type_of(int op)
{
	if (op == IPC_METRIC_COUNTER_ADD)
		return "counter";
	return op == IPC_METRIC_GAUGE_SET ? "gauge" : "histogram";
}

int sup_metrics_render(const struct sup_metrics *m, struct buf *out)
{
	const struct series *v[SUP_METRICS_MAX] = {0};
	int e = 0;

	for (int i = 0; i < m->n; i++)
		v[i] = &m->s[i];
	/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
	qsort(v, (size_t)m->n, sizeof(v[0]), by_name);
	for (int i = 0; i < m->n; i++) {
		if (i == 0 || strcmp(v[i]->name, v[i - 1]->name) != 0)
			e |= buf_printf(out, "# TYPE %s %s\n", v[i]->name,
					type_of(v[i]->op));
		e |= render_one(v[i], out);
	}
	return e ? -E2BIG : 0;
}
