/* lib/coro and lib/retire: switching order and state kept across yields,
 * deferred frees held exactly as long as an older reader runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/coro.h"
#include "lib/retire.h"

static char trace[64];

static void note(char ch)
{
	size_t n = strlen(trace);

	if (n + 1 < sizeof(trace))
		trace[n] = ch, trace[n + 1] = '\0';
}

static void job(void *arg)
{
	const char *name = arg;
	char local[4096]; /* a real frame on the coroutine's stack */

	memset(local, name[0], sizeof(local));
	note(name[0]);
	coro_yield();
	assert_ptr_not_equal(coro_self(), NULL);
	note(local[4095]);
	coro_yield();
	note((char)(name[0] - 'a' + 'A'));
}

static void test_interleaving(void **st)
{
	static char na[] = "a", nb[] = "b";
	struct coro *a, *b;

	(void)st;
	trace[0] = '\0';
	assert_int_equal(coro_new(job, na, 0, &a), 0);
	assert_int_equal(coro_new(job, nb, (size_t)64 * 1024, &b), 0);
	assert_null(coro_self());
	assert_int_equal(coro_resume(a), 0);
	assert_int_equal(coro_resume(b), 0);
	assert_int_equal(coro_resume(b), 0);
	assert_int_equal(coro_resume(a), 0);
	assert_int_equal(coro_resume(a), 1);
	assert_int_equal(coro_resume(b), 1);
	assert_string_equal(trace, "abbaAB");
	assert_true(coro_finished(a));
	assert_int_equal(coro_resume(a), -EINVAL); /* finished stays so */
	assert_null(coro_self());
	coro_free(a);
	coro_free(b);
	coro_free(NULL);
}

static void deep(void *arg)
{
	int *depth = arg;
	char frame[256];

	memset(frame, 1, sizeof(frame));
	if (--*depth > 0)
		deep(arg);
	coro_yield();
	*depth += frame[0];
}

static void test_stack_survives_yield(void **st)
{
	struct coro *co;
	int depth = 100;

	(void)st;
	assert_int_equal(coro_new(deep, &depth, 0, &co), 0);
	assert_int_equal(coro_resume(co), 0);
	assert_int_equal(depth, 0);
	/* every frame yields once on its way back: 100 frames of stack
	 * kept across 100 switches */
	while (coro_resume(co) == 0)
		;
	assert_int_equal(depth, 100);
	coro_free(co);
}

static int freed[8];

static void count_free(void *ctx, void *obj)
{
	(void)ctx;
	freed[(intptr_t)obj]++;
}

static void test_retire(void **st)
{
	struct retire *r;
	uint64_t t1, t2;

	(void)st;
	memset(freed, 0, sizeof(freed));
	assert_int_equal(retire_new(&r), 0);
	retire_obj(r, count_free, NULL, (void *)1);
	assert_int_equal(freed[1], 1); /* no reader: at once */
	assert_int_equal(retire_enter(r, &t1), 0);
	retire_obj(r, count_free, NULL, (void *)2);
	assert_int_equal(retire_enter(r, &t2), 0);
	retire_obj(r, count_free, NULL, (void *)3);
	assert_int_equal(freed[2] + freed[3], 0);
	assert_int_equal(retire_pending(r), 2);
	/* the younger reader leaves: 2 and 3 were retired while the older
	 * one ran, which may still hold either */
	retire_leave(r, t2);
	assert_int_equal(freed[2] + freed[3], 0);
	retire_leave(r, t1);
	assert_int_equal(freed[2], 1);
	assert_int_equal(freed[3], 1);
	/* an object retired before a reader entered is not its business */
	assert_int_equal(retire_enter(r, &t1), 0);
	retire_obj(r, count_free, NULL, (void *)4);
	assert_int_equal(retire_enter(r, &t2), 0);
	retire_leave(r, t1);
	assert_int_equal(freed[4], 1);
	retire_obj(r, count_free, NULL, (void *)5);
	retire_free(r); /* pending ones are freed with it */
	assert_int_equal(freed[5], 1);
	retire_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interleaving),
		cmocka_unit_test(test_stack_survives_yield),
		cmocka_unit_test(test_retire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
