"""Leader election, fencing, handover and per-controller credentials
against the real kube-apiserver. Durations: lease 4 s, renew 3 s, retry
1 s; bounds are 3x the configured values, assertions are on ordering."""

import json
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from harness import free_port, wait_for

LEASE, RENEW, RETRY = 4, 3, 1
TIMING = [f"--leader-elect-lease-duration={LEASE}s",
          f"--leader-elect-renew-deadline={RENEW}s",
          f"--leader-elect-retry-period={RETRY}s",
          "--kube-api-timeout=1500ms", "--cloud-api-timeout=1500ms"]
MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
PROBE = "/api/v1/namespaces/kube-system/configmaps/ccm-fence-probe"


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except (urllib.error.HTTPError) as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def is_leader(port):
    _, body = http(port, "/metrics")
    return re.search(r"^leader_election_master_status\{[^}]*\} 1$", body,
                     re.M) is not None


def identity(proc):
    m = proc.wait_log(r"identity (\S+),")
    return m.group(1)


def lease(cluster, name):
    return cluster.get("/apis/coordination.k8s.io/v1/namespaces/"
                       f"kube-system/leases/{name}")


@pytest.fixture
def cloud_config(tmp_path):
    p = tmp_path / "cloud-config.json"
    p.write_text(json.dumps({"Global": {
        "accessKeyID": "QUtJRHRlc3Q=", "accessKeySecret": "c2VjcmV0c2VjcmV0",
        "region": "cn-hangzhou", "vpcid": "vpc-test",
        "vswitchid": "vsw-test", "clusterID": "test"}}))
    return str(p)


@pytest.fixture
def lock_name():
    return "ccm-" + uuid.uuid4().hex[:8]


@pytest.fixture
def sup(run_ccm, cluster, cloud_config, tmp_path, lock_name):
    """sup(extra, env, kubeconfig) -> (Process, port)."""
    n = [0]

    def start(extra=(), env=None, kubeconfig=None):
        n[0] += 1
        port = free_port()
        args = [f"--cloud-config={cloud_config}",
                f"--kubeconfig={kubeconfig or cluster.kubeconfig}",
                "--cluster-cidr=10.244.0.0/16",
                f"--run-dir={tmp_path}/run{n[0]}",
                f"--health-probe-bind-addr=127.0.0.1:{port}",
                f"--metrics-bind-addr=127.0.0.1:{port}",
                f"--leader-elect-resource-name={lock_name}", *TIMING, *extra]
        p = run_ccm(args, env={"CCM_SCAFFOLD": "all", **(env or {})})
        return p, port
    return start


def the_leader(sups):
    leaders = [s for s in sups if is_leader(s[1])]
    return leaders[0] if len(leaders) == 1 else None


def test_three_supervisors_one_leader_and_failover(sup, cluster, lock_name):
    sups = [sup() for _ in range(3)]
    ids = {s[0].pid: identity(s[0]) for s in sups}
    first = wait_for(lambda: the_leader(sups), 3 * (LEASE + RETRY) + 20,
                     what="exactly one leader")
    time.sleep(2 * RETRY)
    assert the_leader(sups) is first
    spec = lease(cluster, lock_name)["spec"]
    assert spec["holderIdentity"] == ids[first[0].pid]
    assert spec["leaseDurationSeconds"] == LEASE
    assert MICRO.match(spec["renewTime"]) and MICRO.match(spec["acquireTime"])
    t0 = spec.get("leaseTransitions", 0)
    st, body = http(first[1], "/readyz")
    assert st == 200 and "[+]leadership: leader" in body

    # kill -9: the others wait out the lease, then one takes over
    os.kill(first[0].pid, signal.SIGKILL)
    rest = [s for s in sups if s is not first]
    second = wait_for(lambda: the_leader(rest), 3 * (LEASE + 2 * RETRY),
                      what="failover after kill -9")
    spec = lease(cluster, lock_name)["spec"]
    assert spec["holderIdentity"] == ids[second[0].pid]
    assert spec["leaseTransitions"] == t0 + 1

    # SIGTERM: workers stop, the Lease is released, the standby takes over
    # within about one retry period (bound: 3 x 2 retry periods + jitter)
    assert second[0].stop() == 0
    assert second[0].descendants() == []
    third = [s for s in rest if s is not second][0]
    wait_for(lambda: is_leader(third[1]), 3 * 2 * RETRY * 2.2,
             what="handover after SIGTERM")
    spec = lease(cluster, lock_name)["spec"]
    assert spec["holderIdentity"] == ids[third[0].pid]
    assert spec["leaseTransitions"] == t0 + 2

    # Events on the Lease, as client-go's recorder posts them
    msgs = wait_for(lambda: _lease_events(cluster, lock_name, 4), 30,
                    what="LeaderElection Events")
    for s in (first, second, third):
        assert f"{ids[s[0].pid]} became leader" in msgs
    assert f"{ids[second[0].pid]} stopped leading" in msgs


