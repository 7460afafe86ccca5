/* The guarded node lifecycle state machine, driven by an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workers/node_init/ni_lifecycle.h"

#define GRACE 120000

static struct ni_lc *mk(int max)
{
	struct ni_lc *lc = NULL;

	assert_int_equal(ni_lc_new(GRACE, max, &lc), 0);
	ni_lc_begin(lc);
	return lc;
}

static enum ni_act step(struct ni_lc *lc, const char *node, enum ni_obs o,
			const char *status, enum wk_cond ready, int tainted,
			int64_t now)
{
	struct ni_lc_input in = {
		.node = node,
		.instance = "i-abc",
		.obs = o,
		.status = status,
		.ready = ready,
		.shutdown_tainted = tainted,
	};

	return ni_lc_step(lc, &in, now);
}

static void deleted_after_second_miss_past_grace(void **st)
{
	struct ni_lc *lc = mk(5);

	(void)st;
	assert_int_equal(
		step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_UNKNOWN, 0, 1000),
		NI_ACT_SUSPECT);
	/* Second miss too early: no deletion. */
	assert_int_equal(step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_UNKNOWN, 0,
			      1000 + GRACE - 1),
			 NI_ACT_NONE);
	ni_lc_begin(lc);
	assert_int_equal(step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_FALSE, 0,
			      1000 + GRACE),
			 NI_ACT_DELETE);
	ni_lc_free(lc);
}

static void one_miss_never_deletes(void **st)
{
	struct ni_lc *lc = mk(5);

	(void)st;
	assert_int_equal(
		step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_UNKNOWN, 0, 0),
		NI_ACT_SUSPECT);
	/* Long silence (errors only) is not a second miss. */
	assert_int_equal(step(lc, "n", NI_OBS_UNKNOWN, NULL, WK_COND_UNKNOWN, 0,
			      10 * GRACE),
			 NI_ACT_NONE);
	assert_int_equal(ni_lc_misses(lc, "n"), 1);
	ni_lc_free(lc);
}

static void ready_node_not_deleted(void **st)
{
	struct ni_lc *lc = mk(5);

	(void)st;
	step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_TRUE, 0, 0);
	assert_int_equal(
		step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_TRUE, 0, GRACE * 3),
		NI_ACT_NONE);
	/* It turns NotReady later: now it goes. */
	assert_int_equal(step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_FALSE, 0,
			      GRACE * 4),
			 NI_ACT_DELETE);
	ni_lc_free(lc);
}

static void found_clears_suspicion(void **st)
{
	struct ni_lc *lc = mk(5);

	(void)st;
	step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_UNKNOWN, 0, 0);
	assert_int_equal(
		step(lc, "n", NI_OBS_FOUND, "Running", WK_COND_UNKNOWN, 0, 1),
		NI_ACT_NONE);
	assert_int_equal(ni_lc_misses(lc, "n"), 0);
	assert_int_equal(step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_UNKNOWN, 0,
			      GRACE * 2),
			 NI_ACT_SUSPECT);
	assert_int_equal(step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_UNKNOWN, 0,
			      GRACE * 2 + 10),
			 NI_ACT_NONE);
	ni_lc_free(lc);
}

static void cap_defers_the_rest(void **st)
{
	struct ni_lc *lc = mk(2);
	const char *names[] = {"a", "b", "c", "d"};
	int i, del = 0, defer = 0;

	(void)st;
	for (i = 0; i < 4; i++)
		step(lc, names[i], NI_OBS_MISSING, NULL, WK_COND_FALSE, 0, 0);
	ni_lc_begin(lc);
	for (i = 0; i < 4; i++) {
		enum ni_act a = step(lc, names[i], NI_OBS_MISSING, NULL,
				     WK_COND_FALSE, 0, GRACE);
		del += a == NI_ACT_DELETE;
		defer += a == NI_ACT_DEFER;
	}
	assert_int_equal(del, 2);
	assert_int_equal(defer, 2);
	ni_lc_forget(lc, "a");
	ni_lc_forget(lc, "b");
	/* Next sync: the deferred ones. */
	ni_lc_begin(lc);
	assert_int_equal(step(lc, "c", NI_OBS_MISSING, NULL, WK_COND_FALSE, 0,
			      GRACE + 5000),
			 NI_ACT_DELETE);
	assert_int_equal(step(lc, "d", NI_OBS_MISSING, NULL, WK_COND_FALSE, 0,
			      GRACE + 5000),
			 NI_ACT_DELETE);
	ni_lc_free(lc);
}

static void cap_zero_deletes_nothing(void **st)
{
	struct ni_lc *lc = mk(0);

	(void)st;
	step(lc, "a", NI_OBS_MISSING, NULL, WK_COND_FALSE, 0, 0);
	assert_int_equal(
		step(lc, "a", NI_OBS_MISSING, NULL, WK_COND_FALSE, 0, GRACE),
		NI_ACT_DEFER);
	ni_lc_free(lc);
}

