/* node-init's Node deletion carries the judged object's uid and
 * resourceVersion as DeleteOptions preconditions (issue 11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "workers/node_init/ni_ctl.h"

static struct json *parse(const struct buf *b)
{
	struct json *o = NULL;

	assert_int_equal(json_parse(b->data, strlen(b->data),
				    &json_default_limits, &o, NULL, 0),
			 0);
	return o;
}

static void test_uid_and_rv(void **state)
{
	struct wk_node n = {0};
	struct buf b;
	struct json *o;

	char uid[] = "6d1f0c1e-0000-4000-8000-000000000001", rv[] = "4711";

	(void)state;
	n.uid = uid;
	n.resource_version = rv;
	buf_init(&b, 4096);
	assert_int_equal(ni_delete_options(&n, &b), 0);
	o = parse(&b);
	assert_string_equal(json_path_str(o, "kind"), "DeleteOptions");
	assert_string_equal(json_path_str(o, "preconditions.uid"), n.uid);
	assert_string_equal(json_path_str(o, "preconditions.resourceVersion"),
			    "4711");
	json_free(o);
	buf_done(&b);
}

static void test_uid_only_and_escaped(void **state)
{
	struct wk_node n = {0};
	struct buf b;
	struct json *o;

	char uid[] = "odd\"uid\\";

	(void)state;
	n.uid = uid;
	buf_init(&b, 4096);
	assert_int_equal(ni_delete_options(&n, &b), 0);
	o = parse(&b);
	assert_string_equal(json_path_str(o, "preconditions.uid"), n.uid);
	assert_null(json_path(o, "preconditions.resourceVersion"));
	json_free(o);
	buf_done(&b);
}

static void test_no_uid_no_delete(void **state)
{
	struct wk_node n = {0};
	struct buf b;
	char empty[] = "";

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(ni_delete_options(&n, &b), -EINVAL);
	n.uid = empty;
	assert_int_equal(ni_delete_options(&n, &b), -EINVAL);
	buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid_and_rv),
		cmocka_unit_test(test_uid_only_and_escaped),
		cmocka_unit_test(test_no_uid_no_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
