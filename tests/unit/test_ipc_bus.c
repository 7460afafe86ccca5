/* Bus: pack/unpack bounds, and a hub relaying between two clients. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc_bus.h"

static void test_pack(void **st)
{
	struct ipc_bus_msg m = {.topic = IPC_TOPIC_NODE_INIT, .flag = 0}, o;
	uint8_t b[IPC_BUS_MSG_MAX];
	int n;

	(void)st;
	strcpy(m.name, "node-1");
	n = ipc_bus_pack(&m, b, sizeof(b));
	assert_true(n > 0);
	assert_int_equal(ipc_bus_unpack(b, (size_t)n, &o), 0);
	assert_int_equal(o.topic, IPC_TOPIC_NODE_INIT);
	assert_string_equal(o.name, "node-1");
	for (int i = 0; i < n; i++)
		assert_int_equal(ipc_bus_unpack(b, (size_t)i, &o), -EPROTO);
	b[strlen("ccm.node.initialized") + 1] = 2; /* version */
	assert_int_equal(ipc_bus_unpack(b, (size_t)n, &o), -EPROTO);
	m.topic = IPC_TOPIC_MAX;
	assert_int_equal(ipc_bus_pack(&m, b, sizeof(b)), -EINVAL);
	memcpy(b, "ccm.nope\0\1\0\1\0", 13);
	assert_int_equal(ipc_bus_unpack(b, 13, &o), -EPROTO);
}

static int wait_recv(struct ipc_bus *b, struct ipc_bus_msg *m)
{
	struct pollfd p = {.fd = ipc_bus_fd(b), .events = POLLIN};

	for (int i = 0; i < 100; i++) {
		int r = ipc_bus_recv(b, m);

		if (r != -EAGAIN)
			return r;
		poll(&p, 1, 50);
	}
	return -ETIMEDOUT;
}

static void test_relay(void **st)
{
	char dir[] = "/tmp/test-ipc-bus-XXXXXX";
	struct ipc_bus *hub, *a, *b;
	struct ipc_bus_msg m = {.topic = IPC_TOPIC_ROUTE_READY}, o;
	int r = -1;

	(void)st;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ipc_bus_new(dir, IPC_BUS_HUB, &hub), 0);
	assert_int_equal(ipc_bus_new(dir, IPC_BUS_CLIENT, &a), 0);
	assert_int_equal(ipc_bus_new(dir, IPC_BUS_CLIENT, &b), 0);
	assert_int_equal(ipc_bus_subscribe(b, IPC_TOPIC_ROUTE_READY), 0);
	strcpy(m.name, "n1");
	/* Subscriptions propagate asynchronously: retry the hint. */
	for (int i = 0; i < 100 && r != 0; i++) {
		/* PUSH refuses (-EAGAIN) until its connection is up. */
		r = ipc_bus_publish(a, &m);
		if (r == -EAGAIN) {
			usleep(20000);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(wait_recv(hub, &o), 0);
		r = ipc_bus_recv(b, &o);
		if (r == -EAGAIN) {
			usleep(20000);
			r = ipc_bus_recv(b, &o);
		}
	}
	assert_int_equal(r, 0);
	assert_int_equal(o.topic, IPC_TOPIC_ROUTE_READY);
	assert_string_equal(o.name, "n1");
	ipc_bus_free(a);
	ipc_bus_free(b);
	ipc_bus_free(hub);
	ipc_bus_free(NULL);
	{
		char f[64];

		snprintf(f, sizeof(f), "%s/bus-in.sock", dir);
		unlink(f);
		snprintf(f, sizeof(f), "%s/bus-pub.sock", dir);
		unlink(f);
		rmdir(dir);
	}
}

static void test_long_dir(void **st)
{
	char dir[200];
	struct ipc_bus *b;

	(void)st;
	memset(dir, 'a', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = 0;
	assert_int_equal(ipc_bus_new(dir, IPC_BUS_HUB, &b), -ENAMETOOLONG);
	assert_null(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_long_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
