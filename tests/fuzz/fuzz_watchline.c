/* libFuzzer: a watch stream split into lines and decoded as events. */
#include <stddef.h>
#include <stdint.h>

#include "kube/kube_lines.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_line(void *ctx, const char *line, size_t len)
{
	struct json *j = NULL;

	(void)ctx;
	if (json_parse(line, len, NULL, &j, NULL, 0) == 0) {
		(void)json_path_str(j, "type");
		(void)json_path_str(j, "object.metadata.resourceVersion");
		json_free(j);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_lines l;
	size_t cut = size ? data[0] % (size + 1) : 0;

	/* small cap so oversize handling is exercised; two chunks so the
	 * split across reads is too */
	kube_lines_init(&l, 256);
	kube_lines_feed(&l, (const char *)data, cut, on_line, NULL);
	kube_lines_feed(&l, (const char *)data + cut, size - cut, on_line,
			NULL);
	kube_lines_done(&l);
	return 0;
}
