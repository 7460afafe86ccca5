"""The send path (issue 10): the fence is asked as the last step before a
request leaves the process, so a wait (cloud rate, STS refresh from a slow
metadata service) can never push a mutation past the leader's window; a
waiting worker keeps its heartbeat; test hooks and core dumps stay out of
the release binary. Real kube-apiserver and the cloud simulator; times are
wall-clock readings of the same host (simulator call log, Lease renewTime,
audit log), assertions are on their order, never on speed."""

import datetime
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import harness
from harness import free_port, wait_for
from test_service import (CLUSTER_ID, NS, ingress_ip, svc_body, three_nodes,
                          uniq)
from test_service import token, world  # noqa: F401 - fixtures

LEASE, RENEW, RETRY = 4, 3, 1
TIMING = [f"--leader-elect-lease-duration={LEASE}s",
          f"--leader-elect-renew-deadline={RENEW}s",
          f"--leader-elect-retry-period={RETRY}s",
          "--kube-api-timeout=1500ms", "--cloud-api-timeout=1500ms"]
SLACK = 1.0  # FENCE_SLACK_MS (lib/fence.h)
# renew_sent is read just after the Lease body (renewTime) is built: the
# few ms between the two readings
EPS = 0.1
SLB_VERSION = "2014-05-15"
READS = ("Describe", "List")
HOOKS = ("CCM_SCAFFOLD", "CCM_NODE_GONE_GRACE_MS", "CCM_WATCH_IDLE_MS",
         "CCM_SA_DIR", "clock_test_advance")


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def is_leader(port):
    return re.search(r"^leader_election_master_status\{[^}]*\} 1$",
                     http(port, "/metrics")[1], re.M) is not None


def worker_pid(port, name="service-lb"):
    m = re.search(r"worker %s: running \(pid (\d+)" % name,
                  http(port, "/readyz")[1])
    return int(m.group(1)) if m else None


def restarts(port, name="service-lb"):
    m = re.search(r'^ccm_worker_restarts_total\{worker="%s"\} (\S+)$' % name,
                  http(port, "/metrics")[1], re.M)
    return float(m.group(1)) if m else None


