#include "kube/kube_lines.h"

#include <errno.h>
#include <string.h>

void kube_lines_init(struct kube_lines *l, size_t max)
{
	buf_init(&l->line, max);
	l->skipping = 0;
	l->oversize = 0;
}

void kube_lines_done(struct kube_lines *l)
{
	buf_done(&l->line);
}

void kube_lines_reset(struct kube_lines *l)
{
	buf_reset(&l->line);
	l->skipping = 0;
}

static int emit(struct kube_lines *l, kube_line_cb cb, void *ctx)
{
	size_t len = l->line.len;
	int r = 0;

	if (len && l->line.data[len - 1] == '\r')
		len--;
	if (len)
		r = cb(ctx, l->line.data, len);
	buf_reset(&l->line);
	return r;
}

/* Appends a piece of the current line, switching to skip mode on overflow. */
static void take(struct kube_lines *l, const char *p, size_t n)
{
	if (l->skipping || !n)
		return;
	if (buf_append(&l->line, p, n) < 0) {
		l->oversize++;
		l->skipping = 1;
		buf_reset(&l->line);
	}
}

int kube_lines_feed(struct kube_lines *l, const char *p, size_t n,
		    kube_line_cb cb, void *ctx)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		int r = 0;

		take(l, p, k);
		if (!nl)
			return 0;
		if (l->skipping)
			l->skipping = 0;
		else
			r = emit(l, cb, ctx);
		p += k + 1;
		n -= k + 1;
		if (r < 0)
			return r;
	}
	return 0;
}
