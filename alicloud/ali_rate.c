#include "alicloud/ali_rate.h"

static double effective(const struct ali_bucket *b, int64_t now_ms)
{
	return now_ms < b->slow_until_ms ? b->rate / 2 : b->rate;
}

static void refill(struct ali_bucket *b, int64_t now_ms)
{
	double dt = (double)(now_ms - b->last_ms) / 1000.0;

	if (dt > 0) {
		b->tokens += dt * effective(b, now_ms);
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	b->last_ms = now_ms;
}

void ali_bucket_set_rate(struct ali_bucket *b, double rate, int64_t now_ms)
{
	refill(b, now_ms);
	b->rate = rate;
	b->burst = rate < 1 ? 1 : rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

void ali_bucket_init(struct ali_bucket *b, double rate, int64_t now_ms)
{
	b->last_ms = now_ms;
	b->slow_until_ms = 0;
	b->rate = rate;
	b->burst = rate < 1 ? 1 : rate;
	b->tokens = b->burst;
}

int64_t ali_bucket_take(struct ali_bucket *b, int64_t now_ms)
{
	double r;

	if (b->rate <= 0)
		return 0;
	refill(b, now_ms);
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	r = effective(b, now_ms);
	return (int64_t)((1 - b->tokens) * 1000.0 / r) + 1;
}

void ali_bucket_throttled(struct ali_bucket *b, int64_t now_ms)
{
	refill(b, now_ms);
	b->slow_until_ms = now_ms + ALI_RATE_PENALTY_MS;
}
