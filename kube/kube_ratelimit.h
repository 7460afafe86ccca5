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
 * The rate adapts to the API server's overload answers (HTTP 429, e.g.
 * API Priority and Fairness rejecting the request): kube_rl_overloaded()
 * halves it (once per KUBE_RL_HOLD_MS; a burst of rejections is one
 * signal), never below KUBE_RL_FLOOR_FRAC of the configured qps, and each
 * kube_rl_ok() adds KUBE_RL_STEP_FRAC of the configured qps back, which
 * stays the ceiling (--kube-api-qps).
 *
 * Ownership: embedded by the user; no allocation.
 */
#ifndef CCM_KUBE_RATELIMIT_H
#define CCM_KUBE_RATELIMIT_H

#include <stdint.h>

#define KUBE_RL_HOLD_MS	   1000
#define KUBE_RL_FLOOR_FRAC 0.05
#define KUBE_RL_STEP_FRAC  0.025

struct kube_rl {
	double qps;	/* current rate; <= 0: unlimited */
	double ceiling; /* the configured qps */
	int64_t last_cut_ms;
	double burst;
	double tokens;
	int64_t last_ms;
};

void kube_rl_init(struct kube_rl *rl, double qps, int burst);
/* Milliseconds to wait before the reserved token may be used (0 = now). */
int64_t kube_rl_reserve(struct kube_rl *rl);
/* 1 when a token was taken, 0 when the bucket is empty. */
int kube_rl_try(struct kube_rl *rl);
/* The server answered 429: halve the rate and spend what is saved up. */
void kube_rl_overloaded(struct kube_rl *rl);
/* A request succeeded: additive increase up to the ceiling. */
void kube_rl_ok(struct kube_rl *rl);

#endif
