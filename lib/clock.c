#include "lib/clock.h"

#include <time.h>

#ifdef CCM_TEST_HOOKS
static int64_t test_offset_ms;
#define OFFSET test_offset_ms
#else
#define OFFSET 0
#endif

static int64_t read_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	return read_ms(CLOCK_MONOTONIC) + OFFSET;
}

int64_t clock_boot_ms(void)
{
	return read_ms(CLOCK_BOOTTIME) + OFFSET;
}

int64_t clock_wall_ms(void)
{
	return read_ms(CLOCK_REALTIME);
}

#ifdef CCM_TEST_HOOKS
void clock_test_advance(int64_t ms)
{
	test_offset_ms += ms;
}
#endif
