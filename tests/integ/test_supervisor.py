"""Supervisor and worker lifecycle (scaffolding controllers, no leader
election): spawn, restart with backoff, wedged workers, parent death, the
run-dir lock, health endpoints, --dry-run; and the seed's command line end
to end with the real controllers. Bounds are generous multiples of the
configured durations."""

import json
import os
import re
import signal
import time
import urllib.error
import urllib.request

import pytest

from harness import free_port, wait_for

WORKERS = ("service-lb", "route", "node-init")


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def worker_pids(port):
    """{name: pid} of running workers, from /readyz."""
    _, body = http(port, "/readyz")
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"worker (\S+): running \(pid (\d+)", body)}


def metric(port, name, worker):
    _, body = http(port, "/metrics")
    m = re.search(r'^%s\{worker="%s"\} (\S+)$' % (re.escape(name), worker),
                  body, re.M)
    return float(m.group(1)) if m else None


@pytest.fixture
def cloud_config(tmp_path):
    p = tmp_path / "cloud-config.json"
    p.write_text(json.dumps({"Global": {
        "accessKeyID": "QUtJRHRlc3Q=", "accessKeySecret": "c2VjcmV0c2VjcmV0",
        "region": "cn-hangzhou", "vpcid": "vpc-test",
        "vswitchid": "vsw-test", "clusterID": "test"}}))
    return str(p)


@pytest.fixture
def sup(run_ccm, cluster, cloud_config, tmp_path):
    """sup(extra_args, env) -> (Process, health_port, run_dir)."""
    n = [0]

    def start(extra=(), env=None, run_dir=None):
        n[0] += 1
        port = free_port()
        rd = run_dir or str(tmp_path / f"run{n[0]}")
        args = [f"--cloud-config={cloud_config}",
                f"--kubeconfig={cluster.kubeconfig}",
                "--cluster-cidr=10.244.0.0/16",
                f"--run-dir={rd}",
                f"--health-probe-bind-addr=127.0.0.1:{port}",
                f"--metrics-bind-addr=127.0.0.1:{port}", *extra]
        # scaffolding controllers: this file tests the supervisor only
        p = run_ccm(args, env={"CCM_SCAFFOLD": "all", **(env or {})})
        return p, port, rd
    return start


def all_running(port):
    pids = worker_pids(port)
    return pids if len(pids) == len(WORKERS) else None


def test_workers_start_and_restart_after_kill(sup):
    p, port, _ = sup(["--leader-elect=false"])
    pids = wait_for(lambda: all_running(port), 60, what="3 workers running")
    assert set(pids) == set(WORKERS)
    for name, pid in pids.items():
        with open(f"/proc/{pid}/comm") as f:
            assert f.read().strip() == f"ccm-{name}"
        with open(f"/proc/{pid}/status") as f:
            assert re.search(r"^NoNewPrivs:\s+1$", f.read(), re.M)
        # only 0, 1, 2 and the status channel are inherited (nanomsg and
        # curl in the worker open their own later, all above 3)
        assert os.path.exists(f"/proc/{pid}/fd/3")
    assert metric(port, "ccm_worker_restarts_total", "route") == 0
    os.kill(pids["route"], signal.SIGKILL)
    new = wait_for(lambda: (lambda q: q if q.get("route", pids["route"])
                            != pids["route"] and len(q) == 3 else None)(
        worker_pids(port)), 30, what="route restarted")
    assert new["service-lb"] == pids["service-lb"]
    assert new["node-init"] == pids["node-init"]
    assert metric(port, "ccm_worker_restarts_total", "route") == 1
    p.wait_log(r"worker route \(signal 9\) restarting in")
    st, _ = http(port, "/healthz")
    assert st == 200
    assert p.stop() == 0
    assert p.descendants() == []


def test_crash_looping_worker_backs_off(sup):
    p, port, _ = sup(["--leader-elect=false"],
                     env={"CCM_SCAFFOLD_EXIT": "route"})
    delays = []

    def three_restarts():
        delays[:] = [float(x) for x in re.findall(
            r"worker route \(exit 1\) restarting in ([\d.]+)s", p.log())]
        return len(delays) >= 3
    wait_for(three_restarts, 60, what="three restarts of route")
    # jittered doubling (0.8-1.2 of 1 s, 2 s, 4 s): strictly increasing
    assert delays[0] >= 1.0 and delays[1] > delays[0] and \
        delays[2] > delays[1], delays
    others = worker_pids(port)
    assert "service-lb" in others and "node-init" in others
    st, body = http(port, "/healthz")
    assert st == 200, body
    st, body = http(port, "/readyz")
    assert st == 500
    assert re.search(r"\[-\]worker route: (crash-looping|restarting) "
                     r"\(exit 1\), next start in \d+s", body), body
    assert "[+]worker service-lb: running" in body
    assert worker_pids(port)["service-lb"] == others["service-lb"]
    assert metric(port, "ccm_worker_restarts_total", "route") >= 3


