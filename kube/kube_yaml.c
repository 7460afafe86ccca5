/*
 * kube_yaml - block and flow structure of the kubeconfig YAML reader; the
 * characters and scalars are in kube_yaml_scan.c.
 *
 * A recursive descent over the text: a block collection is identified by
 * the column of its first entry, and a value ends where the next line is
 * indented no deeper than its parent. Every collection counts against
 * KUBE_YAML_MAX_DEPTH and every value against KUBE_YAML_MAX_NODES.
 */
#include "kube/kube_yaml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_yaml_int.h"

static int mk(struct ky *p, enum json_type t, struct json **ret)
{
	if (++p->nodes > KUBE_YAML_MAX_NODES) {
		ky_err(p, "more than %u values", KUBE_YAML_MAX_NODES);
		return -E2BIG;
	}
	*ret = calloc(1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	(*ret)->type = t;
	return 0;
}

static int grow(struct json *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 4;
	struct json **ni = realloc(c->items, ncap * sizeof(struct json *));

	if (!ni)
		return -ENOMEM;
	c->items = ni;
	if (c->type == JSON_OBJECT) {
		char **nk = realloc(c->keys, ncap * sizeof(*nk));

		if (!nk)
			return -ENOMEM;
		c->keys = nk;
	}
	c->cap = ncap;
	return 0;
}

/*
 * Takes ownership of key and child, even on error. A repeated key replaces
 * the earlier value in place: client-go (go-yaml v2) keeps the last one.
 */
static int put(struct json *c, char *key, struct json *child)
{
	if (key) {
		for (size_t k = 0; k < c->n; k++) {
			if (strcmp(c->keys[k], key) == 0) {
				json_free(c->items[k]);
				c->items[k] = child;
				free(key);
				return 0;
			}
		}
	}
	if (c->n == c->cap && grow(c) < 0) {
		free(key);
		json_free(child);
		return -ENOMEM;
	}
	c->items[c->n] = child;
	if (c->type == JSON_OBJECT)
		c->keys[c->n] = key;
	c->n++;
	return 0;
}

static int enter(struct ky *p)
{
	if (++p->depth > KUBE_YAML_MAX_DEPTH) {
		ky_err(p, "nested deeper than %d levels", KUBE_YAML_MAX_DEPTH);
		return -E2BIG;
	}
	return 0;
}

static int is_one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* YAML 1.1 core resolution of a plain scalar (null, bool or string). */
static int plain_node(struct ky *p, struct buf *b, struct json **ret)
{
	static const char *const nulls[] = {"",	    "~",    "null",
					    "Null", "NULL", NULL};
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
					  "YES",  "on",	  "On",	  "ON",	 NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no",
					 "No",	  "NO",	   "off",   "Off",
					 "OFF",	  NULL};
	const char *s = b->data ? b->data : "";
	int t = is_one_of(s, yes), f = is_one_of(s, no);
	int r = mk(p,
		   is_one_of(s, nulls) ? JSON_NULL
		   : t || f	       ? JSON_BOOL
				       : JSON_STRING,
		   ret);

	if (r < 0 || (*ret)->type == JSON_NULL)
		return r;
	(*ret)->boolean = t;
	(*ret)->str = strdup(s);
	(*ret)->len = strlen(s);
	return (*ret)->str ? 0 : -ENOMEM;
}

static int string_node(struct ky *p, struct buf *b, struct json **ret)
{
	int r = mk(p, JSON_STRING, ret);

	if (r < 0)
		return r;
	(*ret)->str = strdup(b->data ? b->data : "");
	(*ret)->len = b->len;
	return (*ret)->str ? 0 : -ENOMEM;
}

