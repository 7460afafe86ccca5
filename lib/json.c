#include "lib/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_parse.h>

#define JSON_MAX_STACK 128

const struct json_limits json_default_limits = {
	.max_bytes = 8u << 20,
	.max_depth = 64,
	.max_nodes = 1u << 20,
};

struct builder {
	const struct json_limits *lim;
	struct json *root;
	struct json *stack[JSON_MAX_STACK];
	unsigned depth;
	char *pending_key;
	size_t nodes;
	int error; /* -E2BIG when a cap was hit */
};

void json_free(struct json *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

static int add_child(struct json *parent, struct json *child, char *key)
{
	if (parent->n == parent->cap) {
		size_t ncap = parent->cap ? parent->cap * 2 : 4;
		/* pointer array: NOLINTNEXTLINE(bugprone-sizeof-expression) */
		struct json **ni = realloc(parent->items, ncap * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		parent->items = ni;
		if (parent->type == JSON_OBJECT) {
			char **nk = realloc(parent->keys, ncap * sizeof(*nk));

			if (!nk)
				return -ENOMEM;
			parent->keys = nk;
		}
		parent->cap = ncap;
	}
	parent->items[parent->n] = child;
	if (parent->type == JSON_OBJECT)
		parent->keys[parent->n] = key;
	parent->n++;
	return 0;
}

/* Attaches a new value to the current container; returns it or NULL. */
static struct json *push_value(struct builder *b, enum json_type t)
{
	struct json *v;
	struct json *top;

	if (++b->nodes > b->lim->max_nodes) {
		b->error = -E2BIG;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->type = t;
	if (b->depth == 0) {
		if (b->root) {
			free(v);
			return NULL;
		}
		b->root = v;
		return v;
	}
	top = b->stack[b->depth - 1];
	if (top->type == JSON_OBJECT && !b->pending_key) {
		free(v);
		return NULL;
	}
	if (add_child(top, v,
		      top->type == JSON_OBJECT ? b->pending_key : NULL) < 0) {
		free(v);
		return NULL;
	}
	b->pending_key = NULL;
	return v;
}

static int set_text(struct json *v, const unsigned char *s, size_t len)
{
	v->str = malloc(len + 1);
	if (!v->str)
		return 0;
	memcpy(v->str, s, len);
	v->str[len] = '\0';
	v->len = len;
	return 1;
}

static int cb_null(void *ctx)
{
	return push_value(ctx, JSON_NULL) != NULL;
}

static int cb_bool(void *ctx, int val)
{
	struct json *v = push_value(ctx, JSON_BOOL);

	if (!v)
		return 0;
	v->boolean = val;
	return 1;
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct json *v = push_value(ctx, JSON_NUMBER);

	return v && set_text(v, (const unsigned char *)s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct json *v = push_value(ctx, JSON_STRING);

	return v && set_text(v, s, len);
}

static int open_container(struct builder *b, enum json_type t)
{
	struct json *v;

	if (b->depth >= b->lim->max_depth || b->depth >= JSON_MAX_STACK) {
		b->error = -E2BIG;
		return 0;
	}
	v = push_value(b, t);
	if (!v)
		return 0;
	b->stack[b->depth++] = v;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_container(ctx, JSON_OBJECT);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;

	free(b->pending_key);
	b->pending_key = malloc(len + 1);
	if (!b->pending_key)
		return 0;
	memcpy(b->pending_key, s, len);
	b->pending_key[len] = '\0';
	return 1;
}

static int cb_end(void *ctx)
{
	struct builder *b = ctx;

	if (b->depth == 0)
		return 0;
	b->depth--;
	return 1;
}

static int cb_start_array(void *ctx)
{
	return open_container(ctx, JSON_ARRAY);
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_bool,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

int json_parse(const char *text, size_t len, const struct json_limits *lim,
	       struct json **ret, char *err, size_t errlen)
{
	struct builder b = {.lim = lim ? lim : &json_default_limits};
	yajl_handle h;
	yajl_status st;
	int r = 0;

	if (err && errlen)
		err[0] = '\0';
	if (len > b.lim->max_bytes)
		return -E2BIG;
	h = yajl_alloc(&callbacks, NULL, &b);
	if (!h)
		return -ENOMEM;
	st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok || !b.root) {
		r = b.error ? b.error : -EINVAL;
		if (err && errlen && r == -EINVAL) {
			unsigned char *m = yajl_get_error(
				h, 0, (const unsigned char *)text, len);

			snprintf(err, errlen, "%s",
				 m ? (const char *)m : "empty document");
			if (m)
				yajl_free_error(h, m);
		}
		json_free(b.root);
		b.root = NULL;
	}
	free(b.pending_key);
	yajl_free(h);
	if (r == 0)
		*ret = b.root;
	return r;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

const struct json *json_get_ci(const struct json *obj, const char *key)
{
	const struct json *exact = json_get(obj, key);
	size_t i;

	if (exact || !obj || obj->type != JSON_OBJECT)
		return exact;
	for (i = 0; i < obj->n; i++)
		if (strcasecmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

const struct json *json_path(const struct json *v, const char *path)
{
	char key[256];
	const char *p = path;

	while (v && *p) {
		size_t n = strcspn(p, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		v = json_get(v, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

const char *json_str(const struct json *v)
{
	return v && v->type == JSON_STRING ? v->str : NULL;
}

const char *json_path_str(const struct json *v, const char *path)
{
	return json_str(json_path(v, path));
}

int json_int(const struct json *v, long long *out)
{
	char *end;
	long long x;

	if (!v || (v->type != JSON_NUMBER && v->type != JSON_STRING) || !v->len)
		return -EINVAL;
	errno = 0;
	x = strtoll(v->str, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = x;
	return 0;
}

int json_bool(const struct json *v, int *out)
{
	if (!v)
		return -EINVAL;
	if (v->type == JSON_BOOL) {
		*out = v->boolean;
		return 0;
	}
	if (v->type == JSON_STRING && strcmp(v->str, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (v->type == JSON_STRING && strcmp(v->str, "false") == 0) {
		*out = 0;
		return 0;
	}
	return -EINVAL;
}

size_t json_len(const struct json *v)
{
	return v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT) ? v->n
								      : 0;
}

const struct json *json_at(const struct json *arr, size_t i)
{
	return arr && arr->type == JSON_ARRAY && i < arr->n ? arr->items[i]
							    : NULL;
}

int json_buf_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	int r = buf_append(b, "\"", 1);

	for (; r == 0 && *p; p++) {
		char esc[7] = "\\u00";

		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			r = buf_append(b, esc, 2);
		} else if (*p < 0x20) {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			r = buf_append(b, esc, 6);
		} else {
			r = buf_append(b, p, 1);
		}
	}
	return r ? r : buf_append(b, "\"", 1);
}
