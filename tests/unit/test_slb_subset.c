/* Unit tests: the subset planner of the service-LB worker (size and
 * choice: determinism, stickiness, zone spread, attachment balance,
 * shrinking to the floor). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "workers/service_lb/slb_subset.h"

#define MAXN 400

struct fleet {
	char names[MAXN][32];
	char zones[MAXN][16];
	struct slb_sub_node n[MAXN];
	size_t count;
};

static void fleet_init(struct fleet *f, size_t count, int n_zones)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->count = count;
	for (i = 0; i < count; i++) {
		snprintf(f->names[i], sizeof(f->names[i]), "node-%03zu", i);
		snprintf(f->zones[i], sizeof(f->zones[i]), "zone-%c",
			 (char)('a' + (int)(i % (size_t)n_zones)));
		f->n[i].name = f->names[i];
		f->n[i].zone = f->zones[i];
		f->n[i].ready = 1;
	}
}

static int count_chosen(const unsigned char *ch, size_t n)
{
	int k = 0;
	size_t i;

	for (i = 0; i < n; i++)
		k += ch[i];
	return k;
}

static int in_zone(const struct fleet *f, const unsigned char *ch,
		   const char *zone)
{
	int k = 0;
	size_t i;

	for (i = 0; i < f->count; i++)
		k += ch[i] && strcmp(f->zones[i], zone) == 0;
	return k;
}

static void test_size(void **state)
{
	struct slb_sub_size_in in = {.eligible = 250,
				     .services = 20,
				     .backends_per_lb = 200,
				     .lbs_per_instance = 50};
	int full;

	(void)state;
	assert_int_equal(slb_subset_size(&in, &full), 200);
	assert_int_equal(full, 200);
	in.backends_per_lb = 300;
	assert_int_equal(slb_subset_size(&in, &full), 250);
	assert_int_equal(full, 250);
	/* 120 nodes * 5 attachments over 40 Services: 15 each */
	in = (struct slb_sub_size_in){.eligible = 120,
				      .services = 40,
				      .backends_per_lb = 200,
				      .lbs_per_instance = 5};
	assert_int_equal(slb_subset_size(&in, &full), 15);
	assert_int_equal(full, 120);
	/* attachments held by Local-policy CLBs leave less room */
	in.fixed = 120;
	assert_int_equal(slb_subset_size(&in, &full), 12);
	/* never below the floor, never above the node count */
	in = (struct slb_sub_size_in){.eligible = 10,
				      .services = 500,
				      .backends_per_lb = 200,
				      .lbs_per_instance = 5};
	assert_int_equal(slb_subset_size(&in, &full), SLB_SUBSET_FLOOR);
	in.eligible = 2;
	assert_int_equal(slb_subset_size(&in, &full), 2);
	in.eligible = 0;
	assert_int_equal(slb_subset_size(&in, &full), 0);
	/* the 500 nodes, 200 Services, defaults but 200 CLBs */
	in = (struct slb_sub_size_in){.eligible = 500,
				      .services = 200,
				      .backends_per_lb = 200,
				      .lbs_per_instance = 50};
	assert_int_equal(slb_subset_size(&in, &full), 125);
}

static void test_deterministic_and_zone_spread(void **state)
{
	static struct fleet f, g;
	unsigned char a[MAXN], b[MAXN];
	size_t i;

	(void)state;
	fleet_init(&f, 250, 2);
	assert_int_equal(slb_subset_pick("uid-1", f.n, f.count, 200, 50, a),
			 200);
	assert_int_equal(in_zone(&f, a, "zone-a"), 100);
	assert_int_equal(in_zone(&f, a, "zone-b"), 100);
	/* node order does not matter */
	fleet_init(&g, 250, 2);
	for (i = 0; i < g.count; i++) {
		g.n[i].name = f.names[g.count - 1 - i];
		g.n[i].zone = f.zones[g.count - 1 - i];
	}
	assert_int_equal(slb_subset_pick("uid-1", g.n, g.count, 200, 50, b),
			 200);
	for (i = 0; i < f.count; i++)
		assert_int_equal(a[i], b[g.count - 1 - i]);
	/* another Service gets another subset */
	assert_int_equal(slb_subset_pick("uid-2", f.n, f.count, 200, 50, b),
			 200);
	assert_memory_not_equal(a, b, f.count);
	/* an unbalanced zone gives what it has */
	fleet_init(&f, 30, 1);
	for (i = 0; i < 4; i++)
		snprintf(f.zones[i], sizeof(f.zones[i]), "zone-z");
	assert_int_equal(slb_subset_pick("u", f.n, f.count, 10, 50, a), 10);
	assert_int_equal(in_zone(&f, a, "zone-z"), 4);
	assert_int_equal(in_zone(&f, a, "zone-a"), 6);
}

