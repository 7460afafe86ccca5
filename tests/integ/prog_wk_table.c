/*
 * prog_wk_table - prints the controller table (workers/wk_table.c) as
 * JSON, for tests/integ/test_rbac_table.py:
 * {"controllers": [ENTRY...], "supervisor": ENTRY} with ENTRY =
 * {"name", "aliases", "service_account", "flags",
 *  "rules": [{"group", "resources", "verbs", "optional"}]}.
 */
#include <stdio.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "workers/wk_table.h"

static int list(struct buf *o, const char *const *v, size_t max)
{
	int r = buf_puts(o, "[");

	for (size_t i = 0; !r && i < max && v[i]; i++) {
		if (i)
			r = buf_puts(o, ",");
		if (!r)
			r = json_buf_str(o, v[i]);
	}
	return r ? r : buf_puts(o, "]");
}

static int entry(struct buf *o, const struct wk_def *d)
{
	int r = buf_puts(o, "{\"name\":");

	if (!r)
		r = json_buf_str(o, d->name);
	if (!r)
		r = buf_puts(o, ",\"service_account\":");
	if (!r)
		r = json_buf_str(o, d->service_account);
	if (!r)
		r = buf_puts(o, ",\"aliases\":");
	if (!r)
		r = list(o, d->aliases, 3);
	if (!r)
		r = buf_puts(o, ",\"flags\":");
	if (!r)
		r = list(o, d->flags, 10);
	if (!r)
		r = buf_puts(o, ",\"rules\":[");
	for (size_t k = 0; !r && k < WK_MAX_RULES && d->rules[k].group; k++) {
		const struct wk_rule *ru = &d->rules[k];

		r = buf_puts(o, k ? ",{\"group\":" : "{\"group\":");
		if (!r)
			r = json_buf_str(o, ru->group);
		if (!r)
			r = buf_puts(o, ",\"resources\":");
		if (!r)
			r = list(o, ru->resources, 4);
		if (!r)
			r = buf_puts(o, ",\"verbs\":");
		if (!r)
			r = list(o, ru->verbs, 7);
		if (!r)
			r = buf_printf(o, ",\"optional\":%s}",
				       ru->optional ? "true" : "false");
	}
	return r ? r : buf_puts(o, "]}");
}

int main(void)
{
	struct buf o;
	int r;

	buf_init(&o, 1u << 20);
	r = buf_puts(&o, "{\"controllers\":[");
	for (size_t i = 0; !r && i < WK_NCONTROLLERS; i++) {
		if (i)
			r = buf_puts(&o, ",");
		if (!r)
			r = entry(&o, &wk_table[i]);
	}
	if (!r)
		r = buf_puts(&o, "],\"supervisor\":");
	if (!r)
		r = entry(&o, &wk_supervisor);
	if (!r)
		r = buf_puts(&o, "}");
	if (!r)
		printf("%s\n", o.data);
	buf_done(&o);
	return r ? 1 : 0;
}
