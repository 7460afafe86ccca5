/*
 * json - a small DOM over yajl's callback parser, with caps.
 *
 * json_parse builds a tree from untrusted text. It refuses input deeper
 * than limits->max_depth, larger than limits->max_bytes or with more than
 * limits->max_nodes values, so a hostile API server or cloud endpoint cannot
 * exhaust memory. yajl_tree_parse is not used (it leaks on errors).
 *
 * Numbers keep their text; json_int/json_uint accept numbers and numeric
 * strings (Alibaba APIs send both). Object lookups are exact (json_get) or
 * ASCII case-insensitive (json_get_ci, for Go-style config files).
 *
 * The caller owns the tree and frees it with json_free (NULL is a no-op).
 * Strings returned by accessors are borrowed from the tree.
 */
#ifndef CCM_JSON_H
#define CCM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum json_type {
	JSON_NULL = 0,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	int boolean;
	char *str; /* JSON_STRING value or JSON_NUMBER text */
	size_t len;
	size_t n;	     /* children of arrays and objects */
	struct json **items; /* values */
	char **keys;	     /* objects only */
	size_t cap;
};

struct json_limits {
	size_t max_bytes;
	unsigned max_depth;
	size_t max_nodes;
};

extern const struct json_limits json_default_limits;

/* 0 on success; -EINVAL (syntax, message in err) or -E2BIG (a cap). */
int json_parse(const char *text, size_t len, const struct json_limits *lim,
	       struct json **ret, char *err, size_t errlen);
void json_free(struct json *v);

const struct json *json_get(const struct json *obj, const char *key);
const struct json *json_get_ci(const struct json *obj, const char *key);
/* Dotted path of object keys, e.g. "metadata.resourceVersion". */
const struct json *json_path(const struct json *v, const char *path);
const char *json_str(const struct json *v);
/* Like json_str on json_path, NULL when absent or not a string. */
const char *json_path_str(const struct json *v, const char *path);
int json_int(const struct json *v, long long *out);
int json_bool(const struct json *v, int *out);
size_t json_len(const struct json *v);
const struct json *json_at(const struct json *arr, size_t i);

/* Appends s as a quoted, escaped JSON string. */
int json_buf_str(struct buf *b, const char *s);

#endif
