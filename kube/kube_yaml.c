#include "kube/kube_yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct yline {
	int indent;
	int lineno;
	char *text; /* comment and trailing blanks removed; points into copy */
};

struct yparser {
	struct yline *l;
	size_t n;
	size_t pos;
	unsigned depth;
	char *err;
	size_t errlen;
};

static int yerr(struct yparser *p, int lineno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int yerr(struct yparser *p, int lineno, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (!p->err || !p->errlen)
		return -EINVAL;
	off = snprintf(p->err, p->errlen, "line %d: ", lineno);
	if (off < 0 || (size_t)off >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + off, p->errlen - (size_t)off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static struct json *node_new(enum json_type t)
{
	struct json *v = calloc(1, sizeof(*v));

	if (v)
		v->type = t;
	return v;
}

static int node_set_str(struct json *v, const char *s, size_t len)
{
	v->str = malloc(len + 1);
	if (!v->str)
		return -ENOMEM;
	memcpy(v->str, s, len);
	v->str[len] = '\0';
	v->len = len;
	return 0;
}

/* Takes ownership of child and key (key NULL for arrays), even on error. */
static int node_add(struct json *parent, char *key, struct json *child)
{
	if (parent->n == parent->cap) {
		size_t ncap = parent->cap ? parent->cap * 2 : 4;
		struct json **ni =
			realloc(parent->items, ncap * sizeof(struct json *));

		if (!ni)
			goto fail;
		parent->items = ni;
		if (parent->type == JSON_OBJECT) {
			char **nk = realloc(parent->keys, ncap * sizeof(*nk));

			if (!nk)
				goto fail;
			parent->keys = nk;
		}
		parent->cap = ncap;
	}
	parent->items[parent->n] = child;
	if (parent->type == JSON_OBJECT)
		parent->keys[parent->n] = key;
	parent->n++;
	return 0;
fail:
	free(key);
	json_free(child);
	return -ENOMEM;
}

/* Cuts a comment: '#' at the start or after a blank, outside quotes. */
static void strip_comment(char *s)
{
	char q = 0;
	char *p;

	for (p = s; *p; p++) {
		if (q) {
			if (*p == q && q == '"' && p[-1] == '\\')
				continue;
			if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'') {
			if (p == s || p[-1] == ' ' || p[-1] == '\t' ||
			    p[-1] == ':' || p[-1] == '-' || p[-1] == '[' ||
			    p[-1] == '{' || p[-1] == ',')
				q = *p;
		} else if (*p == '#' &&
			   (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	p = s + strlen(s);
	while (p > s && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r'))
		*--p = '\0';
}

/* Splits the copy into significant lines. */
static int split_lines(struct yparser *p, char *copy)
{
	char *line = copy, *next;
	int lineno = 0;

	for (; line; line = next) {
		char *t = line;
		int ind = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (*t == ' ') {
			t++;
			ind++;
		}
		if (*t == '\t')
			return yerr(p, lineno, "tab in indentation");
		strip_comment(t);
		if (!*t || (ind == 0 && strcmp(t, "---") == 0))
			continue;
		if (ind == 0 && strcmp(t, "...") == 0)
			break;
		if (*t == '%')
			return yerr(p, lineno, "directives not supported");
		p->l[p->n].indent = ind;
		p->l[p->n].lineno = lineno;
		p->l[p->n].text = t;
		p->n++;
	}
	return 0;
}

static int is_seq_item(const char *t)
{
	return t[0] == '-' && (t[1] == '\0' || t[1] == ' ');
}

static int put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex_escape(const char *s, int digits, unsigned long *cp)
{
	char tmp[9];
	char *end;
	int i;

	for (i = 0; i < digits; i++)
		if (!s[i])
			return -EINVAL;
	memcpy(tmp, s, (size_t)digits);
	tmp[digits] = '\0';
	*cp = strtoul(tmp, &end, 16);
	return *end || *cp > 0x10ffff ? -EINVAL : 0;
}

static int dq_escape(const char **sp, char *o)
{
	static const char from[] = "\\\"/ntr0abef v";
	static const char to[] = "\\\"/\n\t\r\0\a\b\033\f \v";
	const char *s = *sp, *hit;
	unsigned long cp;
	int digits = 0;

	if (*s == 'u')
		digits = 4;
	else if (*s == 'x')
		digits = 2;
	else if (*s == 'U')
		digits = 8;
	if (digits) {
		if (hex_escape(s + 1, digits, &cp) < 0)
			return -EINVAL;
		*sp = s + 1 + digits;
		return put_utf8(o, cp);
	}
	hit = *s ? strchr(from, *s) : NULL;
	if (!hit)
		return -EINVAL;
	*o = to[hit - from];
	*sp = s + 1;
	return 1;
}

/* Parses a quoted scalar at *sp (quote included) into a new string. */
static int parse_quoted(const char **sp, char **out, size_t *outlen)
{
	const char *s = *sp;
	char q = *s++;
	char *o = malloc(strlen(s) + 1);
	size_t n = 0;

	if (!o)
		return -ENOMEM;
	for (;;) {
		if (!*s)
			goto bad;
		if (*s == q && q == '\'' && s[1] == '\'') {
			o[n++] = '\'';
			s += 2;
		} else if (*s == q) {
			s++;
			break;
		} else if (q == '"' && *s == '\\') {
			int k;

			s++;
			k = dq_escape(&s, o + n);
			if (k < 0)
				goto bad;
			n += (size_t)k;
		} else {
			o[n++] = *s++;
		}
	}
	o[n] = '\0';
	*out = o;
	*outlen = n;
	*sp = s;
	return 0;
bad:
	free(o);
	return -EINVAL;
}

static int scalar_flow(struct yparser *p, int lineno, const char *s,
		       struct json **ret)
{
	char jerr[128];
	int r = json_parse(s, strlen(s), NULL, ret, jerr, sizeof(jerr));

	if (r == -EINVAL)
		return yerr(p, lineno, "flow value is not JSON: %s", jerr);
	return r;
}

static int scalar_plain(const char *s, struct json **ret)
{
	struct json *v;

	if (!strcmp(s, "null") || !strcmp(s, "~") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL")) {
		v = node_new(JSON_NULL);
	} else if (!strcmp(s, "true") || !strcmp(s, "false") ||
		   !strcmp(s, "True") || !strcmp(s, "False")) {
		v = node_new(JSON_BOOL);
		if (v)
			v->boolean = s[0] == 't' || s[0] == 'T';
	} else {
		v = node_new(JSON_STRING);
		if (v && node_set_str(v, s, strlen(s)) < 0) {
			json_free(v);
			v = NULL;
		}
	}
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

static int parse_scalar(struct yparser *p, int lineno, const char *s,
			struct json **ret)
{
	struct json *v;
	char *str;
	size_t len;
	int r;

	if (*s == '"' || *s == '\'') {
		r = parse_quoted(&s, &str, &len);
		if (r == -EINVAL || (r == 0 && *s)) {
			if (r == 0)
				free(str);
			return yerr(p, lineno, "bad quoted scalar");
		}
		if (r < 0)
			return r;
		v = node_new(JSON_STRING);
		if (!v) {
			free(str);
			return -ENOMEM;
		}
		v->str = str;
		v->len = len;
		*ret = v;
		return 0;
	}
	if (*s == '{' || *s == '[')
		return scalar_flow(p, lineno, s, ret);
	if (strchr("&*!|>@`", *s))
		return yerr(p, lineno, "unsupported YAML construct '%c'", *s);
	return scalar_plain(s, ret);
}

/*
 * Finds "key: value" in t. Returns 1 with *key (allocated) and *val
 * (pointing into t) set, 0 when t is not a mapping entry, <0 on error.
 */
static int split_key(const char *t, char **key, const char **val)
{
	const char *s = t, *colon;
	size_t len;
	int r;

	if (*t == '"' || *t == '\'') {
		r = parse_quoted(&s, key, &len);
		if (r == -EINVAL)
			return 0;
		if (r < 0)
			return r;
		if (*s != ':' || (s[1] && s[1] != ' ')) {
			free(*key);
			return 0;
		}
		colon = s;
	} else {
		if (*t == '{' || *t == '[')
			return 0;
		for (colon = t; (colon = strchr(colon, ':')); colon++)
			if (colon[1] == '\0' || colon[1] == ' ')
				break;
		if (!colon || colon == t)
			return 0;
		len = (size_t)(colon - t);
		while (len && t[len - 1] == ' ')
			len--;
		*key = strndup(t, len);
		if (!*key)
			return -ENOMEM;
	}
	for (s = colon + 1; *s == ' '; s++)
		;
	*val = s;
	return 1;
}

static int parse_block(struct yparser *p, int ind, struct json **ret);

/* Value of "key:" with nothing after the colon. */
static int parse_nested(struct yparser *p, int ind, struct json **ret)
{
	if (p->pos < p->n && p->l[p->pos].indent > ind)
		return parse_block(p, p->l[p->pos].indent, ret);
	if (p->pos < p->n && p->l[p->pos].indent == ind &&
	    is_seq_item(p->l[p->pos].text))
		return parse_block(p, ind, ret);
	*ret = node_new(JSON_NULL);
	return *ret ? 0 : -ENOMEM;
}

static int check_dedent(struct yparser *p, int ind)
{
	if (p->pos < p->n && p->l[p->pos].indent > ind)
		return yerr(p, p->l[p->pos].lineno, "unexpected indentation");
	return 0;
}

static int parse_map(struct yparser *p, int ind, struct json *obj)
{
	while (p->pos < p->n && p->l[p->pos].indent == ind &&
	       !is_seq_item(p->l[p->pos].text)) {
		struct yline *l = &p->l[p->pos];
		const char *val;
		struct json *child = NULL;
		char *key;
		int r = split_key(l->text, &key, &val);

		if (r == 0)
			return yerr(p, l->lineno, "expected \"key: value\"");
		if (r < 0)
			return r;
		p->pos++;
		if (*val)
			r = parse_scalar(p, l->lineno, val, &child);
		else
			r = parse_nested(p, ind, &child);
		if (r < 0) {
			free(key);
			return r;
		}
		r = node_add(obj, key, child);
		if (r < 0)
			return r;
	}
	return check_dedent(p, ind);
}

static int parse_item(struct yparser *p, int ind, struct json **ret)
{
	struct yline *l = &p->l[p->pos];
	char *t = l->text + 1, *key = NULL;
	const char *val;
	int r;

	while (*t == ' ')
		t++;
	if (!*t) {
		p->pos++;
		if (p->pos < p->n && p->l[p->pos].indent > ind)
			return parse_block(p, p->l[p->pos].indent, ret);
		*ret = node_new(JSON_NULL);
		return *ret ? 0 : -ENOMEM;
	}
	r = is_seq_item(t) ? 1 : split_key(t, &key, &val);
	if (r < 0)
		return r;
	if (r == 1) {
		free(key);
		/* The item's content starts a nested block at its column. */
		l->indent = ind + (int)(t - l->text);
		l->text = t;
		return parse_block(p, l->indent, ret);
	}
	p->pos++;
	return parse_scalar(p, l->lineno, t, ret);
}

static int parse_seq(struct yparser *p, int ind, struct json *arr)
{
	while (p->pos < p->n && p->l[p->pos].indent == ind &&
	       is_seq_item(p->l[p->pos].text)) {
		struct json *child = NULL;
		int r = parse_item(p, ind, &child);

		if (r < 0)
			return r;
		r = node_add(arr, NULL, child);
		if (r < 0)
			return r;
	}
	return check_dedent(p, ind);
}

static int parse_block(struct yparser *p, int ind, struct json **ret)
{
	int seq = is_seq_item(p->l[p->pos].text);
	struct json *v;
	int r;

	if (++p->depth > KUBE_YAML_MAX_DEPTH)
		return -E2BIG;
	v = node_new(seq ? JSON_ARRAY : JSON_OBJECT);
	if (!v)
		return -ENOMEM;
	r = seq ? parse_seq(p, ind, v) : parse_map(p, ind, v);
	p->depth--;
	if (r < 0) {
		json_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

static int parse_document(struct yparser *p, struct json **ret)
{
	const char *t;
	int r;

	if (p->n == 0) {
		*ret = node_new(JSON_OBJECT);
		return *ret ? 0 : -ENOMEM;
	}
	t = p->l[0].text;
	if (*t == '{' || *t == '[')
		return -EAGAIN; /* a flow (JSON) document */
	if (p->l[0].indent != 0)
		return yerr(p, p->l[0].lineno,
			    "document must start at column 0");
	r = parse_block(p, 0, ret);
	if (r == 0 && p->pos < p->n) {
		json_free(*ret);
		return yerr(p, p->l[p->pos].lineno, "unexpected content");
	}
	return r;
}

static int parse_json_doc(const char *text, size_t len, struct json **ret,
			  char *err, size_t errlen)
{
	char jerr[160];
	int r = json_parse(text, len, NULL, ret, jerr, sizeof(jerr));

	if (r == -EINVAL && err && errlen)
		snprintf(err, errlen, "JSON: %s", jerr);
	return r;
}

int kube_yaml_parse(const char *text, size_t len, struct json **ret, char *err,
		    size_t errlen)
{
	struct yparser p = {.err = err, .errlen = errlen};
	struct json *root = NULL;
	size_t i, nlines = 1;
	char *copy;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (len > KUBE_YAML_MAX_BYTES)
		return -E2BIG;
	if (memchr(text, '\0', len))
		return yerr(&p, 0, "NUL byte in input");
	for (i = 0; i < len; i++)
		nlines += text[i] == '\n';
	copy = strndup(text, len);
	p.l = calloc(nlines, sizeof(*p.l));
	r = copy && p.l ? 0 : -ENOMEM;
	if (r == 0)
		r = split_lines(&p, copy);
	if (r == 0)
		r = parse_document(&p, &root);
	if (r == -EAGAIN)
		r = parse_json_doc(text, len, &root, err, errlen);
	free(p.l);
	free(copy);
	if (r == 0)
		*ret = root;
	return r;
}
