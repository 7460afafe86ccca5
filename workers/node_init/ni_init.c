#include "workers/node_init/ni_init.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

const char *const ni_cloud_label_keys[] = {
	"topology.kubernetes.io/region",
	"failure-domain.beta.kubernetes.io/region",
	"topology.kubernetes.io/zone",
	"failure-domain.beta.kubernetes.io/zone",
	"node.kubernetes.io/instance-type",
	"beta.kubernetes.io/instance-type",
	"node.alibabacloud.com/instance-charge-type",
	NULL,
};

const char *ni_cloud_label(const struct ni_instance *inst, const char *key)
{
	if (strstr(key, "/region"))
		return inst->region;
	if (strstr(key, "/zone"))
		return inst->zone;
	if (strstr(key, "/instance-type"))
		return inst->type;
	if (strstr(key, "/instance-charge-type"))
		return inst->charge_type;
	return "";
}

/* Appends ,"k":"v" pairs of labels that differ; returns how many. */
static int labels_diff(const struct ni_node *n, const struct ni_instance *in,
		       struct buf *b)
{
	size_t i;
	int cnt = 0;

	for (i = 0; ni_cloud_label_keys[i]; i++) {
		const char *key = ni_cloud_label_keys[i];
		const char *want = ni_cloud_label(in, key);
		const char *have = wk_node_label(n->wk, key);

		if (!*want || (have && strcmp(have, want) == 0))
			continue;
		buf_puts(b, cnt++ ? "," : "");
		json_buf_str(b, key);
		buf_puts(b, ":");
		json_buf_str(b, want);
	}
	return cnt;
}

static void taint_json(struct buf *b, const char *key, const char *value,
		       const char *effect, const char *added)
{
	buf_puts(b, "{\"key\":");
	json_buf_str(b, key);
	if (value && *value) {
		buf_puts(b, ",\"value\":");
		json_buf_str(b, value);
	}
	buf_puts(b, ",\"effect\":");
	json_buf_str(b, effect);
	if (added && *added) {
		buf_puts(b, ",\"timeAdded\":");
		json_buf_str(b, added);
	}
	buf_puts(b, "}");
}

static int has_taint(const struct ni_node *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->n_taints; i++)
		if (strcmp(n->taints[i].key, key) == 0)
			return 1;
	return 0;
}

static int taints_change(const struct ni_node *n, const struct ni_want *w)
{
	int shut = has_taint(n, WK_TAINT_SHUTDOWN);

	return (w->remove_uninit && has_taint(n, WK_TAINT_UNINITIALIZED)) ||
	       (w->shutdown == NI_SHUTDOWN_ADD && !shut) ||
	       (w->shutdown == NI_SHUTDOWN_REMOVE && shut);
}

static void taints_json(const struct ni_node *n, const struct ni_want *w,
			struct buf *b)
{
	size_t i;
	int cnt = 0;

	buf_puts(b, "\"taints\":[");
	for (i = 0; i < n->n_taints; i++) {
		const struct ni_taint *t = &n->taints[i];

		if ((w->remove_uninit &&
		     strcmp(t->key, WK_TAINT_UNINITIALIZED) == 0) ||
		    (w->shutdown == NI_SHUTDOWN_REMOVE &&
		     strcmp(t->key, WK_TAINT_SHUTDOWN) == 0))
			continue;
		buf_puts(b, cnt++ ? "," : "");
		taint_json(b, t->key, t->value, t->effect, t->time_added);
	}
	if (w->shutdown == NI_SHUTDOWN_ADD &&
	    !has_taint(n, WK_TAINT_SHUTDOWN)) {
		buf_puts(b, cnt++ ? "," : "");
		taint_json(b, WK_TAINT_SHUTDOWN, NULL, "NoSchedule", NULL);
	}
	buf_puts(b, "]");
}

static int want_provider_id(const struct ni_node *n, const struct ni_want *w)
{
	return w->provider_id && *w->provider_id &&
	       !(n->wk->provider_id && n->wk->provider_id[0]);
}

int ni_spec_patch(const struct ni_node *n, const struct ni_instance *inst,
		  const struct ni_want *w, struct buf *out)
{
	struct buf labels;
	int nl = 0, pid = want_provider_id(n, w), tc = taints_change(n, w);
	int r = 0;

	buf_reset(out);
	buf_init(&labels, 64 << 10);
	if (w->labels && inst)
		nl = labels_diff(n, inst, &labels);
	if (!nl && !pid && !tc)
		goto out;
	buf_puts(out, "{\"metadata\":{\"resourceVersion\":");
	json_buf_str(out,
		     n->wk->resource_version ? n->wk->resource_version : "");
	if (nl)
		buf_printf(out, ",\"labels\":{%s}", labels.data);
	buf_puts(out, "}");
	if (pid || tc) {
		buf_puts(out, ",\"spec\":{");
		if (pid) {
			buf_puts(out, "\"providerID\":");
			json_buf_str(out, w->provider_id);
		}
		if (tc) {
			buf_puts(out, pid ? "," : "");
			taints_json(n, w, out);
		}
		buf_puts(out, "}");
	}
	r = buf_puts(out, "}") < 0 ? -E2BIG : 1;
out:
	buf_done(&labels);
	return r;
}

static void add_addr(struct ni_addr *out, size_t *n, const char *type,
		     const char *addr)
{
	out[*n].type = type;
	out[*n].address = addr;
	(*n)++;
}

/* out holds n_private + n_public + n->n_addrs entries. */
static void cloud_addrs(const struct ni_node *n, const struct ni_instance *in,
			struct ni_addr *out, size_t *cnt)
{
	size_t i;

