/* lib/buf.c: growth keeps the content (it copies and wipes instead of
 * realloc), the cap holds, and buf_done leaves an empty, reusable buf. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/buf.h"

static void test_growth_keeps_content(void **st)
{
	struct buf b;
	char want[5000];

	(void)st;
	buf_init(&b, sizeof(want));
	for (size_t i = 0; i < sizeof(want) - 1; i++) {
		want[i] = (char)('a' + i % 26);
		assert_int_equal(buf_append(&b, &want[i], 1), 0);
		assert_int_equal(b.data[b.len], '\0');
	}
	want[sizeof(want) - 1] = '\0';
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_string_equal(b.data, want);
	assert_int_equal(buf_printf(&b, "%s", "x"), 0);
	assert_int_equal(buf_append(&b, "y", 1), -E2BIG);
	assert_int_equal(b.len, sizeof(want));
	buf_done(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* reusable after done, and done twice is harmless */
	assert_int_equal(buf_puts(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	buf_done(&b);
	buf_done(&b);
}

static void test_printf_grows(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 1u << 20);
	assert_int_equal(buf_puts(&b, "head:"), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%04d", i), 0);
	assert_int_equal(b.len, 5 + 4000);
	assert_memory_equal(b.data, "head:0000", 9);
	assert_string_equal(b.data + b.len - 4, "0999");
	buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_printf_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
