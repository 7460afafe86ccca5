/*
 * kube_yaml_scan - characters and scalars of the kubeconfig YAML reader.
 *
 * The scalar rules (where a plain scalar stops, how line breaks fold, the
 * escapes of double quotes) follow the YAML 1.1 reference scanners that
 * go-yaml and PyYAML share, so the same text gives the same string. Tabs
 * outside quotes and comments are refused: the scanners disagree on them.
 */
#include "kube/kube_yaml_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ky_err(struct ky *p, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (!p->err || !p->errlen)
		return -EINVAL;
	off = snprintf(p->err, p->errlen, "line %d, column %d: ", p->line,
		       ky_col(p) + 1);
	if (off < 0 || (size_t)off >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + off, p->errlen - (size_t)off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *ky_what(struct ky *p)
{
	unsigned char c = (unsigned char)ky_ch(p, 0);

	if (c < 0x21 || c > 0x7e)
		return "character";
	p->what[0] = '\'';
	p->what[1] = (char)c;
	p->what[2] = '\'';
	p->what[3] = '\0';
	return p->what;
}

void ky_adv(struct ky *p)
{
	char c = p->s[p->i];

	if (!c)
		return;
	p->i++;
	if (c == '\n') {
		p->line++;
		p->bol = p->i;
	}
}

static void adv_n(struct ky *p, size_t n)
{
	while (n--)
		ky_adv(p);
}

int ky_at_doc_marker(const struct ky *p)
{
	const char *s = p->s + p->i;

	return ky_col(p) == 0 &&
	       (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0) &&
	       ky_blankz(s[3]);
}

static int tab_err(struct ky *p)
{
	return ky_err(p, "tab character: YAML allows only spaces here "
			 "(tabs may appear only inside quotes and comments)");
}

/* '#' starts a comment only after a blank or at the start of a line. */
static int skip_comment(struct ky *p)
{
	if (p->i > p->bol && p->s[p->i - 1] != ' ')
		return ky_err(p, "'#' must follow a space to start a comment");
	while (ky_ch(p, 0) && ky_ch(p, 0) != '\n')
		ky_adv(p);
	return 0;
}

int ky_skip(struct ky *p)
{
	for (;;) {
		char c = ky_ch(p, 0);

		if (c == ' ' || c == '\n')
			ky_adv(p);
		else if (c == '\t')
			return tab_err(p);
		else if (c == '#') {
			if (skip_comment(p) < 0)
				return -EINVAL;
		} else
			return 0;
	}
}

int ky_expect_eol(struct ky *p)
{
	while (ky_ch(p, 0) == ' ')
		ky_adv(p);
	if (ky_ch(p, 0) == '\t')
		return tab_err(p);
	if (ky_ch(p, 0) == '#')
		return skip_comment(p);
	if (ky_ch(p, 0) == '\n' || ky_ch(p, 0) == '\0')
		return 0;
	return ky_err(p,
		      "unexpected %s after a value; expected a comment "
		      "or the end of the line",
		      ky_what(p));
}

int ky_plain_start(const struct ky *p, int flow)
{
	char c = ky_ch(p, 0), n = ky_ch(p, 1);

	if (!c)
		return 0;
	if (!strchr(" \t\n-?:,[]{}#&*!|>'\"%@`", c))
		return 1;
	return !ky_blankz(n) && (c == '-' || (!flow && (c == '?' || c == ':')));
}

static int put_utf8(struct buf *b, unsigned long cp)
{
	char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, o, n);
}

