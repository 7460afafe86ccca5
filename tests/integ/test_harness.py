"""The harness itself: the control plane, tokens, restarts, the TCP proxy,
the simulator fixture and process cleanup."""

import os
import socket
import ssl
import subprocess
import threading
import urllib.error
import uuid

import pytest

import harness


def _ns(cluster, prefix):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    cluster.create("/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def test_version_is_1_20(cluster):
    st, v = cluster.api("GET", "/version")
    assert st == 200
    assert v["major"] == "1" and v["minor"].startswith("20")
    assert v["gitVersion"].startswith("v1.20.")
    assert cluster.version == v["gitVersion"]


def test_system_namespaces_exist(cluster):
    for ns in ("default", "kube-system"):
        obj = harness.wait_for(
            lambda: cluster.get(f"/api/v1/namespaces/{ns}"), 30,
            what=f"namespace {ns}")
        assert obj["status"]["phase"] == "Active"


def test_kubeconfig_points_at_cluster(cluster):
    text = open(cluster.kubeconfig).read()
    assert f"server: {cluster.url}" in text
    assert f"certificate-authority: {cluster.ca_file}" in text
    assert cluster.token in text


def test_rbac_denies_unprivileged_token(cluster):
    tok = cluster.user_tokens["alice"]
    st, obj = cluster.api("GET", "/api/v1/namespaces/kube-system/secrets",
                          token=tok)
    assert st == 403
    assert 'User "alice"' in obj["message"]
    st, _ = cluster.api("GET", "/api/v1/namespaces/kube-system/secrets")
    assert st == 200


def test_bad_token_is_unauthorized(cluster):
    st, _ = cluster.api("GET", "/api/v1/namespaces", token="not-a-token")
    assert st == 401


def test_sa_token_authenticates_as_service_account(cluster):
    ns = _ns(cluster, "harness-sa")
    tok = cluster.sa_token(ns, "reader")
    path = f"/api/v1/namespaces/{ns}/configmaps"
    st, obj = cluster.api("GET", path, token=tok)
    assert st == 403
    assert f"system:serviceaccount:{ns}:reader" in obj["message"]

    cluster.create(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "cm-read"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                   "verbs": ["get", "list"]}]})
    cluster.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding", "metadata": {"name": "cm-read"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role", "name": "cm-read"},
            "subjects": [{"kind": "ServiceAccount", "name": "reader",
                          "namespace": ns}]})
    harness.wait_for(lambda: cluster.api("GET", path, token=tok)[0] == 200,
                     30, what="RBAC binding to take effect")
    # The ServiceAccount already exists now: a second token still works.
    tok2 = cluster.sa_token(ns, "reader")
    assert cluster.api("GET", path, token=tok2)[0] == 200


def test_pod_and_service_account_without_controller_manager(cluster):
    ns = _ns(cluster, "harness-pod")
    cluster.create(f"/api/v1/namespaces/{ns}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    assert cluster.get(f"/api/v1/namespaces/{ns}/pods/p") is not None


def test_audit_log_records_requests(cluster):
    ns = _ns(cluster, "harness-audit")

    def seen():
        return [e for e in cluster.audit_events()
                if e.get("objectRef", {}).get("name") == ns
                and e.get("verb") == "create"]
    ev = harness.wait_for(seen, 30, what="audit event")[0]
    assert ev["level"] == "Metadata"
    assert ev["user"]["username"] == "admin"
    assert "requestObject" not in ev


def test_etcdctl(cluster):
    out = cluster.etcdctl("get", "--prefix", "--keys-only",
                          "/registry/namespaces/")
    assert "/registry/namespaces/kube-system" in out


def test_write_kubeconfig_with_sa_token(cluster, tmp_kubeconfig):
    tok = cluster.sa_token("kube-system", "harness-kc")
    path = tmp_kubeconfig(token=tok, server="https://127.0.0.1:1")
    text = open(path).read()
    assert "server: https://127.0.0.1:1" in text and tok in text
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_restart_apiserver_keeps_data(cluster):
    ns = _ns(cluster, "harness-restart")
    cluster.create(f"/api/v1/namespaces/{ns}/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep"},
        "data": {"k": "v"}})
    old_pid, old_url = cluster.apiserver_pid, cluster.url
    cluster.restart_apiserver()
    assert cluster.apiserver_pid != old_pid
    assert cluster.url == old_url
    cm = cluster.get(f"/api/v1/namespaces/{ns}/configmaps/keep")
    assert cm["data"] == {"k": "v"}


def test_stop_and_start_apiserver(cluster):
    cluster.stop_apiserver()
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", cluster.port), timeout=5)
    finally:
        cluster.start_apiserver()
    assert cluster.api("GET", "/version")[0] == 200


def test_cluster_dies_with_its_owner(tmp_path):
    # A second, private cluster owned by a short-lived process: when the
    # owner goes, the watchdog stops etcd and kube-apiserver.
    owner = subprocess.Popen(["sleep", "600"])
    d = str(tmp_path / "owned")
    env = dict(os.environ, CLUSTER_OWNER_PID=str(owner.pid))
    try:
        subprocess.run(["bash", harness.CLUSTER_SH, "up", d], env=env,
                       check=True)
        c = harness.Cluster(d)
        c._load_env()
        assert os.path.exists(f"/proc/{c.apiserver_pid}")
        owner.kill()
        owner.wait()
        harness.wait_for(
            lambda: not os.path.exists(f"/proc/{c.apiserver_pid}") and
            not os.path.exists(f"/proc/{c.etcd_pid}"), 60,
            what="watchdog to stop the cluster")
    finally:
        owner.kill()
        owner.wait()
        subprocess.run(["bash", harness.CLUSTER_SH, "down", d])


# -- TcpProxy --------------------------------------------------------------

