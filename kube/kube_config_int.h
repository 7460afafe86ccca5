/*
 * kube_config_int - kubeconfig files as kube_config.c builds a connection
 * from them; kube_config_files.c decides which files (internal to kube/).
 *
 * Several files merge as client-go merges $KUBECONFIG: the first file that
 * sets current-context wins, and a cluster, user or context comes from the
 * first file that names it, with its relative paths resolved against that
 * file's directory. Within one file a repeated name is an error, as it is
 * for client-go.
 */
#ifndef CCM_KUBE_CONFIG_INT_H
#define CCM_KUBE_CONFIG_INT_H

#include <stddef.h>

#include "kube/kube_config.h"
#include "lib/json.h"

struct kube_kfile {
	struct json *root; /* a mapping */
	char *dir;	   /* relative paths resolve here ("" = cwd) */
	char *path;	   /* for messages */
};

/* 0, or -EINVAL/-E2BIG with err naming path (and the line). */
int kube_kfile_parse(const char *text, size_t len, const char *dir,
		     const char *path, struct kube_kfile *f, char *err,
		     size_t errlen);
void kube_kfile_done(struct kube_kfile *f);
int kube_conn_build(const struct kube_kfile *files, size_t n,
		    const char *source, struct kube_conn **ret, char *err,
		    size_t errlen);
int kube_conn_in_cluster(struct kube_conn **ret, char *err, size_t errlen);
/* printf into err (when given); returns code. */
int kube_cfg_err(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
