#include "alicloud/ali_calllog.h"

#include <string.h>

#include "lib/log.h"

/* Common parameters that add nothing to a debug line. */
static int noise(const char *name)
{
	static const char *const skip[] = {
		"Signature",	   "SecurityToken",    "SignatureNonce",
		"SignatureMethod", "SignatureVersion", "Format",
		"Timestamp",	   "Version",	       "Action",
	};
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(name, skip[i]) == 0)
			return 1;
	return 0;
}

int ali_params_redacted(const struct ali_params *p, struct buf *out)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < p->n; i++) {
		const char *name = p->v[i].name;

		if (noise(name))
			continue;
		if (strcmp(name, "AccessKeyId") == 0)
			r = buf_printf(out, "%s%s=%.4s***", out->len ? " " : "",
				       name, p->v[i].value);
		else
			r = buf_printf(out, "%s%s=%.200s", out->len ? " " : "",
				       name, p->v[i].value);
	}
	return r;
}

void ali_calllog(const struct ali_calllog *l)
{
	struct buf b;

	if (log_verbosity() < ALI_CALLLOG_V)
		return;
	buf_init(&b, 8192);
	if (l->params)
		ali_params_redacted(l->params, &b);
	log_emit(LOG_SEV_INFO, __FILE__, __LINE__,
		 "%s %s attempt=%d status=%ld code=%s request_id=%s "
		 "latency=%lldms params: %s",
		 l->product, l->action, l->attempt, l->status,
		 l->code && *l->code ? l->code : "-",
		 l->request_id && *l->request_id ? l->request_id : "-",
		 (long long)l->latency_ms, b.data ? b.data : "");
	buf_done(&b);
}
