/* The service-LB planner tests' world (slb_fixture.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/slb_fixture.h"

static const char *const slbf_ports[] = {
	"{\"name\":\"a\",\"protocol\":\"TCP\",\"port\":80,"
	"\"targetPort\":8080,\"nodePort\":30080}",
	"{\"name\":\"b\",\"protocol\":\"TCP\",\"port\":443,"
	"\"targetPort\":8443,\"nodePort\":30443}",
};

struct json *slbf_json(const char *text)
{
	struct json *j = NULL;
	char err[128];

	assert_int_equal(json_parse(text, strlen(text), &json_default_limits,
				    &j, err, sizeof(err)),
			 0);
	return j;
}

void slbf_set_svc(struct slbf_world *w, const char *annots, int n_ports,
		  const char *spec_fmt, ...)
{
	char spec[512], t[4096], err[256];
	struct json *j;
	va_list ap;
	int n;

	assert_true(n_ports == 1 || n_ports == 2);
	va_start(ap, spec_fmt);
	n = vsnprintf(spec, sizeof(spec), spec_fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(spec));
	n = snprintf(t, sizeof(t),
		     "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
		     "\"uid\":\"u-1\",\"annotations\":{%s}},\"spec\":{\"type\":"
		     "\"LoadBalancer\",%s,\"ports\":[%s%s%s]}}",
		     annots, spec, slbf_ports[0], n_ports == 2 ? "," : "",
		     n_ports == 2 ? slbf_ports[1] : "");
	assert_true(n >= 0 && (size_t)n < sizeof(t));
	j = slbf_json(t);
	slb_svc_free(w->svc);
	w->svc = NULL;
	assert_int_equal(slb_svc_from_json(j, &w->svc), 0);
	json_free(j);
	assert_int_equal(
		slb_annot_parse(w->svc, NULL, &w->annot, err, sizeof(err)), 0);
}

struct wk_node *slbf_node(const char *name, const char *ready,
			  const char *labels, int unsched)
{
	char t[2048];
	struct wk_node *n = NULL;
	struct json *j;

	snprintf(t, sizeof(t),
		 "{\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"spec\":{"
		 "\"providerID\":\"cn-hangzhou.i-%s\",\"unschedulable\":%s},"
		 "\"status\":{\"conditions\":[{\"type\":\"Ready\","
		 "\"status\":\"%s\"}]}}",
		 name, labels, name, unsched ? "true" : "false", ready);
	j = slbf_json(t);
	assert_int_equal(wk_node_from_json(j, &n), 0);
	json_free(j);
	return n;
}

void slbf_add_node(struct slbf_world *w, const char *name, const char *ready,
		   const char *labels, int unsched)
{
	assert_true(w->n_nodes < SLBF_MAX_NODES);
	w->nodes[w->n_nodes++] = slbf_node(name, ready, labels, unsched);
}

static int slbf_eni_lookup(void *ctx, const char *ip, char *id, size_t n)
{
	(void)ctx;
	if (strcmp(ip, "10.9.9.9") == 0)
		return -ENOENT;
	snprintf(id, n, "eni-%s", ip);
	return 0;
}

struct slb_want *slbf_build(struct slbf_world *w)
{
	struct slb_be_in in = {w->svc,	   &w->annot, CID, w->nodes,
			       w->n_nodes, &w->eps,   NULL};
	struct slb_want *want = NULL;
	char err[256], skipped[256];

	assert_int_equal(slb_model_build(&in, &want, err, sizeof(err)), 0);
	slb_model_resolve_eni(want, slbf_eni_lookup, NULL, skipped,
			      sizeof(skipped));
	want->tag_keys = w->tag_keys;
	return want;
}

void slbf_sync(struct slbf_world *w, int batch, struct slb_plan *p)
{
	struct slb_want *want = slbf_build(w);
	char err[256], id[64];
	size_t i;

	assert_int_equal(slb_diff(want, &w->cloud, batch, p, err, sizeof(err)),
			 0);
	for (i = 0; i < p->n; i++) {
		snprintf(id, sizeof(id), "rsp-%d", ++w->next_id);
		if (p->v[i].op == SLB_OP_CREATE_LB) {
			/* the create turns delete protection on, as the
			 * worker asks by default */
			strcpy(w->cloud.lb_id, "lb-1");
			w->cloud.delete_protection = 1;
		}
		assert_int_equal(slb_note(&w->cloud, want, p, &p->v[i], id), 0);
	}
	slb_model_free(want);
}

size_t slbf_sync_count(struct slbf_world *w, int batch)
{
	struct slb_plan p;
	size_t n;

	slbf_sync(w, batch, &p);
	n = p.n;
	slb_plan_done(&p);
	return n;
}

void slbf_done(struct slbf_world *w)
{
	size_t i;

	for (i = 0; i < w->n_nodes; i++)
		wk_node_free(w->nodes[i]);
	slb_svc_free(w->svc);
	slb_eps_done(&w->eps);
	slb_cloud_clear(&w->cloud);
}
