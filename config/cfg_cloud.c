/*
 * The cloud-config file: {"Global": {...}} with Go's case-insensitive key
 * matching. The access key pair is base64 (as the seed's configmap script
 * writes it); a decoded value that does not look like an AccessKey is
 * refused, because a raw key is often valid base64 too and would otherwise
 * fail much later as a signature error.
 */
#include "config/cfg.h"
#include "config/cfg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"

#define CLOUD_CONFIG_MAX (1u << 20)

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int cfg_base64_decode(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in), i, o = 0;

	if (n == 0 || n % 4)
		return -EINVAL;
	for (i = 0; i < n; i += 4) {
		int v[4], k, pad = 0;

		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64val(in[i + k])) < 0) {
				return -EINVAL;
			}
		}
		if (o + 3 - (size_t)pad >= outlen)
			return -EINVAL;
		out[o++] = (char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	out[o] = '\0';
	return (int)o;
}

static int valid_ak_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 8)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return 0;
	return 1;
}

static int valid_ak_secret(const char *s)
{
	if (strlen(s) < 8)
		return 0;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

int cfg_vswitch_parse(const char *s, struct cfg_cloud *out, struct cfg_err *e)
{
	const char *p = s;

	out->n_vswitches = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *colon = memchr(p, ':', n);
		const char *id = colon ? colon + 1 : p;
		size_t zlen = colon ? (size_t)(colon - p) : 0;
		size_t idlen = n - (size_t)(id - p);
		struct cfg_vswitch *v;

		if (out->n_vswitches >= CFG_MAX_VSWITCHES ||
		    zlen >= sizeof(v->zone) || idlen >= sizeof(v->id) ||
		    idlen < 5 || strncmp(id, "vsw-", 4) != 0)
			return cfg_fail(e,
					"cloud-config vswitchid: \"%s\" is "
					"not valid; expected vsw-xxx or "
					"zone:vsw-xxx,zone2:vsw-yyy",
					s);
		v = &out->vswitches[out->n_vswitches++];
		memcpy(v->zone, p, zlen);
		v->zone[zlen] = '\0';
		memcpy(v->id, id, idlen);
		v->id[idlen] = '\0';
		p += n + (p[n] == ',');
	}
	return 0;
}

static int route_tables_parse(const char *s, struct cfg_cloud *out,
			      struct cfg_err *e)
{
	const char *p = s;

	out->n_route_tables = 0;
	while (*p) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, ",");
		while (n && p[n - 1] == ' ')
			n--;
		if (n) {
			if (out->n_route_tables >= CFG_MAX_ROUTETABLES ||
			    n >= sizeof(out->route_table_ids[0]) ||
			    strncmp(p, "vtb-", 4) != 0)
				return cfg_fail(e,
						"cloud-config routeTableIDs: "
						"\"%s\" is not valid; "
						"expected vtb-xxx,vtb-yyy",
						s);
			memcpy(out->route_table_ids[out->n_route_tables], p, n);
			out->route_table_ids[out->n_route_tables++][n] = '\0';
		}
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return 0;
}

/* Copies a string key of Global into dst; absent is fine. */
static int get_str(const struct json *g, const char *key, char *dst,
		   size_t dlen, struct cfg_err *e)
{
	const struct json *v = json_get_ci(g, key);

	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_STRING)
		return cfg_fail(e, "cloud-config Global.%s: expected a string",
				key);
	if (v->len >= dlen)
		return cfg_fail(e,
				"cloud-config Global.%s: longer than %zu "
				"bytes",
				key, dlen - 1);
	memcpy(dst, v->str, v->len + 1);
	return 0;
}

static int get_bool(const struct json *g, const char *key, int *dst,
		    struct cfg_err *e)
{
	const struct json *v = json_get_ci(g, key);

	if (!v || v->type == JSON_NULL)
		return 0;
	if (json_bool(v, dst) < 0)
		return cfg_fail(e,
				"cloud-config Global.%s: expected true or "
				"false",
				key);
	return 0;
}

/*
 * A quota: a JSON number or a numeric string (Go cloud-configs often quote
 * numbers), 1..CFG_QUOTA_MAX; absent keeps the documented default.
 */
static int get_quota(const struct json *g, const char *key, int *dst,
		     struct cfg_err *e)
{
	const struct json *v = json_get_ci(g, key);
	long long n;

	if (!v || v->type == JSON_NULL)
		return 0;
	if ((v->type != JSON_NUMBER && v->type != JSON_STRING) ||
	    json_int(v, &n) < 0 || n < 1 || n > CFG_QUOTA_MAX)
		return cfg_fail(e,
				"cloud-config Global.%s: \"%s\" is not "
				"valid; expected a whole number from 1 to "
				"%d (the account's quota)",
				key, v->str ? v->str : "(not a number)",
				CFG_QUOTA_MAX);
	*dst = (int)n;
	return 0;
}

