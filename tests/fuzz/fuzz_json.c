/* libFuzzer: the capped JSON DOM every parser of outside input uses. */
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct json_limits lim = {
		.max_bytes = 1 << 20, .max_depth = 32, .max_nodes = 1 << 16};
	struct json *j = NULL;
	long long n;

	if (json_parse((const char *)data, size, &lim, &j, NULL, 0) == 0) {
		json_int(json_path(j, "a.b"), &n);
		json_str(json_at(j, 0));
		json_free(j);
	}
	return 0;
}
