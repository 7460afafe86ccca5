/*
 * Shared by the files of config/ only.
 */
#ifndef CCM_CFG_INTERNAL_H
#define CCM_CFG_INTERNAL_H

#include "config/cfg.h"

/* Formats err and returns -EINVAL. */
int cfg_fail(struct cfg_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cfg_int_parse(const char *s, int *out);
int cfg_cluster_cidr_parse(struct cfg *c, const char *v, struct cfg_err *e);
void cfg_defaults(struct cfg *c);
int cfg_parse_argv(struct cfg *c, int argc, char **argv, struct cfg_err *e);
int cfg_validate(struct cfg *c, struct cfg_err *e);
/* Strict standard base64; returns the decoded length or -EINVAL. */
int cfg_base64_decode(const char *in, char *out, size_t outlen);

#endif
