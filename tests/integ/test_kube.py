"""kube/ against the real kube-apiserver 1.20: paging, PATCH types,
conflicts, Event aggregation, credentials, and list+watch recovery
(compaction + 410 relist, frozen connection, API server restart).

The C side is tests/integ/prog_kube.c, which prints "key value" lines.
"""

import json
import os
import re
import subprocess
import time
import uuid

import pytest

import harness
from harness import wait_for


def run(prog, *args, env=None, kubeconfig=None, check=True):
    argv = [prog]
    if kubeconfig:
        argv.append("--kubeconfig=" + kubeconfig)
    argv += list(args)
    e = dict(os.environ)
    e.pop("KUBECONFIG", None)
    e.update(env or {})
    p = subprocess.run(argv, env=e, capture_output=True, text=True,
                       timeout=120)
    assert not harness.SANITIZER_RE.search(p.stdout + p.stderr), p.stderr
    out = {}
    items = []
    for line in p.stdout.splitlines():
        k, _, v = line.partition(" ")
        if k == "item":
            items.append(v)
        else:
            out[k] = v
    out["items"] = items
    out["stderr"] = p.stderr
    if check:
        assert p.returncode in (0, 1), (p.returncode, p.stdout, p.stderr)
    return out


@pytest.fixture
def prog(prog_bin):
    return prog_bin("prog_kube")


@pytest.fixture
def ns(cluster):
    name = "kt-" + uuid.uuid4().hex[:8]
    cluster.create("/api/v1/namespaces",
                   {"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name}})
    return name


def make_cm(cluster, ns, name, labels=None):
    return cluster.create(f"/api/v1/namespaces/{ns}/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {"t": "kube"}},
        "data": {"k": "v"}})


def make_node(cluster, name):
    return cluster.create("/api/v1/nodes", {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"t": "kube"}}})


def test_list_pages_with_continue(cluster, prog, ns):
    for i in range(5):
        make_cm(cluster, ns, f"cm{i}", {"t": "list"})
    out = run(prog, "list",
              f"/api/v1/namespaces/{ns}/configmaps?labelSelector=t%3Dlist",
              "2", kubeconfig=cluster.kubeconfig)
    assert out["result"] == "0"
    assert int(out["pages"]) >= 3
    assert sorted(out["items"]) == [f"{ns}/cm{i}" for i in range(5)]
    assert int(out["rv"]) > 0
    # the audit log shows the continue token being followed, and no
    # resourceVersion on the list (a consistent read)
    def audited():
        uris = [e.get("requestURI", "") for e in cluster.audit_events()
                if f"/namespaces/{ns}/configmaps" in e.get("requestURI", "")
                and e.get("verb") == "list" and e.get("stage") ==
                "ResponseComplete"]
        return uris if any("continue=" in u for u in uris) else None
    uris = wait_for(audited, timeout=30, what="audited continue request")
    assert all("resourceVersion=" not in u for u in uris)
    assert all("limit=2" in u for u in uris)


def test_patch_labels_taints_status(cluster, prog):
    name = "kn-" + uuid.uuid4().hex[:8]
    make_node(cluster, name)
    kc = cluster.kubeconfig
    out = run(prog, "req", "PATCH", f"/api/v1/nodes/{name}", "merge",
              '{"metadata":{"labels":{"a":"b","t":null}}}', kubeconfig=kc)
    assert out["result"] == "0", out
    out = run(prog, "req", "PATCH", f"/api/v1/nodes/{name}", "strategic",
              '{"spec":{"taints":[{"key":"k1","value":"v",'
              '"effect":"NoSchedule"}]}}', kubeconfig=kc)
    assert out["result"] == "0", out
    out = run(prog, "req", "PATCH", f"/api/v1/nodes/{name}/status",
              "strategic",
              '{"status":{"conditions":[{"type":"NetworkUnavailable",'
              '"status":"False","reason":"RouteCreated","message":"ok",'
              '"lastTransitionTime":"2021-01-01T00:00:00Z",'
              '"lastHeartbeatTime":"2021-01-01T00:00:00Z"}]}}',
              kubeconfig=kc)
    assert out["result"] == "0", out
    out = run(prog, "req", "PATCH", f"/api/v1/nodes/{name}", "json",
              '[{"op":"add","path":"/metadata/annotations",'
              '"value":{"x":"y"}}]', kubeconfig=kc)
    assert out["result"] == "0", out
    node = cluster.get(f"/api/v1/nodes/{name}")
    assert node["metadata"]["labels"] == {"a": "b"}
    assert node["metadata"]["annotations"] == {"x": "y"}
    assert [t["key"] for t in node["spec"]["taints"]] == ["k1"]
    conds = {c["type"]: c for c in node["status"].get("conditions", [])}
    assert conds["NetworkUnavailable"]["reason"] == "RouteCreated"


