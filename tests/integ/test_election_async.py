"""The supervisor's loop never waits on the network; expiry by the record's
lease duration; both locks observed every round; graceful stop and release.

Against the real kube-apiserver, through tests/integ/http_proxy.py where a
request must be held back or answered with a conflict. Assertions wait for
proof that the supervisor went through the rounds that matter (the
ccm_leader_election_rounds_total metric, -v=2 round lines), never on a
fixed sleep.
"""

import os
import re
import signal
import time
import urllib.error
import urllib.request

import pytest

from harness import free_port, wait_for
from test_election import cloud_config, lock_name  # noqa: F401 - fixtures
from http_proxy import HttpProxy

LEASE, RENEW, RETRY = 4, 3, 1
FAST = [f"--leader-elect-lease-duration={LEASE}s",
        f"--leader-elect-renew-deadline={RENEW}s",
        f"--leader-elect-retry-period={RETRY}s",
        "--kube-api-timeout=1500ms", "--cloud-api-timeout=1500ms"]
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
EVENTS = r"^/api/v1/namespaces/[^/]+/events"
ROUND = re.compile(r"election round (\d+): (.*)$", re.M)
KLOG_TIME = re.compile(r"^[IWE]\d{4} (\d\d):(\d\d):(\d\d\.\d+)", re.M)


def http(port, path, timeout=5):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def metric(port, name):
    _, body = http(port, "/metrics")
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), body, re.M)
    return float(m.group(1)) if m else None


def events_metric(port, result):
    _, body = http(port, "/metrics")
    m = re.search(r'^ccm_events_total\{result="%s"\} (\S+)$' % result, body,
                  re.M)
    return float(m.group(1)) if m else 0


def is_leader(port):
    _, body = http(port, "/metrics")
    return re.search(r"^leader_election_master_status\{[^}]*\} 1$", body,
                     re.M) is not None


def rounds(port):
    return metric(port, "ccm_leader_election_rounds_total") or 0


def identity(proc):
    return proc.wait_log(r"identity (\S+),").group(1)


def worker_pids(port):
    _, body = http(port, "/readyz")
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"worker (\S+): running \(pid (\d+)", body)}


def micro(ts):
    """Lease MicroTime -> seconds since the epoch."""
    return time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - \
        time.timezone + float("0." + ts[20:26])


@pytest.fixture
def proxy(cluster):
    p = HttpProxy(cluster)
    try:
        yield p
    finally:
        p.close()


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
                f"--leader-elect-resource-name={lock_name}", "--v=2",
                *extra]
        p = run_ccm(args, env={"CCM_SCAFFOLD": "all", **(env or {})})
        return p, port
    return start


def lease(cluster, name):
    return cluster.get(f"{LEASES}/{name}")


def test_slow_event_posts_do_not_cost_the_lease(sup, cluster, proxy,
                                                 tmp_kubeconfig, lock_name):
    # default timings (lease 15 s, renew deadline 10 s, retry 2 s, API
    # timeout 10 s): a blocking Event POST would eat the whole deadline
    proxy.delay(15, "POST", EVENTS)
    a, port = sup(env={"CCM_SCAFFOLD_WEDGE": "node-init"},
                  kubeconfig=tmp_kubeconfig(server=proxy.url()))
    wait_for(lambda: is_leader(port), 60, what="leader")
    me = identity(a)
    wait_for(lambda: proxy.held() >= 1, 30, what="an Event POST held back")
    renews, r0 = set(), rounds(port)
    # the wedged worker is killed and restarted: more Events, held too
    a.wait_log(r"worker node-init \(wedged\) restarting in", timeout=60)
    wait_for(lambda: rounds(port) >= r0 + 10, 120, what="10 more rounds")
    while len(renews) < 8:
        spec = lease(cluster, lock_name)["spec"]
        assert spec["holderIdentity"] == me
        renews.add(spec["renewTime"])
        wait_for(lambda: lease(cluster, lock_name)["spec"]["renewTime"]
                 not in renews, 30, what="the next renew")
    assert proxy.seen("POST", EVENTS) >= 2
    assert is_leader(port)
    assert "leader election lost" not in a.log()
    assert "stopped leading" not in a.log()
    # the held Events ended on their own deadline, not the loop's
    wait_for(lambda: events_metric(port, "failed") >= 1, 60,
             what="an Event timed out")


def test_stalled_api_server_keeps_healthz_and_the_kill_timer(
        sup, proxy, tmp_kubeconfig):
    proxy.delay(15)  # everything
    a, port = sup(["--leader-elect=false"],
                  env={"CCM_SCAFFOLD_WEDGE": "node-init"},
                  kubeconfig=tmp_kubeconfig(server=proxy.url()))
    kills = re.compile(r"worker node-init \(pid \d+\) missed its heartbeat")
    wait_for(lambda: http(port, "/healthz")[0] == 200, 30, what="listening")
    answered = 0
    while len(kills.findall(a.log())) < 2:
        st, body = http(port, "/healthz", timeout=3)
        assert (st, body) == (200, "ok"), "healthz stalled while the API " \
            "server was slow"
        answered += 1
        assert a.alive()
        time.sleep(0.5)
    assert answered >= 10
    assert proxy.held() >= 1 or proxy.seen("POST", EVENTS) >= 1


