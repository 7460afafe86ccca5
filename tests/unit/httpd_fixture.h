/* A loopback TCP listener for unit tests that need an HTTP peer: every
 * connection runs serve(fd) on its own detached thread, then is closed. */
#ifndef CCM_TEST_HTTPD_FIXTURE_H
#define CCM_TEST_HTTPD_FIXTURE_H

/* 0 and *port set, or -1. The listener lives until the process ends. */
int httpd_fixture_start(void (*serve)(int fd), int *port);

#endif