static int unsupported(struct ky *p)
{
	switch (ky_ch(p, 0)) {
	case '&':
	case '*':
		return ky_err(p, "anchors and aliases are not supported");
	case '!':
		return ky_err(p, "tags are not supported");
	case '|':
	case '>':
		return ky_err(p, "block scalars ('|', '>') are not supported; "
				 "use a quoted string");
	case '?':
		return ky_err(p, "complex keys ('?') are not supported");
	case '%':
		return ky_err(p, "directives are not supported");
	case ':':
		return ky_err(p, "a ':' without a key");
	case '\0':
		return ky_err(p, "unexpected end of input; expected a value");
	default:
		return ky_err(p, "unexpected %s; expected a value", ky_what(p));
	}
}

/* A key's text: plain booleans become "true"/"false" like client-go. */
static int key_text(struct ky *p, struct json *k, char **ret)
{
	if (k->type == JSON_NULL)
		return ky_err(p, "a null or empty key is not allowed");
	if (k->len > KUBE_YAML_MAX_KEY)
		return ky_err(p, "key longer than %u bytes", KUBE_YAML_MAX_KEY);
	*ret = strdup(k->type == JSON_BOOL ? (k->boolean ? "true" : "false")
					   : k->str);
	return *ret ? 0 : -ENOMEM;
}

static int flow_node(struct ky *p, struct json **ret);

static int flow_ws(struct ky *p)
{
	int r = ky_skip(p);

	if (r < 0)
		return r;
	if (ky_at_doc_marker(p))
		return ky_err(p, "document marker inside a flow collection");
	if (!ky_ch(p, 0))
		return ky_err(p, "flow collection not closed before the end");
	return 0;
}

/* A quoted or plain scalar; indent bounds a block plain scalar's lines. */
static int scalar_node(struct ky *p, int flow, int indent, struct json **ret)
{
	struct buf b;
	int lines, r;

	buf_init(&b, (size_t)2 * KUBE_YAML_MAX_BYTES);
	if (ky_ch(p, 0) == '"' || ky_ch(p, 0) == '\'') {
		r = ky_scan_quoted(p, &b);
		if (!r)
			r = string_node(p, &b, ret);
	} else {
		r = ky_scan_plain(p, flow, indent, &b, &lines);
		if (!r)
			r = plain_node(p, &b, ret);
	}
	buf_done(&b);
	return r;
}

/* "key: value" inside flow: the key on one line with its ':'. */
static int flow_pair(struct ky *p, int key_line, char close, struct json **key,
		     struct json **val)
{
	int r;

	*val = NULL;
	if (ky_ch(p, 0) != ':')
		return mk(p, JSON_NULL, val);
	if (!*key || p->line != key_line || (*key)->type == JSON_OBJECT ||
	    (*key)->type == JSON_ARRAY)
		return ky_err(p, "a flow key must be a scalar on the line of "
				 "its ':'");
	ky_adv(p);
	r = flow_ws(p);
	if (r < 0)
		return r;
	if (ky_ch(p, 0) == ',' || ky_ch(p, 0) == close)
		return mk(p, JSON_NULL, val);
	return flow_node(p, val);
}

/* Reads one "key[: value]" entry of a flow collection. */
static int flow_entry(struct ky *p, char close, struct json **k,
		      struct json **v)
{
	int line = p->line, r;

	*k = *v = NULL;
	if (close == '}' && (ky_ch(p, 0) == '{' || ky_ch(p, 0) == '['))
		return ky_err(p, "a flow mapping or sequence as a key is not "
				 "supported");
	r = flow_node(p, k);
	if (!r)
		r = flow_ws(p);
	if (!r && (close == '}' || ky_ch(p, 0) == ':'))
		r = flow_pair(p, line, close, k, v);
	return r;
}

static int flow_add(struct ky *p, struct json *c, struct json *k,
		    struct json *v)
{
	struct json *pair;
	char *key = NULL;
	int r;

	if (!v)
		return put(c, NULL, k);
	r = key_text(p, k, &key);
	json_free(k);
	if (r < 0) {
		json_free(v);
		return r;
	}
	if (c->type == JSON_OBJECT)
		return put(c, key, v);
	r = mk(p, JSON_OBJECT, &pair);
	if (r < 0) {
		free(key);
		json_free(v);
		return r;
	}
	r = put(pair, key, v);
	return r < 0 ? (json_free(pair), r) : put(c, NULL, pair);
}

