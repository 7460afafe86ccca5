/* Status channel records: round trips, and every malformed frame refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ipc_proto.h"

static struct ipc_msg in, out;
static uint8_t frame[IPC_FRAME_MAX];

static int roundtrip(void)
{
	int n = ipc_pack(&in, frame, sizeof(frame));

	assert_true(n > 0);
	assert_int_equal(ipc_unpack(frame, (size_t)n, &out), 0);
	assert_int_equal(out.kind, in.kind);
	assert_int_equal(out.pid, in.pid);
	return n;
}

static void test_seq_kinds(void **st)
{
	static const enum ipc_kind kinds[] = {IPC_READY,       IPC_HEARTBEAT,
					      IPC_RECONCILED,  IPC_FENCE_ACK,
					      IPC_AUTH_FAILED, IPC_START};
	(void)st;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.kind = kinds[i];
		in.pid = 4242;
		in.u.seq = -7 - (int64_t)i * 1000000000000LL;
		roundtrip();
		assert_true(out.u.seq == in.u.seq);
	}
}

static void test_lease(void **st)
{
	(void)st;
	memset(&in, 0, sizeof(in));
	in.kind = IPC_LEASE;
	in.u.lease.mode = 1;
	in.u.lease.renew_sent_ms = 123456789012LL;
	in.u.lease.lease_ms = 15000;
	in.u.lease.renew_deadline_ms = 10000;
	roundtrip();
	assert_true(out.u.lease.renew_sent_ms == 123456789012LL);
	assert_int_equal(out.u.lease.lease_ms, 15000);
	assert_int_equal(out.u.lease.renew_deadline_ms, 10000);
	assert_int_equal(out.u.lease.mode, 1);
}

static void test_metric(void **st)
{
	int n;

	(void)st;
	memset(&in, 0, sizeof(in));
	in.kind = IPC_METRIC;
	in.u.metric.op = IPC_METRIC_HIST_OBSERVE;
	in.u.metric.value = 0.125;
	strcpy(in.u.metric.name, "cloud_api_duration_seconds");
	strcpy(in.u.metric.labels, "request=\"CreateLoadBalancer\"");
	n = roundtrip();
	assert_true(out.u.metric.value == 0.125);
	assert_string_equal(out.u.metric.name, in.u.metric.name);
	assert_string_equal(out.u.metric.labels, in.u.metric.labels);
	/* A label value that could break out of the series is refused. */
	frame[IPC_HDR_LEN + 4 + 9 + IPC_METRIC_NAME_MAX + 3] = '\n';
	assert_int_equal(ipc_unpack(frame, (size_t)n, &out), -EPROTO);
	strcpy(in.u.metric.name, "9bad");
	assert_int_equal(ipc_pack(&in, frame, sizeof(frame)), -EINVAL);
}

static void test_token(void **st)
{
	int n;

	(void)st;
	memset(&in, 0, sizeof(in));
	in.kind = IPC_TOKEN;
	strcpy(in.u.token.data, "eyJhbGciOi.abc.def");
	in.u.token.len = (uint32_t)strlen(in.u.token.data);
	n = roundtrip();
	assert_string_equal(out.u.token.data, in.u.token.data);
	assert_int_equal(out.u.token.len, in.u.token.len);
	/* Length prefix must match the frame. */
	frame[IPC_HDR_LEN + 4] ^= 1;
	assert_int_equal(ipc_unpack(frame, (size_t)n, &out), -EPROTO);
	in.u.token.len = 0;
	assert_int_equal(ipc_pack(&in, frame, sizeof(frame)), -EINVAL);
	in.u.token.len = IPC_TOKEN_MAX + 1;
	assert_int_equal(ipc_pack(&in, frame, sizeof(frame)), -EINVAL);
}

static void test_garbage(void **st)
{
	int n;

	(void)st;
	memset(&in, 0, sizeof(in));
	in.kind = IPC_HEARTBEAT;
	n = ipc_pack(&in, frame, sizeof(frame));
	/* every truncation is refused */
	for (int i = 0; i < n; i++)
		assert_int_equal(ipc_unpack(frame, (size_t)i, &out), -EPROTO);
	frame[3] = 99; /* version */
	assert_int_equal(ipc_unpack(frame, (size_t)n, &out), -EPROTO);
	frame[3] = IPC_PROTO_VERSION;
	frame[4] = 200; /* unknown kind */
	assert_int_equal(ipc_unpack(frame, (size_t)n, &out), -EPROTO);
	in.kind = IPC_NONE;
	assert_int_equal(ipc_pack(&in, frame, sizeof(frame)), -EINVAL);
	in.kind = IPC_LEASE;
	assert_int_equal(ipc_pack(&in, frame, 10), -EINVAL);
}

static void test_socketpair(void **st)
{
	int sv[2];

	(void)st;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ipc_recv(sv[0], &out), -EAGAIN);
	memset(&in, 0, sizeof(in));
	in.kind = IPC_RECONCILED;
	in.u.seq = 3;
	assert_int_equal(ipc_send(sv[1], &in), 0);
	assert_int_equal(write(sv[1], "junk", 4), 4);
	assert_int_equal(ipc_recv(sv[0], &out), 0);
	assert_int_equal(out.kind, IPC_RECONCILED);
	assert_int_equal(ipc_recv(sv[0], &out), -EPROTO);
	close(sv[1]);
	assert_int_equal(ipc_recv(sv[0], &out), -EPIPE);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_kinds),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_metric),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_socketpair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
