#include "alicloud/ali_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ali_jstr(const struct json *obj, const char *key, char *dst, size_t n)
{
	const struct json *v = json_get(obj, key);

	if (v && (v->type == JSON_STRING || v->type == JSON_NUMBER))
		snprintf(dst, n, "%s", v->str);
	else if (v && v->type == JSON_BOOL)
		snprintf(dst, n, "%s", v->boolean ? "true" : "false");
	else if (n)
		dst[0] = '\0';
}

long long ali_jint(const struct json *obj, const char *key, long long def)
{
	long long x;

	return json_int(json_get(obj, key), &x) == 0 ? x : def;
}

int ali_jbool(const struct json *obj, const char *key, int def)
{
	const struct json *v = json_get(obj, key);
	int b;

	if (json_bool(v, &b) == 0)
		return b;
	if (v && v->type == JSON_STRING)
		return strcmp(v->str, "on") == 0;
	return def;
}

const struct json *ali_jlist(const struct json *obj, const char *outer,
			     const char *inner)
{
	const struct json *o = json_get(obj, outer);

	if (o && o->type == JSON_ARRAY)
		return o;
	o = inner ? json_get(o, inner) : NULL;
	return o && o->type == JSON_ARRAY ? o : NULL;
}

void *ali_grow(void *vp, size_t *n, size_t sz)
{
	void **v = vp;
	char *nv = realloc(*v, (*n + 1) * sz);

	if (!nv)
		return NULL;
	*v = nv;
	memset(nv + *n * sz, 0, sz);
	return nv + (*n)++ * sz;
}

int ali_push_id(char (**arr)[64], size_t *n, const char *s)
{
	char *slot = ali_grow(arr, n, 64);

	if (!slot)
		return -ENOMEM;
	snprintf(slot, 64, "%s", s ? s : "");
	return 0;
}