static int flow_collection(struct ky *p, struct json **ret)
{
	char close = ky_ch(p, 0) == '{' ? '}' : ']';
	int r = enter(p);

	if (!r)
		r = mk(p, close == '}' ? JSON_OBJECT : JSON_ARRAY, ret);
	if (r < 0)
		return r;
	ky_adv(p);
	for (;;) {
		struct json *k, *v;

		r = flow_ws(p);
		if (r < 0 || ky_ch(p, 0) == close)
			break;
		r = flow_entry(p, close, &k, &v);
		if (!r)
			r = flow_add(p, *ret, k, v);
		else {
			json_free(k);
			json_free(v);
		}
		if (!r)
			r = flow_ws(p);
		if (r < 0 || ky_ch(p, 0) == close)
			break;
		if (ky_ch(p, 0) != ',') {
			r = ky_err(p, "expected ',' or '%c' in a flow %s",
				   close,
				   close == '}' ? "mapping" : "sequence");
			break;
		}
		ky_adv(p);
	}
	p->depth--;
	if (r < 0) {
		json_free(*ret);
		*ret = NULL;
		return r;
	}
	ky_adv(p);
	return 0;
}

static int flow_node(struct ky *p, struct json **ret)
{
	char c = ky_ch(p, 0);

	if (c == '{' || c == '[')
		return flow_collection(p, ret);
	if (c == '"' || c == '\'' || ky_plain_start(p, 1))
		return scalar_node(p, 1, 0, ret);
	return unsupported(p);
}

static int is_seq_entry(const struct ky *p)
{
	return ky_ch(p, 0) == '-' && ky_blankz(ky_ch(p, 1));
}

/*
 * Whether the token at the cursor is a block mapping key: a scalar on one
 * line followed by ": ". The cursor does not move.
 */
static int key_ahead(struct ky *p)
{
	struct ky save = *p;
	struct buf b;
	int lines = 0, r = -EINVAL, line = p->line;

	save.err = NULL;
	buf_init(&b, (size_t)2 * KUBE_YAML_MAX_BYTES);
	if (ky_ch(&save, 0) == '"' || ky_ch(&save, 0) == '\'')
		r = ky_scan_quoted(&save, &b);
	else if (ky_plain_start(&save, 0))
		r = ky_scan_plain(&save, 0, ky_col(p) + 1, &b, &lines);
	buf_done(&b);
	while (r == 0 && ky_ch(&save, 0) == ' ')
		ky_adv(&save);
	return r == 0 && !lines && save.line == line &&
	       ky_ch(&save, 0) == ':' && ky_blankz(ky_ch(&save, 1));
}

/* A scalar or flow collection; parent is the enclosing block's column. */
static int inline_value(struct ky *p, int parent, struct json **ret)
{
	char c = ky_ch(p, 0);
	int r;

	if (c == '{' || c == '[' || c == '"' || c == '\'') {
		r = flow_node(p, ret);
		if (r < 0)
			return r;
		while (ky_ch(p, 0) == ' ')
			ky_adv(p);
		if (ky_ch(p, 0) == ':' && ky_blankz(ky_ch(p, 1)))
			r = ky_err(p, "mapping values are not allowed here");
		else
			r = ky_expect_eol(p);
		if (r < 0) {
			json_free(*ret);
			*ret = NULL;
		}
		return r;
	}
	if (is_seq_entry(p))
		return ky_err(p, "a sequence entry ('- ') cannot start on the "
				 "line of its key");
	if (!ky_plain_start(p, 0))
		return unsupported(p);
	r = scalar_node(p, 0, parent + 1, ret);
	if (!r && ky_ch(p, 0) == ':' && ky_blankz(ky_ch(p, 1))) {
		json_free(*ret);
		*ret = NULL;
		r = ky_err(p, "mapping values are not allowed here (quote a "
			      "value that contains \": \")");
	}
	return r;
}