static int load_quotas(const struct json *g, struct cfg_quotas *q,
		       struct cfg_err *e)
{
	q->backends_per_lb = 200;
	q->lbs_per_instance = 50;
	q->listeners_per_lb = 50;
	q->route_entries_per_table = 200;
	if (get_quota(g, "maxBackendServersPerLoadBalancer",
		      &q->backends_per_lb, e) < 0 ||
	    get_quota(g, "maxLoadBalancersPerInstance", &q->lbs_per_instance,
		      e) < 0 ||
	    get_quota(g, "maxListenersPerLoadBalancer", &q->listeners_per_lb,
		      e) < 0 ||
	    get_quota(g, "maxRouteEntriesPerRouteTable",
		      &q->route_entries_per_table, e) < 0)
		return -EINVAL;
	return 0;
}

static int decode_key(const char *what, const char *b64, char *out,
		      size_t outlen, struct cfg_err *e)
{
	if (cfg_base64_decode(b64, out, outlen) < 0)
		return cfg_fail(e,
				"cloud-config Global.%s: not valid base64 "
				"(value redacted); expected the base64 of "
				"the key, e.g. echo -n \"$KEY\" | base64 "
				"-w 0",
				what);
	return 0;
}

int cfg_cloud_check_ak(struct cfg_cloud *o, const char *src, struct cfg_err *e);
int cfg_cloud_check_ak(struct cfg_cloud *o, const char *src, struct cfg_err *e)
{
	if (!valid_ak_id(o->access_key_id))
		return cfg_fail(e,
				"%s access key id: not an AccessKey id "
				"(value redacted); expected 8 or more of "
				"A-Z a-z 0-9 .",
				src);
	if (!valid_ak_secret(o->access_key_secret))
		return cfg_fail(e,
				"%s access key secret: not an AccessKey "
				"secret (value redacted); expected 8 or "
				"more printable ASCII characters",
				src);
	o->have_ak = 1;
	return 0;
}

static int load_keys(const struct json *g, struct cfg_cloud *o,
		     struct cfg_err *e)
{
	char id64[256] = "", sec64[256] = "";

	if (get_str(g, "accessKeyID", id64, sizeof(id64), e) < 0 ||
	    get_str(g, "accessKeySecret", sec64, sizeof(sec64), e) < 0)
		return -EINVAL;
	if (!id64[0] && !sec64[0])
		return 0;
	if (!id64[0] || !sec64[0])
		return cfg_fail(e, "cloud-config: accessKeyID and "
				   "accessKeySecret must be set together");
	if (decode_key("accessKeyID", id64, o->access_key_id,
		       sizeof(o->access_key_id), e) < 0 ||
	    decode_key("accessKeySecret", sec64, o->access_key_secret,
		       sizeof(o->access_key_secret), e) < 0)
		return -EINVAL;
	return cfg_cloud_check_ak(o, "cloud-config", e);
}

static int load_global(const struct json *g, struct cfg_cloud *o,
		       struct cfg_err *e)
{
	char vsw[1024] = "", rtb[1024] = "";

	if (get_str(g, "region", o->region, sizeof(o->region), e) < 0 ||
	    get_str(g, "vpcid", o->vpc_id, sizeof(o->vpc_id), e) < 0 ||
	    get_str(g, "zoneid", o->zone_id, sizeof(o->zone_id), e) < 0 ||
	    get_str(g, "vswitchid", vsw, sizeof(vsw), e) < 0 ||
	    get_str(g, "clusterID", o->cluster_id, sizeof(o->cluster_id), e) <
		    0 ||
	    get_str(g, "routeTableIDs", rtb, sizeof(rtb), e) < 0 ||
	    get_str(g, "kubernetesClusterTag", o->kubernetes_cluster_tag,
		    sizeof(o->kubernetes_cluster_tag), e) < 0 ||
	    get_str(g, "resourceGroupID", o->resource_group_id,
		    sizeof(o->resource_group_id), e) < 0 ||
	    get_str(g, "serviceBackendType", o->service_backend_type,
		    sizeof(o->service_backend_type), e) < 0 ||
	    get_str(g, "nonECSNodeSelector", o->non_ecs_node_selector,
		    sizeof(o->non_ecs_node_selector), e) < 0 ||
	    get_bool(g, "disablePublicSLB", &o->disable_public_slb, e) < 0 ||
	    get_bool(g, "initializeNonECSNodes", &o->initialize_non_ecs_nodes,
		     e) < 0)
		return -EINVAL;
	if (load_quotas(g, &o->quotas, e) < 0)
		return -EINVAL;
	if (vsw[0] && cfg_vswitch_parse(vsw, o, e) < 0)
		return -EINVAL;
	if (rtb[0] && route_tables_parse(rtb, o, e) < 0)
		return -EINVAL;
	if (o->service_backend_type[0] &&
	    strcmp(o->service_backend_type, "eni") != 0 &&
	    strcmp(o->service_backend_type, "ecs") != 0)
		return cfg_fail(e,
				"cloud-config Global.serviceBackendType: "
				"\"%s\"; expected ecs or eni",
				o->service_backend_type);
	return load_keys(g, o, e);
}

