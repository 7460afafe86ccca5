/* libFuzzer: status records and bus messages from untrusted bytes.
 * A frame that unpacks must pack back to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc_bus.h"
#include "ipc/ipc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ipc_msg m;
	static uint8_t out[IPC_FRAME_MAX];
	struct ipc_bus_msg b;
	uint8_t bout[IPC_BUS_MSG_MAX];
	int n;

	if (ipc_unpack(data, size, &m) == 0) {
		n = ipc_pack(&m, out, sizeof(out));
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			if (m.kind !=
			    IPC_METRIC) /* padding after NUL differs */
				abort();
	}
	if (ipc_bus_unpack(data, size, &b) == 0) {
		n = ipc_bus_pack(&b, bout, sizeof(bout));
		if (n < 0 || (size_t)n != size || memcmp(bout, data, size) != 0)
			abort();
	}
	return 0;
}
