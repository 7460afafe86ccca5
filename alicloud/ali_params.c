#include "alicloud/ali_params.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ali_params_init(struct ali_params *p)
{
	memset(p, 0, sizeof(*p));
}

void ali_params_done(struct ali_params *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static int fail(struct ali_params *p, int r)
{
	if (!p->err)
		p->err = r;
	return r;
}

static struct ali_param *find(const struct ali_params *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

static int append(struct ali_params *p, const char *name, char *value)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct ali_param *nv = realloc(p->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = ncap;
	}
	p->v[p->n].name = strdup(name);
	if (!p->v[p->n].name)
		return -ENOMEM;
	p->v[p->n].value = value;
	p->n++;
	return 0;
}

int ali_params_set(struct ali_params *p, const char *name, const char *value)
{
	struct ali_param *cur;
	char *copy;
	int r;

	if (!value)
		return 0;
	if (strlen(value) > ALI_PARAM_MAX || !*name)
		return fail(p, -E2BIG);
	copy = strdup(value);
	if (!copy)
		return fail(p, -ENOMEM);
	cur = find(p, name);
	if (cur) {
		free(cur->value);
		cur->value = copy;
		return 0;
	}
	r = append(p, name, copy);
	if (r < 0) {
		free(copy);
		return fail(p, r);
	}
	return 0;
}

int ali_params_setf(struct ali_params *p, const char *name, const char *fmt,
		    ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return fail(p, -E2BIG);
	return ali_params_set(p, name, tmp);
}

int ali_params_set_int(struct ali_params *p, const char *name, long long v)
{
	return ali_params_setf(p, name, "%lld", v);
}

int ali_params_set_nth(struct ali_params *p, const char *prefix, size_t i,
		       const char *suffix, const char *value)
{
	char name[160];
	int n = snprintf(name, sizeof(name), "%s.%zu%s", prefix, i + 1,
			 suffix ? suffix : "");

	if (n < 0 || (size_t)n >= sizeof(name))
		return fail(p, -E2BIG);
	return ali_params_set(p, name, value);
}

const char *ali_params_get(const struct ali_params *p, const char *name)
{
	const struct ali_param *cur = find(p, name);

	return cur ? cur->value : NULL;
}

int ali_params_del(struct ali_params *p, const char *name)
{
	struct ali_param *cur = find(p, name);
	size_t i;

	if (!cur)
		return -ENOENT;
	i = (size_t)(cur - p->v);
	free(cur->name);
	free(cur->value);
	memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof(p->v[0]));
	p->n--;
	return 0;
}

int ali_params_copy(struct ali_params *dst, const struct ali_params *src)
{
	size_t i;

	ali_params_init(dst);
	dst->err = src->err;
	for (i = 0; i < src->n; i++)
		ali_params_set(dst, src->v[i].name, src->v[i].value);
	return dst->err;
}
