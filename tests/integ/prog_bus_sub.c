/*
 * prog_bus_sub - a bus subscriber in its own process for tests/integ.
 *
 *   prog_bus_sub RUN_DIR TOPIC...      (runs until SIGTERM/SIGINT)
 *
 * Connects to the supervisor's bus in RUN_DIR (the CCM's --run-dir) as a
 * client, subscribes to each TOPIC (wire names such as
 * "ccm.node.initialized") and prints one line per message:
 *   "msg <topic> <flag> <name>"
 * PUB/SUB drops whatever is sent before a connection exists, so it first
 * sends a probe (a resync hint for a controller that does not exist, which
 * every worker ignores) through the hub until the probe comes back, and
 * only then prints "ready": from then on both directions are connected.
 * stdout is line-buffered so the test can follow it while it runs.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ipc/ipc_bus.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static enum ipc_topic topic_by_name(const char *s)
{
	for (int t = IPC_TOPIC_NONE + 1; t < IPC_TOPIC_MAX; t++)
		if (strcmp(ipc_topic_name((enum ipc_topic)t), s) == 0)
			return (enum ipc_topic)t;
	return IPC_TOPIC_NONE;
}

static int subscribe_all(struct ipc_bus *b, int n, char **names)
{
	for (int i = 0; i < n; i++) {
		enum ipc_topic t = topic_by_name(names[i]);

		if (t == IPC_TOPIC_NONE) {
			fprintf(stderr, "unknown topic %s\n", names[i]);
			return -EINVAL;
		}
		if (ipc_bus_subscribe(b, t) < 0)
			return -EIO;
	}
	return 0;
}

#define PROBE_NAME "prog_bus_sub-probe"

static int ready;

static void probe(struct ipc_bus *b)
{
	struct ipc_bus_msg m = {.topic = IPC_TOPIC_RESYNC};

	snprintf(m.name, sizeof(m.name), "%s", PROBE_NAME);
	(void)ipc_bus_publish(b, &m);
}

static void drain(struct ipc_bus *b)
{
	struct ipc_bus_msg m;
	int r;

	while ((r = ipc_bus_recv(b, &m)) != -EAGAIN) {
		if (r < 0)
			continue; /* garbage is dropped by the bus */
		if (m.topic == IPC_TOPIC_RESYNC &&
		    strcmp(m.name, PROBE_NAME) == 0) {
			if (!ready)
				printf("ready\n");
			ready = 1;
			continue;
		}
		printf("msg %s %u %s\n", ipc_topic_name(m.topic),
		       (unsigned)m.flag, m.name);
	}
}

int main(int argc, char **argv)
{
	struct ipc_bus *b = NULL;
	struct pollfd pfd;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: %s RUN_DIR TOPIC...\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	r = ipc_bus_new(argv[1], IPC_BUS_CLIENT, &b);
	if (r == 0)
		r = subscribe_all(b, argc - 2, argv + 2);
	if (r < 0) {
		fprintf(stderr, "bus: %s\n", strerror(-r));
		ipc_bus_free(b);
		return 1;
	}
	if (ipc_bus_subscribe(b, IPC_TOPIC_RESYNC) < 0) {
		ipc_bus_free(b);
		return 1;
	}
	pfd.fd = ipc_bus_fd(b);
	pfd.events = POLLIN;
	while (!stop) {
		if (!ready)
			probe(b);
		if (poll(&pfd, 1, 200) > 0)
			drain(b);
	}
	ipc_bus_free(b);
	return 0;
}
