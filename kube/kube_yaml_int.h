/*
 * kube_yaml_int - the YAML reader's cursor and scalar scanners, shared by
 * kube_yaml.c (structure) and kube_yaml_scan.c (characters and scalars).
 * Internal to kube/.
 */
#ifndef CCM_KUBE_YAML_INT_H
#define CCM_KUBE_YAML_INT_H

#include <stddef.h>

#include "lib/buf.h"

/* NUL bytes after the text, so a lookahead of a few bytes is always safe. */
#define KY_PAD 8

struct ky {
	const char *s; /* checked text: UTF-8, LF line ends, NUL-terminated */
	size_t i;      /* cursor */
	int line;      /* 1-based line of the cursor */
	size_t bol;    /* index of the cursor line's first byte */
	unsigned depth;
	size_t nodes;
	char *err;
	size_t errlen;
	char what[4];
};

static inline char ky_ch(const struct ky *p, size_t k)
{
	return p->s[p->i + k];
}

static inline int ky_col(const struct ky *p)
{
	return (int)(p->i - p->bol);
}

static inline int ky_blankz(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\n';
}

/* Always -EINVAL; err gets "line L, column C: message". */
int ky_err(struct ky *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ky_adv(struct ky *p);
/* The character at the cursor for a message: 'x', or "character". */
const char *ky_what(struct ky *p);
int ky_at_doc_marker(const struct ky *p);
/* Skips spaces, comments and line breaks; a tab is an error. */
int ky_skip(struct ky *p);
/* Only a comment or the end of the line may follow a value. */
int ky_expect_eol(struct ky *p);
int ky_plain_start(const struct ky *p, int flow);
int ky_scan_quoted(struct ky *p, struct buf *out);
/* *lines = 1 when the scalar went on past its first line. */
int ky_scan_plain(struct ky *p, int flow, int indent, struct buf *out,
		  int *lines);
/* Checks the input and returns a LF-only, padded copy (BOM dropped). */
int ky_check_input(struct ky *p, const char *text, size_t len, char **ret);

#endif
