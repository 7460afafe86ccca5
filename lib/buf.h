/*
 * buf - a growable byte buffer with a hard cap.
 *
 * Everything read from outside (HTTP bodies, watch streams, files) goes
 * through a buf whose cap bounds memory. buf_append returns -E2BIG when the
 * cap would be exceeded and leaves the buffer unchanged. The data is always
 * NUL-terminated (not counted in len) so text can be used in place.
 * Memory a buf gives back (buf_done, growth) is wiped first: bodies carry
 * signed requests, tokens and credentials.
 */
#ifndef CCM_BUF_H
#define CCM_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;   /* allocated */
	size_t limit; /* maximum len */
};

void buf_init(struct buf *b, size_t limit);
void buf_done(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (consumed input). */
void buf_consume(struct buf *b, size_t n);

#endif