def micro(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def audit_time(ts):
    # "2026-12-02T06:55:00.123456Z"
    return micro(ts if "." in ts else ts.replace("Z", ".000000Z"))


def cloud_mutations(sim, since):
    return [c for c in sim.calls() if c["action"] != "Metadata"
            and not c["action"].startswith(READS) and c["time"] >= since]


def kube_mutations(cluster, identity, since):
    """(time, verb, uri) of the workers' non-Event writes after `since`."""
    out = []
    for e in cluster.audit_events():
        ua = e.get("userAgent", "")
        # a worker's: "(<worker>; identity=<id>)", not "(supervisor; ...)"
        if f"; identity={identity})" not in ua or "(supervisor;" in ua:
            continue
        if e.get("verb") in ("get", "list", "watch"):
            continue
        if (e.get("objectRef") or {}).get("resource") == "events":
            continue
        t = audit_time(e["requestReceivedTimestamp"])
        if t >= since:
            out.append((t, e["verb"], e["requestURI"]))
    return out


@pytest.fixture
def ccm(run_ccm, cluster, sim, tmp_path, token):  # noqa: F811
    """ccm(extra, cloud) -> Process (service-lb worker only, elected, the
    seed's RBAC), with .port (health + metrics) and .lock (Lease name)."""
    def start(extra=(), cloud=None):
        port = free_port()
        lock = uniq("sendpath")
        cc = sim.cloud_config(str(tmp_path / "cloud.json"),
                              clusterID=CLUSTER_ID, **(cloud or {}))
        kc = cluster.write_kubeconfig(str(tmp_path / "kc"), token=token)
        e = dict(os.environ)
        for k in ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET"):
            e.pop(k, None)
        e.update(sim.env)
        os.makedirs(f"{tmp_path}/run", exist_ok=True)
        p = run_ccm([f"--cloud-config={cc}", f"--kubeconfig={kc}",
                     "--controllers=service", "--configure-cloud-routes=false",
                     f"--leader-elect-resource-name={lock}", *TIMING,
                     "--cloud-resync-period=1h", f"--run-dir={tmp_path}/run",
                     f"--health-probe-bind-addr=127.0.0.1:{port}",
                     f"--metrics-bind-addr=127.0.0.1:{port}", "-v=2",
                     *extra], env=e)
        p.port, p.lock = port, lock
        p.identity = p.wait_log(r"identity (\S+),").group(1)
        wait_for(lambda: is_leader(port), 3 * (LEASE + RETRY) + 20,
                 what="leading")
        p.worker = wait_for(lambda: worker_pid(port), 60,
                            what="service-lb worker running")
        return p
    return start


def renew_time(cluster, p):
    spec = cluster.get("/apis/coordination.k8s.io/v1/namespaces/"
                       f"kube-system/leases/{p.lock}")["spec"]
    assert spec["holderIdentity"] == p.identity
    return micro(spec["renewTime"])


def frozen_leader_sends_nothing_late(cluster, sim, p, trigger):
    """SIGSTOPs the leader's supervisor, runs trigger(), waits until its
    worker had a cloud mutation refused by the fence, and checks that no
    mutation from its workers arrived (cloud or API server) after the
    last renew the frozen supervisor made + lease - slack."""
    mark = p.log_size()
    os.kill(p.pid, signal.SIGSTOP)
    frozen = time.time()
    try:
        trigger()
        p.wait_log(r"slb \w+: outside the fence window, not sent",
                   timeout=300, start=mark)
        # no one else runs for this Lease: it still holds the frozen
        # supervisor's last renew, the latest renew_sent any worker knew
        bound = renew_time(cluster, p) + LEASE - SLACK + EPS
        assert bound > frozen - LEASE, "a renew after the freeze?"
        late = [c for c in cloud_mutations(sim, frozen)
                if c["time"] >= bound]
        assert not late, (bound, late)
        late = [m for m in kube_mutations(cluster, p.identity, frozen)
                if m[0] >= bound]
        assert not late, (bound, late)
    finally:
        os.kill(p.pid, signal.SIGCONT)
    return frozen


def test_slow_rate_waits_keep_heartbeat_and_never_send_late(
        cluster, sim, world, ccm):
    """--slb-api-qps=0.05: one SLB call per 20 s, each wait twice the
    supervisor's 10 s heartbeat deadline. The worker lives through the
    waits; frozen, it never sends a mutation after its window."""
    three_nodes(world, uniq("rate"))
    p = ccm(["--slb-api-qps=0.05"])
    name = uniq("rate")
    world.svc(svc_body(name))
    # the finalizer is the sync's one Kubernetes write before its cloud
    # calls: once it is on, what the frozen worker does next is cloud work
    wait_for(lambda: (cluster.get(f"/api/v1/namespaces/{NS}/services/{name}")
                      or {}).get("metadata", {}).get("finalizers"), 120,
             what="our finalizer on the Service")

    def slb_calls():
        return [c for c in sim.calls() if c.get("version") == SLB_VERSION]
    calls = wait_for(lambda: len(slb_calls()) >= 2 and slb_calls(), 240,
                     what="two SLB calls at 0.05/s")
    # the premise: the worker waited for its rate longer than the
    # heartbeat deadline (10 s) with the supervisor watching
    assert calls[1]["time"] - calls[0]["time"] > 10
    assert worker_pid(p.port) == p.worker
    assert restarts(p.port) == 0
    assert "missed its heartbeat deadline" not in p.log()

    frozen_leader_sends_nothing_late(cluster, sim, p, lambda: None)
    assert p.alive()


def test_slow_metadata_keeps_heartbeat_and_never_sends_late(
        cluster, sim, world, ccm):
    """RAM-role credentials with 6 s STS keys (refreshed after 3 s) from
    a metadata service that answers only after 20 s: the worker lives
    through the refresh; frozen, the sync that starts with a refresh
    ends with its mutation refused by the fence, never sent late. (The
    cloud client alone, where the refresh falls between the window check
    of the old code and the send, is test_slow_refresh_is_fenced.)"""
    sim.client.mutate("set_metadata", sts_ttl_s=6)
    three_nodes(world, uniq("meta"))
    p = ccm(cloud={"accessKeyID": None, "accessKeySecret": None})

    def stall(seconds):
        until = time.time() + seconds
        sim.client.config(metadata_stall_until=until)
        return until

    def answered_after(until):
        return [c for c in sim.calls("Metadata")
                if c["answered"] >= until and "security-credentials" in
                c.get("path", "")]

    def key_aged():
        # the Service's sync must need a refresh: its key is past half its
        # life (3 s) when the sync starts, so the sync cannot finish on a
        # key fetched just before the stall
        got = [c["answered"] for c in sim.calls("Metadata")
               if "security-credentials" in c.get("path", "")]
        return not got or time.time() > max(got) + 4

    # live supervisor: a 20 s refresh, twice the heartbeat deadline
    until = stall(20)
    wait_for(key_aged, 30, what="the STS key aged")
    first = uniq("meta")
    world.svc(svc_body(first))
    wait_for(lambda: ingress_ip(cluster, first), 180, what="ingress IP")
    assert answered_after(until), "the refresh did not wait for metadata"
    rpc = [c for c in sim.calls() if c["action"] != "Metadata"]
    assert rpc and all(c["access_key_id"].startswith("STS.") for c in rpc)
    assert worker_pid(p.port) == p.worker
    assert restarts(p.port) == 0
    assert "missed its heartbeat deadline" not in p.log()

    # frozen supervisor: the refresh ends long after the window closed.
    # The key must be due for refresh when the next sync starts, and the
    # sync must reach the cloud: a new port on the Service that already
    # has its finalizer (a new Service would first be fenced on the
    # Kubernetes side, adding the finalizer).
    last = max(c["answered"] for c in sim.calls("Metadata")
               if "security-credentials" in c.get("path", ""))
    wait_for(lambda: time.time() > last + 4, 30, what="the STS key aged")
    box = {}

    def trigger():
        box["until"] = stall(20)
        st, out = cluster.api(
            "PATCH", f"/api/v1/namespaces/{NS}/services/{first}",
            {"spec": {"ports": [{"name": "p80", "port": 80, "protocol": "TCP",
                                 "targetPort": 80},
                                {"name": "p81", "port": 81, "protocol": "TCP",
                                 "targetPort": 81}]}},
            content_type="application/merge-patch+json")
        assert st == 200, out
    frozen_leader_sends_nothing_late(cluster, sim, p, trigger)
    assert answered_after(box["until"])
    assert p.alive()


# -- the cloud client alone (tests/integ/prog_alicloud) -----------------------------

def prog_env(sim, **kw):
    ak, sk, region, _, _ = sim.credentials()
    return dict(os.environ, **sim.env, ACCESS_KEY_ID=ak,
                ACCESS_KEY_SECRET=sk, ALI_REGION=region, **kw)


def prog(prog_bin, env, *args):
    out = subprocess.run([prog_bin("prog_alicloud"), *args], env=env,
                         capture_output=True, text=True, timeout=120)
    assert "runtime error" not in out.stderr, out.stderr
    assert "AddressSanitizer" not in out.stderr, out.stderr
    return out


def new_lb(sim, prog_bin):
    vsw = sim.credentials()[4]
    out = prog(prog_bin, prog_env(sim), "create-lb", "name=fence",
               "address_type=intranet", f"vswitch={vsw}")
    m = re.search(r"^lb id=(\S+)", out.stdout, re.M)
    assert m, out.stdout
    return m.group(1)


def test_cloud_call_waiting_past_the_fence_is_fenced(sim, prog_bin):
    """A fence window of 5 s from start (a frozen leader's worker) and a
    rate of one call per 5 s: the first rename is sent, the second waits
    for its rate past the window and is refused at send time. The wait
    reported progress (heartbeats) at least every second."""
    lb = new_lb(sim, prog_bin)
    env = prog_env(sim, ALI_RATE="0.2", ALI_FENCE_MS="5000",
                   ALI_TIMEOUT_MS="1000")
    out = prog(prog_bin, env, "loop", "2", "0", "set-name", lb, "renamed")
    lines = out.stdout.splitlines()
    assert lines[0] == "ok", out.stdout
    assert lines[1].startswith("error rc=-110 "), out.stdout
    assert "code=Fenced" in lines[1], out.stdout
    assert len(sim.calls("SetLoadBalancerName")) == 1
    # two attempts, and about 5 s of rate wait reported at least every
    # second
    m = re.search(r"^progress calls=(\d+)$", out.stdout, re.M)
    assert m and int(m.group(1)) >= 6, out.stdout


def test_slow_refresh_is_fenced(sim, prog_bin):
    """RAM-role credentials from a metadata service that answers only
    after 20 s, inside a 5 s fence window: the refresh comes before the
    fence, so the signed request is refused, never sent late; each
    metadata attempt (5 s) reported progress."""
    lb = new_lb(sim, prog_bin)
    env = prog_env(sim, ALI_FENCE_MS="5000", ALI_TIMEOUT_MS="1000")
    del env["ACCESS_KEY_ID"], env["ACCESS_KEY_SECRET"]
    until = time.time() + 20
    sim.client.config(metadata_stall_until=until)
    out = prog(prog_bin, env, "set-name", lb, "renamed")
    assert out.returncode == 1, out.stdout + out.stderr
    assert re.search(r"^error rc=-110 .*code=Fenced", out.stdout, re.M), \
        out.stdout
    assert not sim.calls("SetLoadBalancerName")
    # the key was obtained after the stall, then the fence said no
    assert any(c["answered"] >= until and "security-credentials" in
               c.get("path", "") for c in sim.calls("Metadata"))
    m = re.search(r"^progress calls=(\d+)$", out.stdout, re.M)
    assert m and int(m.group(1)) >= 4, out.stdout


def test_cloud_call_inside_the_window_is_sent(sim, prog_bin):
    """The control: the same two renames inside a long window are both
    sent, the second after waiting for its rate."""
    lb = new_lb(sim, prog_bin)
    env = prog_env(sim, ALI_RATE="0.5", ALI_FENCE_MS="60000",
                   ALI_TIMEOUT_MS="1000")
    out = prog(prog_bin, env, "loop", "2", "0", "set-name", lb, "renamed")
    assert out.returncode == 0, out.stdout + out.stderr
    calls = sim.calls("SetLoadBalancerName")
    assert len(calls) == 2
    assert calls[1]["time"] - calls[0]["time"] >= 1.5


# -- the Kubernetes client alone (tests/integ/prog_kube) -----------------------------

def kube_twice(cluster, prog_bin, **env):
    """Creates the same ConfigMap twice; -> ([(status, result)], progress)."""
    name = uniq("fence")
    body = ('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"}}'
            % name)
    e = dict(os.environ, PROG_KUBE_REPEAT="2", PROG_KUBE_TIMEOUT_MS="1000",
             **env)
    e.pop("KUBECONFIG", None)
    out = subprocess.run([prog_bin("prog_kube"),
                          f"--kubeconfig={cluster.kubeconfig}", "req", "POST",
                          "/api/v1/namespaces/default/configmaps", body],
                         env=e, capture_output=True, text=True, timeout=120)
    assert not harness.SANITIZER_RE.search(out.stdout + out.stderr), \
        out.stderr
    res = list(zip(re.findall(r"^status (-?\d+)$", out.stdout, re.M),
                   re.findall(r"^result (-?\d+)$", out.stdout, re.M)))
    m = re.search(r"^progress (\d+)$", out.stdout, re.M)
    assert m, out.stdout
    cluster.api("DELETE", f"/api/v1/namespaces/default/configmaps/{name}")
    return res, int(m.group(1))


def test_kube_request_waiting_past_the_fence_is_fenced(cluster, prog_bin):
    """--kube-api-qps 0.2 (one request per 5 s) and a 5 s window: the
    second create waits for its rate past the window and is refused
    before it is sent (a sent one would get 409 AlreadyExists); the wait
    reported progress at least every second."""
    res, progress = kube_twice(cluster, prog_bin, PROG_KUBE_QPS="0.2",
                               PROG_KUBE_FENCE_MS="5000")
    assert res == [("201", "0"), ("0", "-110")], res
    assert progress >= 4


def test_kube_request_inside_the_window_is_sent(cluster, prog_bin):
    """The control: in a long window the second create is sent after its
    rate wait and the API server answers 409."""
    res, progress = kube_twice(cluster, prog_bin, PROG_KUBE_QPS="0.5",
                               PROG_KUBE_FENCE_MS="60000")
    assert res == [("201", "0"), ("409", "-17")], res
    assert progress >= 1


# -- the release binary ---------------------------------------------------------------

def release_bin():
    return os.environ.get("CCM_RELEASE_BIN") or os.path.join(
        harness.REPO, "bin", "cloud-controller-manager")


def test_release_binary_has_no_test_hooks(ccm_bin):
    rel = release_bin()
    assert os.access(rel, os.X_OK), f"{rel} missing: run `make testbins`"
    with open(rel, "rb") as f:
        data = f.read()
    found = [h for h in HOOKS if h.encode() in data]
    assert not found, f"test hooks in the release binary: {found}"
    # the scan finds them where they are: the test build keeps them
    with open(ccm_bin, "rb") as f:
        data = f.read()
    assert all(h.encode() in data for h in HOOKS[:4])


def test_release_binary_ignores_scaffold(run_ccm, tmp_path, cluster, sim):
    """CCM_SCAFFOLD in the environment selects nothing in the release
    binary: the real controller starts (it logs its own start line)."""
    port = free_port()
    cc = sim.cloud_config(str(tmp_path / "cloud.json"))
    env = dict(os.environ, **sim.env, CCM_SCAFFOLD="all")
    p = run_ccm([f"--cloud-config={cc}", f"--kubeconfig={cluster.kubeconfig}",
                 "--leader-elect=false", "--controllers=service",
                 "--configure-cloud-routes=false", f"--run-dir={tmp_path}/run",
                 f"--health-probe-bind-addr=127.0.0.1:{port}",
                 "--metrics-bind-addr="], env=env, bin=release_bin())
    p.wait_log(r"service-lb controller started", timeout=60)
    assert "scaffolding controller" not in p.log()


def test_supervisor_and_workers_are_not_dumpable(run_ccm, cluster, sim,
                                                 tmp_path):
    """PR_SET_DUMPABLE is cleared by the supervisor and again by every
    worker after its execve (each reports what the kernel says)."""
    port = free_port()
    cc = sim.cloud_config(str(tmp_path / "cloud.json"))
    p = run_ccm([f"--cloud-config={cc}", f"--kubeconfig={cluster.kubeconfig}",
                 "--leader-elect=false", "--controllers=service,node",
                 "--configure-cloud-routes=false", f"--run-dir={tmp_path}/run",
                 f"--health-probe-bind-addr=127.0.0.1:{port}",
                 "--metrics-bind-addr=", "-v=1"], env=dict(sim.env))
    for role in ("supervisor", "service-lb", "node-init"):
        p.wait_log(r"%s: core dumps off \(dumpable=0\)" % role, timeout=60)
    assert "dumpable=1" not in p.log()


def test_supervisor_resumed_after_a_stall_keeps_healthy_workers(ccm):
    """A supervisor stopped longer than its loop watchdog (10 s) but inside
    its renew deadline must not kill workers whose heartbeats simply sat
    unread in the status channel while it was stopped."""
    p = ccm(extra=["--leader-elect-lease-duration=60s",
                   "--leader-elect-renew-deadline=40s",
                   "--leader-elect-retry-period=2s"])
    before = restarts(p.port)
    mark = p.log_size()
    os.kill(p.pid, signal.SIGSTOP)
    try:
        # the worker heartbeats on its own meanwhile; 16 s is past both
        # the loop watchdog and the 15 s heartbeat deadline
        time.sleep(16)
    finally:
        os.kill(p.pid, signal.SIGCONT)
    p.wait_log(r"supervisor loop stalled", timeout=30, start=mark)
    # /metrics is served by the same loop: an answer after the stall line
    # proves the tick that judged the heartbeats has finished
    wait_for(lambda: http(p.port, "/metrics")[0] == 200, 30,
             what="metrics after resume")
    assert "missed its heartbeat deadline" not in p.log()[mark:]
    assert restarts(p.port) == before
    assert worker_pid(p.port) == p.worker
