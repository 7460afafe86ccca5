/* Per-controller tokens with an injected clock and API: renewal at 80 %,
 * refresh after a 401, fallback with one warning naming the permission. */
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
static int issued, token_err, deny_verb;
static const char *deny;

static int64_t fake_now(void)
{
	return now_ms;
}

static int fake_token(void *ctx, const char *sa, char *tok, size_t len,
		      int64_t *exp, char *why, size_t whylen)
{
	(void)ctx;
	if (token_err) {
		snprintf(why, whylen,
			 "missing permission create "
			 "serviceaccounts/token (HTTP 403)");
		return -EACCES;
	}
	issued++;
	snprintf(tok, len, "tok-%s-%d", sa, issued);
	*exp = now_ms + 3600 * 1000LL;
	return 0;
}

static int fake_check(void *ctx, const char *tok, const struct sup_access *a)
{
	(void)ctx;
	(void)tok;
	(void)deny_verb;
	return deny && strcmp(a->resource, deny) == 0 ? 0 : 1;
}

static const struct sup_access checks[] = {
	{"list", "", "nodes", ""},
	{"patch", "", "nodes/status", ""},
	{0},
};

static struct sup_creds *make(void)
{
	struct sup_creds_ops ops = {fake_token, fake_check, NULL, fake_now};
	struct sup_creds *c;

	issued = token_err = 0;
	deny = NULL;
	assert_int_equal(sup_creds_new(&ops, &c), 0);
	return c;
}

static void test_renews_at_80_percent(void **st)
{
	struct sup_creds *c = make();
	const char *t;
	int fresh;

	(void)st;
	t = sup_creds_get(c, "route-controller", checks, &fresh);
	assert_string_equal(t, "tok-route-controller-1");
	assert_int_equal(fresh, 1);
	assert_true(sup_creds_renew_at(c, "route-controller") ==
		    now_ms + 2880 * 1000LL);
	now_ms += 2879 * 1000LL;
	t = sup_creds_get(c, "route-controller", checks, &fresh);
	assert_string_equal(t, "tok-route-controller-1");
	assert_int_equal(fresh, 0);
	now_ms += 1000;
	t = sup_creds_get(c, "route-controller", checks, &fresh);
	assert_string_equal(t, "tok-route-controller-2");
	assert_int_equal(fresh, 1);
	sup_creds_free(c);
}

static void test_401_forces_refresh(void **st)
{
	struct sup_creds *c = make();
	int fresh;

	(void)st;
	sup_creds_get(c, "service-controller", checks, &fresh);
	sup_creds_invalidate(c, "service-controller");
	assert_string_equal(
		sup_creds_get(c, "service-controller", checks, &fresh),
		"tok-service-controller-2");
	sup_creds_free(c);
}

static void test_fallback_when_refused(void **st)
{
	struct sup_creds *c = make();
	int fresh;

	(void)st;
	token_err = 1;
	assert_null(sup_creds_get(c, "service-controller", checks, &fresh));
	/* no retry storm: still falling back a minute later */
	token_err = 0;
	now_ms += 60 * 1000;
	assert_null(sup_creds_get(c, "service-controller", checks, &fresh));
	assert_int_equal(issued, 0);
	/* retried after the back-off period */
	now_ms += 5 * 60 * 1000;
	assert_non_null(sup_creds_get(c, "service-controller", checks, &fresh));
	sup_creds_free(c);
}

static void test_fallback_when_check_fails(void **st)
{
	struct sup_creds *c = make();
	int fresh;

	(void)st;
	deny = "nodes/status";
	assert_null(sup_creds_get(c, "route-controller", checks, &fresh));
	assert_int_equal(sup_creds_renew_at(c, "route-controller"), 0);
	sup_creds_free(c);
	sup_creds_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renews_at_80_percent),
		cmocka_unit_test(test_401_forces_refresh),
		cmocka_unit_test(test_fallback_when_refused),
		cmocka_unit_test(test_fallback_when_check_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