static int block_node(struct ky *p, int parent, int seq_same,
		      struct json **ret);

static int block_key(struct ky *p, char **key)
{
	struct json *k = NULL;
	char c = ky_ch(p, 0);
	int r;

	if (c == '{' || c == '[')
		return ky_err(p, "a flow mapping or sequence as a key is not "
				 "supported");
	if (!key_ahead(p))
		return c == '"' || c == '\'' || ky_plain_start(p, 0)
			       ? ky_err(p, "expected \"key: value\"")
			       : unsupported(p);
	r = scalar_node(p, 0, ky_col(p) + 1, &k);
	if (!r)
		r = key_text(p, k, key);
	json_free(k);
	while (!r && ky_ch(p, 0) == ' ')
		ky_adv(p);
	if (!r)
		ky_adv(p); /* the ':' key_ahead saw */
	return r;
}

static int map_entry(struct ky *p, int col, struct json *obj)
{
	struct json *v = NULL;
	char *key = NULL;
	int r = block_key(p, &key);

	if (r < 0)
		return r;
	while (ky_ch(p, 0) == ' ')
		ky_adv(p);
	if (ky_ch(p, 0) == '\t')
		r = ky_expect_eol(p);
	else if (ky_ch(p, 0) == '#' || ky_ch(p, 0) == '\n' || !ky_ch(p, 0))
		r = block_node(p, col, 1, &v);
	else
		r = inline_value(p, col, &v);
	if (r < 0) {
		free(key);
		return r;
	}
	return put(obj, key, v);
}

/* After an entry: 1 when the collection at col goes on, 0 when it ends. */
static int next_entry(struct ky *p, int col, int seq)
{
	int r = ky_skip(p);

	if (r < 0)
		return r;
	if (!ky_ch(p, 0) || ky_at_doc_marker(p) || ky_col(p) < col)
		return 0;
	if (ky_col(p) > col)
		return ky_err(p,
			      "unexpected indentation: the %s at column %d "
			      "goes on at column %d",
			      seq ? "sequence" : "mapping", col + 1,
			      ky_col(p) + 1);
	if (!seq && is_seq_entry(p))
		return ky_err(p, "a '- ' sequence entry where the mapping "
				 "expects \"key: value\"");
	return seq ? is_seq_entry(p) : 1;
}

static int block_collection(struct ky *p, int seq, struct json **ret)
{
	int col = ky_col(p), r = enter(p);

	if (!r)
		r = mk(p, seq ? JSON_ARRAY : JSON_OBJECT, ret);
	if (r < 0)
		return r;
	do {
		if (seq) {
			struct json *item = NULL;

			ky_adv(p); /* the '-' */
			r = block_node(p, col, 0, &item);
			if (!r)
				r = put(*ret, NULL, item);
		} else {
			r = map_entry(p, col, *ret);
		}
		if (!r)
			r = next_entry(p, col, seq);
	} while (r == 1);
	p->depth--;
	if (r < 0) {
		json_free(*ret);
		*ret = NULL;
	}
	return r;
}

/*
 * The value at the cursor, which belongs to a block at column parent; a
 * sequence may sit at the parent's column when it is a mapping value.
 */
static int block_node(struct ky *p, int parent, int seq_same, struct json **ret)
{
	int r = ky_skip(p), col = ky_col(p);

	if (r < 0)
		return r;
	if (!ky_ch(p, 0) || ky_at_doc_marker(p))
		return mk(p, JSON_NULL, ret);
	if (is_seq_entry(p) && (col > parent || (seq_same && col == parent)))
		return block_collection(p, 1, ret);
	if (col <= parent)
		return mk(p, JSON_NULL, ret);
	if (key_ahead(p))
		return block_collection(p, 0, ret);
	return inline_value(p, parent, ret);
}

