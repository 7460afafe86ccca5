/*
 * cfg_watch - the cloud-config file by content, validated, with identity
 * keys pinned and the accepted content kept in a private snapshot that the
 * workers read (see cfg.h). The file is small (bounded by CFG_WATCH_MAX),
 * so reading and hashing it every few seconds costs nothing.
 */
#include "config/cfg.h"
#include "config/cfg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"

#define CFG_WATCH_MAX (1u << 20)

static int read_all(const char *path, struct buf *b)
{
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		r = n < 0 ? -errno : buf_append(b, chunk, (size_t)n);
		if (r < 0)
			break;
	}
	close(fd);
	explicit_bzero(chunk, sizeof(chunk));
	return r;
}

static void digest(const struct buf *b, unsigned char out[32])
{
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(out, 0, 32);
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, b->data ? b->data : "", b->len);
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

/* tmp + rename: a worker starting meanwhile reads the old or the new. */
static int write_snapshot(const char *path, const struct buf *b)
{
	char tmp[4200];
	size_t off = 0;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	while (r == 0 && off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

const char *cfg_cloud_identity_diff(const struct cfg_cloud *a,
				    const struct cfg_cloud *b)
{
	if (strcmp(a->cluster_id, b->cluster_id) != 0)
		return "clusterID";
	if (strcmp(a->region, b->region) != 0)
		return "region";
	if (strcmp(a->vpc_id, b->vpc_id) != 0)
		return "vpcid";
	if (a->n_route_tables != b->n_route_tables)
		return "routeTableIDs";
	for (int i = 0; i < a->n_route_tables; i++)
		if (strcmp(a->route_table_ids[i], b->route_table_ids[i]) != 0)
			return "routeTableIDs";
	return NULL;
}

/* Parses the content as cfg_parse does (file, then the environment). */
static int parse(const struct cfg_watch *w, const struct buf *b,
		 struct cfg_cloud *out, struct cfg_err *err)
{
	int r = cfg_cloud_parse(b->data ? b->data : "", b->len, w->path, out,
				err);

	return r ? r : cfg_cloud_env(out, err);
}

static int load(const struct cfg_watch *w, struct buf *b, struct cfg_err *err)
{
	int r;

	buf_init(b, CFG_WATCH_MAX);
	r = read_all(w->path, b);
	if (r < 0)
		return cfg_fail(err, "--cloud-config %s: cannot read: %s",
				w->path, strerror(-r));
	return 0;
}

static void drop(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	buf_done(b);
}

int cfg_watch_init(struct cfg_watch *w, const char *path, const char *snapshot,
		   struct cfg_err *err)
{
	struct buf b;
	int r;

	memset(w, 0, sizeof(*w));
	if (strlen(path) >= sizeof(w->path) ||
	    (snapshot && strlen(snapshot) >= sizeof(w->snapshot)))
		return cfg_fail(err, "--cloud-config: path too long");
	memcpy(w->path, path, strlen(path) + 1);
	if (snapshot)
		memcpy(w->snapshot, snapshot, strlen(snapshot) + 1);
	r = load(w, &b, err);
	if (r == 0)
		r = parse(w, &b, &w->cur, err);
	if (r == 0 && w->snapshot[0]) {
		r = write_snapshot(w->snapshot, &b);
		if (r < 0)
			cfg_fail(err, "cloud-config snapshot %s: %s",
				 w->snapshot, strerror(-r));
	}
	digest(&b, w->digest);
	drop(&b);
	return r;
}

static int remember_bad(struct cfg_watch *w, const unsigned char d[32], int r)
{
	memcpy(w->bad_digest, d, 32);
	w->have_bad = 1;
	return r;
}

int cfg_watch_check(struct cfg_watch *w, struct cfg_err *err)
{
	unsigned char d[32];
	struct cfg_cloud cc;
	const char *key;
	struct buf b;
	int r = load(w, &b, err);

	if (r < 0) {
		drop(&b);
		if (w->unreadable)
			return 0; /* already reported */
		w->unreadable = 1;
		return r;
	}
	w->unreadable = 0;
	digest(&b, d);
	if (memcmp(d, w->digest, sizeof(d)) == 0 ||
	    (w->have_bad && memcmp(d, w->bad_digest, sizeof(d)) == 0)) {
		drop(&b);
		return 0; /* unchanged, or already reported */
	}
	r = parse(w, &b, &cc, err);
	key = r == 0 ? cfg_cloud_identity_diff(&w->cur, &cc) : NULL;
	if (key)
		r = cfg_fail(err,
			     "--cloud-config %s: %s changed; an identity key "
			     "cannot change while the CCM runs (a new one "
			     "would disown every resource it created): the "
			     "running configuration stays; restart the CCM "
			     "to change it",
			     w->path, key);
	if (r == 0 && w->snapshot[0]) {
		r = write_snapshot(w->snapshot, &b);
		if (r < 0)
			r = cfg_fail(err, "cloud-config snapshot %s: %s",
				     w->snapshot, strerror(-r));
	}
	drop(&b);
	if (r < 0) {
		explicit_bzero(&cc, sizeof(cc));
		return remember_bad(w, d, key ? -EPERM : -EINVAL);
	}
	memcpy(w->digest, d, sizeof(d));
	w->have_bad = 0;
	w->cur = cc;
	explicit_bzero(&cc, sizeof(cc));
	return 1;
}

void cfg_watch_done(struct cfg_watch *w)
{
	explicit_bzero(&w->cur, sizeof(w->cur));
}
