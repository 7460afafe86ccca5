/* libFuzzer target: the Alibaba Cloud error-body parser and the typed
 * response readers over arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "alicloud/ali_cred.h"
#include "alicloud/ali_error.h"
#include "alicloud/ali_json.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct json *root)
{
	const struct json *arr =
		ali_jlist(root, "LoadBalancers", "LoadBalancer");
	char s[64];
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		ali_jstr(json_at(arr, i), "LoadBalancerId", s, sizeof(s));
		(void)ali_jint(json_at(arr, i), "Bandwidth", 0);
		(void)ali_jbool(json_at(arr, i), "DeleteProtection", 0);
	}
	ali_jstr(root, "NextToken", s, sizeof(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct ali_credential cred;
	struct ali_error e;
	struct json *root = NULL;

	ali_error_parse(400, text, size, &e);
	ali_error_redact(&e, "secret");
	(void)ali_cred_parse_role(text, size, &cred);
	if (json_parse(text, size, NULL, &root, NULL, 0) == 0)
		walk(root);
	json_free(root);
	return 0;
}
