/*
 * backoff - jittered exponential delays for restarts and retries.
 *
 * backoff_next returns the delay before the next attempt: base doubling per
 * consecutive failure up to cap, with jitter in [0.8, 1.2) of the step so
 * restarts of several processes do not synchronise, and never below min.
 * backoff_reset starts again at base (after a stable period).
 *
 * Plain value struct, no allocation. The random source is rand_r on a
 * per-struct seed so tests are reproducible.
 */
#ifndef CCM_BACKOFF_H
#define CCM_BACKOFF_H

#include <stdint.h>

struct backoff {
	int64_t base_ms, cap_ms, min_ms;
	int64_t step_ms; /* current un-jittered step, 0 before the first */
	unsigned seed;
};

void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms,
		  int64_t min_ms, unsigned seed);
int64_t backoff_next(struct backoff *b);
void backoff_reset(struct backoff *b);

#endif
