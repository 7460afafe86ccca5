/* libFuzzer: kubeconfig text (YAML subset or JSON) into a connection. */
#include <stddef.h>
#include <stdint.h>

#include "kube/kube_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_conn *c = NULL;
	char err[256];

	if (kube_conn_parse((const char *)data, size, "/fuzz", "fuzz", &c, err,
			    sizeof(err)) == 0)
		kube_conn_free(c);
	return 0;
}
