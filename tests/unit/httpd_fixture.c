#include "tests/unit/httpd_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
	void (*serve)(int fd);
	int fd;
};

struct listener {
	void (*serve)(int fd);
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn c = *(struct conn *)arg;

	free(arg);
	c.serve(c.fd);
	close(c.fd);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct listener *l = arg;
	struct conn *c;
	pthread_t t;
	int fd;

	while ((fd = accept(l->fd, NULL, NULL)) >= 0) {
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->serve = l->serve;
		c->fd = fd;
		if (pthread_create(&t, NULL, conn_main, c)) {
			free(c);
			close(fd);
		} else {
			pthread_detach(t);
		}
	}
	return NULL;
}

long httpd_fixture_read_head(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	buf[0] = '\0';
	while (got < n - 1 && !strstr(buf, "\r\n\r\n")) {
		r = read(fd, buf + got, n - 1 - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = '\0';
	}
	return (long)got;
}

int httpd_fixture_start(void (*serve)(int fd), int *port)
{
	static struct listener l;
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	pthread_t t;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l.serve = serve;
	l.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (l.fd < 0 || bind(l.fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(l.fd, 64) < 0 ||
	    getsockname(l.fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	if (pthread_create(&t, NULL, accept_main, &l))
		return -1;
	pthread_detach(t);
	return 0;
}
