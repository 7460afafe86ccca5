/* supervisor/sup_fds.c: a child keeps its descriptors up to `low` and
 * loses every one above it, by close_range() and by the /proc fallback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/sup_fds.h"

static const int above[] = {10, 11, 57, 300};

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Runs fn in a child with /dev/null on 3 and on every fd of above[];
 * the child's exit code is 0 only if 3 stayed open and the others did
 * not. */
static int run_child(void (*fn)(void))
{
	int st, null = open("/dev/null", O_RDONLY);
	pid_t pid;

	assert_true(null >= 0);
	assert_int_equal(dup2(null, 3), 3);
	for (size_t i = 0; i < sizeof(above) / sizeof(above[0]); i++)
		assert_int_equal(dup2(null, above[i]), above[i]);
	if (null != 3)
		close(null);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int bad = 0;

		fn();
		bad |= !is_open(3);
		for (size_t i = 0; i < sizeof(above) / sizeof(above[0]); i++)
			bad |= is_open(above[i]);
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	for (size_t i = 0; i < sizeof(above) / sizeof(above[0]); i++)
		close(above[i]);
	close(3);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void via_close_above(void)
{
	sup_fds_close_above(3, 1024);
}

static void via_proc_listing(void)
{
	if (sup_fds_close_listed(3) < 0)
		_exit(2);
}

static void test_close_above(void **st)
{
	(void)st;
	assert_int_equal(run_child(via_close_above), 0);
}

static void test_proc_fallback(void **st)
{
	(void)st;
	assert_int_equal(run_child(via_proc_listing), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_above),
		cmocka_unit_test(test_proc_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
