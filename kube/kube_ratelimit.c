#include "kube/kube_ratelimit.h"

#include "lib/clock.h"

void kube_rl_init(struct kube_rl *rl, double qps, int burst)
{
	rl->qps = qps;
	rl->ceiling = qps;
	rl->last_cut_ms = INT64_MIN / 2;
	rl->burst = burst > 0 ? burst : 1;
	rl->tokens = rl->burst;
	rl->last_ms = clock_mono_ms();
}

static void refill(struct kube_rl *rl)
{
	int64_t now = clock_mono_ms();

	if (now > rl->last_ms) {
		rl->tokens += (double)(now - rl->last_ms) * rl->qps / 1000.0;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_ms = now;
	}
}

int64_t kube_rl_reserve(struct kube_rl *rl)
{
	double deficit;

	if (rl->qps <= 0)
		return 0;
	refill(rl);
	rl->tokens -= 1.0;
	if (rl->tokens >= 0)
		return 0;
	deficit = -rl->tokens;
	/* round up so a caller that sleeps exactly this long finds a token */
	return (int64_t)(deficit * 1000.0 / rl->qps + 0.999);
}

int kube_rl_try(struct kube_rl *rl)
{
	if (rl->qps <= 0)
		return 1;
	refill(rl);
	if (rl->tokens < 1.0)
		return 0;
	rl->tokens -= 1.0;
	return 1;
}

void kube_rl_overloaded(struct kube_rl *rl)
{
	double floor = rl->ceiling * KUBE_RL_FLOOR_FRAC;
	int64_t now = clock_mono_ms();

	if (rl->qps <= 0)
		return;
	refill(rl);
	if (rl->tokens > 0)
		rl->tokens = 0;
	if (now - rl->last_cut_ms < KUBE_RL_HOLD_MS)
		return;
	rl->last_cut_ms = now;
	rl->qps = rl->qps / 2 < floor ? floor : rl->qps / 2;
}

void kube_rl_ok(struct kube_rl *rl)
{
	double next;

	if (rl->qps <= 0 || rl->qps >= rl->ceiling)
		return;
	refill(rl);
	next = rl->qps + rl->ceiling * KUBE_RL_STEP_FRAC;
	rl->qps = next > rl->ceiling ? rl->ceiling : next;
}
