/*
 * clock - monotonic and wall time in milliseconds.
 *
 * Deadlines, leases and backoff use CLOCK_MONOTONIC only; wall time is for
 * timestamps written to the API (Events, Lease MicroTime) and signatures.
 * Tests can inject a monotonic offset with clock_test_advance().
 */
#ifndef CCM_CLOCK_H
#define CCM_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_wall_ms(void);
/* CLOCK_BOOTTIME: like monotonic, but keeps counting while the host is
 * suspended, so a lease measured on it cannot outlive its real length. */
int64_t clock_boot_ms(void);
void clock_test_advance(int64_t ms);

#endif
