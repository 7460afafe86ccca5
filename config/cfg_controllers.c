/*
 * --controllers in Kubernetes syntax: "*" enables every controller that is
 * on by default, "name" enables one, "-name" disables one. A list made only
 * of negations starts from "*" so "--controllers=-route" means "all but
 * route", which is what people who write it expect.
 */
#include "config/cfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define CFG_CTL_ALL (CFG_CTL_SERVICE | CFG_CTL_ROUTE | CFG_CTL_NODE)

struct ctl_name {
	const char *name;
	unsigned bit; /* 0: a Go CCM controller we accept and ignore */
};

static const struct ctl_name names[] = {
	{"service", CFG_CTL_SERVICE},
	{"service-lb", CFG_CTL_SERVICE},
	{"route", CFG_CTL_ROUTE},
	{"node", CFG_CTL_NODE},
	{"node-init", CFG_CTL_NODE},
	{"nlb", 0},
	{"ingress", 0},
	{"pvtz", 0},
};

const char *cfg_controller_name(enum cfg_controller c)
{
	switch (c) {
	case CFG_CTL_SERVICE:
		return "service-lb";
	case CFG_CTL_ROUTE:
		return "route";
	case CFG_CTL_NODE:
		return "node-init";
	}
	return "?";
}

static const struct ctl_name *lookup(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n &&
		    strncmp(names[i].name, s, n) == 0)
			return &names[i];
	return NULL;
}

static int only_negations(const char *s)
{
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n && p[0] != '-')
			return 0;
		p += n;
		if (*p == ',')
			p++;
	}
	return 1;
}

int cfg_controllers_parse(const char *s, unsigned *out, struct cfg_err *err)
{
	unsigned bits = only_negations(s) ? CFG_CTL_ALL : 0;
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, ",");
		int neg = n && p[0] == '-';
		const struct ctl_name *c;

		if (n == 1 && p[0] == '*') {
			bits |= CFG_CTL_ALL;
		} else if (n) {
			c = lookup(p + neg, n - (size_t)neg);
			if (!c) {
				snprintf(err->msg, sizeof(err->msg),
					 "--controllers: unknown controller "
					 "\"%.*s\"; expected a comma list of "
					 "*, service (service-lb), route, node "
					 "(node-init), each optionally "
					 "prefixed with -",
					 (int)(n - (size_t)neg), p + neg);
				return -EINVAL;
			}
			if (!c->bit)
				log_warn("--controllers: \"%s\" is a Go CCM "
					 "controller this CCM does not have; "
					 "ignored",
					 c->name);
			else if (neg)
				bits &= ~c->bit;
			else
				bits |= c->bit;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	*out = bits;
	return 0;
}
