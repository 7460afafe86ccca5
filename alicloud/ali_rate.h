/*
 * ali_rate - a token bucket pacing calls to one Alibaba Cloud product.
 *
 * The account-wide API quota is shared by every process of the cluster, so
 * each client paces itself. After a throttling answer the bucket runs at
 * half rate for ALI_RATE_PENALTY_MS. Times are CLOCK_MONOTONIC ms passed in
 * by the caller, so the arithmetic is testable.
 */
#ifndef CCM_ALI_RATE_H
#define CCM_ALI_RATE_H

#include <stdint.h>

#define ALI_RATE_PENALTY_MS 30000

struct ali_bucket {
	double rate; /* calls per second; <= 0 means unlimited */
	double burst;
	double tokens;
	int64_t last_ms;
	int64_t slow_until_ms;
};

void ali_bucket_init(struct ali_bucket *b, double rate, int64_t now_ms);
void ali_bucket_set_rate(struct ali_bucket *b, double rate, int64_t now_ms);
/* Takes one token; returns 0 or the ms to wait before trying again. */
int64_t ali_bucket_take(struct ali_bucket *b, int64_t now_ms);
/* A throttling answer: halve the rate until now + ALI_RATE_PENALTY_MS. */
void ali_bucket_throttled(struct ali_bucket *b, int64_t now_ms);

#endif
