#include "lib/clock.h"

#include <time.h>

static int64_t test_offset_ms;

static int64_t read_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	return read_ms(CLOCK_MONOTONIC) + test_offset_ms;
}

int64_t clock_boot_ms(void)
{
	return read_ms(CLOCK_BOOTTIME) + test_offset_ms;
}

int64_t clock_wall_ms(void)
{
	return read_ms(CLOCK_REALTIME);
}

void clock_test_advance(int64_t ms)
{
	test_offset_ms += ms;
}