def test_wedged_worker_is_killed_and_restarted(sup):
    p, port, _ = sup(["--leader-elect=false"],
                     env={"CCM_SCAFFOLD_WEDGE": "node-init"})
    first = wait_for(lambda: all_running(port), 60)
    p.wait_log(r"worker node-init \(pid %d\) missed its heartbeat deadline"
               % first["node-init"], timeout=60)
    p.wait_log(r"worker node-init \(wedged\) restarting in", timeout=30)
    wait_for(lambda: worker_pids(port).get("node-init", first["node-init"])
             != first["node-init"], 30, what="node-init restarted")
    assert worker_pids(port)["route"] == first["route"]


def test_stopped_worker_is_detected(sup):
    p, port, _ = sup(["--leader-elect=false"])
    first = wait_for(lambda: all_running(port), 60)
    os.kill(first["service-lb"], signal.SIGSTOP)
    p.wait_log(r"worker service-lb \(pid %d\) missed its heartbeat"
               % first["service-lb"], timeout=60)
    wait_for(lambda: worker_pids(port).get("service-lb", first["service-lb"])
             != first["service-lb"], 30, what="service-lb restarted")


def test_workers_die_with_supervisor(sup):
    p, port, _ = sup(["--leader-elect=false"])
    pids = wait_for(lambda: all_running(port), 60)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()

    def gone():
        return all(not os.path.exists(f"/proc/{x}") or
                   open(f"/proc/{x}/stat").read().split()[2] == "Z"
                   for x in pids.values())
    wait_for(gone, 15, what="workers exit after their supervisor died")


def test_second_instance_on_same_run_dir_exits_2(sup):
    p, port, rd = sup(["--leader-elect=false"])
    wait_for(lambda: all_running(port), 60)
    q, _, _ = sup(["--leader-elect=false"], run_dir=rd)
    assert q.wait(30) == 2
    assert re.search(r"in use by another supervisor \(pid %d\)" % p.pid,
                     q.log())
    assert p.alive()
    assert oct(os.stat(rd).st_mode & 0o777) == "0o700"


def test_run_dir_too_long_exits_2(sup, tmp_path):
    rd = str(tmp_path / ("d" * 120))
    q, _, _ = sup(["--leader-elect=false"], run_dir=rd)
    assert q.wait(30) == 2


def test_dry_run_exits_after_one_pass(sup, cluster):
    before = cluster.get("/apis/coordination.k8s.io/v1/namespaces/"
                         "kube-system/leases/ccm-dry")
    p, port, _ = sup(["--dry-run", "--leader-elect-resource-name=ccm-dry"],
                     env={"CCM_SCAFFOLD_FENCE_PROBE": "1"})
    assert p.wait(60) == 0
    log = p.log()
    assert "leader election is turned off" in log
    assert "dry-run: would patch configmap" in log
    assert "every worker finished one pass" in log
    assert cluster.get("/apis/coordination.k8s.io/v1/namespaces/"
                       "kube-system/leases/ccm-dry") == before


def test_metrics_and_readyz_contents(sup):
    p, port, _ = sup(["--leader-elect=false"])
    wait_for(lambda: all_running(port), 60)
    st, body = http(port, "/metrics")
    assert st == 200
    assert re.search(r'^leader_election_master_status\{name="ccm"\} 0$',
                     body, re.M)
    for w in WORKERS:
        assert re.search(r'^ccm_worker_up\{worker="%s"\} 1$' % w, body, re.M)
        assert re.search(r'^ccm_worker_last_heartbeat_seconds\{worker="%s"\}'
                         r' \d' % w, body, re.M)
    st, body = http(port, "/readyz")
    assert st == 200 and "[+]leadership: election disabled" in body
    st, body = http(port, "/livez")
    assert st == 200 and body == "ok"
    assert http(port, "/nope")[0] == 404


SEED_FLAGS = [  # the container command of /work/shared/seed/yaml/ccm.yaml
    "--leader-elect=true", "--cloud-provider=alicloud",
    "--use-service-account-credentials=true",
    "--configure-cloud-routes=true", "--route-reconciliation-period=3m",
    "--leader-elect-resource-lock=endpoints",
    "--cluster-cidr=172.16.0.0/16"]


