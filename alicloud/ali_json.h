/*
 * ali_json - reading Alibaba RPC response bodies into fixed C structs.
 *
 * Integers arrive as numbers or numeric strings; strings are copied
 * truncated into fixed buffers; lists are wrapped twice
 * ("LoadBalancers":{"LoadBalancer":[...]}) except where noted.
 */
#ifndef CCM_ALI_JSON_H
#define CCM_ALI_JSON_H

#include <stddef.h>

#include "lib/json.h"

/* Copies a string (or number text) member into dst; "" when absent. */
void ali_jstr(const struct json *obj, const char *key, char *dst, size_t n);
/* Integer member (number or numeric string), def when absent/invalid. */
long long ali_jint(const struct json *obj, const char *key, long long def);
/* Boolean member (true/false or "true"/"false"/"on"), def when absent. */
int ali_jbool(const struct json *obj, const char *key, int def);
/* obj[outer][inner] as an array, or obj[outer] when it is an array. */
const struct json *ali_jlist(const struct json *obj, const char *outer,
			     const char *inner);
/* Appends element i of a string array to a growable char[64] array. */
int ali_push_id(char (**arr)[64], size_t *n, const char *s);
/* Grows *v (elements of size sz) to hold n + 1; returns the new slot
 * zeroed, or NULL on ENOMEM. */
void *ali_grow(void *vp, size_t *n, size_t sz);

#endif
