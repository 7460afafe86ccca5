#include "kube/kube_ratelimit.h"

#include "lib/clock.h"

void kube_rl_init(struct kube_rl *rl, double qps, int burst)
{
	rl->qps = qps;
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