static int hex_code(struct ky *p, int digits, unsigned long *cp)
{
	*cp = 0;
	for (int k = 0; k < digits; k++) {
		char c = ky_ch(p, 0);
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return ky_err(p, "escape needs %d hexadecimal digits",
				      digits);
		*cp = *cp * 16 + (unsigned long)v;
		ky_adv(p);
	}
	if (*cp == 0)
		return ky_err(p, "escaped NUL (\\0, \\x00, \\u0000) is not "
				 "allowed: the value would be cut short");
	if ((*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return ky_err(p, "escape U+%lX is not a Unicode character",
			      *cp);
	return 0;
}

/* Counts the line breaks of a folded quoted scalar after the first. */
static int quoted_breaks(struct ky *p, int *n)
{
	*n = 0;
	for (;;) {
		if (ky_at_doc_marker(p))
			return ky_err(p, "document marker inside a quoted "
					 "scalar");
		while (ky_ch(p, 0) == ' ' || ky_ch(p, 0) == '\t')
			ky_adv(p);
		if (ky_ch(p, 0) != '\n')
			return 0;
		ky_adv(p);
		(*n)++;
	}
}

static int put_breaks(struct buf *b, int n)
{
	int r = 0;

	while (!r && n-- > 0)
		r = buf_append(b, "\n", 1);
	return r;
}

static int dq_escape(struct ky *p, struct buf *b)
{
	static const char from[] = "abtnvfre \t\"\\/";
	static const char to[] = "\a\b\t\n\v\f\r\033 \t\"\\/";
	static const struct {
		char c;
		unsigned long cp;
	} named[] = {{'N', 0x85}, {'_', 0xa0}, {'L', 0x2028}, {'P', 0x2029}};
	char c = ky_ch(p, 0);
	unsigned long cp;
	const char *hit;
	int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0, n, r;

	if (c == '\n') {
		ky_adv(p);
		r = quoted_breaks(p, &n);
		return r < 0 ? r : put_breaks(b, n);
	}
	if (c == '0')
		return ky_err(p, "escaped NUL (\\0) is not allowed: the value "
				 "would be cut short");
	hit = c ? strchr(from, c) : NULL;
	if (!digits && !hit && (!c || !strchr("N_LP", c)))
		return ky_err(p,
			      "unknown escape: backslash before %s in a "
			      "double-quoted scalar",
			      ky_what(p));
	ky_adv(p);
	if (digits) {
		r = hex_code(p, digits, &cp);
		return r < 0 ? r : put_utf8(b, cp);
	}
	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
		if (named[k].c == c)
			return put_utf8(b, named[k].cp);
	return buf_append(b, &to[hit - from], 1);
}

static int quoted_non_spaces(struct ky *p, int dbl, struct buf *b)
{
	for (;;) {
		char c = ky_ch(p, 0);
		int r;

		if (!dbl && c == '\'' && ky_ch(p, 1) == '\'') {
			r = buf_append(b, "'", 1);
			adv_n(p, 2);
		} else if ((c && !strchr("'\"\\ \t\n", c)) ||
			   (dbl && c == '\'') ||
			   (!dbl && (c == '"' || c == '\\'))) {
			r = buf_append(b, &c, 1);
			ky_adv(p);
		} else if (dbl && c == '\\') {
			ky_adv(p);
			r = dq_escape(p, b);
		} else {
			return 0;
		}
		if (r < 0)
			return r;
	}
}

static int quoted_spaces(struct ky *p, struct buf *b)
{
	size_t start = p->i;
	int n, r;

	while (ky_ch(p, 0) == ' ' || ky_ch(p, 0) == '\t')
		ky_adv(p);
	if (!ky_ch(p, 0))
		return ky_err(p, "quoted scalar not closed before the end");
	if (ky_ch(p, 0) != '\n')
		return buf_append(b, p->s + start, p->i - start);
	ky_adv(p);
	r = quoted_breaks(p, &n);
	if (r < 0)
		return r;
	return n ? put_breaks(b, n) : buf_append(b, " ", 1);
}

int ky_scan_quoted(struct ky *p, struct buf *out)
{
	char q = ky_ch(p, 0);
	int r;

	ky_adv(p);
	r = quoted_non_spaces(p, q == '"', out);
	while (!r && ky_ch(p, 0) != q) {
		r = quoted_spaces(p, out);
		if (!r)
			r = quoted_non_spaces(p, q == '"', out);
	}
	if (!r)
		ky_adv(p);
	return r;
}

/* Where a chunk of a plain scalar ends. */
static size_t plain_chunk(const struct ky *p, int flow)
{
	const char *s = p->s + p->i;
	size_t n = 0;

	for (; !ky_blankz(s[n]); n++) {
		if (s[n] == ':' &&
		    (ky_blankz(s[n + 1]) ||
		     (flow && s[n + 1] && strchr(",[]{}", s[n + 1]))))
			break;
		if (flow && strchr(",?[]{}", s[n]))
			break;
	}
	return n;
}

struct fold {
	char c; /* ' ' or '\n' */
	size_t n;
	size_t at; /* spaces copied from here when c == ' ' and n > 1 */
};

/* 1 when the scalar may go on (spaces or a folded break), 0 when not. */
static int plain_spaces(struct ky *p, struct fold *f)
{
	size_t start = p->i;
	size_t breaks = 0;

	while (ky_ch(p, 0) == ' ')
		ky_adv(p);
	if (ky_ch(p, 0) != '\n') {
		*f = (struct fold){' ', p->i - start, start};
		return p->i > start;
	}
	ky_adv(p);
	if (ky_at_doc_marker(p))
		return 0;
	while (ky_ch(p, 0) == ' ' || ky_ch(p, 0) == '\n') {
		int nl = ky_ch(p, 0) == '\n';

		ky_adv(p);
		breaks += (size_t)nl;
		if (nl && ky_at_doc_marker(p))
			return 0;
	}
	*f = breaks ? (struct fold){'\n', breaks, 0}
		    : (struct fold){' ', 1, (size_t)-1};
	return 1;
}

static int put_fold(struct ky *p, const struct fold *f, struct buf *b)
{
	int r = 0;

	if (f->c == ' ' && f->at != (size_t)-1)
		return buf_append(b, p->s + f->at, f->n);
	for (size_t k = 0; !r && k < f->n; k++)
		r = buf_append(b, &f->c, 1);
	return r;
}

int ky_scan_plain(struct ky *p, int flow, int indent, struct buf *out,
		  int *lines)
{
	struct fold f = {' ', 0, (size_t)-1};
	int start = p->line, r;

	*lines = 0;
	for (;;) {
		size_t n;

		if (ky_ch(p, 0) == '#')
			break;
		n = plain_chunk(p, flow);
		if (!n)
			break;
		if (p->line != start)
			*lines = 1;
		r = put_fold(p, &f, out);
		if (!r)
			r = buf_append(out, p->s + p->i, n);
		if (r < 0)
			return r;
		p->i += n;
		if (!plain_spaces(p, &f) || ky_ch(p, 0) == '#' ||
		    (!flow && ky_col(p) < indent))
			break;
	}
	return 0;
}

/* Decodes one UTF-8 sequence strictly; 0 on malformed input. */
static size_t utf8_decode(const unsigned char *s, size_t left,
			  unsigned long *cp)
{
	size_t n = s[0] < 0x80	 ? 1
		   : s[0] < 0xc2 ? 0
		   : s[0] < 0xe0 ? 2
		   : s[0] < 0xf0 ? 3
		   : s[0] < 0xf5 ? 4
				 : 0;
	static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};

	if (!n || n > left)
		return 0;
	*cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* YAML's printable set, minus its extra line breaks (NEL, LS, PS). */
static int allowed_cp(unsigned long cp)
{
	if (cp < 0x20)
		return cp == '\t' || cp == '\n';
	if (cp >= 0x7f && cp <= 0x9f)
		return 0;
	return cp != 0x2028 && cp != 0x2029 && cp != 0xfffe && cp != 0xffff;
}

int ky_check_input(struct ky *p, const char *text, size_t len, char **ret)
{
	const unsigned char *s = (const unsigned char *)text;
	char *o = malloc(len + KY_PAD);
	size_t i = 0, n = 0, bol = 0;

	if (!o)
		return -ENOMEM;
	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		i = 3;
	p->line = 1;
	while (i < len) {
		unsigned long cp;
		size_t k = utf8_decode(s + i, len - i, &cp);

		if (k == 1 && cp == '\r' && i + 1 < len && s[i + 1] == '\n') {
			i++;
			continue;
		}
		if (!k || !allowed_cp(cp)) {
			free(o);
			p->i = n;
			p->bol = bol;
			if (!k)
				return ky_err(p, "input is not valid UTF-8");
			return ky_err(p,
				      "character U+%04lX is not allowed "
				      "(control or line-separator "
				      "character)",
				      cp);
		}
		memcpy(o + n, s + i, k);
		n += k;
		i += k;
		if (cp == '\n') {
			p->line++;
			bol = n;
		}
	}
	memset(o + n, 0, KY_PAD);
	*ret = o;
	return 0;
}
