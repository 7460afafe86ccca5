/*
 * ipc_proto - the supervisor <-> worker status channel contract.
 *
 * SYNOPSIS
 *   A worker is /proc/self/exe re-executed with --worker=NAME and the
 *   supervisor's argv. It inherits exactly fds 0, 1, 2 and IPC_STATUS_FD,
 *   one end of an AF_UNIX SOCK_SEQPACKET socketpair the supervisor owns
 *   (one pair per worker, so the channel itself names the worker). Record
 *   boundaries are kept by the socket type; every record is one frame:
 *
 *     u32 magic  'C','C','S', IPC_PROTO_VERSION
 *     u16 kind   enum ipc_kind
 *     u16 len    payload bytes that follow (checked against the kind)
 *     payload    fixed size per kind, little endian; IPC_TOKEN is the
 *                one variable record (u32 length-prefixed token bytes)
 *
 *   Worker -> supervisor: READY, HEARTBEAT, RECONCILED, FENCE_ACK, METRIC,
 *   AUTH_FAILED. Supervisor -> worker: LEASE (fence window), TOKEN
 *   (per-controller bearer token, never in argv/env/files), START (the
 *   initial records are complete).
 *
 *   Liveness lives here, never on the nanomsg bus. EOF on the channel means
 *   the supervisor is gone and the worker exits.
 *
 * DIAGNOSTICS
 *   ipc_unpack returns -EPROTO for anything malformed: wrong magic or
 *   version, unknown kind, a length that does not match the kind, strings
 *   without a terminator or with characters outside their alphabet. The
 *   receiver treats records as gossip and drops bad ones.
 *
 * OWNERSHIP
 *   Plain values; ipc_pack writes into a caller buffer of IPC_FRAME_MAX.
 */
#ifndef CCM_IPC_PROTO_H
#define CCM_IPC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define IPC_STATUS_FD	  3
#define IPC_PROTO_VERSION 1
#define IPC_HDR_LEN	  8
#define IPC_TOKEN_MAX	  8192
#define IPC_FRAME_MAX	  (IPC_HDR_LEN + 4 + IPC_TOKEN_MAX)

/* Environment the supervisor sets for a worker (no secrets). */
#define IPC_ENV_PARENT	 "CCM_SUPERVISOR_PID"
#define IPC_ENV_IDENTITY "CCM_IDENTITY"

/* Exit status of a worker that must not be restarted (broken config). */
#define IPC_EXIT_CONFIG 78

enum ipc_kind {
	IPC_NONE = 0,
	/* worker -> supervisor */
	IPC_READY = 1,
	IPC_HEARTBEAT,
	IPC_RECONCILED,
	IPC_FENCE_ACK,
	IPC_METRIC,
	IPC_AUTH_FAILED,
	/* supervisor -> worker */
	IPC_LEASE = 32,
	IPC_TOKEN,
	IPC_START,
	IPC_KIND_MAX,
};

enum ipc_metric_op {
	IPC_METRIC_COUNTER_ADD = 1,
	IPC_METRIC_GAUGE_SET,
	IPC_METRIC_HIST_OBSERVE,
};

#define IPC_METRIC_NAME_MAX   64
#define IPC_METRIC_LABELS_MAX 160

struct ipc_metric {
	uint8_t op; /* enum ipc_metric_op */
	double value;
	char name[IPC_METRIC_NAME_MAX];	    /* [a-zA-Z_:][a-zA-Z0-9_:]* */
	char labels[IPC_METRIC_LABELS_MAX]; /* k="v",k2="v2" or "" */
};

struct ipc_lease {
	uint8_t mode;	       /* enum fence_mode */
	int64_t renew_sent_ms; /* clock_boot_ms() (lib/fence.h) */
	int64_t lease_ms;
	int64_t renew_deadline_ms;
};

struct ipc_msg {
	enum ipc_kind kind;
	int32_t pid;
	union {
		int64_t seq;		  /* READY, HEARTBEAT, RECONCILED */
		int64_t ack_renew_sent;	  /* FENCE_ACK */
		struct ipc_metric metric; /* METRIC */
		struct ipc_lease lease;	  /* LEASE */
		struct {
			uint32_t len;
			char data[IPC_TOKEN_MAX + 1]; /* NUL-terminated */
		} token;			      /* TOKEN */
	} u;
};

/* Returns the frame length (> 0) or -EINVAL for an unpackable message. */
int ipc_pack(const struct ipc_msg *m, uint8_t *out, size_t outlen);
/* 0 or -EPROTO; m is fully written on success. */
int ipc_unpack(const uint8_t *in, size_t len, struct ipc_msg *m);
/* 1 when s is a valid Prometheus metric name. */
int ipc_metric_name_ok(const char *s);

/* Send one record: 0, -EAGAIN (peer not reading, record dropped), -EPIPE,
 * or another -errno. Never blocks when fd is non-blocking. */
int ipc_send(int fd, const struct ipc_msg *m);
/* Receive one record: 0, -EAGAIN (nothing pending), -EPIPE (EOF),
 * -EPROTO (garbage dropped), or another -errno. */
int ipc_recv(int fd, struct ipc_msg *m);

#endif