def test_conflicts_and_not_found(cluster, prog, ns):
    cm = make_cm(cluster, ns, "c1")
    kc = cluster.kubeconfig
    stale = dict(cm)
    cluster.api("PATCH", f"/api/v1/namespaces/{ns}/configmaps/c1",
                {"data": {"k": "changed"}})
    out = run(prog, "req", "PUT", f"/api/v1/namespaces/{ns}/configmaps/c1",
              json.dumps(stale), kubeconfig=kc)
    assert (out["status"], out["errno"]) == ("409", "EAGAIN")
    out = run(prog, "req", "POST", f"/api/v1/namespaces/{ns}/configmaps",
              json.dumps({"metadata": {"name": "c1"}}), kubeconfig=kc)
    assert (out["status"], out["errno"]) == ("409", "EEXIST")
    out = run(prog, "req", "GET", f"/api/v1/namespaces/{ns}/configmaps/no",
              kubeconfig=kc)
    assert (out["status"], out["errno"]) == ("404", "ENOENT")
    out = run(prog, "req", "DELETE",
              f"/api/v1/namespaces/{ns}/configmaps/c1", kubeconfig=kc)
    assert out["result"] == "0"


def test_event_aggregation(cluster, prog):
    name = "ke-" + uuid.uuid4().hex[:8]
    node = make_node(cluster, name)
    out = run(prog, "event", "Node", "", name, node["metadata"]["uid"],
              "Normal", "Testing", "same message", "2",
              kubeconfig=cluster.kubeconfig)
    assert (out["created"], out["patched"], out["failed"]) == ("1", "1", "0")
    st, evs = cluster.api(
        "GET", "/api/v1/namespaces/default/events?fieldSelector="
        f"involvedObject.name%3D{name}")
    assert st == 200
    assert len(evs["items"]) == 1
    ev = evs["items"][0]
    assert ev["count"] == 2
    assert ev["reason"] == "Testing" and ev["type"] == "Normal"
    assert ev["involvedObject"]["kind"] == "Node"
    assert ev["source"]["component"] == "prog-kube"
    # an Event into a namespace that does not exist fails quietly
    out = run(prog, "event", "Service", "no-such-ns", "svc", "u", "Warning",
              "R", "m", "1", kubeconfig=cluster.kubeconfig)
    assert out["result"] == "0" and out["failed"] == "1"


def test_kubeconfig_credentials(cluster, prog, tmp_path, tmp_kubeconfig):
    # CA file + admin bearer token
    out = run(prog, "req", "GET", "/api/v1/nodes",
              kubeconfig=tmp_kubeconfig())
    assert out["result"] == "0"
    # an authenticated user without RBAC: 403 -> EACCES
    out = run(prog, "req", "GET", "/api/v1/nodes",
              kubeconfig=tmp_kubeconfig(token=cluster.user_tokens["alice"]))
    assert (out["status"], out["errno"]) == ("403", "EACCES")
    # a relative tokenFile; via $KUBECONFIG
    (tmp_path / "tok").write_text(cluster.token + "\n")
    kc = tmp_path / "kc-file"
    kc.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters:\n- cluster:\n"
        f"    certificate-authority: {cluster.ca_file}\n"
        f"    server: {cluster.url}\n  name: c\n"
        "contexts:\n- context:\n    cluster: c\n    user: u\n  name: x\n"
        "current-context: x\n"
        "users:\n- name: u\n  user:\n    tokenFile: tok\n")
    out = run(prog, "req", "GET", "/api/v1/nodes",
              env={"KUBECONFIG": str(kc)})
    assert out["result"] == "0"
    # a bad token: 401 -> EACCES, never the token in output
    (tmp_path / "tok").write_text("wrong-token-value\n")
    out = run(prog, "req", "GET", "/api/v1/nodes",
              env={"KUBECONFIG": str(kc), "PROG_KUBE_V": "9"})
    assert (out["status"], out["errno"]) == ("401", "EACCES")
    assert "wrong-token-value" not in out["stderr"]
    # without CA, TLS verification fails (no silent insecure fallback)
    kc.write_text(kc.read_text().replace(
        f"    certificate-authority: {cluster.ca_file}\n", ""))
    out = run(prog, "req", "GET", "/api/v1/nodes",
              env={"KUBECONFIG": str(kc)})
    assert out["errno"] == "ECONNREFUSED"
    # exec credentials are refused naming the field
    kc.write_text(kc.read_text().replace(
        "    tokenFile: tok\n", "    exec:\n      command: foo\n"))
    out = run(prog, "req", "GET", "/api/v1/nodes",
              env={"KUBECONFIG": str(kc)}, check=False)
    assert "client-error" in out and '"exec"' in out["client-error"]


