/* The controller table and what is derived from it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg.h"
#include "workers/wk_main.h"
#include "workers/wk_runtime.h"
#include "workers/wk_table.h"

static int has(const struct wk_check *c, size_t n, const char *verb,
	       const char *res)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].verb, verb) && !strcmp(c[i].resource, res))
			return 1;
	return 0;
}

static void test_checks_cover_what_the_code_does(void **state)
{
	struct wk_check c[WK_MAX_CHECKS];
	size_t n;

	(void)state;
	n = wk_table_checks(wk_table_find("node-init"), c, WK_MAX_CHECKS);
	assert_true(has(c, n, "delete", "nodes"));
	assert_true(has(c, n, "watch", "nodes"));
	assert_true(has(c, n, "patch", "nodes/status"));
	assert_true(has(c, n, "create", "events"));
	n = wk_table_checks(wk_table_find("service-lb"), c, WK_MAX_CHECKS);
	assert_true(has(c, n, "watch", "services"));
	assert_true(has(c, n, "patch", "services/status"));
	assert_true(has(c, n, "watch", "endpoints"));
	/* optional: the worker falls back to Endpoints without it */
	assert_false(has(c, n, "list", "endpointslices"));
	for (size_t i = 0; i < WK_NCONTROLLERS; i++)
		assert_true(wk_table_checks(&wk_table[i], c, WK_MAX_CHECKS) <
			    WK_MAX_CHECKS);
}

static void test_names_aliases_and_dispatch(void **state)
{
	unsigned bits = 0;
	struct cfg_err e;

	(void)state;
	assert_ptr_equal(wk_table_lookup("service", 7), &wk_table[0]);
	assert_ptr_equal(wk_table_lookup("node", 4),
			 wk_table_find("node-init"));
	assert_null(wk_table_lookup("nod", 3));
	assert_null(wk_table_find("service"));
	for (size_t i = 0; i < WK_NCONTROLLERS; i++) {
		const struct wk_def *d = &wk_table[i];

		assert_ptr_equal(wk_controller_find(d->name), d->ctl);
		assert_string_equal(d->ctl->name, d->name);
		assert_string_equal(d->scaffold->name, d->name);
		assert_string_equal(cfg_controller_name(d->bit), d->name);
	}
	assert_int_equal(cfg_controllers_parse("-route", &bits, &e), 0);
	assert_int_equal(bits, wk_table_all_bits() & ~(unsigned)CFG_CTL_ROUTE);
	assert_int_equal(cfg_controllers_parse("node,service", &bits, &e), 0);
	assert_int_equal(bits, CFG_CTL_NODE | CFG_CTL_SERVICE);
	assert_int_equal(cfg_controllers_parse("nope", &bits, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks_cover_what_the_code_does),
		cmocka_unit_test(test_names_aliases_and_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
