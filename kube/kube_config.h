/*
 * kube_config - where and how to reach the API server.
 *
 * kube_conn_load() resolves the connection from, in order: the kubeconfig
 * path given, the files of $KUBECONFIG merged as client-go merges them
 * (kube_config_int.h), or the in-cluster service
 * account as client-go's InClusterConfig: https://$KUBERNETES_SERVICE_HOST
 * :$KUBERNETES_SERVICE_PORT (an IPv6 host bracketed), the token and ca.crt
 * in /var/run/secrets/kubernetes.io/serviceaccount (an unreadable token is
 * an error, an unreadable CA a warning and the system store). Only the test
 * build (CCM_TEST_HOOKS) moves that directory with $CCM_SA_DIR. The token
 * file is re-read by kube_client (every minute and after a 401), so the
 * kubelet's rotation is picked up.
 *
 * From a kubeconfig it takes the current context's cluster (server,
 * certificate-authority[-data], insecure-skip-tls-verify, tls-server-name,
 * proxy-url) and user (token, tokenFile, client-certificate[-data],
 * client-key[-data]). Relative paths resolve against the kubeconfig's
 * directory. Credentials this client cannot use (exec, auth-provider,
 * username/password) are an error naming the field, never a silent
 * anonymous connection. TLS verification stays on unless the file says
 * insecure-skip-tls-verify: true.
 *
 * Ownership: *ret is caller-owned (kube_conn_free). PEM blobs decoded from
 * *-data fields live in the conn. err receives one line without secrets.
 */
#ifndef CCM_KUBE_CONFIG_H
#define CCM_KUBE_CONFIG_H

#include <stddef.h>

#define KUBE_SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_TOKEN_MAX	    (64u << 10)

struct kube_blob {
	char *data;
	size_t len;
};

struct kube_conn {
	char *source; /* kubeconfig path or "in-cluster" (for messages) */
	char *server; /* https://host:port, no trailing slash */
	char *ca_file;
	struct kube_blob ca_pem;
	int insecure;
	char *tls_server_name;
	char *proxy_url;
	char *token; /* static bearer token */
	char *token_file;
	char *cert_file;
	struct kube_blob cert_pem;
	char *key_file;
	struct kube_blob key_pem;
	char *namespace; /* context or service-account namespace, or NULL */
};

int kube_conn_load(const char *kubeconfig, struct kube_conn **ret, char *err,
		   size_t errlen);
/* Parses kubeconfig text; dir resolves relative paths ("" = cwd). */
int kube_conn_parse(const char *text, size_t len, const char *dir,
		    const char *source, struct kube_conn **ret, char *err,
		    size_t errlen);
void kube_conn_free(struct kube_conn *c);

/* Reads a small file (token, namespace) into a NUL-terminated string with
 * trailing whitespace removed. */
int kube_read_small_file(const char *path, size_t max, char **ret);

/* Standard base64 (padding optional, whitespace ignored). */
int kube_base64_decode(const char *in, struct kube_blob *out);

#endif
