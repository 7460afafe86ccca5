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
	/* A late status record must never extend an older window. */
	if (renew_sent_ms < renew_sent)
		return;
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
	int64_t now;

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
	now = clock_mono_ms();
	if (now >= renew_sent + renew_deadline)
		return -ETIMEDOUT;
	if (now + timeout_ms >= renew_sent + lease - 1000)
		return -ETIMEDOUT;
	return 0;
}
