/* libFuzzer: the cloud-config parser (JSON, base64 keys, vSwitch lists). */
#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_cloud cc;
	struct cfg_err err;

	cfg_cloud_parse((const char *)data, size, "fuzz", &cc, &err);
	return 0;
}
