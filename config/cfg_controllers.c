/*
 * --controllers in Kubernetes syntax: "*" enables every controller that is
 * on by default, "name" enables one, "-name" disables one. A list made only
 * of negations starts from "*" so "--controllers=-route" means "all but
 * route", which is what people who write it expect. Names and aliases
 * come from the controller table (workers/wk_table.c).
 */
#include "config/cfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "workers/wk_table.h"

#define CFG_CTL_ALL wk_table_all_bits()

/* Go CCM controllers this CCM does not have: accepted and ignored. */
static const char *const go_only[] = {"nlb", "ingress", "pvtz"};

const char *cfg_controller_name(enum cfg_controller c)
{
	for (size_t i = 0; i < WK_NCONTROLLERS; i++)
		if (wk_table[i].bit == (unsigned)c)
			return wk_table[i].name;
	return "?";
}

static const char *go_only_name(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(go_only) / sizeof(go_only[0]); i++)
		if (strlen(go_only[i]) == n && strncmp(go_only[i], s, n) == 0)
			return go_only[i];
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
		const struct wk_def *c;

		if (n == 1 && p[0] == '*') {
			bits |= CFG_CTL_ALL;
		} else if (n) {
			const char *nm = p + neg;
			size_t len = n - (size_t)neg;
			const char *ignored = go_only_name(nm, len);

			c = wk_table_lookup(nm, len);
			if (!c && !ignored) {
				snprintf(err->msg, sizeof(err->msg),
					 "--controllers: unknown controller "
					 "\"%.*s\"; expected a comma list of "
					 "*, service (service-lb), route, node "
					 "(node-init), each optionally "
					 "prefixed with -",
					 (int)len, nm);
				return -EINVAL;
			}
			if (ignored)
				log_warn("--controllers: \"%s\" is a Go CCM "
					 "controller this CCM does not have; "
					 "ignored",
					 ignored);
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
