"""Kubeconfigs as kubectl reads them, against the real kube-apiserver
(issue 12): block and flow style, certificate-authority-data, client
certificate files, tokenFile, several contexts, an exec plugin (refused
with a message naming the user), --kubeconfig against $KUBECONFIG.

The client is tests/integ/prog_kube.c (kube/kube_client.c); a request is a
GET of the kube-system namespace, which needs working TLS and credentials.
"""
import base64
import os
import subprocess

import pytest

import harness
from test_kube import run

NS_PATH = "/api/v1/namespaces/kube-system"


@pytest.fixture
def prog(prog_bin):
    return prog_bin("prog_kube")


@pytest.fixture(scope="module")
def client_cert(cluster, tmp_path_factory):
    """A client certificate of group system:masters signed by the test
    cluster's CA, in a directory of its own."""
    d = tmp_path_factory.mktemp("certs")
    pki = os.path.join(cluster.dir, "pki")
    key, csr, crt = (str(d / n) for n in ("admin.key", "admin.csr",
                                          "admin.crt"))
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/O=system:masters/CN=kubecfg-admin"],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA",
                    os.path.join(pki, "ca.crt"), "-CAkey",
                    os.path.join(pki, "ca.key"), "-CAcreateserial",
                    "-CAserial", str(d / "ca.srl"), "-days", "2",
                    "-out", crt], check=True, capture_output=True,
                   timeout=120)
    os.chmod(key, 0o600)
    return str(d)


def ok(out):
    return out.get("status") == "200" and out.get("result") == "0"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def ca_data(cluster):
    with open(cluster.ca_file, "rb") as f:
        return base64.b64encode(f.read()).decode()


def test_flow_style_with_ca_data_and_client_cert_files(cluster, prog,
                                                       client_cert):
    # relative certificate paths resolve against the kubeconfig's directory
    kc = write(os.path.join(client_cert, "flow.yaml"), f"""\
apiVersion: v1
kind: Config
clusters: [{{name: local, cluster: {{server: "{cluster.url}",
  certificate-authority-data: "{ca_data(cluster)}"}}}}]
users: [{{name: cert-admin, user: {{client-certificate: admin.crt,
  client-key: 'admin.key'}}}}]
contexts: [{{name: c, context: {{cluster: local, user: cert-admin}}}}]
current-context: c
""")
    assert ok(run(prog, "req", "GET", NS_PATH, kubeconfig=kc))


def test_block_style_with_token_file(cluster, prog, tmp_path):
    tok = write(str(tmp_path / "token"), cluster.token + "\n")
    kc = write(str(tmp_path / "block.yaml"), f"""\
# block style, sequences at their key's column as kubectl writes them
apiVersion: v1
clusters:
- cluster:
    certificate-authority: {cluster.ca_file}
    server: {cluster.url}
  name: local
contexts:
- context:
    cluster: local
    user: from-file
  name: c
current-context: c
kind: Config
users:
- name: from-file
  user:
    tokenFile: token
""")
    assert ok(run(prog, "req", "GET", NS_PATH, kubeconfig=kc))


def several_contexts(cluster, current):
    return f"""\
clusters:
  - {{name: good, cluster: {{server: "{cluster.url}", certificate-authority: "{cluster.ca_file}"}}}}
  - {{name: nowhere, cluster: {{server: "https://127.0.0.1:1", certificate-authority: "{cluster.ca_file}"}}}}
users:
  - {{name: admin, user: {{token: "{cluster.token}"}}}}
  - {{name: nobody, user: {{token: not-a-valid-token}}}}
contexts:
  - {{name: good, context: {{cluster: good, user: admin}}}}
  - {{name: unreachable, context: {{cluster: nowhere, user: admin}}}}
  - {{name: unauthorized, context: {{cluster: good, user: nobody}}}}
current-context: unreachable
current-context: {current}   # the last one wins, as in client-go
"""


def test_several_contexts_current_context_selects(cluster, prog, tmp_path):
    kc = str(tmp_path / "multi.yaml")
    write(kc, several_contexts(cluster, "good"))
    assert ok(run(prog, "req", "GET", NS_PATH, kubeconfig=kc))
    write(kc, several_contexts(cluster, "unauthorized"))
    assert run(prog, "req", "GET", NS_PATH, kubeconfig=kc)["status"] == "401"
    write(kc, several_contexts(cluster, "unreachable"))
    out = run(prog, "req", "GET", NS_PATH, kubeconfig=kc)
    assert out["status"] == "0" and out["result"] != "0"


def test_exec_plugin_is_refused_naming_the_user(cluster, prog, tmp_path):
    kc = write(str(tmp_path / "exec.yaml"), f"""\
clusters: [{{name: c, cluster: {{server: "{cluster.url}"}}}}]
contexts: [{{name: x, context: {{cluster: c, user: eks-user}}}}]
current-context: x
users:
- name: eks-user
  user:
    exec: {{apiVersion: client.authentication.k8s.io/v1beta1,
            command: aws, args: [eks, get-token]}}
""")
    out = run(prog, "req", "GET", NS_PATH, kubeconfig=kc, check=False)
    err = out.get("client-error", "")
    assert 'user "eks-user": field "exec" is not supported' in err, out
    assert "exec credential plugins" in err


def test_flag_wins_over_env_and_env_over_in_cluster(cluster, prog, tmp_path):
    good = cluster.kubeconfig
    bad = write(str(tmp_path / "bad.yaml"), "a: b: c\n")
    # --kubeconfig wins over $KUBECONFIG
    assert ok(run(prog, "req", "GET", NS_PATH, kubeconfig=good,
                  env={"KUBECONFIG": bad}))
    # $KUBECONFIG is read without the flag, and wins over in-cluster
    assert ok(run(prog, "req", "GET", NS_PATH,
                  env={"KUBECONFIG": good,
                       "KUBERNETES_SERVICE_HOST": "127.0.0.1",
                       "KUBERNETES_SERVICE_PORT": "1"}))
    out = run(prog, "req", "GET", NS_PATH, env={"KUBECONFIG": bad},
              check=False)
    assert "line 1, column 5" in out.get("client-error", ""), out
