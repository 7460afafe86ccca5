/*
 * clock - monotonic, boot-time and wall time in milliseconds.
 *
 * Deadlines, heartbeats and backoff use CLOCK_MONOTONIC. The leadership
 * fence (renew_sent and every comparison with it) uses CLOCK_BOOTTIME:
 * a candidate on another host keeps counting while this host is suspended,
 * so a window measured on a clock that stops during suspend (MONOTONIC)
 * would stay open after the lease expired elsewhere. BOOTTIME never stops
 * and, like MONOTONIC, is one clock shared by every process of the host,
 * so the supervisor's renew_sent means the same in each worker. Wall time
 * is for timestamps written to the API (Events, Lease MicroTime) and
 * signatures.
 *
 * The test build (CCM_TEST_HOOKS) can shift both clocks with
 * clock_test_advance(); the release build has no such hook.
 */
#ifndef CCM_CLOCK_H
#define CCM_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_boot_ms(void);
int64_t clock_wall_ms(void);
#ifdef CCM_TEST_HOOKS
void clock_test_advance(int64_t ms);
#endif

#endif
