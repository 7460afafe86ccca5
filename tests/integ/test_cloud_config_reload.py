"""Cloud-config reload (issue 12): the supervisor watches the file, the
ConfigMap volume's atomic "..data" swap included, restarts the workers on
valid new content, keeps them on invalid content or a changed identity key,
and warns about a world-readable file on a host install.

The route worker is the probe: it calls the cloud when it starts and when a
Node appears, so the simulator's call log shows which AccessKeyId each
worker generation uses."""

import base64
import os
import re
import stat
import time
import urllib.error
import urllib.request

import pytest

from harness import free_port, wait_for
from test_route import delete_all_nodes, make_node

KEY_B = ("LTAI5tSimRotatedKey0002", "SimRotatedSecret0002abcdefghijXYZ")
CIDR = "10.244.0.0/16"


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=5) as r:
            return r.read().decode()
    except (urllib.error.URLError, OSError):
        return ""


def counter(port, name, result=None):
    total = 0.0
    for line in http(port, "/metrics").splitlines():
        if not line.startswith(name + "{") or 'worker="supervisor"' not in line:
            continue
        if result and f'result="{result}"' not in line:
            continue
        total += float(line.rsplit(" ", 1)[1])
    return total


def worker_pids(port):
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"worker (\S+): running \(pid (\d+)", http(port, "/readyz"))}


class ConfigMapDir:
    """A directory laid out as the kubelet lays out a ConfigMap volume:
    cloud-config.conf -> ..data/cloud-config.conf, ..data -> ..<stamp>,
    updated by writing a new ..<stamp> and renaming a symlink over ..data."""

    def __init__(self, base, sim):
        self.base, self.sim, self.n = base, sim, 0
        os.makedirs(base)
        self.path = os.path.join(base, "cloud-config.conf")
        os.symlink("..data/cloud-config.conf", self.path)

    def publish(self, text=None, **overrides):
        self.n += 1
        stamp = "..2026_12_02_08_00_%02d.%d" % (self.n, 1000 + self.n)
        d = os.path.join(self.base, stamp)
        os.makedirs(d)
        f = os.path.join(d, "cloud-config.conf")
        if text is None:
            kw = {"clusterID": "reload-test"}
            kw.update(overrides)
            self.sim.cloud_config(f, **kw)
        else:
            with open(f, "w") as fh:
                fh.write(text)
        os.chmod(f, 0o644)
        tmp = os.path.join(self.base, "..data_tmp")
        os.symlink(stamp, tmp)
        os.rename(tmp, os.path.join(self.base, "..data"))


def b64(s):
    return base64.b64encode(s.encode()).decode()


@pytest.fixture
def reload_ccm(run_ccm, cluster, sim, tmp_path):
    """-> (process, port, ConfigMapDir, run dir) with only the route worker
    and the cloud-config in a ConfigMap-like directory; /metrics and
    /readyz share the port."""
    delete_all_nodes(cluster)
    cm = ConfigMapDir(str(tmp_path / "cm"), sim)
    cm.publish()
    port = free_port()
    run_dir = str(tmp_path / "run")
    args = [f"--cloud-config={cm.path}",
            f"--kubeconfig={cluster.kubeconfig}",
            "--controllers=route", "--leader-elect=false",
            f"--cluster-cidr={CIDR}", "--route-reconciliation-period=1h",
            f"--run-dir={run_dir}",
            f"--health-probe-bind-addr=127.0.0.1:{port}",
            f"--metrics-bind-addr=127.0.0.1:{port}", "-v=2"]
    p = run_ccm(args, env=dict(sim.env))
    yield p, port, cm, run_dir
    delete_all_nodes(cluster)


def cloud_calls(sim):
    return [c for c in sim.calls() if c["action"] != "Metadata"]


def wait_first_pass(sim, port, key):
    wait_for(lambda: any(c["access_key_id"] == key for c in cloud_calls(sim)),
             60, what=f"a cloud call with {key}")
    wait_for(lambda: worker_pids(port).get("route"), 60, what="route ready")


def test_key_rotation_through_a_configmap_swap(reload_ccm, sim, cluster):
    p, port, cm, run_dir = reload_ccm
    key_a = sim.credentials()[0]
    sim.client.mutate("add_account", access_key_id=KEY_B[0],
                      access_key_secret=KEY_B[1])
    wait_first_pass(sim, port, key_a)
    snap = os.path.join(run_dir, "cloud-config.json")
    assert stat.S_IMODE(os.stat(snap).st_mode) == 0o600
    old = worker_pids(port)["route"]

    cm.publish(accessKeyID=b64(KEY_B[0]), accessKeySecret=b64(KEY_B[1]))
    wait_for(lambda: counter(port, "ccm_cloud_config_reloads_total",
                             "applied") == 1, 60, what="reload applied")
    wait_for(lambda: worker_pids(port).get("route") not in (None, old), 60,
             what="a new route worker")
    wait_for(lambda: any(c["access_key_id"] == KEY_B[0]
                         for c in cloud_calls(sim)), 60,
             what="a cloud call with the new key")
    # the old key is revoked once the new one is in use
    sim.client.mutate("add_account", access_key_id=key_a,
                      access_key_secret=sim.credentials()[1], disabled=True)
    make_node(cluster, "reload-n1", "10.244.1.0/24", "i-sim0002")
    wait_for(lambda: any(c["action"] == "CreateRouteEntry"
                         for c in cloud_calls(sim)), 60,
             what="the new worker creates a route")

    calls = cloud_calls(sim)
    first_b = min(c["seq"] for c in calls if c["access_key_id"] == KEY_B[0])
    after = [c for c in calls if c["seq"] > first_b]
    assert after and all(c["access_key_id"] == KEY_B[0] for c in after), \
        [(c["seq"], c["access_key_id"], c["action"]) for c in after]
    assert not [c for c in calls if "AccessKey" in (c.get("code") or "")]
    log = p.log()
    assert log.count("changed: restarting the workers") == 1
    assert KEY_B[1] not in log and b64(KEY_B[1]) not in log
    with open(snap) as f:
        assert b64(KEY_B[0]) in f.read()


