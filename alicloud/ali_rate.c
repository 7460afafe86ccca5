#include "alicloud/ali_rate.h"

#include <stdio.h>
#include <string.h>

static double burst_for(double rate)
{
	return rate < 1 ? 1 : rate;
}

static void refill(struct ali_bucket *b, int64_t now_ms)
{
	double dt = (double)(now_ms - b->last_ms) / 1000.0;

	if (dt > 0) {
		b->tokens += dt * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
}

void ali_bucket_set_rate(struct ali_bucket *b, double rate, int64_t now_ms)
{
	refill(b, now_ms);
	b->rate = rate;
	b->burst = burst_for(rate);
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

void ali_bucket_init(struct ali_bucket *b, double rate, int64_t now_ms)
{
	b->last_ms = now_ms;
	b->rate = rate;
	b->burst = burst_for(rate);
	b->tokens = b->burst;
}

int64_t ali_bucket_wait(struct ali_bucket *b, int64_t now_ms)
{
	if (b->rate <= 0)
		return 0;
	refill(b, now_ms);
	if (b->tokens >= 1)
		return 0;
	return (int64_t)((1 - b->tokens) * 1000.0 / b->rate) + 1;
}

int64_t ali_bucket_take(struct ali_bucket *b, int64_t now_ms)
{
	int64_t w = ali_bucket_wait(b, now_ms);

	if (w == 0 && b->rate > 0)
		b->tokens -= 1;
	return w;
}

static double start_rate(double ceiling)
{
	double s = ceiling * ALI_RATE_START_FRAC;

	if (s < ALI_RATE_FLOOR)
		s = ALI_RATE_FLOOR;
	return s > ceiling ? ceiling : s;
}

void ali_rate_init(struct ali_rate *r, double ceiling, int64_t now_ms)
{
	memset(r, 0, sizeof(*r));
	r->ceiling = ceiling;
	ali_bucket_init(&r->total, ceiling, now_ms);
}

void ali_rate_set_ceiling(struct ali_rate *r, double ceiling, int64_t now_ms)
{
	int i;

	r->ceiling = ceiling;
	ali_bucket_set_rate(&r->total, ceiling, now_ms);
	for (i = 0; i < r->n_act; i++) {
		struct ali_bucket *b = &r->act[i].b;

		if (ceiling <= 0)
			ali_bucket_set_rate(b, 0, now_ms);
		else if (b->rate <= 0) {
			ali_bucket_set_rate(b, start_rate(ceiling), now_ms);
			r->act[i].cut_at = ceiling;
		} else if (b->rate > ceiling) {
			ali_bucket_set_rate(b, ceiling, now_ms);
		}
	}
}

static struct ali_rate_action *find(const struct ali_rate *r, const char *a)
{
	int i;

	for (i = 0; i < r->n_act; i++)
		if (strcmp(r->act[i].name, a) == 0)
			return (struct ali_rate_action *)&r->act[i];
	return NULL;
}

static struct ali_rate_action *slot(struct ali_rate *r, const char *action,
				    int64_t now_ms)
{
	const char *name = action ? action : "";
	struct ali_rate_action *a = find(r, name);

	if (a)
		return a;
	if (r->n_act == ALI_RATE_MAX_ACTIONS)
		name = ""; /* overflow slot, created below if needed */
	if ((a = find(r, name)))
		return a;
	if (r->n_act == ALI_RATE_MAX_ACTIONS)
		a = &r->act[ALI_RATE_MAX_ACTIONS - 1];
	else
		a = &r->act[r->n_act++];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	ali_bucket_init(&a->b, r->ceiling <= 0 ? 0 : start_rate(r->ceiling),
			now_ms);
	a->last_cut_ms = now_ms - ALI_RATE_HOLD_MS;
	a->cut_at = r->ceiling;
	return a;
}

int64_t ali_rate_take(struct ali_rate *r, const char *action, int64_t now_ms)
{
	struct ali_rate_action *a;
	int64_t wa, wt;

	if (r->ceiling <= 0)
		return 0;
	a = slot(r, action, now_ms);
	wa = ali_bucket_wait(&a->b, now_ms);
	wt = ali_bucket_wait(&r->total, now_ms);
	if (wa || wt)
		return wa > wt ? wa : wt;
	ali_bucket_take(&a->b, now_ms);
	ali_bucket_take(&r->total, now_ms);
	a->takes++;
	return 0;
}

void ali_rate_ok(struct ali_rate *r, const char *action, int64_t now_ms)
{
	struct ali_rate_action *a;
	double next;

	if (r->ceiling <= 0)
		return;
	a = slot(r, action, now_ms);
	a->ok++;
	next = a->b.rate + (a->b.rate > a->cut_at ? a->b.rate : a->cut_at) /
				   ALI_RATE_AI_DIV;
	ali_bucket_set_rate(&a->b, next > r->ceiling ? r->ceiling : next,
			    now_ms);
}

void ali_rate_throttled(struct ali_rate *r, const char *action, int64_t now_ms)
{
	struct ali_rate_action *a;
	double next;

	if (r->ceiling <= 0)
		return;
	a = slot(r, action, now_ms);
	a->throttled++;
	/* the server's bucket is empty: do not spend what we still hold */
	a->b.tokens = 0;
	a->b.last_ms = now_ms;
	if (now_ms - a->last_cut_ms < ALI_RATE_HOLD_MS ||
	    a->takes == a->takes_at_cut)
		return;
	a->last_cut_ms = now_ms;
	a->takes_at_cut = a->takes;
	a->cut_at = a->b.rate;
	next = a->b.rate / 2;
	if (next < ALI_RATE_FLOOR)
		next = ALI_RATE_FLOOR;
	ali_bucket_set_rate(&a->b, next > r->ceiling ? r->ceiling : next,
			    now_ms);
}

double ali_rate_of(const struct ali_rate *r, const char *action)
{
	const struct ali_rate_action *a = find(r, action ? action : "");

	if (r->ceiling <= 0)
		return 0;
	if (!a && r->n_act == ALI_RATE_MAX_ACTIONS)
		a = find(r, "");
	return a ? a->b.rate : start_rate(r->ceiling);
}