static void new_instance_restarts(void **st)
{
	struct ni_lc *lc = mk(5);
	struct ni_lc_input in = {.node = "n",
				 .instance = "i-new",
				 .obs = NI_OBS_MISSING,
				 .ready = WK_COND_FALSE};

	(void)st;
	step(lc, "n", NI_OBS_MISSING, NULL, WK_COND_FALSE, 0, 0);
	/* Same name, other instance: the old miss does not count. */
	assert_int_equal(ni_lc_step(lc, &in, GRACE), NI_ACT_SUSPECT);
	ni_lc_free(lc);
}

static void shutdown_taint(void **st)
{
	struct ni_lc *lc = mk(5);

	(void)st;
	assert_int_equal(
		step(lc, "n", NI_OBS_FOUND, "Stopped", WK_COND_UNKNOWN, 0, 0),
		NI_ACT_TAINT);
	assert_int_equal(
		step(lc, "n", NI_OBS_FOUND, "Stopped", WK_COND_UNKNOWN, 1, 0),
		NI_ACT_NONE);
	assert_int_equal(
		step(lc, "n", NI_OBS_FOUND, "Starting", WK_COND_UNKNOWN, 1, 0),
		NI_ACT_NONE);
	assert_int_equal(
		step(lc, "n", NI_OBS_FOUND, "Running", WK_COND_FALSE, 1, 0),
		NI_ACT_UNTAINT);
	assert_int_equal(
		step(lc, "n", NI_OBS_FOUND, "Running", WK_COND_TRUE, 0, 0),
		NI_ACT_NONE);
	/* Lookup errors never touch the taint. */
	assert_int_equal(
		step(lc, "n", NI_OBS_UNKNOWN, NULL, WK_COND_TRUE, 1, 0),
		NI_ACT_NONE);
	ni_lc_free(lc);
}

static void mkinst(struct ni_instance *i, const char *id)
{
	memset(i, 0, sizeof(*i));
	strcpy(i->id, id);
	strcpy(i->status, "Running");
}

static void batch_trust(void **st)
{
	const char *ids[] = {"i-a", "i-b", "i-c"};
	struct ni_instance got[2];
	enum ni_obs o[3];

	(void)st;
	mkinst(&got[0], "i-a");
	mkinst(&got[1], "i-c");
	ni_lc_batch(ids, 3, 1, 1, got, 2, o);
	assert_int_equal(o[0], NI_OBS_FOUND);
	assert_int_equal(o[1], NI_OBS_MISSING);
	assert_int_equal(o[2], NI_OBS_FOUND);
	/* Empty answer: nobody is missing. */
	ni_lc_batch(ids, 3, 1, 1, got, 0, o);
	assert_int_equal(o[0], NI_OBS_UNKNOWN);
	assert_int_equal(o[1], NI_OBS_UNKNOWN);
	/* Error, incomplete paging. */
	ni_lc_batch(ids, 3, 0, 1, got, 2, o);
	assert_int_equal(o[1], NI_OBS_UNKNOWN);
	assert_int_equal(o[0], NI_OBS_UNKNOWN);
	ni_lc_batch(ids, 3, 1, 0, got, 2, o);
	assert_int_equal(o[1], NI_OBS_UNKNOWN);
	/* A foreign instance: the filter was ignored. */
	mkinst(&got[1], "i-zzz");
	ni_lc_batch(ids, 3, 1, 1, got, 2, o);
	assert_int_equal(o[0], NI_OBS_UNKNOWN);
	assert_int_equal(o[1], NI_OBS_UNKNOWN);
	/* Alone in its batch: never provably gone. */
	ni_lc_batch(ids, 1, 1, 1, got, 0, o);
	assert_int_equal(o[0], NI_OBS_UNKNOWN);
}

static void grace_env(void **st)
{
	(void)st;
	unsetenv(NI_GONE_GRACE_ENV);
	assert_int_equal(ni_lc_grace_from_env(), NI_GONE_GRACE_MS);
	setenv(NI_GONE_GRACE_ENV, "1500", 1);
	assert_int_equal(ni_lc_grace_from_env(), 1500);
	setenv(NI_GONE_GRACE_ENV, "x", 1);
	assert_int_equal(ni_lc_grace_from_env(), NI_GONE_GRACE_MS);
	unsetenv(NI_GONE_GRACE_ENV);
	ni_lc_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deleted_after_second_miss_past_grace),
		cmocka_unit_test(one_miss_never_deletes),
		cmocka_unit_test(ready_node_not_deleted),
		cmocka_unit_test(found_clears_suspicion),
		cmocka_unit_test(cap_defers_the_rest),
		cmocka_unit_test(cap_zero_deletes_nothing),
		cmocka_unit_test(new_instance_restarts),
		cmocka_unit_test(shutdown_taint),
		cmocka_unit_test(batch_trust),
		cmocka_unit_test(grace_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
