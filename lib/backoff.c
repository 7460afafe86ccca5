#include "lib/backoff.h"

#include <stdlib.h>

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms,
		  int64_t min_ms, unsigned seed)
{
	b->base_ms = base_ms;
	b->cap_ms = cap_ms;
	b->min_ms = min_ms;
	b->step_ms = 0;
	b->seed = seed;
}

int64_t backoff_next(struct backoff *b)
{
	int64_t d;

	b->step_ms = b->step_ms == 0 ? b->base_ms : b->step_ms * 2;
	if (b->step_ms > b->cap_ms)
		b->step_ms = b->cap_ms;
	/* jitter in [0.8, 1.2) of the step */
	d = b->step_ms * 8 / 10 +
	    (int64_t)(rand_r(&b->seed) % 1000) * b->step_ms * 4 / 10000;
	return d < b->min_ms ? b->min_ms : d;
}

void backoff_reset(struct backoff *b)
{
	b->step_ms = 0;
}
