/*
 * ali_params - the name/value parameter set of one Alibaba Cloud RPC call.
 *
 * Typed calls fill a set with ali_params_set* without checking each result:
 * the first failure (ENOMEM, a value over ALI_PARAM_MAX) is remembered in
 * err and reported by ali_client_call, which keeps the call builders short.
 * Setting an existing name replaces its value, so names stay unique as the
 * signature requires. The set owns copies of all strings; ali_params_done
 * frees them.
 */
#ifndef CCM_ALI_PARAMS_H
#define CCM_ALI_PARAMS_H

#include <stddef.h>

#define ALI_PARAM_MAX (64u << 10) /* longest single value (JSON lists) */

struct ali_param {
	char *name;
	char *value;
};

struct ali_params {
	struct ali_param *v;
	size_t n;
	size_t cap;
	int err; /* first failure of a set call, 0 if none */
};

void ali_params_init(struct ali_params *p);
void ali_params_done(struct ali_params *p);
/* value NULL is ignored (lets callers pass optional fields through). */
int ali_params_set(struct ali_params *p, const char *name, const char *value);
int ali_params_setf(struct ali_params *p, const char *name, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
int ali_params_set_int(struct ali_params *p, const char *name, long long v);
/* Sets "<prefix>.<i+1><suffix>" (repeat lists such as Tag.1.Key). */
int ali_params_set_nth(struct ali_params *p, const char *prefix, size_t i,
		       const char *suffix, const char *value);
const char *ali_params_get(const struct ali_params *p, const char *name);
int ali_params_del(struct ali_params *p, const char *name);
int ali_params_copy(struct ali_params *dst, const struct ali_params *src);

#endif