def test_seed_command_line_runs_three_workers(run_ccm, cluster, sim,
                                              tmp_path):
    """The issue's Done-when: the seed's flags against the local API server
    and the simulator give one leader, three real workers, healthy
    /healthz and /readyz. Only the probe port and the run directory are
    moved off their defaults, which other processes on a test host use."""
    port = free_port()
    cc = sim.cloud_config(str(tmp_path / "cloud-config.conf"))
    p = run_ccm([*SEED_FLAGS, f"--cloud-config={cc}",
                 f"--kubeconfig={cluster.kubeconfig}",
                 f"--health-probe-bind-addr=127.0.0.1:{port}",
                 f"--metrics-bind-addr=127.0.0.1:{port}",
                 f"--run-dir={tmp_path}/run"],
                env={**sim.env, "CCM_SCAFFOLD": ""})
    me = p.wait_log(r"identity (\S+),").group(1)
    # the default lock (ccm, 15 s) may still be held by an earlier test's
    # killed process: bound by 3 x (lease + retry)
    wait_for(lambda: re.search(
        r'^leader_election_master_status\{name="ccm"\} 1$',
        http(port, "/metrics")[1], re.M), 3 * (15 + 2), what="leading")
    pids = wait_for(lambda: all_running(port), 60, what="3 workers running")
    lease = cluster.get("/apis/coordination.k8s.io/v1/namespaces/"
                        "kube-system/leases/ccm")["spec"]
    assert lease["holderIdentity"] == me
    ep = cluster.get("/api/v1/namespaces/kube-system/endpoints/ccm")
    rec = json.loads(ep["metadata"]["annotations"][
        "control-plane.alpha.kubernetes.io/leader"])
    assert rec["holderIdentity"] == me

    # real controllers, each in its own process
    for name, pid in pids.items():
        with open(f"/proc/{pid}/comm") as f:
            assert f.read().strip() == f"ccm-{name}"
    p.wait_log(r"service-lb controller started")
    p.wait_log(r"route controller started: cluster CIDR 172\.16\.0\.0/16")
    p.wait_log(r"node-init controller started")
    assert "scaffolding controller" not in p.log()
    wait_for(lambda: sim.calls("DescribeRouteTableList"), 30,
             what="the route worker reads the VPC's route tables")

    st, body = http(port, "/healthz")
    assert (st, body) == (200, "ok")
    st, body = http(port, "/readyz")
    assert st == 200, body
    assert f"[+]leadership: leader ({me})" in body
    for w in WORKERS:
        assert f"[+]worker {w}: running" in body
    time.sleep(2)
    assert worker_pids(port) == pids, "a worker restarted"

    assert p.stop() == 0
    assert p.descendants() == []
    lease = cluster.get("/apis/coordination.k8s.io/v1/namespaces/"
                        "kube-system/leases/ccm")["spec"]
    assert lease["holderIdentity"] == ""


def test_informer_counters_reach_metrics(run_ccm, cluster, sim, tmp_path):
    """A worker's informer counters are served by the supervisor: after the
    API server restarts, the route worker's Node watch reconnects and
    ccm_informer_reconnects_total{resource="nodes"} counts it."""
    port = free_port()
    cc = sim.cloud_config(str(tmp_path / "cloud-config.conf"))
    p = run_ccm([f"--cloud-config={cc}", f"--kubeconfig={cluster.kubeconfig}",
                 "--leader-elect=false", "--controllers=route",
                 "--cluster-cidr=172.16.0.0/16",
                 f"--health-probe-bind-addr=127.0.0.1:{port}",
                 f"--metrics-bind-addr=127.0.0.1:{port}",
                 f"--run-dir={tmp_path}/run"],
                env={**sim.env, "CCM_SCAFFOLD": ""})
    p.wait_log(r"route controller started")
    pid = wait_for(lambda: worker_pids(port).get("route"), 30,
                   what="route worker running")
    cluster.restart_apiserver()

    def reconnects():
        _, body = http(port, "/metrics")
        m = re.search(r'^ccm_informer_reconnects_total\{[^}]*'
                      r'resource="nodes"[^}]*\} (\S+)$', body, re.M)
        return m and float(m.group(1)) >= 1
    # exported every 10 heartbeats (10 s) after the watch comes back
    wait_for(reconnects, 90, what="informer reconnect counted in /metrics")
    assert worker_pids(port).get("route") == pid
    assert p.stop() == 0
