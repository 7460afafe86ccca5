/* kubeconfig and in-cluster connection resolution. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/kube_config.h"
#include "kube/kube_yaml.h"

static char errbuf[256];

static int parse(const char *text, struct kube_conn **c)
{
	errbuf[0] = '\0';
	return kube_conn_parse(text, strlen(text), "/etc/kube", "test", c,
			       errbuf, sizeof(errbuf));
}

/* The shape kubectl writes: sequences at their parent key's column. */
static const char kubectl_style[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority: ca.crt   # relative\n"
	"    server: https://127.0.0.1:6443/\n"
	"  name: one\n"
	"- cluster:\n"
	"    certificate-authority-data: aGVsbG8=\n"
	"    server: \"https://10.0.0.1:443\"\n"
	"    tls-server-name: kubernetes\n"
	"    proxy-url: 'http://proxy:3128'\n"
	"  name: two\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: one\n"
	"    user: admin\n"
	"    namespace: kube-system\n"
	"  name: ctx-one\n"
	"- context:\n"
	"    cluster: two\n"
	"    user: certs\n"
	"  name: ctx-two\n"
	"current-context: ctx-one\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    token: s3cret\n"
	"- name: certs\n"
	"  user:\n"
	"    client-certificate-data: Y2VydA==\n"
	"    client-key-data: a2V5\n";

static void test_kubectl_style(void **state)
{
	struct kube_conn *c = NULL;

	(void)state;
	assert_int_equal(parse(kubectl_style, &c), 0);
	assert_string_equal(c->server, "https://127.0.0.1:6443");
	assert_string_equal(c->ca_file, "/etc/kube/ca.crt");
	assert_string_equal(c->token, "s3cret");
	assert_string_equal(c->namespace, "kube-system");
	assert_null(c->ca_pem.data);
	assert_int_equal(c->insecure, 0);
	kube_conn_free(c);
}

static void test_context_selection_and_data(void **state)
{
	struct kube_conn *c = NULL;
	char *text = strdup(kubectl_style);
	char *cur = strstr(text, "current-context: ctx-one");

	(void)state;
	memcpy(cur, "current-context: ctx-two", 24);
	assert_int_equal(parse(text, &c), 0);
	assert_string_equal(c->server, "https://10.0.0.1:443");
	assert_int_equal(c->ca_pem.len, 5);
	assert_memory_equal(c->ca_pem.data, "hello", 5);
	assert_string_equal(c->tls_server_name, "kubernetes");
	assert_string_equal(c->proxy_url, "http://proxy:3128");
	assert_memory_equal(c->cert_pem.data, "cert", 4);
	assert_memory_equal(c->key_pem.data, "key", 3);
	assert_null(c->token);
	assert_null(c->namespace);
	kube_conn_free(c);
	free(text);
}

static void test_json_form(void **state)
{
	static const char json[] =
		"{\"apiVersion\":\"v1\",\"kind\":\"Config\","
		"\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":"
		"\"https://h:1\",\"insecure-skip-tls-verify\":true}}],"
		"\"users\":[{\"name\":\"u\",\"user\":{\"tokenFile\":"
		"\"/run/tok\"}}],"
		"\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\","
		"\"user\":\"u\"}}],\"current-context\":\"x\"}";
	struct kube_conn *c = NULL;

	(void)state;
	assert_int_equal(parse(json, &c), 0);
	assert_string_equal(c->server, "https://h:1");
	assert_int_equal(c->insecure, 1);
	assert_string_equal(c->token_file, "/run/tok");
	kube_conn_free(c);
}

static const char indented_style[] =
	"# hand-written, items indented under their key\n"
	"---\n"
	"current-context: \"a\"\n"
	"clusters:\n"
	"  - name: k\n"
	"    cluster:\n"
	"      server: https://k:6443\n"
	"      insecure-skip-tls-verify: false\n"
	"contexts:\n"
	"  - name: a\n"
	"    context: {\"cluster\": \"k\", \"user\": \"u\"}\n"
	"users:\n"
	"  - name: u\n"
	"    user:\n"
	"      tokenFile: tok/en\n"
	"      client-certificate: /abs/c.pem\n"
	"      client-key: k.pem\n";

static void test_indented_and_paths(void **state)
{
	struct kube_conn *c = NULL;

	(void)state;
	assert_int_equal(parse(indented_style, &c), 0);
	assert_string_equal(c->server, "https://k:6443");
	assert_string_equal(c->token_file, "/etc/kube/tok/en");
	assert_string_equal(c->cert_file, "/abs/c.pem");
	assert_string_equal(c->key_file, "/etc/kube/k.pem");
	kube_conn_free(c);
}

static void expect_refused(const char *userblock, const char *field)
{
	char text[1024];
	struct kube_conn *c = NULL;

	snprintf(text, sizeof(text),
		 "clusters:\n- name: k\n  cluster:\n    server: https://k\n"
		 "contexts:\n- name: a\n  context:\n    cluster: k\n"
		 "    user: u\n"
		 "current-context: a\n"
		 "users:\n- name: u\n  user:\n%s",
		 userblock);
	assert_int_equal(parse(text, &c), -ENOTSUP);
	assert_null(c);
	assert_non_null(strstr(errbuf, field));
	assert_null(strstr(errbuf, "hunter2"));
}

static void test_unsupported_credentials(void **state)
{
	(void)state;
	expect_refused("    exec:\n      command: aws\n      args:\n"
		       "      - eks\n      - get-token\n",
		       "user \"u\": field \"exec\" is not supported (exec "
		       "credential plugins");
	expect_refused("    auth-provider:\n      name: gcp\n",
		       "\"auth-provider\"");
	expect_refused("    username: admin\n    password: hunter2\n",
		       "\"username\"");
}

static void test_missing_context(void **state)
{
	struct kube_conn *c = NULL;
	char *text = strdup(kubectl_style);

	(void)state;
	memcpy(strstr(text, "current-context: ctx-one"),
	       "current-contexx: ctx-one", 24);
	assert_int_equal(parse(text, &c), -EINVAL);
	assert_non_null(strstr(errbuf, "current-context"));
	memcpy(strstr(text, "current-contexx: ctx-one"),
	       "current-context: nope!!", 23);
	assert_int_equal(parse(text, &c), -EINVAL);
	assert_non_null(strstr(errbuf, "not found"));
	free(text);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *text, *where;
	} bad[] = {
		{"a: b\n  c: d\n", "line 2"},		/* indentation */
		{"clusters:\n\t- x\n", "tab"},		/* tab */
		{"a: \"unterminated\n", "not closed"},	/* quote */
		{"a: &anchor b\n", "anchors"},		/* anchors */
		{"a: |\n  block\n", "block scalars"},	/* block scalar */
		{"{\"a\": [1, 2}", "line 1"},		/* JSON */
		{"a:\n  - x\n - y\n", "line 3"},	/* nesting */
		{"a: b: c\n", "line 1, column 5"},	/* client-go refuses */
		{"x: 1\na: \"\\u0000\"\n", "line 2"},	/* would truncate */
		{"a: \"bad \\q escape\"\n", "escape"},	/* escape */
		{"a: {b: c\n", "not closed"},		/* flow */
		{"a: [b, , c]\n", "line 1, column 8"},	/* flow */
		{"a: b\n---\nc: d\n", "more than one"}, /* documents */
	};
	struct json *j = NULL;
	struct kube_conn *c = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errbuf[0] = '\0';
		assert_int_equal(kube_yaml_parse(bad[i].text,
						 strlen(bad[i].text), &j,
						 errbuf, sizeof(errbuf)),
				 -EINVAL);
		if (!strstr(errbuf, bad[i].where))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, errbuf,
				 bad[i].where);
		assert_int_equal(parse(bad[i].text, &c), -EINVAL);
		assert_null(c);
		assert_non_null(strstr(errbuf, "kubeconfig test: line"));
	}
	assert_int_equal(parse("just a scalar\n", &c), -EINVAL);
	assert_non_null(strstr(errbuf, "not a mapping"));
}

