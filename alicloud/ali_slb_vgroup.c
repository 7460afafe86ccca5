#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alicloud/ali_json.h"
#include "alicloud/ali_slb.h"

#define BACKENDS_JSON_MAX (256u << 10)

void ali_vgroup_done(struct ali_vgroup *g)
{
	if (!g)
		return;
	free(g->backends);
	g->backends = NULL;
	g->n_backends = 0;
}

void ali_vgroup_list_done(struct ali_vgroup_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		ali_vgroup_done(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int backend_json(const struct ali_backend *b, struct buf *out)
{
	int r = buf_puts(out, "{\"ServerId\":");

	if (!r)
		r = json_buf_str(out, b->server_id);
	if (!r)
		r = buf_printf(out, ",\"Port\":%d", b->port);
	if (!r && b->weight != ALI_UNSET)
		r = buf_printf(out, ",\"Weight\":%d", b->weight);
	if (!r)
		r = buf_puts(out, ",\"Type\":");
	if (!r)
		r = json_buf_str(out, b->type[0] ? b->type : "ecs");
	if (!r && b->server_ip[0]) {
		r = buf_puts(out, ",\"ServerIp\":");
		if (!r)
			r = json_buf_str(out, b->server_ip);
	}
	if (!r && b->description[0]) {
		r = buf_puts(out, ",\"Description\":");
		if (!r)
			r = json_buf_str(out, b->description);
	}
	return r ? r : buf_puts(out, "}");
}

int ali_backends_json(const struct ali_backend *b, size_t n, struct buf *out)
{
	size_t i;
	int r = buf_puts(out, "[");

	for (i = 0; r == 0 && i < n; i++) {
		if (i)
			r = buf_puts(out, ",");
		if (!r)
			r = backend_json(&b[i], out);
	}
	return r ? r : buf_puts(out, "]");
}

static int set_backends(struct ali_params *p, const char *name,
			const struct ali_backend *b, size_t n)
{
	struct buf js;
	int r;

	buf_init(&js, BACKENDS_JSON_MAX);
	r = ali_backends_json(b, n, &js);
	if (!r)
		r = ali_params_set(p, name, js.data);
	buf_done(&js);
	return r;
}

static int parse_backends(const struct json *o, struct ali_vgroup *g)
{
	const struct json *arr =
		ali_jlist(o, "BackendServers", "BackendServer");
	size_t i;

	for (i = 0; i < json_len(arr); i++) {
		const struct json *e = json_at(arr, i);
		struct ali_backend *b =
			ali_grow(&g->backends, &g->n_backends, sizeof(*b));

		if (!b)
			return -ENOMEM;
		ali_jstr(e, "ServerId", b->server_id, sizeof(b->server_id));
		ali_jstr(e, "ServerIp", b->server_ip, sizeof(b->server_ip));
		ali_jstr(e, "Type", b->type, sizeof(b->type));
		ali_jstr(e, "Description", b->description,
			 sizeof(b->description));
		b->port = (int)ali_jint(e, "Port", 0);
		b->weight = (int)ali_jint(e, "Weight", ALI_UNSET);
	}
	return 0;
}

static size_t batch(struct ali_client *c, size_t left)
{
	size_t max = (size_t)ali_client_backend_batch(c);

	return left < max ? left : max;
}

/* One backend-list action over batches; old is only for Modify. */
static int backend_batches(struct ali_client *c, const char *action,
			   const char *id, const struct ali_backend *old,
			   const struct ali_backend *b, size_t n,
			   struct ali_error *err)
{
	size_t i, k;
	int r = 0;

	for (i = 0; r == 0 && i < n; i += k) {
		struct ali_params p;
		struct json *resp = NULL;

		k = batch(c, n - i);
		ali_params_init(&p);
		ali_params_set(&p, "VServerGroupId", id);
		if (old) {
			set_backends(&p, "OldBackendServers", old + i, k);
			set_backends(&p, "NewBackendServers", b + i, k);
		} else {
			set_backends(&p, "BackendServers", b + i, k);
		}
		r = ali_client_call(c, ALI_SLB, action, &p, &resp, err);
		json_free(resp);
		ali_params_done(&p);
	}
	return r;
}

int ali_slb_create_vgroup(struct ali_client *c, const char *lb_id,
			  const char *name, const struct ali_backend *b,
			  size_t n, char id_out[64], struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	size_t first = batch(c, n);
	int r;

	id_out[0] = '\0';
	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", lb_id);
	ali_params_set(&p, "VServerGroupName", name);
	if (first)
		set_backends(&p, "BackendServers", b, first);
	r = ali_client_call(c, ALI_SLB, "CreateVServerGroup", &p, &resp, err);
	if (r == 0)
		ali_jstr(resp, "VServerGroupId", id_out, 64);
	if (r == 0 && !id_out[0]) {
		ali_error_set(err, 200, "InvalidResponse",
			      "CreateVServerGroup: no VServerGroupId");
		r = -EBADMSG;
	}
	json_free(resp);
	ali_params_done(&p);
	if (r == 0 && n > first)
		r = backend_batches(c, "AddVServerGroupBackendServers", id_out,
				    NULL, b + first, n - first, err);
	return r;
}

int ali_slb_delete_vgroup(struct ali_client *c, const char *id,
			  struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	ali_params_init(&p);
	ali_params_set(&p, "VServerGroupId", id);
	r = ali_client_call(c, ALI_SLB, "DeleteVServerGroup", &p, &resp, err);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_slb_describe_vgroups(struct ali_client *c, const char *lb_id,
			     struct ali_vgroup_list *out, struct ali_error *err)
{
	const struct json *arr;
	struct ali_params p;
	struct json *resp = NULL;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	ali_params_init(&p);
	ali_params_set(&p, "LoadBalancerId", lb_id);
	r = ali_client_call(c, ALI_SLB, "DescribeVServerGroups", &p, &resp,
			    err);
	arr = ali_jlist(resp, "VServerGroups", "VServerGroup");
	for (i = 0; r == 0 && i < json_len(arr); i++) {
		struct ali_vgroup *g = ali_grow(&out->v, &out->n, sizeof(*g));

		if (!g) {
			r = -ENOMEM;
			break;
		}
		ali_jstr(json_at(arr, i), "VServerGroupId", g->id,
			 sizeof(g->id));
		ali_jstr(json_at(arr, i), "VServerGroupName", g->name,
			 sizeof(g->name));
		snprintf(g->lb_id, sizeof(g->lb_id), "%s", lb_id);
	}
	if (r < 0)
		ali_vgroup_list_done(out);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_slb_describe_vgroup(struct ali_client *c, const char *id,
			    struct ali_vgroup *out, struct ali_error *err)
{
	struct ali_params p;
	struct json *resp = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	ali_params_init(&p);
	ali_params_set(&p, "VServerGroupId", id);
	r = ali_client_call(c, ALI_SLB, "DescribeVServerGroupAttribute", &p,
			    &resp, err);
	if (r == 0) {
		ali_jstr(resp, "VServerGroupId", out->id, sizeof(out->id));
		ali_jstr(resp, "VServerGroupName", out->name,
			 sizeof(out->name));
		ali_jstr(resp, "LoadBalancerId", out->lb_id,
			 sizeof(out->lb_id));
		r = parse_backends(resp, out);
	}
	if (r < 0)
		ali_vgroup_done(out);
	json_free(resp);
	ali_params_done(&p);
	return r;
}

int ali_slb_add_backends(struct ali_client *c, const char *id,
			 const struct ali_backend *b, size_t n,
			 struct ali_error *err)
{
	return backend_batches(c, "AddVServerGroupBackendServers", id, NULL, b,
			       n, err);
}

int ali_slb_remove_backends(struct ali_client *c, const char *id,
			    const struct ali_backend *b, size_t n,
			    struct ali_error *err)
{
	return backend_batches(c, "RemoveVServerGroupBackendServers", id, NULL,
			       b, n, err);
}

int ali_slb_set_backends(struct ali_client *c, const char *id,
			 const struct ali_backend *b, size_t n,
			 struct ali_error *err)
{
	return backend_batches(c, "SetVServerGroupAttribute", id, NULL, b, n,
			       err);
}

int ali_slb_modify_backends(struct ali_client *c, const char *id,
			    const struct ali_backend *old,
			    const struct ali_backend *new_, size_t n,
			    struct ali_error *err)
{
	return backend_batches(c, "ModifyVServerGroupBackendServers", id, old,
			       new_, n, err);
}