class Watch:
    """prog_kube watch as a background process with a parsed log."""

    def __init__(self, run_prog, prog, kubeconfig, path, env=None):
        self.p = run_prog([prog, "--kubeconfig=" + kubeconfig, "watch",
                           path], env=env)

    def lines(self):
        return self.p.log().splitlines()

    def has(self, pattern):
        rx = re.compile(pattern)
        return any(rx.search(l) for l in self.lines())

    def stats(self):
        last = {}
        for l in self.lines():
            if l.startswith("stats "):
                last = dict(kv.split("=", 1) for kv in l.split()[1:])
        return last

    def wait(self, pattern, timeout=60):
        wait_for(lambda: self.has(pattern), timeout=timeout, what=pattern)

    def stop(self):
        self.p.stop()
        assert self.has("^stopped$")


def etcd_revision(cluster):
    st = json.loads(cluster.etcdctl("endpoint", "status", "-w", "json"))
    return int(st[0]["Status"]["header"]["revision"])


def test_watch_relist_after_compaction(cluster, prog, ns, run_prog,
                                       tcp_proxy, tmp_kubeconfig):
    for n in ("a1", "a2", "a3"):
        make_cm(cluster, ns, n)
    proxy = tcp_proxy("127.0.0.1", cluster.port)
    kc = tmp_kubeconfig(server=proxy.url())
    w = Watch(run_prog, prog, kc, f"/api/v1/namespaces/{ns}/configmaps",
              env={"CCM_WATCH_IDLE_MS": "1500"})
    w.wait(r"^synced 3$")
    proxy.blackhole()
    cluster.api("DELETE", f"/api/v1/namespaces/{ns}/configmaps/a2")
    make_cm(cluster, ns, "a4")
    cluster.etcdctl("compact", str(etcd_revision(cluster)))
    wait_for(lambda: int(w.stats().get("idle", 0)) >= 1, timeout=60,
             what="idle teardown")
    proxy.resume()
    w.wait(rf"^delete {ns}/a2 ", timeout=90)
    w.wait(rf"^add {ns}/a4 ", timeout=30)
    wait_for(lambda: int(w.stats().get("relists", 0)) >= 1, timeout=10,
             what="relist counted")
    w.stop()


def test_watch_frozen_connection_recovers(cluster, prog, ns, run_prog,
                                          tcp_proxy, tmp_kubeconfig):
    make_cm(cluster, ns, "f1")
    proxy = tcp_proxy("127.0.0.1", cluster.port)
    kc = tmp_kubeconfig(server=proxy.url())
    w = Watch(run_prog, prog, kc, f"/api/v1/namespaces/{ns}/configmaps",
              env={"CCM_WATCH_IDLE_MS": "1500"})
    w.wait(r"^synced 1$")
    proxy.freeze()
    wait_for(lambda: int(w.stats().get("idle", 0)) >= 1, timeout=60,
             what="idle teardown")
    proxy.resume()
    make_cm(cluster, ns, "f2")
    w.wait(rf"^add {ns}/f2 ", timeout=90)
    w.stop()


def test_watch_survives_apiserver_restart(cluster, prog, ns, run_prog):
    make_cm(cluster, ns, "r1")
    w = Watch(run_prog, prog, cluster.kubeconfig,
              f"/api/v1/namespaces/{ns}/configmaps")
    w.wait(r"^synced 1$")
    cluster.restart_apiserver()
    make_cm(cluster, ns, "r2")
    w.wait(rf"^add {ns}/r2 ", timeout=120)
    cluster.api("DELETE", f"/api/v1/namespaces/{ns}/configmaps/r1")
    w.wait(rf"^delete {ns}/r1 ", timeout=60)
    w.stop()
