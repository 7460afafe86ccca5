/*
 * ipc_status - pack, unpack, send and receive status channel records.
 *
 * The layout is explicit (little endian, fixed offsets) rather than a raw
 * struct dump, so a record is validated byte by byte and fuzzable.
 */
#include "ipc/ipc_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define MAGIC ((uint32_t)('C' | 'C' << 8 | 'S' << 16 | IPC_PROTO_VERSION << 24))

#define LEN_SEQ	   (4 + 8)
#define LEN_LEASE  (4 + 1 + 8 + 8 + 8)
#define LEN_METRIC (4 + 1 + 8 + IPC_METRIC_NAME_MAX + IPC_METRIC_LABELS_MAX)
#define LEN_TOKEN0 (4 + 4)

struct wr {
	uint8_t *p;
	size_t off, cap;
};

static void put(struct wr *w, const void *src, size_t n)
{
	if (w->off + n <= w->cap)
		memcpy(w->p + w->off, src, n);
	w->off += n;
}

static void put_u(struct wr *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, n);
}

static uint64_t get_u(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_str(struct wr *w, const char *s, size_t field)
{
	uint8_t zero[IPC_METRIC_LABELS_MAX] = {0};
	size_t n = strnlen(s, field);

	put(w, s, n);
	put(w, zero, field - n);
}

static size_t payload_len(const struct ipc_msg *m)
{
	switch (m->kind) {
	case IPC_READY:
	case IPC_HEARTBEAT:
	case IPC_RECONCILED:
	case IPC_FENCE_ACK:
	case IPC_AUTH_FAILED:
	case IPC_START:
		return LEN_SEQ;
	case IPC_LEASE:
		return LEN_LEASE;
	case IPC_METRIC:
		return LEN_METRIC;
	case IPC_TOKEN:
		return LEN_TOKEN0 + m->u.token.len;
	default:
		return 0;
	}
}

static void put_payload(struct wr *w, const struct ipc_msg *m)
{
	uint64_t d;

	put_u(w, (uint32_t)m->pid, 4);
	switch (m->kind) {
	case IPC_LEASE:
		put_u(w, m->u.lease.mode, 1);
		put_u(w, (uint64_t)m->u.lease.renew_sent_ms, 8);
		put_u(w, (uint64_t)m->u.lease.lease_ms, 8);
		put_u(w, (uint64_t)m->u.lease.renew_deadline_ms, 8);
		break;
	case IPC_METRIC:
		memcpy(&d, &m->u.metric.value, sizeof(d));
		put_u(w, m->u.metric.op, 1);
		put_u(w, d, 8);
		put_str(w, m->u.metric.name, IPC_METRIC_NAME_MAX);
		put_str(w, m->u.metric.labels, IPC_METRIC_LABELS_MAX);
		break;
	case IPC_TOKEN:
		put_u(w, m->u.token.len, 4);
		put(w, m->u.token.data, m->u.token.len);
		break;
	default:
		put_u(w, (uint64_t)m->u.seq, 8);
		break;
	}
}

int ipc_pack(const struct ipc_msg *m, uint8_t *out, size_t outlen)
{
	struct wr w = {out, 0, outlen};
	size_t plen = payload_len(m);

	if (plen == 0 || IPC_HDR_LEN + plen > outlen)
		return -EINVAL;
	if (m->kind == IPC_TOKEN &&
	    (m->u.token.len == 0 || m->u.token.len > IPC_TOKEN_MAX))
		return -EINVAL;
	if (m->kind == IPC_METRIC && !ipc_metric_name_ok(m->u.metric.name))
		return -EINVAL;
	put_u(&w, MAGIC, 4);
	put_u(&w, (uint16_t)m->kind, 2);
	put_u(&w, (uint16_t)plen, 2);
	put_payload(&w, m);
	return (int)w.off;
}

int ipc_metric_name_ok(const char *s)
{
	size_t n = strnlen(s, IPC_METRIC_NAME_MAX);

	if (n == 0 || n == IPC_METRIC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    c == '_' || c == ':';

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

/* Labels are k="v" pairs; quotes, backslashes and newlines inside values
 * would let a worker inject series, so only a safe alphabet passes. */
static int labels_ok(const char *s)
{
	size_t n = strnlen(s, IPC_METRIC_LABELS_MAX);

	if (n == IPC_METRIC_LABELS_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '\\' || c == '{' || c == '}')
			return 0;
	}
	return 1;
}

static int get_str(const uint8_t *p, size_t field, char *dst)
{
	if (memchr(p, 0, field) == NULL)
		return -EPROTO;
	memcpy(dst, p, field);
	return 0;
}

static int unpack_metric(const uint8_t *p, struct ipc_msg *m)
{
	uint64_t d = get_u(p + 1, 8);

	m->u.metric.op = p[0];
	memcpy(&m->u.metric.value, &d, sizeof(d));
	if (m->u.metric.op < IPC_METRIC_COUNTER_ADD ||
	    m->u.metric.op > IPC_METRIC_HIST_OBSERVE)
		return -EPROTO;
	if (m->u.metric.value != m->u.metric.value) /* NaN */
		return -EPROTO;
	if (get_str(p + 9, IPC_METRIC_NAME_MAX, m->u.metric.name) < 0 ||
	    get_str(p + 9 + IPC_METRIC_NAME_MAX, IPC_METRIC_LABELS_MAX,
		    m->u.metric.labels) < 0)
		return -EPROTO;
	if (!ipc_metric_name_ok(m->u.metric.name) ||
	    !labels_ok(m->u.metric.labels))
		return -EPROTO;
	return 0;
}

static int unpack_token(const uint8_t *p, size_t plen, struct ipc_msg *m)
{
	uint32_t n = (uint32_t)get_u(p, 4);

	if (n == 0 || n > IPC_TOKEN_MAX || plen != LEN_TOKEN0 + n)
		return -EPROTO;
	/* A bearer token is printable ASCII without spaces. */
	for (uint32_t i = 0; i < n; i++)
		if (p[4 + i] <= 0x20 || p[4 + i] > 0x7e)
			return -EPROTO;
	m->u.token.len = n;
	memcpy(m->u.token.data, p + 4, n);
	m->u.token.data[n] = '\0';
	return 0;
}

static int unpack_payload(const uint8_t *p, size_t plen, struct ipc_msg *m)
{
	m->pid = (int32_t)get_u(p, 4);
	p += 4;
	switch (m->kind) {
	case IPC_LEASE:
		m->u.lease.mode = p[0];
		m->u.lease.renew_sent_ms = (int64_t)get_u(p + 1, 8);
		m->u.lease.lease_ms = (int64_t)get_u(p + 9, 8);
		m->u.lease.renew_deadline_ms = (int64_t)get_u(p + 17, 8);
		return m->u.lease.mode > 3 ? -EPROTO : 0;
	case IPC_METRIC:
		return unpack_metric(p, m);
	case IPC_TOKEN:
		return unpack_token(p, plen, m);
	default:
		m->u.seq = (int64_t)get_u(p, 8);
		return 0;
	}
}

int ipc_unpack(const uint8_t *in, size_t len, struct ipc_msg *m)
{
	size_t plen, want;

	memset(m, 0, sizeof(*m));
	if (len < IPC_HDR_LEN || get_u(in, 4) != MAGIC)
		return -EPROTO;
	m->kind = (enum ipc_kind)get_u(in + 4, 2);
	plen = get_u(in + 6, 2);
	if (plen != len - IPC_HDR_LEN)
		return -EPROTO;
	if (m->kind == IPC_TOKEN)
		want = plen >= LEN_TOKEN0 ? plen : 0;
	else
		want = payload_len(m);
	if (want == 0 || want != plen) {
		m->kind = IPC_NONE;
		return -EPROTO;
	}
	if (unpack_payload(in + IPC_HDR_LEN, plen, m) < 0) {
		m->kind = IPC_NONE;
		return -EPROTO;
	}
	return 0;
}

int ipc_send(int fd, const struct ipc_msg *m)
{
	static uint8_t frame[IPC_FRAME_MAX];
	int n = ipc_pack(m, frame, sizeof(frame));
	ssize_t w;

	if (n < 0)
		return n;
	do
		w = send(fd, frame, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return w == n ? 0 : -EIO;
}

int ipc_recv(int fd, struct ipc_msg *m)
{
	static uint8_t frame[IPC_FRAME_MAX + 1];
	ssize_t n;

	do
		n = recv(fd, frame, sizeof(frame), MSG_DONTWAIT | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EWOULDBLOCK)
			return -EAGAIN;
		return errno == ECONNRESET ? -EPIPE : -errno;
	}
	if (n == 0)
		return -EPIPE;
	if ((size_t)n > IPC_FRAME_MAX)
		return -EPROTO;
	return ipc_unpack(frame, (size_t)n, m);
}
