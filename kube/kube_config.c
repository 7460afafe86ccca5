#include "kube/kube_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/kube_config_int.h"
#include "kube/kube_yaml.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"

/* Writes the message into err (when given) and returns code. */
int kube_cfg_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

void kube_conn_free(struct kube_conn *c)
{
	if (!c)
		return;
	free(c->source);
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem.data);
	free(c->tls_server_name);
	free(c->proxy_url);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->cert_pem.data);
	free(c->key_file);
	if (c->key_pem.data)
		explicit_bzero(c->key_pem.data, c->key_pem.len);
	free(c->key_pem.data);
	free(c->namespace);
	free(c);
}

int kube_read_small_file(const char *path, size_t max, char **ret)
{
	struct buf b;
	char tmp[4096];
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf_init(&b, max);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		r = n < 0 ? -errno : buf_append(&b, tmp, (size_t)n);
		if (r < 0)
			break;
	}
	close(fd);
	explicit_bzero(tmp, sizeof(tmp));
	if (r == 0 && !b.data)
		r = buf_append(&b, "", 0);
	if (r < 0) {
		if (b.data)
			explicit_bzero(b.data, b.len);
		buf_done(&b);
		return r;
	}
	while (b.len && strchr(" \t\r\n", b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	*ret = b.data;
	return 0;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int kube_base64_decode(const char *in, struct kube_blob *out)
{
	size_t cap = strlen(in) / 4 * 3 + 4, n = 0;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	char *o = malloc(cap + 1);
	const unsigned char *p;

	if (!o)
		return -ENOMEM;
	for (p = (const unsigned char *)in; *p; p++) {
		int v;

		if (strchr(" \t\r\n", *p))
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		v = b64val(*p);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6 || pad > 2)
		goto bad;
	o[n] = '\0';
	out->data = o;
	out->len = n;
	return 0;
bad:
	free(o);
	return -EINVAL;
}

static const struct json *named_in(const struct json *list, const char *name)
{
	for (size_t i = 0; i < json_len(list); i++) {
		const struct json *it = json_at(list, i);
		const char *n = json_path_str(it, "name");

		if (n && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

/* Absolute paths stay; relative ones join the kubeconfig's directory. */
static int resolve_path(const char *dir, const char *p, char **ret)
{
	if (p[0] == '/' || !dir || !dir[0])
		*ret = strdup(p);
	else if (asprintf(ret, "%s/%s", dir, p) < 0)
		*ret = NULL;
	return *ret ? 0 : -ENOMEM;
}

struct kparse {
	struct kube_conn *c;
	const struct kube_kfile *files;
	size_t nfiles;
	const char *dir; /* of the file the entry being read comes from */
	const char *src;
	char *err;
	size_t errlen;
};

/*
 * The field of entry name in list (clusters, users, contexts): from the
 * first file that names it; k->dir becomes that file's directory. *found
 * tells a missing entry from an entry with an empty field.
 */
static const struct json *find_named(struct kparse *k, const char *list,
				     const char *name, const char *field,
				     int *found)
{
	*found = 0;
	for (size_t f = 0; f < k->nfiles; f++) {
		const struct json *it =
			named_in(json_get(k->files[f].root, list), name);

		if (it) {
			*found = 1;
			k->dir = k->files[f].dir;
			return json_get(it, field);
		}
	}
	return NULL;
}

/* Copies an optional string field; paths are resolved. */
static int take_str(struct kparse *k, const struct json *o, const char *key,
		    int is_path, char **dst)
{
	const struct json *v = json_get(o, key);
	const char *s;

	if (!v || v->type == JSON_NULL)
		return 0;
	/* a plain yes/on/true stays text in a string field, as in client-go */
	s = v->type == JSON_BOOL ? v->str : json_str(v);
	if (!s)
		return kube_cfg_err(k->err, k->errlen, -EINVAL,
				    "kubeconfig %s: field %s is not a string",
				    k->src, key);
	if (!*s)
		return 0;
	if (is_path)
		return resolve_path(k->dir, s, dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int take_b64(struct kparse *k, const struct json *o, const char *key,
		    struct kube_blob *dst)
{
	const char *s = json_path_str(o, key);

	if (!s || !*s)
		return 0;
	if (kube_base64_decode(s, dst) < 0)
		return kube_cfg_err(
			k->err, k->errlen, -EINVAL,
			"kubeconfig %s: field %s is not valid base64", k->src,
			key);
	return 0;
}

static int take_cluster(struct kparse *k, const struct json *cl)
{
	const struct json *ins = json_get(cl, "insecure-skip-tls-verify");
	size_t n;
	int r;

	if (!cl || cl->type != JSON_OBJECT)
		return kube_cfg_err(k->err, k->errlen, -EINVAL,
				    "kubeconfig %s: cluster has no settings",
				    k->src);
	r = take_str(k, cl, "server", 0, &k->c->server);
	if (!r)
		r = take_str(k, cl, "certificate-authority", 1, &k->c->ca_file);
	if (!r)
		r = take_b64(k, cl, "certificate-authority-data",
			     &k->c->ca_pem);
	if (!r)
		r = take_str(k, cl, "tls-server-name", 0,
			     &k->c->tls_server_name);
	if (!r)
		r = take_str(k, cl, "proxy-url", 0, &k->c->proxy_url);
	if (!r && ins && ins->type != JSON_NULL &&
	    json_bool(ins, &k->c->insecure) < 0)
		r = kube_cfg_err(
			k->err, k->errlen, -EINVAL,
			"kubeconfig %s: insecure-skip-tls-verify is not a "
			"boolean",
			k->src);
	if (r)
		return r;
	if (!k->c->server)
		return kube_cfg_err(k->err, k->errlen, -EINVAL,
				    "kubeconfig %s: cluster has no server",
				    k->src);
	n = strlen(k->c->server);
	while (n > 0 && k->c->server[n - 1] == '/')
		k->c->server[--n] = '\0';
	return 0;
}

/* Credentials this client cannot use are errors, not anonymous access. */
static int refuse_user_fields(struct kparse *k, const struct json *u,
			      const char *uname)
{
	static const char *const bad[] = {
		"exec", "auth-provider", "username",	  "password",
		"as",	"as-groups",	 "as-user-extra",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct json *v = json_get(u, bad[i]);

		if (v && v->type != JSON_NULL &&
		    !(v->type == JSON_STRING && !v->len))
			return kube_cfg_err(
				k->err, k->errlen, -ENOTSUP,
				"kubeconfig %s: user \"%s\": field \"%s\" "
				"is not supported (%s; use token, tokenFile "
				"or client certificates)",
				k->src, uname, bad[i],
				i == 0 ? "exec credential plugins are not "
					 "run by this CCM"
				       : "this CCM cannot use it");
	}
	return 0;
}

static int take_user(struct kparse *k, const struct json *u, const char *uname)
{
	int r;

	if (!u || u->type == JSON_NULL)
		return 0; /* explicit anonymous user: allowed */
	if (u->type != JSON_OBJECT)
		return kube_cfg_err(k->err, k->errlen, -EINVAL,
				    "kubeconfig %s: user is not a mapping",
				    k->src);
	r = refuse_user_fields(k, u, uname);
	if (!r)
		r = take_str(k, u, "token", 0, &k->c->token);
	if (!r)
		r = take_str(k, u, "tokenFile", 1, &k->c->token_file);
	if (!r)
		r = take_str(k, u, "client-certificate", 1, &k->c->cert_file);
	if (!r)
		r = take_b64(k, u, "client-certificate-data", &k->c->cert_pem);
	if (!r)
		r = take_str(k, u, "client-key", 1, &k->c->key_file);
	if (!r)
		r = take_b64(k, u, "client-key-data", &k->c->key_pem);
	return r;
}

static const char *current_context(const struct kparse *k)
{
	for (size_t f = 0; f < k->nfiles; f++) {
		const char *cur =
			json_path_str(k->files[f].root, "current-context");

		if (cur && *cur)
			return cur;
	}
	return NULL;
}

static int take_context(struct kparse *k)
{
	const char *cur = current_context(k), *cname, *uname;
	const struct json *ctx, *cl, *u;
	int found, r;

	if (!cur)
		return kube_cfg_err(k->err, k->errlen, -EINVAL,
				    "kubeconfig %s: current-context is not set",
				    k->src);
	ctx = find_named(k, "contexts", cur, "context", &found);
	if (!ctx)
		return kube_cfg_err(k->err, k->errlen, -EINVAL,
				    "kubeconfig %s: context \"%s\" not found",
				    k->src, cur);
	r = take_str(k, ctx, "namespace", 0, &k->c->namespace);
	cname = json_path_str(ctx, "cluster");
	uname = json_path_str(ctx, "user");
	cl = cname ? find_named(k, "clusters", cname, "cluster", &found) : NULL;
	if (!r && !cl)
		return kube_cfg_err(
			k->err, k->errlen, -EINVAL,
			"kubeconfig %s: cluster \"%s\" of context \"%s\" "
			"not found",
			k->src, cname ? cname : "", cur);
	if (!r)
		r = take_cluster(k, cl);
	if (r || !uname || !*uname)
		return r;
	u = find_named(k, "users", uname, "user", &found);
	if (!found)
		return kube_cfg_err(k->err, k->errlen, -EINVAL,
				    "kubeconfig %s: user \"%s\" not found",
				    k->src, uname);
	return take_user(k, u, uname);
}

/* client-go refuses a name twice in one list. */
static int check_unique(const struct json *root, const char *path, char *err,
			size_t errlen)
{
	static const char *const lists[] = {"clusters", "users", "contexts"};

	for (size_t l = 0; l < 3; l++) {
		const struct json *list = json_get(root, lists[l]);

		for (size_t i = 0; i < json_len(list); i++) {
			const char *n = json_path_str(json_at(list, i), "name");

			for (size_t j = i + 1; n && j < json_len(list); j++) {
				const char *m =
					json_path_str(json_at(list, j), "name");

				if (m && strcmp(n, m) == 0)
					return kube_cfg_err(
						err, errlen, -EINVAL,
						"kubeconfig %s: %s: the "
						"name \"%s\" appears twice",
						path, lists[l], n);
			}
		}
	}
	return 0;
}

void kube_kfile_done(struct kube_kfile *f)
{
	json_free(f->root);
	free(f->dir);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

int kube_kfile_parse(const char *text, size_t len, const char *dir,
		     const char *path, struct kube_kfile *f, char *err,
		     size_t errlen)
{
	char perr[160];
	int r;

	memset(f, 0, sizeof(*f));
	r = kube_yaml_parse(text, len, &f->root, perr, sizeof(perr));
	if (r < 0)
		return kube_cfg_err(err, errlen, r == -E2BIG ? -E2BIG : -EINVAL,
				    "kubeconfig %s: %s", path,
				    r == -E2BIG ? "too large or too deep"
						: perr);
	if (f->root->type != JSON_OBJECT)
		r = kube_cfg_err(err, errlen, -EINVAL,
				 "kubeconfig %s: not a mapping", path);
	if (!r)
		r = check_unique(f->root, path, err, errlen);
	if (!r) {
		f->dir = strdup(dir ? dir : "");
		f->path = strdup(path);
		r = f->dir && f->path ? 0 : -ENOMEM;
	}
	if (r < 0)
		kube_kfile_done(f);
	return r;
}

int kube_conn_build(const struct kube_kfile *files, size_t n,
		    const char *source, struct kube_conn **ret, char *err,
		    size_t errlen)
{
	struct kparse k = {.files = files,
			   .nfiles = n,
			   .src = source,
			   .err = err,
			   .errlen = errlen};
	int r;

	k.c = calloc(1, sizeof(*k.c));
	if (!k.c)
		return -ENOMEM;
	k.c->source = strdup(source);
	r = k.c->source ? take_context(&k) : -ENOMEM;
	if (r < 0) {
		kube_conn_free(k.c);
		return r;
	}
	*ret = k.c;
	return 0;
}

int kube_conn_parse(const char *text, size_t len, const char *dir,
		    const char *source, struct kube_conn **ret, char *err,
		    size_t errlen)
{
	struct kube_kfile f;
	int r = kube_kfile_parse(text, len, dir, source, &f, err, errlen);

	if (r < 0)
		return r;
	r = kube_conn_build(&f, 1, source, ret, err, errlen);
	kube_kfile_done(&f);
	return r;
}

static int sa_file(const char *dir, const char *name, char **ret)
{
	return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

/* client-go's InClusterConfig fails when the token cannot be read. */
static int check_sa_token(const char *path, char *err, size_t errlen)
{
	char *tok = NULL;
	int r = kube_read_small_file(path, KUBE_TOKEN_MAX, &tok);

	if (tok) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	if (r < 0)
		return kube_cfg_err(
			err, errlen, r,
			"in-cluster: cannot read the service-account "
			"token %s: %s",
			path, strerror(-r));
	return 0;
}

int kube_conn_in_cluster(struct kube_conn **ret, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
#ifdef CCM_TEST_HOOKS
	/* only the test build moves the service-account files */
	const char *dir = getenv("CCM_SA_DIR");
#else
	const char *dir = NULL;
#endif
	struct kube_conn *c;
	char *ns = NULL;
	int r;

	if (!host || !*host || !port || !*port)
		return kube_cfg_err(err, errlen, -ENOENT,
				    "no kubeconfig given and not in a cluster "
				    "(KUBERNETES_SERVICE_HOST/PORT unset)");
	if (!dir || !*dir)
		dir = KUBE_SA_DIR_DEFAULT;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = (c->source = strdup("in-cluster")) ? 0 : -ENOMEM;
	if (!r &&
	    asprintf(&c->server,
		     strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		     host, port) < 0)
		r = -ENOMEM;
	if (!r)
		r = sa_file(dir, "token", &c->token_file);
	if (!r)
		r = sa_file(dir, "ca.crt", &c->ca_file);
	if (!r)
		r = check_sa_token(c->token_file, err, errlen);
	if (!r && access(c->ca_file, R_OK) < 0) {
		/* client-go logs this and falls back to the system CA store */
		log_warn("in-cluster CA %s: %s; using the system CA store",
			 c->ca_file, strerror(errno));
		free(c->ca_file);
		c->ca_file = NULL;
	}
	if (!r && sa_file(dir, "namespace", &ns) == 0) {
		if (kube_read_small_file(ns, 256, &c->namespace) < 0)
			c->namespace = NULL;
		free(ns);
	}
	if (r < 0) {
		kube_conn_free(c);
		return r;
	}
	*ret = c;
	return 0;
}
