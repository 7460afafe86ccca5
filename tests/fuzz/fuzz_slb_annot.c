/* Fuzz target: Service JSON -> compact Service -> annotation parsing and
 * the endpoint parsers of the service-LB worker. */
#include <stddef.h>
#include <stdint.h>

#include "workers/service_lb/slb_annot.h"
#include "workers/service_lb/slb_endpoints.h"
#include "workers/service_lb/slb_svc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json *j = NULL;
	struct slb_svc *s = NULL;
	struct slb_annot a;
	struct slb_eps e = {0};
	char err[256];

	if (json_parse((const char *)data, size, &json_default_limits, &j, err,
		       sizeof(err)) < 0)
		return 0;
	if (slb_svc_from_json(j, &s) == 0) {
		slb_annot_parse(s, NULL, &a, err, sizeof(err));
		slb_svc_free(s);
	}
	slb_eps_from_endpoints(j, &e);
	slb_eps_from_slice(j, &e);
	slb_eps_done(&e);
	json_free(j);
	return 0;
}
