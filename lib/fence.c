#include "lib/fence.h"

#include <errno.h>

#include "lib/clock.h"

static enum fence_mode mode = FENCE_OPEN;
static int64_t renew_sent, lease, renew_deadline;

void fence_set_mode(enum fence_mode m)
{
	mode = m;
}

enum fence_mode fence_mode(void)
{
	return mode;
}

void fence_set_lease(int64_t renew_sent_ms, int64_t lease_ms,
		     int64_t renew_deadline_ms)
{
	/* A late status record must never extend an older window, and a
	 * repeat of the applied renew may narrow it but neither widen it
	 * nor reopen a fence closed since. */
	if (renew_sent_ms < renew_sent)
		return;
	if (renew_sent_ms == renew_sent) {
		if (mode != FENCE_LEASED)
			return;
		if (lease_ms > lease)
			lease_ms = lease;
		if (renew_deadline_ms > renew_deadline)
			renew_deadline_ms = renew_deadline;
	}
	renew_sent = renew_sent_ms;
	lease = lease_ms;
	renew_deadline = renew_deadline_ms;
	mode = FENCE_LEASED;
}

int64_t fence_deadline_ms(void)
{
	return mode == FENCE_LEASED ? renew_sent + renew_deadline : 0;
}

int fence_allow(int64_t timeout_ms)
{
	return fence_allow_at(clock_boot_ms(), timeout_ms);
}

int fence_allow_at(int64_t now, int64_t timeout_ms)
{
	switch (mode) {
	case FENCE_OPEN:
		return 0;
	case FENCE_DRY_RUN:
		return -EPERM;
	case FENCE_CLOSED:
		return -ETIMEDOUT;
	case FENCE_LEASED:
		break;
	}
	if (now >= renew_sent + renew_deadline)
		return -ETIMEDOUT;
	if (now + timeout_ms >= renew_sent + lease - FENCE_SLACK_MS)
		return -ETIMEDOUT;
	return 0;
}
