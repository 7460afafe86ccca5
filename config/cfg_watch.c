/*
 * Polls the cloud-config file by content, not mtime: a ConfigMap update
 * swaps a symlink, and editors may keep the mtime. The file is small, so
 * hashing it every few seconds costs nothing.
 */
#include "config/cfg.h"
#include "config/cfg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int digest_file(const char *path, unsigned char out[32])
{
	unsigned char chunk[4096];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t total = 0;
	ssize_t n;
	int fd, r = 0;

	if (!ctx)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && total < (1u << 20)) {
		EVP_DigestUpdate(ctx, chunk, (size_t)n);
		total += (size_t)n;
	}
	if (n < 0)
		r = -errno;
	EVP_DigestFinal_ex(ctx, out, &len);
	close(fd);
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int cfg_watch_init(struct cfg_watch *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	if (strlen(path) >= sizeof(w->path))
		return -ENAMETOOLONG;
	memcpy(w->path, path, strlen(path) + 1);
	return digest_file(path, w->digest);
}

int cfg_watch_check(struct cfg_watch *w, struct cfg_err *err)
{
	unsigned char d[32];
	struct cfg_cloud cc;
	int r = digest_file(w->path, d);

	if (r < 0)
		return cfg_fail(err, "--cloud-config %s: cannot read: %s",
				w->path, strerror(-r));
	if (memcmp(d, w->digest, sizeof(d)) == 0)
		return 0;
	if (w->have_bad && memcmp(d, w->bad_digest, sizeof(d)) == 0)
		return 0; /* already reported */
	r = cfg_cloud_load(w->path, &cc, err);
	if (r == 0)
		r = cfg_cloud_env(&cc, err);
	explicit_bzero(&cc, sizeof(cc));
	if (r < 0) {
		memcpy(w->bad_digest, d, sizeof(d));
		w->have_bad = 1;
		return r;
	}
	memcpy(w->digest, d, sizeof(d));
	w->have_bad = 0;
	return 1;
}