def _lease_events(cluster, name, n):
    ev = cluster.get("/api/v1/namespaces/kube-system/events?fieldSelector="
                     f"involvedObject.name%3D{name}")
    msgs = [e["message"] for e in ev["items"]
            if e["reason"] == "LeaderElection" and
            e["involvedObject"]["kind"] == "Lease" and
            e["source"]["component"] == "cloud-controller-manager"]
    return msgs if len(msgs) >= n else None


def _renew_endpoints(cluster, name, stop):
    path = f"/api/v1/namespaces/kube-system/endpoints/{name}"
    cluster.create("/api/v1/namespaces/kube-system/endpoints", {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": name, "namespace": "kube-system"}})
    n = 0
    while not stop.is_set():
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rec = {"holderIdentity": "old-ccm", "leaseDurationSeconds": LEASE,
               "acquireTime": now, "renewTime": now, "leaderTransitions": n}
        n += 1
        cluster.api("PATCH", path, {"metadata": {"annotations": {
            "control-plane.alpha.kubernetes.io/leader": json.dumps(rec)}}})
        stop.wait(RETRY)


def test_endpoints_lock_respects_old_ccm(sup, cluster, lock_name):
    stop = threading.Event()
    t = threading.Thread(target=_renew_endpoints,
                         args=(cluster, lock_name, stop), daemon=True)
    t.start()
    try:
        wait_for(lambda: cluster.get(
            f"/api/v1/namespaces/kube-system/endpoints/{lock_name}"), 10)
        p, port = sup(["--leader-elect-resource-lock=endpoints"])
        me = identity(p)
        p.wait_log(r"recommended")
        deadline = time.monotonic() + 3 * LEASE
        while time.monotonic() < deadline:
            assert not is_leader(port), "led while the old CCM held the lock"
            time.sleep(0.2)
    finally:
        stop.set()
        t.join(10)
    wait_for(lambda: is_leader(port), 3 * (LEASE + 2 * RETRY))
    ep = cluster.get(f"/api/v1/namespaces/kube-system/endpoints/{lock_name}")
    rec = json.loads(ep["metadata"]["annotations"][
        "control-plane.alpha.kubernetes.io/leader"])
    assert rec["holderIdentity"] == me
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rec["renewTime"])
    assert lease(cluster, lock_name)["spec"]["holderIdentity"] == me


def probe_writes(cluster):
    """[(identity, t)] of fence-probe PATCHes, from the audit log."""
    out = []
    for e in cluster.audit_events():
        if e.get("stage") != "ResponseComplete" or e.get("verb") != "patch":
            continue
        if not e.get("requestURI", "").startswith(PROBE):
            continue
        if e.get("responseStatus", {}).get("code", 0) >= 300:
            continue
        m = re.search(r"; identity=([^)]+)\)", e.get("userAgent", ""))
        if m:
            out.append((m.group(1), e["requestReceivedTimestamp"],
                        e["stageTimestamp"]))
    return sorted(out, key=lambda x: x[1])


def assert_no_overlap(cluster, old, new):
    w = probe_writes(cluster)
    old_w = [x for x in w if x[0] == old]
    new_w = [x for x in w if x[0] == new]
    assert old_w and new_w, (len(old_w), len(new_w))
    # the old leader's last write completed before the new one's first
    assert max(x[2] for x in old_w) < min(x[1] for x in new_w)


def test_fence_when_leader_is_frozen(sup, cluster):
    env = {"CCM_SCAFFOLD_FENCE_PROBE": "1"}
    a = sup(env=env)
    wait_for(lambda: is_leader(a[1]), 3 * LEASE)
    b = sup(env=env)
    ida, idb = identity(a[0]), identity(b[0])
    wait_for(lambda: any(x[0] == ida for x in probe_writes(cluster)), 30)
    os.kill(a[0].pid, signal.SIGSTOP)
    try:
        wait_for(lambda: is_leader(b[1]), 3 * (LEASE + 2 * RETRY))
        wait_for(lambda: any(x[0] == idb for x in probe_writes(cluster)), 30)
    finally:
        os.kill(a[0].pid, signal.SIGCONT)
    a[0].wait_log(r"leader election lost", timeout=30)
    time.sleep(2)
    assert_no_overlap(cluster, ida, idb)


def test_fence_when_leader_is_blackholed(sup, cluster, tcp_proxy,
                                          tmp_kubeconfig):
    env = {"CCM_SCAFFOLD_FENCE_PROBE": "1"}
    proxy = tcp_proxy("127.0.0.1", cluster.port)
    a = sup(env=env, kubeconfig=tmp_kubeconfig(server=proxy.url()))
    wait_for(lambda: is_leader(a[1]), 3 * LEASE)
    b = sup(env=env)
    ida, idb = identity(a[0]), identity(b[0])
    wait_for(lambda: any(x[0] == ida for x in probe_writes(cluster)), 30)
    proxy.blackhole()
    wait_for(lambda: is_leader(b[1]), 3 * (LEASE + 2 * RETRY))
    wait_for(lambda: any(x[0] == idb for x in probe_writes(cluster)), 30)
    a[0].wait_log(r"leader election lost", timeout=30)
    proxy.resume()
    time.sleep(3)
    assert_no_overlap(cluster, ida, idb)
    assert not is_leader(a[1])


def test_dry_run_beside_a_leader(sup, cluster, lock_name):
    a = sup(env={"CCM_SCAFFOLD_FENCE_PROBE": "1"})
    wait_for(lambda: is_leader(a[1]), 3 * LEASE)
    holder = lease(cluster, lock_name)["spec"]["holderIdentity"]
    d = sup(["--dry-run"], env={"CCM_SCAFFOLD_FENCE_PROBE": "1"})
    assert d[0].wait(60) == 0
    idd = identity(d[0])
    assert lease(cluster, lock_name)["spec"]["holderIdentity"] == holder
    assert not any(x[0] == idd for x in probe_writes(cluster))
    for e in cluster.audit_events():
        if f"identity={idd})" in e.get("userAgent", ""):
            assert e["verb"] in ("get", "list", "watch"), e["requestURI"]


SEED_RULES = [
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
     "verbs": ["get", "list", "update", "create"]},
    {"apiGroups": [""], "resources": ["persistentvolumes", "services",
                                      "secrets", "endpoints",
                                      "serviceaccounts"],
     "verbs": ["get", "list", "watch", "create", "update", "patch"]},
    {"apiGroups": [""], "resources": ["nodes"],
     "verbs": ["get", "list", "watch", "delete", "patch", "update"]},
    {"apiGroups": [""], "resources": ["services/status"],
     "verbs": ["update", "patch"]},
    {"apiGroups": [""], "resources": ["nodes/status"],
     "verbs": ["patch", "update"]},
    {"apiGroups": [""], "resources": ["events", "endpoints"],
     "verbs": ["create", "patch", "update"]},
]  # the ClusterRole of /work/shared/seed/yaml/ccm.yaml, as JSON