	*cnt = 0;
	for (i = 0; i < in->n_private; i++)
		add_addr(out, cnt, "InternalIP", in->private_ips[i]);
	for (i = 0; i < in->n_public; i++)
		add_addr(out, cnt, "ExternalIP", in->public_ips[i]);
	if (!*cnt)
		return;
	/* The cloud knows no host name: keep the kubelet's. */
	for (i = 0; i < n->n_addrs; i++)
		if (strcmp(n->addrs[i].type, "Hostname") == 0)
			add_addr(out, cnt, "Hostname", n->addrs[i].address);
}

/* Provided IP first, other addresses of its type dropped (upstream). */
static int apply_provided(const char *ip, struct ni_addr *a, size_t *cnt,
			  char *err, size_t errlen)
{
	struct ni_addr *tmp;
	size_t i, k = 0, hit = *cnt;

	for (i = 0; i < *cnt; i++)
		if (strcmp(a[i].address, ip) == 0) {
			hit = i;
			break;
		}
	if (hit == *cnt) {
		snprintf(err, errlen,
			 "provided node IP %s is not an address of the "
			 "instance",
			 ip);
		return -EINVAL;
	}
	tmp = calloc(*cnt, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	tmp[k++] = a[hit];
	for (i = 0; i < *cnt; i++)
		if (i != hit && strcmp(a[i].type, a[hit].type) != 0)
			tmp[k++] = a[i];
	memcpy(a, tmp, k * sizeof(*a));
	free(tmp);
	*cnt = k;
	return 0;
}

int ni_addresses(const struct ni_node *n, const struct ni_instance *inst,
		 struct ni_addr **out, size_t *nout, char *err, size_t errlen)
{
	int r;

	*out = NULL;
	*nout = 0;
	if (inst->ips_overflow) {
		snprintf(err, errlen,
			 "instance %s reports more than %d IPs of a kind; its "
			 "addresses are left as they are",
			 inst->id, NI_MAX_IPS);
		return -E2BIG;
	}
	*out = calloc(inst->n_private + inst->n_public + n->n_addrs + 1,
		      sizeof(**out));
	if (!*out)
		return -ENOMEM;
	cloud_addrs(n, inst, *out, nout);
	if (!*nout || !n->wk->provided_ip[0])
		return 0;
	r = apply_provided(n->wk->provided_ip, *out, nout, err, errlen);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*nout = 0;
	}
	return r;
}

/* The k-th address of type t in a[0..n), NULL when there are fewer. */
static const struct ni_addr *nth_of_type(const struct ni_addr *a, size_t n,
					 const char *t, size_t k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].type, t) == 0 && k-- == 0)
			return &a[i];
	return NULL;
}

int ni_addrs_same(const struct ni_addr *have, size_t nh,
		  const struct ni_addr *want, size_t nw)
{
	size_t i, k, j;

	if (nh != nw)
		return 0;
	for (i = 0; i < nw; i++) {
		const struct ni_addr *h;

		/* want[i] is the k-th of its type: the first InternalIP is
		 * the node IP, so order counts within a type only. */
		for (k = 0, j = 0; j < i; j++)
			k += strcmp(want[j].type, want[i].type) == 0;
		h = nth_of_type(have, nh, want[i].type, k);
		if (!h || strcmp(h->address, want[i].address) != 0)
			return 0;
	}
	return 1;
}

static void addrs_json(struct buf *b, const struct ni_addr *a, size_t cnt,
		       int replace)
{
	size_t i;

	buf_puts(b, "\"addresses\":[");
	for (i = 0; i < cnt; i++) {
		buf_puts(b, i ? ",{\"type\":" : "{\"type\":");
		json_buf_str(b, a[i].type);
		buf_puts(b, ",\"address\":");
		json_buf_str(b, a[i].address);
		buf_puts(b, "}");
	}
	/* Against a Node without addresses the API server (1.20) stores the
	 * directive itself as an empty address, which the next sync would
	 * find different and write again: nothing to replace, no directive. */
	buf_puts(b, replace ? ",{\"$patch\":\"replace\"}]" : "]");
}

static void cond_json(struct buf *b, const char *now)
{
	buf_puts(b, "\"conditions\":[{\"type\":\"NetworkUnavailable\","
		    "\"status\":\"True\",\"reason\":\"NoRouteCreated\","
		    "\"message\":\"Node created without a route\","
		    "\"lastTransitionTime\":");
	json_buf_str(b, now);
	buf_puts(b, ",\"lastHeartbeatTime\":");
	json_buf_str(b, now);
	buf_puts(b, "}]");
}

int ni_status_patch(const struct ni_node *n, const struct ni_instance *inst,
		    const struct ni_want *w, const char *now, struct buf *out,
		    char *err, size_t errlen)
{
	struct ni_addr *a = NULL;
	size_t cnt = 0;
	int r, addrs = 0, cond;

	buf_reset(out);
	if (inst) {
		r = ni_addresses(n, inst, &a, &cnt, err, errlen);
		if (r < 0)
			return r;
		addrs = cnt && !ni_addrs_same(n->addrs, n->n_addrs, a, cnt);
	}
	/* Already False means the route exists: never undo that. */
	cond = w->network_unavailable &&
	       n->wk->network_unavailable != WK_COND_FALSE &&
	       n->wk->network_unavailable != WK_COND_TRUE;
	if (!addrs && !cond) {
		free(a);
		return 0;
	}
	buf_puts(out, "{\"status\":{");
	if (addrs)
		addrs_json(out, a, cnt, n->addrs_listed);
	free(a);
	if (cond) {
		buf_puts(out, addrs ? "," : "");
		cond_json(out, now);
	}
	return buf_puts(out, "}}") < 0 ? -E2BIG : 1;
}