def test_candidate_waits_for_the_records_longer_lease(sup, cluster,
                                                       lock_name):
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    cluster.create(LEASES, {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": lock_name, "namespace": "kube-system"},
        "spec": {"holderIdentity": "old-ccm", "leaseDurationSeconds": 60,
                 "acquireTime": now, "renewTime": now,
                 "leaseTransitions": 0}})
    t0 = time.monotonic()
    b, port = sup(FAST)
    # rounds keep going and find the old holder alive well past our own
    # 4 s lease
    wait_for(lambda: rounds(port) >= 16, 60, what="16 rounds")
    assert time.monotonic() - t0 < 58, "machine too slow for this check"
    assert lease(cluster, lock_name)["spec"]["holderIdentity"] == "old-ccm"
    assert not is_leader(port)
    m = ROUND.findall(b.log())[-1][1]
    assert "held by old-ccm" in m
    wait_for(lambda: is_leader(port), 120, what="acquired after 60 s")
    assert time.monotonic() - t0 >= 60
    spec = lease(cluster, lock_name)["spec"]
    assert spec["holderIdentity"] == identity(b)
    assert spec["leaseDurationSeconds"] == LEASE


def _round_lines(log):
    return {int(n): rest for n, rest in ROUND.findall(log)}


def test_endpoints_lock_failover_on_first_round_after_both_expired(
        sup, cluster, lock_name):
    extra = [*FAST, "--leader-elect-resource-lock=endpoints"]
    a, pa = sup(extra)
    wait_for(lambda: is_leader(pa), 30, what="first leader")
    b, pb = sup(extra)
    ida = identity(a)
    wait_for(lambda: rounds(pb) >= 3, 30, what="standby rounds")
    os.kill(a.pid, signal.SIGKILL)
    wait_for(lambda: is_leader(pb), 60, what="failover")
    won = int(b.wait_log(r"successfully acquired lease \S+ "
                         r"\(election round (\d+)\)").group(1))
    lines = _round_lines(b.log())
    # every round before it observed both locks
    for n in range(1, won):
        assert "lease kube-system/" in lines[n], lines[n]
        assert "endpoints kube-system/" in lines[n], lines[n]
    # the round before still saw one of them unexpired; the winning round
    # found both expired
    waits = [int(x) for x in re.findall(r"expires in (\d+)ms", lines[won - 1])]
    assert len(waits) == 2 and max(waits) > 0, lines[won - 1]
    assert ida in lines[won - 1]
    waits = [int(x) for x in re.findall(r"expires in (\d+)ms", lines[won])]
    assert waits == [0, 0], lines[won]
    assert lease(cluster, lock_name)["spec"]["holderIdentity"] == identity(b)


def test_sigterm_releases_at_once_when_workers_exit(sup, cluster, lock_name):
    a, pa = sup(FAST)
    wait_for(lambda: is_leader(pa), 30, what="first leader")
    wait_for(lambda: len(worker_pids(pa)) == 3, 60, what="workers")
    b, pb = sup(FAST)
    wait_for(lambda: rounds(pb) >= 2, 30, what="standby rounds")
    assert a.stop() == 0
    log = a.log()
    assert "released lease" in log
    assert "releasing the lease in" not in log
    assert "renew deadline passed; killing workers" not in log
    for w in ("service-lb", "route", "node-init"):
        assert re.search(r"worker %s reaped \(exit 0\)" % w, log), w
    wait_for(lambda: is_leader(pb), 30, what="standby takes over")
    won = int(b.wait_log(r"\(election round (\d+)\)").group(1))
    line = _round_lines(b.log())[won]
    # it found the Lease released (no holder), not expired
    assert "held by nobody" in line, line


def test_sigterm_with_a_stuck_worker_waits_for_its_fence(sup, cluster,
                                                          lock_name):
    a, pa = sup(FAST)
    wait_for(lambda: is_leader(pa), 30, what="leader")
    pids = wait_for(lambda: (lambda p: p if len(p) == 3 else None)(
        worker_pids(pa)), 60, what="workers")
    me = identity(a)
    os.kill(pids["route"], signal.SIGSTOP)
    a.send_signal(signal.SIGTERM)
    a.wait_log(r"releasing the lease in \d+ms", timeout=30)
    last = lease(cluster, lock_name)["spec"]
    assert last["holderIdentity"] == me
    # the release is the first write after the last renew
    spec = wait_for(lambda: (lambda s: s if s["holderIdentity"] == "" else
                             None)(lease(cluster, lock_name)["spec"]), 30,
                    what="release")
    assert a.wait(30) == 0
    released = micro(spec["renewTime"])
    assert released >= micro(last["renewTime"]) + LEASE - 0.05, \
        (spec, last)
    assert spec["leaseDurationSeconds"] == 1


def test_conflict_on_renew_is_retried(sup, cluster, proxy, tmp_kubeconfig,
                                      lock_name):
    a, port = sup(FAST, kubeconfig=tmp_kubeconfig(server=proxy.url()))
    wait_for(lambda: is_leader(port), 30, what="leader")
    proxy.conflict_once("PUT", f"/leases/{lock_name}$")
    wait_for(lambda: (metric(port, "ccm_leader_election_conflicts_total")
                      or 0) >= 1, 30, what="a retried conflict")
    r0 = rounds(port)
    wait_for(lambda: rounds(port) >= r0 + 3, 30, what="3 more rounds")
    assert is_leader(port)
    assert "leader election lost" not in a.log()
    assert lease(cluster, lock_name)["spec"]["holderIdentity"] == identity(a)
