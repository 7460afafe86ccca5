/*
 * ali_calllog - one log line per API attempt at verbosity >= 6, with the
 * parameters redacted: AccessKeyId shows its first 4 characters, Signature
 * and SecurityToken are never printed.
 */
#ifndef CCM_ALI_CALLLOG_H
#define CCM_ALI_CALLLOG_H

#include <stdint.h>

#include "alicloud/ali_params.h"
#include "lib/buf.h"

#define ALI_CALLLOG_V 6

/* Appends "k=v k=v ..." of p with secrets redacted (exposed for tests). */
int ali_params_redacted(const struct ali_params *p, struct buf *out);

struct ali_calllog {
	const char *product;
	const char *action;
	const struct ali_params *params;
	int attempt;
	long status;
	const char *code;
	const char *request_id;
	int64_t latency_ms;
};

void ali_calllog(const struct ali_calllog *l);

#endif