class EchoServer:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        try:
            while True:
                d = c.recv(4096)
                if not d:
                    c.close()
                    return
                c.sendall(d)
        except OSError:
            return

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def echo():
    e = EchoServer()
    try:
        yield e
    finally:
        e.close()


def _recv_exactly(s, n, timeout=10):
    s.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            break
        buf += d
    return buf


def _nothing_arrives(s, window=0.5):
    """True if no byte and no EOF/RST arrive within `window` seconds."""
    s.settimeout(window)
    try:
        s.recv(1)
    except socket.timeout:
        return True
    return False


def test_proxy_forwards_https_to_apiserver(cluster, tcp_proxy):
    p = tcp_proxy("127.0.0.1", cluster.port)
    st, v = cluster.api("GET", "/version", url=p.url())
    assert st == 200 and v["gitVersion"] == cluster.version


def test_proxy_blackhole_accepts_reads_and_never_closes(cluster, tcp_proxy):
    p = tcp_proxy("127.0.0.1", cluster.port)
    p.blackhole()
    with pytest.raises((socket.timeout, urllib.error.URLError, ssl.SSLError,
                        TimeoutError)):
        cluster.api("GET", "/version", url=p.url(), timeout=1)
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    try:
        s.sendall(b"x" * 100000)  # read and discarded: no back-pressure
        assert _nothing_arrives(s)
        p.resume()
        # resume closes blackholed connections cleanly (FIN, not RST)
        assert _recv_exactly(s, 1) == b""
    finally:
        s.close()
    st, _ = cluster.api("GET", "/version", url=p.url())
    assert st == 200


def test_proxy_blackhole_existing_connection(echo, tcp_proxy):
    p = tcp_proxy("127.0.0.1", echo.port)
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    try:
        s.sendall(b"ping")
        assert _recv_exactly(s, 4) == b"ping"
        p.blackhole()
        s.sendall(b"lost")
        assert _nothing_arrives(s)
    finally:
        s.close()


def test_proxy_freeze_and_resume_loses_nothing(echo, tcp_proxy):
    p = tcp_proxy("127.0.0.1", echo.port)
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    try:
        s.sendall(b"one")
        assert _recv_exactly(s, 3) == b"one"
        p.freeze()
        s.sendall(b"two")
        assert _nothing_arrives(s)
        p.resume()
        assert _recv_exactly(s, 3) == b"two"
    finally:
        s.close()


def test_proxy_refuse_and_resume(echo, tcp_proxy):
    p = tcp_proxy("127.0.0.1", echo.port)
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    try:
        p.refuse()
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            s.settimeout(10)
            s.sendall(b"x")
            if s.recv(1) == b"":
                raise ConnectionResetError("EOF instead of RST")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", p.port), timeout=5)
    finally:
        s.close()
    p.resume()
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    try:
        s.sendall(b"back")
        assert _recv_exactly(s, 4) == b"back"
    finally:
        s.close()


def test_proxy_upstream_down_closes_client(tcp_proxy):
    p = tcp_proxy("127.0.0.1", harness.free_port())
    s = socket.create_connection(("127.0.0.1", p.port), timeout=5)
    try:
        assert _recv_exactly(s, 1) == b""
    finally:
        s.close()


# -- processes ---------------------------------------------------------------

def test_process_kill_reaps_whole_tree(run_prog, tmp_path):
    # The child re-execs a grandchild in a new process group, the way a
    # careless worker might; kill() must still get both.
    pidfile = tmp_path / "grandchild.pid"
    code = (
        "import os, subprocess, sys, time\n"
        "g = subprocess.Popen([sys.executable, '-c', 'import time; "
        "time.sleep(600)'], start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(g.pid))\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n")
    p = run_prog([harness.PYTHON, "-c", code])
    p.wait_log(r"ready", timeout=30)
    gpid = int(pidfile.read_text())
    assert gpid in p.descendants()
    p.kill()
    assert not p.alive()
    harness.wait_for(lambda: not os.path.exists(f"/proc/{gpid}") or
                     open(f"/proc/{gpid}/stat").read().split()[2] == "Z",
                     30, what="grandchild to die")


def test_process_env_and_log(run_prog):
    p = run_prog([harness.PYTHON, "-c",
                  "import os; print('X=' + os.environ['X']); "
                  "print(os.environ['ASAN_OPTIONS'])"], env={"X": "42"})
    assert p.wait(30) == 0
    assert "X=42" in p.log()
    assert "detect_leaks=1" in p.log()
    assert p.sanitizer_reports() == []


def test_ccm_bin_is_sanitized_build(ccm_bin):
    out = subprocess.run(["nm", "-D", ccm_bin], capture_output=True,
                         text=True).stdout
    assert "__asan_init" in out or "__asan" in out


# -- simulator fixture --------------------------------------------------------

def test_sim_fixture(sim, tmp_path):
    assert sim.url == f"http://127.0.0.1:{sim.port}"
    for k in ("SLB_ENDPOINT", "VPC_ENDPOINT", "ECS_ENDPOINT",
              "METADATA_ENDPOINT", "ALICLOUD_CLIENT_SCHEME"):
        assert sim.env[k]
    assert isinstance(sim.state(), dict)
    assert sim.calls() == [] or isinstance(sim.calls(), list)
    import json
    cc = json.load(open(sim.cloud_config(str(tmp_path / "cc.json"))))
    g = cc["Global"]
    assert g["accessKeyID"] and g["accessKeySecret"] and g["region"]


def test_sim_processes_are_separate(sim, tmp_path):
    # a second simulator in the same test is independent
    other = harness.Sim(str(tmp_path / "other"))
    try:
        assert other.port != sim.port
    finally:
        other.stop()
    assert sim.proc.alive()
    assert not other.proc.alive()
