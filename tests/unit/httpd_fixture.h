/* A loopback TCP listener for unit tests that need an HTTP peer: every
 * connection runs serve(fd) on its own detached thread, then is closed. */
#ifndef CCM_TEST_HTTPD_FIXTURE_H
#define CCM_TEST_HTTPD_FIXTURE_H

#include <stddef.h>

/* Reads until the end of the request headers (or buf is full): the
 * bytes read, NUL-terminated; < 0 when the peer went away first. */
long httpd_fixture_read_head(int fd, char *buf, size_t n);

/* 0 and *port set, or -1. The listener lives until the process ends. */
int httpd_fixture_start(void (*serve)(int fd), int *port);

#endif