static int document(struct ky *p, struct json **ret)
{
	int r = ky_skip(p);

	if (!r && ky_col(p) == 0 && !strncmp(p->s + p->i, "---", 3) &&
	    ky_blankz(ky_ch(p, 3))) {
		int line = p->line;

		p->i += 3;
		while (ky_ch(p, 0) == ' ')
			ky_adv(p);
		if (ky_ch(p, 0) && ky_ch(p, 0) != '\n' && ky_ch(p, 0) != '#' &&
		    p->line == line)
			r = inline_value(p, -1, ret);
		else
			r = block_node(p, -1, 0, ret);
	} else if (!r && ky_at_doc_marker(p)) {
		return ky_err(p, "\"...\" ends a document that did not start");
	} else if (!r) {
		r = block_node(p, -1, 0, ret);
	}
	if (!r)
		r = ky_skip(p);
	if (!r && ky_at_doc_marker(p) && ky_ch(p, 0) == '.') {
		p->i += 3;
		r = ky_skip(p);
	}
	if (!r && ky_ch(p, 0))
		r = ky_err(p,
			   ky_at_doc_marker(p)
				   ? "more than one YAML document"
				   : "unexpected content after the document");
	return r;
}

/* Top-level JSON goes to the JSON parser first: it allows tabs. */
static int try_json(const char *t, size_t len, struct json **ret)
{
	static const struct json_limits lim = {
		KUBE_YAML_MAX_BYTES, KUBE_YAML_MAX_DEPTH, KUBE_YAML_MAX_NODES};
	size_t k = strspn(t, " \t\n"), end = len;

	while (end > k && strchr(" \t\n", t[end - 1]))
		end--;
	/* yajl lets an unfinished token trail a complete value */
	if ((t[k] != '{' && t[k] != '[') ||
	    (t[end - 1] != '}' && t[end - 1] != ']'))
		return -EINVAL;
	return json_parse(t, len, &lim, ret, NULL, 0);
}

/* JSON answers: last duplicate wins, and no string may hide a NUL. */
static int json_fixup(struct json *v)
{
	if (v->type == JSON_STRING && strlen(v->str) != v->len)
		return -EINVAL;
	for (size_t k = 0; k < v->n; k++) {
		size_t later = k + 1;

		while (v->keys && later < v->n &&
		       strcmp(v->keys[k], v->keys[later]) != 0)
			later++;
		if (v->keys && later < v->n) {
			json_free(v->items[k]);
			free(v->keys[k]);
			memmove(v->items + k, v->items + k + 1,
				(v->n - k - 1) * sizeof(struct json *));
			memmove(v->keys + k, v->keys + k + 1,
				(v->n - k - 1) * sizeof(*v->keys));
			v->n--;
			k--;
			continue;
		}
		if (json_fixup(v->items[k]) < 0)
			return -EINVAL;
	}
	return 0;
}

int kube_yaml_parse(const char *text, size_t len, struct json **ret, char *err,
		    size_t errlen)
{
	struct ky p = {.err = err, .errlen = errlen, .line = 1};
	struct json *root = NULL;
	char *copy = NULL;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (len > KUBE_YAML_MAX_BYTES)
		return -E2BIG;
	r = ky_check_input(&p, text, len, &copy);
	if (r < 0)
		return r;
	p.s = copy;
	p.line = 1;
	if (try_json(copy, strlen(copy), &root) == 0) {
		r = json_fixup(root);
		if (r < 0)
			ky_err(&p, "a JSON string contains \\u0000");
	} else {
		r = document(&p, &root);
	}
	free(copy);
	if (r == 0 && !root)
		r = -ENOMEM;
	if (r == 0 && root->type == JSON_NULL) {
		/* An empty kubeconfig is an empty mapping, as for kubectl. */
		root->type = JSON_OBJECT;
	}
	if (r < 0) {
		json_free(root);
		return r;
	}
	*ret = root;
	return 0;
}