def test_invalid_content_keeps_the_workers_and_logs_once(reload_ccm, sim):
    p, port, cm, run_dir = reload_ccm
    wait_first_pass(sim, port, sim.credentials()[0])
    pid = worker_pids(port)["route"]
    snap = os.path.join(run_dir, "cloud-config.json")
    with open(snap) as f:
        before = f.read()

    cm.publish(text='{"Global": {"accessKeyID": "!!not base64"')
    wait_for(lambda: counter(port, "ccm_cloud_config_reloads_total",
                             "invalid") == 1, 60, what="invalid counted")
    seen = counter(port, "ccm_cloud_config_checks_total")
    # proof that later polls ran over the same bad content
    wait_for(lambda: counter(port, "ccm_cloud_config_checks_total") >=
             seen + 2, 60, what="two more checks")
    assert counter(port, "ccm_cloud_config_reloads_total", "invalid") == 1
    assert counter(port, "ccm_cloud_config_reloads_total", "applied") == 0
    assert worker_pids(port)["route"] == pid
    assert p.log().count("keep running on the last accepted") == 1
    with open(snap) as f:
        assert f.read() == before

    # fixed content is picked up again
    cm.publish(zoneid="cn-hangzhou-k")
    wait_for(lambda: counter(port, "ccm_cloud_config_reloads_total",
                             "applied") == 1, 60, what="fixed content applied")


def test_identity_key_change_is_refused(reload_ccm, sim):
    p, port, cm, run_dir = reload_ccm
    wait_first_pass(sim, port, sim.credentials()[0])
    pid = worker_pids(port)["route"]

    cm.publish(clusterID="another-cluster")
    wait_for(lambda: counter(port, "ccm_cloud_config_reloads_total",
                             "refused") == 1, 60, what="refusal counted")
    seen = counter(port, "ccm_cloud_config_checks_total")
    wait_for(lambda: counter(port, "ccm_cloud_config_checks_total") >=
             seen + 2, 60, what="two more checks")
    assert worker_pids(port)["route"] == pid
    log = p.log()
    assert log.count("clusterID changed") == 1, log
    snap = os.path.join(run_dir, "cloud-config.json")
    with open(snap) as f:
        assert "reload-test" in f.read()

    # a worker that dies now restarts on the accepted snapshot, not the file
    os.kill(pid, 9)
    wait_for(lambda: worker_pids(port).get("route") not in (None, pid), 60,
             what="route worker restarted")
    new = worker_pids(port)["route"]
    with open(f"/proc/{new}/cmdline", "rb") as f:
        argv = f.read().split(b"\0")
    assert f"--cloud-config={snap}".encode() in argv


def _start_host(run_ccm, cluster, sim, tmp_path, cc, name):
    port = free_port()
    return run_ccm([f"--cloud-config={cc}",
                    f"--kubeconfig={cluster.kubeconfig}",
                    "--controllers=route", "--leader-elect=false",
                    f"--cluster-cidr={CIDR}",
                    f"--run-dir={tmp_path}/run-{name}",
                    f"--health-probe-bind-addr=127.0.0.1:{port}",
                    "--metrics-bind-addr=", "-v=2"], env=dict(sim.env))


def test_world_readable_cloud_config_warns_on_a_host_only(run_ccm, cluster,
                                                          sim, tmp_path):
    ready = "supervisor "
    open_cc = sim.cloud_config(str(tmp_path / "open.json"))
    os.chmod(open_cc, 0o644)
    tight_cc = sim.cloud_config(str(tmp_path / "tight.json"))
    os.chmod(tight_cc, 0o600)
    cm = ConfigMapDir(str(tmp_path / "cm"), sim)
    cm.publish()

    procs = {n: _start_host(run_ccm, cluster, sim, tmp_path, cc, n)
             for n, cc in (("open", open_cc), ("tight", tight_cc),
                           ("cm", cm.path))}
    for p in procs.values():
        p.wait_log(r"supervisor \S+ \(identity", timeout=60)
    warn = "is readable by every user (mode 0644)"
    assert procs["open"].log().count(warn) == 1
    assert warn not in procs["tight"].log()
    assert warn not in procs["cm"].log()
    assert ready in procs["open"].log()
