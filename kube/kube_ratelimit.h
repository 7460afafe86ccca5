/*
 * kube_ratelimit - a token bucket (client-go's flowcontrol token bucket).
 *
 * qps tokens per second refill a bucket of burst tokens. kube_rl_reserve()
 * always takes a token, possibly borrowing ahead, and returns how many
 * milliseconds the caller must wait before acting, so callers queue in
 * order. kube_rl_try() takes a token only when one is available now (for
 * spam filters that drop instead of waiting). Time comes from
 * clock_mono_ms() so tests drive it with clock_test_advance().
 *
 * Ownership: embedded by the user; no allocation.
 */
#ifndef CCM_KUBE_RATELIMIT_H
#define CCM_KUBE_RATELIMIT_H

#include <stdint.h>

struct kube_rl {
	double qps; /* <= 0: unlimited */
	double burst;
	double tokens;
	int64_t last_ms;
};

void kube_rl_init(struct kube_rl *rl, double qps, int burst);
/* Milliseconds to wait before the reserved token may be used (0 = now). */
int64_t kube_rl_reserve(struct kube_rl *rl);
/* 1 when a token was taken, 0 when the bucket is empty. */
int kube_rl_try(struct kube_rl *rl);

#endif
