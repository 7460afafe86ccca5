/*
 * sup_fds - close every descriptor above one, in a child before execve.
 *
 * close_range() needs Linux 5.9; on an older kernel, or under a seccomp
 * filter that refuses it, the descriptors are listed from /proc/self/fd
 * with raw getdents64 (no malloc), and without /proc every number up to
 * max_fd (RLIMIT_NOFILE, read before fork) is closed. A supervisor
 * descriptor leaking into a worker (the Lease client's socket, the run
 * directory lock) would outlive a killed supervisor.
 *
 * Async-signal-safe: callable between fork and exec.
 */
#ifndef CCM_SUP_FDS_H
#define CCM_SUP_FDS_H

void sup_fds_close_above(int low, int max_fd);
/* The /proc/self/fd path alone: 0, or -1 when /proc cannot be listed. */
int sup_fds_close_listed(int low);

#endif
