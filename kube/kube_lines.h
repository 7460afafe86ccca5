/*
 * kube_lines - splits a watch stream into lines with a bounded buffer.
 *
 * A watch response is one JSON object per line, and a hostile or broken
 * server could send a line without end. Bytes accumulate up to max; a
 * longer line is dropped whole (counted in oversize) and the splitter
 * resynchronises at the next newline, so one huge event does not end the
 * stream. Empty lines and a trailing '\r' are ignored.
 *
 * Ownership: embedded by the user (init/done); line pointers passed to the
 * callback are borrowed for the call only.
 */
#ifndef CCM_KUBE_LINES_H
#define CCM_KUBE_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct kube_lines {
	struct buf line;
	int skipping;	   /* inside an oversize line */
	uint64_t oversize; /* lines dropped for size */
};

/* Returns < 0 to stop feeding; that value is returned by kube_lines_feed. */
typedef int (*kube_line_cb)(void *ctx, const char *line, size_t len);

void kube_lines_init(struct kube_lines *l, size_t max);
void kube_lines_done(struct kube_lines *l);
void kube_lines_reset(struct kube_lines *l);
int kube_lines_feed(struct kube_lines *l, const char *p, size_t n,
		    kube_line_cb cb, void *ctx);

#endif
