/*
 * ipc_bus - best-effort hints between processes over nanomsg.
 *
 * SYNOPSIS
 *   The supervisor is the hub: it binds a PULL socket (bus-in) and a PUB
 *   socket (bus-out) in the private run directory and relays every message
 *   it pulls to bus-out. Each worker connects a PUSH socket to bus-in and a
 *   SUB socket to bus-out and subscribes by topic. The hub also publishes
 *   its own messages (leadership changes).
 *
 *   Wire: "<topic>\0" | u8 version | u16 payload length (big endian) |
 *   payload = u8 flag | name bytes (no NUL). Subscriptions include the NUL,
 *   so topics match exactly.
 *
 *   Nothing may depend on a message arriving: PUB/SUB drops on slow
 *   subscribers and across restarts. Liveness never travels here.
 *
 *   Sockets are created after exec in each process (nanomsg is not
 *   fork-safe). ipc_bus_fd gives NN_RCVFD for an event loop; drain with
 *   ipc_bus_recv until -EAGAIN.
 *
 * OWNERSHIP
 *   ipc_bus_new returns an object the caller frees with ipc_bus_free
 *   (NULL is a no-op).
 */
#ifndef CCM_IPC_BUS_H
#define CCM_IPC_BUS_H

#include <stddef.h>
#include <stdint.h>

#define IPC_BUS_VERSION	 1
#define IPC_BUS_NAME_MAX 253
#define IPC_BUS_MSG_MAX	 (32 + 3 + 1 + IPC_BUS_NAME_MAX)

enum ipc_topic {
	IPC_TOPIC_NONE = 0,
	IPC_TOPIC_LEADER,      /* flag 1 = leading; name = identity */
	IPC_TOPIC_NODE_INIT,   /* name = node */
	IPC_TOPIC_NODE_DEL,    /* name = node */
	IPC_TOPIC_ROUTE_READY, /* name = node */
	IPC_TOPIC_RESYNC,      /* name = controller or "" for all */
	IPC_TOPIC_MAX,
};

struct ipc_bus_msg {
	enum ipc_topic topic;
	uint8_t flag;
	char name[IPC_BUS_NAME_MAX + 1];
};

enum ipc_bus_role {
	IPC_BUS_HUB = 0,
	IPC_BUS_CLIENT,
};

struct ipc_bus;

const char *ipc_topic_name(enum ipc_topic t);

/* Returns the length written or -EINVAL. */
int ipc_bus_pack(const struct ipc_bus_msg *m, uint8_t *out, size_t outlen);
/* 0 or -EPROTO. */
int ipc_bus_unpack(const uint8_t *in, size_t len, struct ipc_bus_msg *m);

/* Longest run_dir for which the socket paths fit sun_path. */
size_t ipc_bus_max_dir(void);

/* -ENAMETOOLONG when the socket paths do not fit sun_path. */
int ipc_bus_new(const char *run_dir, enum ipc_bus_role role,
		struct ipc_bus **ret);
void ipc_bus_free(struct ipc_bus *b);
int ipc_bus_subscribe(struct ipc_bus *b, enum ipc_topic t);
/* 0, or -EAGAIN when the message was dropped (it is only a hint). */
int ipc_bus_publish(struct ipc_bus *b, const struct ipc_bus_msg *m);
/* The readable fd for an event loop (never read it directly). */
int ipc_bus_fd(struct ipc_bus *b);
/* 0 with a message, -EAGAIN when drained, -EPROTO for garbage (dropped).
 * On the hub, every valid message pulled is also relayed to subscribers. */
int ipc_bus_recv(struct ipc_bus *b, struct ipc_bus_msg *m);

#endif