static void test_sticky(void **state)
{
	static struct fleet f;
	unsigned char a[MAXN], b[MAXN];
	size_t i, gone = 0;

	(void)state;
	fleet_init(&f, 250, 2);
	assert_int_equal(slb_subset_pick("uid-1", f.n, f.count, 200, 50, a),
			 200);
	/* arbitrary current members (not what the hash would pick) stay */
	for (i = 0; i < f.count; i++)
		f.n[i].current = i < 200;
	assert_int_equal(slb_subset_pick("uid-1", f.n, f.count, 200, 50, b),
			 200);
	for (i = 0; i < f.count; i++)
		assert_int_equal(b[i], i < 200);
	/* 10 members gone (removed from the list): exactly 10 replace them,
	 * all from the zone that lost them (both zones lose 5) */
	for (i = 0; i < f.count; i++)
		f.n[i].current = a[i];
	for (i = 0; i < f.count && gone < 10; i++)
		if (a[i]) {
			f.n[i].others = 50; /* over quota: not valid */
			gone++;
		}
	assert_int_equal(slb_subset_pick("uid-1", f.n, f.count, 200, 50, b),
			 200);
	for (i = 0, gone = 0; i < f.count; i++) {
		if (a[i] && f.n[i].others < 50)
			assert_int_equal(b[i], 1);
		gone += b[i] && !a[i];
	}
	assert_int_equal(gone, 10);
	assert_int_equal(in_zone(&f, b, "zone-a"), 100);
	/* more nodes while the subset is full: nothing moves */
	for (i = 0; i < f.count; i++) {
		f.n[i].current = b[i];
		f.n[i].others = 0;
	}
	memcpy(a, b, sizeof(a));
	fleet_init(&f, 300, 2);
	for (i = 0; i < 250; i++)
		f.n[i].current = a[i];
	assert_int_equal(slb_subset_pick("uid-1", f.n, f.count, 200, 50, b),
			 200);
	for (i = 0; i < 250; i++)
		assert_int_equal(b[i], a[i]);
}

static void test_ready_preferred(void **state)
{
	static struct fleet f;
	unsigned char a[MAXN];
	size_t i;

	(void)state;
	fleet_init(&f, 20, 1);
	for (i = 0; i < 10; i++)
		f.n[i].ready = 0;
	assert_int_equal(slb_subset_pick("u", f.n, f.count, 10, 50, a), 10);
	for (i = 0; i < 20; i++)
		assert_int_equal(a[i], i >= 10);
	/* shrinking drops the not-Ready members first */
	for (i = 0; i < 20; i++)
		f.n[i].current = i % 2;
	assert_int_equal(slb_subset_pick("u", f.n, f.count, 5, 50, a), 5);
	for (i = 0; i < 20; i++)
		if (a[i])
			assert_true(i % 2 == 1 && i >= 10);
}

/* Services planned one after another, each seeing the attachments of the
 * ones before: perfect packing when the quota is exactly used. */
static void test_attachment_balance_and_shrink(void **state)
{
	static struct fleet f;
	static unsigned char ch[40][MAXN];
	struct slb_sub_size_in in = {.eligible = 120,
				     .services = 40,
				     .backends_per_lb = 200,
				     .lbs_per_instance = 5};
	int full, k, s;
	size_t i;

	(void)state;
	fleet_init(&f, 120, 2);
	k = slb_subset_size(&in, &full);
	assert_int_equal(k, 15);
	for (s = 0; s < 40; s++) {
		char uid[16];

		snprintf(uid, sizeof(uid), "svc-%d", s);
		assert_int_equal(
			slb_subset_pick(uid, f.n, f.count, k, 5, ch[s]), 15);
		for (i = 0; i < f.count; i++)
			f.n[i].others += ch[s][i];
	}
	for (i = 0; i < f.count; i++)
		assert_int_equal(f.n[i].others, 5);
	/* a full instance is never picked for a further Service */
	assert_int_equal(slb_subset_pick("svc-x", f.n, f.count, k, 5, ch[0]),
			 0);
	assert_int_equal(count_chosen(ch[0], f.count), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_deterministic_and_zone_spread),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_ready_preferred),
		cmocka_unit_test(test_attachment_balance_and_shrink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