static void apply_cloud_defaults(struct cfg_cloud *o)
{
	if (!o->cluster_id[0]) {
		snprintf(o->cluster_id, sizeof(o->cluster_id), "clusterid");
		o->cluster_id_defaulted = 1;
	}
	if (!o->kubernetes_cluster_tag[0])
		snprintf(o->kubernetes_cluster_tag,
			 sizeof(o->kubernetes_cluster_tag), "ack.aliyun.com");
	if (!o->non_ecs_node_selector[0])
		snprintf(o->non_ecs_node_selector,
			 sizeof(o->non_ecs_node_selector),
			 "type=virtual-kubelet");
}

/* A key file others can write, or that another user owns, is refused. */
static int check_file(const char *path, int fd, struct cfg_err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return cfg_fail(e, "--cloud-config %s: %s", path,
				strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cfg_fail(e, "--cloud-config %s: not a regular file",
				path);
	if (st.st_mode & S_IWOTH)
		return cfg_fail(e,
				"--cloud-config %s: world-writable (mode "
				"%04o); expected 0644 or stricter, as it "
				"holds credentials",
				path, (unsigned)(st.st_mode & 07777));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return cfg_fail(e,
				"--cloud-config %s: owned by uid %u, "
				"neither root nor this user",
				path, (unsigned)st.st_uid);
	if (st.st_size > (off_t)CLOUD_CONFIG_MAX)
		return cfg_fail(e, "--cloud-config %s: larger than %u bytes",
				path, CLOUD_CONFIG_MAX);
	return 0;
}

static int read_file(const char *path, struct buf *b, struct cfg_err *e)
{
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return cfg_fail(e, "--cloud-config %s: cannot open: %s", path,
				strerror(errno));
	r = check_file(path, fd, e);
	while (r == 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) < 0)
			r = cfg_fail(e,
				     "--cloud-config %s: larger than %u "
				     "bytes",
				     path, CLOUD_CONFIG_MAX);
	close(fd);
	return r;
}

int cfg_cloud_parse(const char *text, size_t len, const char *path,
		    struct cfg_cloud *out, struct cfg_err *e)
{
	struct cfg_cloud o;
	struct json *doc = NULL;
	const struct json *g;
	char jerr[256];
	int r;

	memset(&o, 0, sizeof(o));
	if (json_parse(text, len, NULL, &doc, jerr, sizeof(jerr)) < 0) {
		r = cfg_fail(e,
			     "--cloud-config %s: not valid JSON (%s); "
			     "expected {\"Global\": {...}}",
			     path, jerr);
		goto out;
	}
	g = json_get_ci(doc, "Global");
	if (!g || g->type != JSON_OBJECT) {
		r = cfg_fail(e,
			     "--cloud-config %s: no \"Global\" object; "
			     "expected {\"Global\": {...}}",
			     path);
		goto out;
	}
	r = load_global(g, &o, e);
	if (r == 0) {
		apply_cloud_defaults(&o);
		*out = o;
	}
out:
	explicit_bzero(&o, sizeof(o));
	json_free(doc);
	return r;
}

int cfg_cloud_load(const char *path, struct cfg_cloud *out, struct cfg_err *e)
{
	struct buf b;
	int r;

	buf_init(&b, CLOUD_CONFIG_MAX);
	r = read_file(path, &b, e);
	if (r == 0)
		r = cfg_cloud_parse(b.data ? b.data : "", b.len, path, out, e);
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_done(&b);
	return r;
}

int cfg_cloud_env(struct cfg_cloud *o, struct cfg_err *e)
{
	const char *id = getenv("ACCESS_KEY_ID");
	const char *sec = getenv("ACCESS_KEY_SECRET");

	if (o->have_ak || !id || !*id || !sec || !*sec)
		return 0;
	if (strlen(id) >= sizeof(o->access_key_id) ||
	    strlen(sec) >= sizeof(o->access_key_secret))
		return cfg_fail(e, "ACCESS_KEY_ID/ACCESS_KEY_SECRET: too long");
	snprintf(o->access_key_id, sizeof(o->access_key_id), "%s", id);
	snprintf(o->access_key_secret, sizeof(o->access_key_secret), "%s", sec);
	return cfg_cloud_check_ak(o, "environment ACCESS_KEY_ID/SECRET", e);
}
