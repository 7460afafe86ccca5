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


# ------------------------------------------------ in-cluster, as client-go

def _sa_with_admin(cluster, name):
    cluster.api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                {"apiVersion": "rbac.authorization.k8s.io/v1",
                 "kind": "ClusterRoleBinding",
                 "metadata": {"name": name},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                             "kind": "ClusterRole", "name": "cluster-admin"},
                 "subjects": [{"kind": "ServiceAccount", "name": name,
                               "namespace": "kube-system"}]})
    return cluster.sa_token("kube-system", name)


class ProjectedDir:
    """The service-account volume as the kubelet writes it: files are
    symlinks into ..data, which is swapped atomically on rotation."""

    def __init__(self, base, ca_file):
        self.base, self.n = base, 0
        with open(ca_file) as f:
            self.ca = f.read()
        os.makedirs(base)
        for name in ("token", "ca.crt", "namespace"):
            os.symlink(f"..data/{name}", os.path.join(base, name))

    def publish(self, token):
        self.n += 1
        d = os.path.join(self.base, f"..2026_12_02_0{self.n}")
        os.makedirs(d)
        for name, text in (("token", token), ("ca.crt", self.ca),
                           ("namespace", "kube-system")):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        tmp = os.path.join(self.base, "..data_tmp")
        os.symlink(os.path.basename(d), tmp)
        os.rename(tmp, os.path.join(self.base, "..data"))


def test_in_cluster_token_rotation_followed(cluster, run_ccm, sim, tmp_path):
    """KUBERNETES_SERVICE_HOST/PORT, the token and ca.crt of the service
    account volume; when the kubelet rotates the token and the old one
    stops working, the next request after the 401 uses the new one."""
    names = ["ccm-rot-a-" + os.urandom(3).hex(), "ccm-rot-b-" + os.urandom(3).hex()]
    tok_a, tok_b = (_sa_with_admin(cluster, n) for n in names)
    sa = ProjectedDir(str(tmp_path / "sa"), cluster.ca_file)
    sa.publish(tok_a)
    host, port = cluster.url.split("//", 1)[1].rsplit(":", 1)
    lock = "ccm-incluster-" + os.urandom(3).hex()
    cc = sim.cloud_config(str(tmp_path / "cc.json"), clusterID="incluster")
    env = dict(sim.env, KUBERNETES_SERVICE_HOST=host,
               KUBERNETES_SERVICE_PORT=port, CCM_SA_DIR=sa.base,
               CCM_SCAFFOLD="all", KUBECONFIG="")
    p = run_ccm([f"--cloud-config={cc}", "--controllers=node",
                 "--configure-cloud-routes=false",
                 f"--leader-elect-resource-name={lock}",
                 f"--run-dir={tmp_path}/run",
                 f"--health-probe-bind-addr=127.0.0.1:{harness.free_port()}",
                 "--metrics-bind-addr=", "-v=2"], env=env)
    lease_path = ("/apis/coordination.k8s.io/v1/namespaces/kube-system/"
                  f"leases/{lock}")

    def renew_time():
        obj = cluster.get(lease_path)
        return obj and obj["spec"].get("renewTime")

    first = harness.wait_for(renew_time, 60, what="in-cluster CCM leads")
    holder = cluster.get(lease_path)["spec"]["holderIdentity"]

    sa.publish(tok_b)
    st, out = cluster.api("DELETE",
                          f"/api/v1/namespaces/kube-system/serviceaccounts/{names[0]}")
    assert st == 200, out

    # the old token is refused now: renewals that go on use the new one
    harness.wait_for(lambda: cluster.api(
        "GET", "/api/v1/namespaces/kube-system", token=tok_a)[0] == 401,
        60, what="the old token refused")
    since = renew_time()
    for _ in range(2):
        try:
            harness.wait_for(lambda: (renew_time() or "") > since, 90,
                             what="a Lease renew after the rotation")
        except AssertionError as e:
            raise AssertionError(f"{e}; CCM log tail:\n{p.log()[-3000:]}")
        since = renew_time()
    assert cluster.get(lease_path)["spec"]["holderIdentity"] == holder
    assert p.alive()
    log = p.log()
    assert tok_a not in log and tok_b not in log