def _bind(cluster, role, sa):
    cluster.api("POST", "/apis/rbac.authorization.k8s.io/v1/"
                "clusterrolebindings", {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": f"{role}-{sa}"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                "kind": "ClusterRole", "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": sa,
                                  "namespace": "kube-system"}]})


def _role(cluster, name, rules):
    cluster.api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name}, "rules": rules})


def test_per_worker_credentials(sup, cluster, tmp_kubeconfig):
    rules = SEED_RULES + [
        {"apiGroups": [""], "resources": ["configmaps"],
         "verbs": ["get", "create", "patch"]},
        {"apiGroups": [""], "resources": ["serviceaccounts/token"],
         "verbs": ["create"]}]
    _role(cluster, "test-ccm-full", rules)
    for sa in ("ccm-sup", "service-controller", "route-controller",
               "cloud-node-controller"):
        cluster.sa_token("kube-system", sa)
        _bind(cluster, "test-ccm-full", sa)
    kc = tmp_kubeconfig(token=cluster.sa_token("kube-system", "ccm-sup"))
    p, port = sup(["--leader-elect=false",
                   "--use-service-account-credentials=true"],
                  env={"CCM_SCAFFOLD_FENCE_PROBE": "1"}, kubeconfig=kc)
    me = identity(p)

    def users():
        # the audit log is shared by the session: only this run's writes
        seen = {}
        for e in cluster.audit_events():
            ua = e.get("userAgent", "")
            if e.get("requestURI", "").startswith(PROBE) and \
                    e.get("verb") == "patch" and f"identity={me})" in ua:
                m = re.search(r"\(([^;)]+); identity=", ua)
                if m:
                    seen[m.group(1)] = e["user"]["username"]
        return seen if len(seen) == 3 else None
    seen = wait_for(users, 60, what="probe writes from three workers")
    assert seen == {
        "service-lb": "system:serviceaccount:kube-system:service-controller",
        "route": "system:serviceaccount:kube-system:route-controller",
        "node-init":
            "system:serviceaccount:kube-system:cloud-node-controller"}
    assert "per-controller credentials" not in p.log()


def test_seed_rbac_falls_back_with_one_warning(sup, cluster, tmp_kubeconfig):
    _role(cluster, "system:cloud-controller-manager", SEED_RULES)
    _bind(cluster, "system:cloud-controller-manager",
          "cloud-controller-manager")
    kc = tmp_kubeconfig(token=cluster.sa_token("kube-system",
                                               "cloud-controller-manager"))
    p, port = sup(["--use-service-account-credentials=true"], kubeconfig=kc)
    wait_for(lambda: is_leader(port), 3 * LEASE)
    p.wait_log(r"per-controller credentials for kube-system/"
               r"service-controller are unavailable \(.*serviceaccounts/"
               r"token")
    wait_for(lambda: len(re.findall(r"worker \S+: running",
                                    http(port, "/readyz")[1])) == 3, 60)
    time.sleep(2)
    assert len(re.findall(r"kube-system/service-controller are "
                          r"unavailable", p.log())) == 1
