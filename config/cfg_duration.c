/* Go time.ParseDuration, to milliseconds, for Kubernetes-style flags. */
#include "config/cfg.h"

#include <errno.h>
#include <string.h>

struct unit {
	const char *name;
	double ms;
};

/* Longest names first so "ms" is not read as "m" followed by "s". */
static const struct unit units[] = {
	{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
	{"s", 1000},  {"m", 60000}, {"h", 3600000},
};

static const struct unit *match_unit(const char *p, size_t *len)
{
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);

		if (strncmp(p, units[i].name, n) == 0 &&
		    !(n == 1 && units[i].name[0] == 'm' && p[1] == 's')) {
			*len = n;
			return &units[i];
		}
	}
	return NULL;
}

/* Reads "12" or "1.5" at *pp; returns -EINVAL when there is no digit. */
static int read_number(const char **pp, double *out)
{
	const char *p = *pp;
	double v = 0, scale = 1;
	int digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++)
		v = v * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			scale /= 10;
			v += (*p - '0') * scale;
		}
	}
	if (!digits)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

int cfg_duration_parse(const char *s, int64_t *ms)
{
	const char *p = s;
	double total = 0;
	int neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (!*p)
		return -EINVAL;
	while (*p) {
		const struct unit *u;
		size_t ulen = 0;
		double v;

		if (read_number(&p, &v) < 0)
			return -EINVAL;
		u = match_unit(p, &ulen);
		if (!u)
			return -EINVAL;
		total += v * u->ms;
		p += ulen;
		if (total > 9.2e15)
			return -ERANGE;
	}
	*ms = (int64_t)(neg ? -total : total);
	return 0;
}
