/* Per-controller tokens with an injected clock and API: renewal at 80 %,
 * refresh after a 401, fallback with one warning naming the permission,
 * and answers that arrive later (the supervisor's loop never waits). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/sup_creds.h"

static int64_t now_ms = 1000000;
static int issued, token_err, later, readies, checks_sent;
static const char *deny;
static char last_ready[64];

/* later: answers are kept here and given by answer_all() */
static sup_token_done held_tdone;
static void *held_targ;
static char held_sa[64];
static sup_check_done held_cdone[8];
static void *held_carg[8];
static int held_c;

static int64_t fake_now(void)
{
	return now_ms;
}

static void give_token(sup_token_done done, void *arg, const char *sa)
{
	char tok[128];

	if (token_err) {
		done(arg, -EACCES, NULL, 0,
		     "missing permission create serviceaccounts/token "
		     "(HTTP 403)");
		return;
	}
	issued++;
	snprintf(tok, sizeof(tok), "tok-%s-%d", sa, issued);
	done(arg, 0, tok, now_ms + 3600 * 1000LL, NULL);
}

static int fake_token(void *ctx, const char *sa, sup_token_done done, void *arg)
{
	(void)ctx;
	if (later) {
		held_tdone = done;
		held_targ = arg;
		snprintf(held_sa, sizeof(held_sa), "%s", sa);
		return 0;
	}
	give_token(done, arg, sa);
	return 0;
}

static int fake_check(void *ctx, const char *tok, const struct sup_access *a,
		      sup_check_done done, void *arg)
{
	(void)ctx;
	assert_non_null(strstr(tok, "tok-"));
	checks_sent++;
	if (later) {
		held_cdone[held_c] = done;
		held_carg[held_c++] = arg;
		return 0;
	}
	done(arg, deny && strcmp(a->resource, deny) == 0 ? 0 : 1);
	return 0;
}

static void fake_ready(void *arg, const char *sa)
{
	(void)arg;
	readies++;
	snprintf(last_ready, sizeof(last_ready), "%s", sa);
}

static const struct sup_access checks[] = {
	{"list", "", "nodes", ""},
	{"patch", "", "nodes/status", ""},
	{0},
};

static struct sup_creds *make(void)
{
	struct sup_creds_ops ops = {.token = fake_token,
				    .check = fake_check,
				    .now_wall_ms = fake_now,
				    .ready = fake_ready};
	struct sup_creds *c;

	issued = token_err = later = readies = checks_sent = held_c = 0;
	deny = NULL;
	assert_int_equal(sup_creds_new(&ops, &c), 0);
	return c;
}

static const char *get(struct sup_creds *c, const char *sa, int *fresh)
{
	assert_int_equal(sup_creds_want(c, sa, checks), 1);
	return sup_creds_token(c, sa, fresh);
}

static void test_renews_at_80_percent(void **st)
{
	struct sup_creds *c = make();
	const char *t;
	int fresh;

	(void)st;
	t = get(c, "route-controller", &fresh);
	assert_string_equal(t, "tok-route-controller-1");
	assert_int_equal(fresh, 1);
	assert_int_equal(readies, 0); /* answered at once: no callback */
	assert_true(sup_creds_renew_at(c, "route-controller") ==
		    now_ms + 2880 * 1000LL);
	now_ms += 2879 * 1000LL;
	t = get(c, "route-controller", &fresh);
	assert_string_equal(t, "tok-route-controller-1");
	assert_int_equal(fresh, 0);
	now_ms += 1000;
	t = get(c, "route-controller", &fresh);
	assert_string_equal(t, "tok-route-controller-2");
	assert_int_equal(fresh, 1);
	sup_creds_free(c);
}

static void test_401_forces_refresh(void **st)
{
	struct sup_creds *c = make();
	int fresh;

	(void)st;
	get(c, "service-controller", &fresh);
	sup_creds_invalidate(c, "service-controller");
	assert_string_equal(get(c, "service-controller", &fresh),
			    "tok-service-controller-2");
	sup_creds_free(c);
}

static void test_fallback_when_refused(void **st)
{
	struct sup_creds *c = make();
	int fresh;

	(void)st;
	token_err = 1;
	assert_null(get(c, "service-controller", &fresh));
	/* no retry storm: still falling back a minute later */
	token_err = 0;
	now_ms += 60 * 1000;
	assert_null(get(c, "service-controller", &fresh));
	assert_int_equal(issued, 0);
	/* retried after the back-off period */
	now_ms += 5 * 60 * 1000;
	assert_non_null(get(c, "service-controller", &fresh));
	sup_creds_free(c);
}

static void test_fallback_when_check_fails(void **st)
{
	struct sup_creds *c = make();
	int fresh;

	(void)st;
	deny = "nodes/status";
	assert_null(get(c, "route-controller", &fresh));
	assert_int_equal(sup_creds_renew_at(c, "route-controller"), 0);
	sup_creds_free(c);
	sup_creds_free(NULL);
}

static void answer_checks(int allowed)
{
	int n = held_c;

	held_c = 0;
	for (int i = 0; i < n; i++)
		held_cdone[i](held_carg[i], allowed);
}

static void test_later_answers(void **st)
{
	struct sup_creds *c = make();
	int fresh;

	(void)st;
	later = 1;
	/* first fetch: the caller must wait, and asking again sends nothing
	 * more */
	assert_int_equal(sup_creds_want(c, "route-controller", checks), 0);
	assert_int_equal(sup_creds_want(c, "route-controller", checks), 0);
	assert_null(sup_creds_token(c, "route-controller", &fresh));
	give_token(held_tdone, held_targ, held_sa);
	/* both checks are in flight at once */
	assert_int_equal(checks_sent, 2);
	assert_int_equal(readies, 0);
	answer_checks(1);
	assert_int_equal(readies, 1);
	assert_string_equal(last_ready, "route-controller");
	assert_string_equal(sup_creds_token(c, "route-controller", &fresh),
			    "tok-route-controller-1");
	assert_int_equal(fresh, 1);

	/* a renewal keeps the current token until the new one passed */
	now_ms += 2880 * 1000LL;
	assert_int_equal(sup_creds_want(c, "route-controller", checks), 1);
	give_token(held_tdone, held_targ, held_sa);
	assert_string_equal(sup_creds_token(c, "route-controller", &fresh),
			    "tok-route-controller-1");
	answer_checks(1);
	assert_int_equal(readies, 2);
	assert_string_equal(sup_creds_token(c, "route-controller", &fresh),
			    "tok-route-controller-2");

	/* a denial that arrives later falls back, once */
	sup_creds_invalidate(c, "route-controller");
	sup_creds_want(c, "route-controller", checks);
	give_token(held_tdone, held_targ, held_sa);
	held_cdone[0](held_carg[0], 1);
	held_cdone[1](held_carg[1], 0);
	held_c = 0;
	assert_int_equal(readies, 3);
	assert_null(sup_creds_token(c, "route-controller", &fresh));
	sup_creds_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renews_at_80_percent),
		cmocka_unit_test(test_401_forces_refresh),
		cmocka_unit_test(test_fallback_when_refused),
		cmocka_unit_test(test_fallback_when_check_fails),
		cmocka_unit_test(test_later_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
