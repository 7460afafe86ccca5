/*
 * ipc_bus - nanomsg PUSH/PULL + PUB/SUB relay; see ipc_bus.h.
 */
#include "ipc/ipc_bus.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define IN_NAME	 "/bus-in.sock"
#define OUT_NAME "/bus-pub.sock"

struct ipc_bus {
	enum ipc_bus_role role;
	int tx; /* hub: PUB; client: PUSH */
	int rx; /* hub: PULL; client: SUB */
};

static const char *const topics[IPC_TOPIC_MAX] = {
	[IPC_TOPIC_LEADER] = "ccm.leader",
	[IPC_TOPIC_NODE_INIT] = "ccm.node.initialized",
	[IPC_TOPIC_NODE_DEL] = "ccm.node.deleted",
	[IPC_TOPIC_ROUTE_READY] = "ccm.route.ready",
	[IPC_TOPIC_RESYNC] = "ccm.resync",
};

const char *ipc_topic_name(enum ipc_topic t)
{
	if (t <= IPC_TOPIC_NONE || t >= IPC_TOPIC_MAX)
		return NULL;
	return topics[t];
}

int ipc_bus_pack(const struct ipc_bus_msg *m, uint8_t *out, size_t outlen)
{
	const char *t = ipc_topic_name(m->topic);
	size_t tl, nl, plen, total;

	if (t == NULL)
		return -EINVAL;
	tl = strlen(t) + 1;
	nl = strnlen(m->name, sizeof(m->name));
	if (nl > IPC_BUS_NAME_MAX)
		return -EINVAL;
	plen = 1 + nl;
	total = tl + 3 + plen;
	if (total > outlen)
		return -EINVAL;
	memcpy(out, t, tl);
	out[tl] = IPC_BUS_VERSION;
	out[tl + 1] = (uint8_t)(plen >> 8);
	out[tl + 2] = (uint8_t)plen;
	out[tl + 3] = m->flag;
	memcpy(out + tl + 4, m->name, nl);
	return (int)total;
}

static enum ipc_topic topic_of(const uint8_t *in, size_t len, size_t *tl)
{
	const uint8_t *nul = memchr(in, 0, len);

	if (nul == NULL)
		return IPC_TOPIC_NONE;
	*tl = (size_t)(nul - in) + 1;
	for (int t = IPC_TOPIC_NONE + 1; t < IPC_TOPIC_MAX; t++)
		if (strcmp((const char *)in, topics[t]) == 0)
			return (enum ipc_topic)t;
	return IPC_TOPIC_NONE;
}

int ipc_bus_unpack(const uint8_t *in, size_t len, struct ipc_bus_msg *m)
{
	size_t tl = 0, plen;

	memset(m, 0, sizeof(*m));
	if (len > IPC_BUS_MSG_MAX)
		return -EPROTO;
	m->topic = topic_of(in, len, &tl);
	if (m->topic == IPC_TOPIC_NONE || len < tl + 4 ||
	    in[tl] != IPC_BUS_VERSION)
		goto bad;
	plen = (size_t)in[tl + 1] << 8 | in[tl + 2];
	if (plen < 1 || plen - 1 > IPC_BUS_NAME_MAX || tl + 3 + plen != len)
		goto bad;
	m->flag = in[tl + 3];
	for (size_t i = 0; i < plen - 1; i++) {
		uint8_t c = in[tl + 4 + i];

		if (c <= 0x20 || c > 0x7e)
			goto bad;
		m->name[i] = (char)c;
	}
	return 0;
bad:
	memset(m, 0, sizeof(*m));
	return -EPROTO;
}

size_t ipc_bus_max_dir(void)
{
	struct sockaddr_un sa;

	return sizeof(sa.sun_path) - 1 - strlen(OUT_NAME);
}

static int endpoint(int s, const char *dir, const char *name, int bind)
{
	char url[sizeof("ipc://") + 4096];

	snprintf(url, sizeof(url), "ipc://%s%s", dir, name);
	if ((bind ? nn_bind(s, url) : nn_connect(s, url)) < 0)
		return -nn_errno();
	return 0;
}

static int open_sockets(struct ipc_bus *b, const char *dir)
{
	int hub = b->role == IPC_BUS_HUB;
	int r;

	b->tx = nn_socket(AF_SP, hub ? NN_PUB : NN_PUSH);
	b->rx = nn_socket(AF_SP, hub ? NN_PULL : NN_SUB);
	if (b->tx < 0 || b->rx < 0)
		return -nn_errno();
	r = endpoint(b->tx, dir, hub ? OUT_NAME : IN_NAME, hub);
	if (r == 0)
		r = endpoint(b->rx, dir, hub ? IN_NAME : OUT_NAME, hub);
	return r;
}

int ipc_bus_new(const char *run_dir, enum ipc_bus_role role,
		struct ipc_bus **ret)
{
	struct ipc_bus *b;
	int r;

	*ret = NULL;
	if (strlen(run_dir) > ipc_bus_max_dir())
		return -ENAMETOOLONG;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->role = role;
	b->tx = b->rx = -1;
	r = open_sockets(b, run_dir);
	if (r < 0) {
		ipc_bus_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

void ipc_bus_free(struct ipc_bus *b)
{
	if (b == NULL)
		return;
	if (b->tx >= 0)
		nn_close(b->tx);
	if (b->rx >= 0)
		nn_close(b->rx);
	free(b);
}

int ipc_bus_subscribe(struct ipc_bus *b, enum ipc_topic t)
{
	const char *name = ipc_topic_name(t);

	if (name == NULL || b->role != IPC_BUS_CLIENT)
		return -EINVAL;
	/* Including the NUL makes the prefix match an exact match. */
	if (nn_setsockopt(b->rx, NN_SUB, NN_SUB_SUBSCRIBE, name,
			  strlen(name) + 1) < 0)
		return -nn_errno();
	return 0;
}

static int send_raw(int s, const void *p, size_t n)
{
	if (nn_send(s, p, n, NN_DONTWAIT) < 0)
		return nn_errno() == EAGAIN ? -EAGAIN : -nn_errno();
	return 0;
}

int ipc_bus_publish(struct ipc_bus *b, const struct ipc_bus_msg *m)
{
	uint8_t buf[IPC_BUS_MSG_MAX];
	int n = ipc_bus_pack(m, buf, sizeof(buf));

	if (n < 0)
		return n;
	return send_raw(b->tx, buf, (size_t)n);
}

int ipc_bus_fd(struct ipc_bus *b)
{
	int fd = -1;
	size_t sz = sizeof(fd);

	if (nn_getsockopt(b->rx, NN_SOL_SOCKET, NN_RCVFD, &fd, &sz) < 0)
		return -nn_errno();
	return fd;
}

int ipc_bus_recv(struct ipc_bus *b, struct ipc_bus_msg *m)
{
	uint8_t buf[IPC_BUS_MSG_MAX + 1];
	int n, r;

	n = nn_recv(b->rx, buf, sizeof(buf), NN_DONTWAIT);
	if (n < 0)
		return nn_errno() == EAGAIN ? -EAGAIN : -nn_errno();
	/* nn_recv truncates silently; an over-long message is garbage. */
	if ((size_t)n > IPC_BUS_MSG_MAX)
		return -EPROTO;
	r = ipc_bus_unpack(buf, (size_t)n, m);
	if (r == 0 && b->role == IPC_BUS_HUB)
		(void)send_raw(b->tx, buf, (size_t)n);
	return r;
}
