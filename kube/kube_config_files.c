/*
 * kube_config_files - which kubeconfig files: --kubeconfig (one file, which
 * must exist), else every file of $KUBECONFIG merged as client-go merges
 * them (missing entries skipped, a broken one an error), else in-cluster.
 */
#include "kube/kube_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_config_int.h"
#include "kube/kube_yaml.h"

#define KUBE_MAX_FILES 16

/* The directory part of path: "" for a bare name, "/" for the root. */
static char *dir_of(const char *path)
{
	char *dir = strdup(path), *slash;

	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		dir[0] = '\0';
	return dir;
}

static int read_one(const char *path, struct kube_kfile *f, char *err,
		    size_t errlen)
{
	char *text = NULL, *dir = NULL;
	int r = kube_read_small_file(path, KUBE_YAML_MAX_BYTES, &text);

	if (r < 0)
		return kube_cfg_err(err, errlen, r, "kubeconfig %s: %s", path,
				    strerror(-r));
	dir = dir_of(path);
	r = dir ? kube_kfile_parse(text, strlen(text), dir, path, f, err,
				   errlen)
		: -ENOMEM;
	explicit_bzero(text, strlen(text));
	free(text);
	free(dir);
	return r;
}

static int load_explicit(const char *path, struct kube_conn **ret, char *err,
			 size_t errlen)
{
	struct kube_kfile f;
	int r = read_one(path, &f, err, errlen);

	if (r < 0)
		return r;
	r = kube_conn_build(&f, 1, path, ret, err, errlen);
	kube_kfile_done(&f);
	return r;
}

/* Next ':'-separated entry of *p into buf; 0 at the end. */
static int next_entry(const char **p, char *buf, size_t len)
{
	size_t n;

	if (!**p)
		return 0;
	n = strcspn(*p, ":");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p += n + ((*p)[n] == ':');
	return 1;
}

static int load_env(const char *env, struct kube_conn **ret, char *err,
		    size_t errlen)
{
	struct kube_kfile files[KUBE_MAX_FILES];
	const char *p = env;
	char path[4096];
	size_t n = 0;
	int r;

	while ((r = next_entry(&p, path, sizeof(path))) == 1) {
		if (!path[0])
			continue;
		if (n == KUBE_MAX_FILES) {
			r = kube_cfg_err(err, errlen, -E2BIG,
					 "KUBECONFIG: more than %d files",
					 KUBE_MAX_FILES);
			break;
		}
		r = read_one(path, &files[n], err, errlen);
		if (r == -ENOENT)
			continue; /* client-go skips a missing file */
		if (r < 0)
			break;
		n++;
	}
	if (r == -ENAMETOOLONG)
		kube_cfg_err(err, errlen, r, "KUBECONFIG entry too long");
	if (r == 0 && n == 0)
		r = kube_conn_in_cluster(ret, err, errlen);
	else if (r == 0)
		r = kube_conn_build(files, n, env, ret, err, errlen);
	while (n)
		kube_kfile_done(&files[--n]);
	return r;
}

int kube_conn_load(const char *kubeconfig, struct kube_conn **ret, char *err,
		   size_t errlen)
{
	const char *env = getenv("KUBECONFIG");

	if (kubeconfig && *kubeconfig)
		return load_explicit(kubeconfig, ret, err, errlen);
	if (env && *env)
		return load_env(env, ret, err, errlen);
	return kube_conn_in_cluster(ret, err, errlen);
}