/* The shape of the report: kubectl accepts flow style. */
static const char flow_style[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"clusters:\n"
	"- name: c\n"
	"  cluster: {server: \"https://10.0.0.1:6443\", "
	"certificate-authority: \"/etc/kubernetes/pki/ca.crt\"}\n"
	"contexts: [{name: one, context: {cluster: c, user: u1}},\n"
	"           {name: two, context: {cluster: c, user: u2,\n"
	"                                  namespace: kube-system}}]\n"
	"current-context: one\n"
	"users: [{name: u1, user: {token: a}},\n"
	"  {name: u2, user: {client-certificate: c.pem, client-key: k.pem}}]\n"
	"current-context: two   # a repeated key: the last one wins\n";

static void test_flow_style(void **state)
{
	struct kube_conn *c = NULL;

	(void)state;
	assert_int_equal(parse(flow_style, &c), 0);
	assert_string_equal(c->server, "https://10.0.0.1:6443");
	assert_string_equal(c->ca_file, "/etc/kubernetes/pki/ca.crt");
	assert_null(c->token);
	assert_string_equal(c->cert_file, "/etc/kube/c.pem");
	assert_string_equal(c->key_file, "/etc/kube/k.pem");
	assert_string_equal(c->namespace, "kube-system");
	kube_conn_free(c);
}

/* The answers client-go gives where the old reader differed. */
static void test_client_go_answers(void **state)
{
	static const char text[] = "a: 1\n"
				   "b: \"x\\\\\" # comment after a backslash\n"
				   "a: 2\n"
				   "c: a long\n"
				   "  plain value\n"
				   "\n"
				   "  on three lines\n"
				   "d: {k: v, k: w}\n"
				   "e: [x, \"y, z\", 'it''s']\n"
				   "f: yes\n"
				   "g: \"folded\n"
				   "   quoted\"\n";
	struct json *j = NULL;
	struct kube_conn *c = NULL;

	(void)state;
	assert_int_equal(
		kube_yaml_parse(text, strlen(text), &j, errbuf, sizeof(errbuf)),
		0);
	assert_int_equal(json_len(j), 7);
	assert_string_equal(json_path_str(j, "a"), "2");
	assert_string_equal(json_path_str(j, "b"), "x\\");
	assert_string_equal(json_path_str(j, "c"),
			    "a long plain value\non three lines");
	assert_string_equal(json_path_str(j, "d.k"), "w");
	assert_string_equal(json_str(json_at(json_get(j, "e"), 1)), "y, z");
	assert_string_equal(json_str(json_at(json_get(j, "e"), 2)), "it's");
	assert_int_equal(json_get(j, "f")->type, JSON_BOOL);
	assert_string_equal(json_path_str(j, "g"), "folded quoted");
	json_free(j);

	/* a string field takes a plain boolean as written, like client-go */
	assert_int_equal(parse("clusters: [{name: k, cluster: {server: "
			       "\"https://k\"}}]\n"
			       "contexts: [{name: a, context: {cluster: k, "
			       "user: u, namespace: on}}]\n"
			       "users: [{name: u, user: {token: yes}}]\n"
			       "current-context: a\n",
			       &c),
			 0);
	assert_string_equal(c->namespace, "on");
	assert_string_equal(c->token, "yes");
	kube_conn_free(c);
}

static void test_yaml_scalars(void **state)
{
	static const char text[] = "a: 'it''s'\n"
				   "b: \"tab\\tq\\\"\\u00e9\"\n"
				   "c: ~\n"
				   "d: true\n"
				   "e: x#notcomment # comment\n"
				   "f:\n"
				   "- - 1\n"
				   "  - 2\n"
				   "- \n"
				   "g: []\n"
				   "\"h k\": v\n";
	struct json *j = NULL;

	(void)state;
	assert_int_equal(
		kube_yaml_parse(text, strlen(text), &j, errbuf, sizeof(errbuf)),
		0);
	assert_string_equal(json_path_str(j, "a"), "it's");
	assert_string_equal(json_path_str(j, "b"), "tab\tq\"\xc3\xa9");
	assert_int_equal(json_get(j, "c")->type, JSON_NULL);
	assert_int_equal(json_get(j, "d")->type, JSON_BOOL);
	assert_string_equal(json_path_str(j, "e"), "x#notcomment");
	assert_int_equal(json_len(json_get(j, "f")), 2);
	assert_int_equal(json_len(json_at(json_get(j, "f"), 0)), 2);
	assert_int_equal(json_at(json_get(j, "f"), 1)->type, JSON_NULL);
	assert_int_equal(json_get(j, "g")->type, JSON_ARRAY);
	assert_string_equal(json_path_str(j, "h k"), "v");
	json_free(j);
}

static void test_yaml_depth_bound(void **state)
{
	char text[4096] = "";
	struct json *j = NULL;
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		strcat(text, "- ");
	strcat(text, "x\n");
	assert_int_equal(
		kube_yaml_parse(text, strlen(text), &j, errbuf, sizeof(errbuf)),
		-E2BIG);
}

static void test_base64(void **state)
{
	struct kube_blob b;

	(void)state;
	assert_int_equal(kube_base64_decode("aGVs\nbG8", &b), 0);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "hello");
	free(b.data);
	assert_int_equal(kube_base64_decode("a*bc", &b), -EINVAL);
	assert_int_equal(kube_base64_decode("a", &b), -EINVAL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_env_and_incluster(void **state)
{
	char dir[] = "/tmp/kubecfg-XXXXXX", path[128], env[300];
	struct kube_conn *c = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	write_file(path, indented_style);
	snprintf(env, sizeof(env), "%s:/nonexistent", path);
	setenv("KUBECONFIG", env, 1);
	assert_int_equal(kube_conn_load(NULL, &c, errbuf, sizeof(errbuf)), 0);
	snprintf(env, sizeof(env), "%s/tok/en", dir);
	assert_string_equal(c->token_file, env);
	kube_conn_free(c);

	/* in-cluster, with the service-account directory moved */
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_conn_load(NULL, &c, errbuf, sizeof(errbuf)),
			 -ENOENT);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv("CCM_SA_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/namespace", dir);
	write_file(path, "kube-system\n");
	/* as client-go: no readable token, no in-cluster config */
	assert_int_equal(kube_conn_load(NULL, &c, errbuf, sizeof(errbuf)),
			 -ENOENT);
	assert_non_null(strstr(errbuf, "service-account token"));
	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, "tok\n");
	snprintf(path, sizeof(path), "%s/namespace", dir);
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	write_file(path, "PEM");
	assert_int_equal(kube_conn_load(NULL, &c, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(c->server, "https://[fd00::1]:443");
	assert_string_equal(c->namespace, "kube-system");
	assert_string_equal(c->ca_file, path);
	snprintf(path, sizeof(path), "%s/token", dir);
	assert_string_equal(c->token_file, path);
	kube_conn_free(c);

	/* an explicit path wins over everything; a missing file is an error */
	assert_int_equal(
		kube_conn_load("/nonexistent/kc", &c, errbuf, sizeof(errbuf)),
		-ENOENT);
	assert_non_null(strstr(errbuf, "/nonexistent/kc"));
	snprintf(env, sizeof(env), "rm -rf '%s'", dir);
	assert_int_equal(system(env), 0);
}

/* $KUBECONFIG as client-go merges it. */
static void test_kubeconfig_env_merge(void **state)
{
	char dir[] = "/tmp/kubecfg-merge-XXXXXX", p1[128], p2[128], p3[128],
	     env[600], want[160];
	struct kube_conn *c = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/one", dir);
	snprintf(p2, sizeof(p2), "%s/sub", dir);
	assert_int_equal(mkdir(p2, 0700), 0);
	snprintf(p2, sizeof(p2), "%s/sub/two", dir);
	snprintf(p3, sizeof(p3), "%s/three", dir);
	write_file(p1,
		   "current-context: a\n"
		   "contexts: [{name: a, context: {cluster: k, user: u}}]\n");
	write_file(p2, "current-context: b\n"
		       "clusters: [{name: k, cluster: {server: \"https://two\","
		       " certificate-authority: ca.crt}}]\n"
		       "users: [{name: u, user: {token: t2}}]\n");
	write_file(p3, "clusters: [{name: k, cluster: {server: "
		       "\"https://three\"}}]\n");
	snprintf(env, sizeof(env), "%s:%s/missing:%s:%s", p1, dir, p2, p3);
	setenv("KUBECONFIG", env, 1);
	assert_int_equal(kube_conn_load(NULL, &c, errbuf, sizeof(errbuf)), 0);
	assert_string_equal(c->server, "https://two");
	snprintf(want, sizeof(want), "%s/sub/ca.crt", dir);
	assert_string_equal(c->ca_file, want);
	assert_string_equal(c->token, "t2");
	kube_conn_free(c);

	/* a name twice in one file is an error, as for client-go */
	write_file(p3, "clusters: [{name: k, cluster: {server: \"https://x\"}},"
		       " {name: k, cluster: {server: \"https://y\"}}]\n");
	assert_int_equal(kube_conn_load(NULL, &c, errbuf, sizeof(errbuf)),
			 -EINVAL);
	assert_non_null(strstr(errbuf, "\"k\" appears twice"));
	assert_non_null(strstr(errbuf, p3));
	/* the flag names one file and ignores $KUBECONFIG */
	assert_int_equal(kube_conn_load(p2, &c, errbuf, sizeof(errbuf)),
			 -EINVAL);
	assert_non_null(strstr(errbuf, "context \"b\" not found"));
	unsetenv("KUBECONFIG");
	snprintf(env, sizeof(env), "rm -rf '%s'", dir);
	assert_int_equal(system(env), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubectl_style),
		cmocka_unit_test(test_context_selection_and_data),
		cmocka_unit_test(test_json_form),
		cmocka_unit_test(test_indented_and_paths),
		cmocka_unit_test(test_unsupported_credentials),
		cmocka_unit_test(test_missing_context),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_yaml_scalars),
		cmocka_unit_test(test_yaml_depth_bound),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_load_env_and_incluster),
		cmocka_unit_test(test_flow_style),
		cmocka_unit_test(test_client_go_answers),
		cmocka_unit_test(test_kubeconfig_env_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
