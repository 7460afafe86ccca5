"""`make run` (tests/harness/run-local.sh): the demo shows what the seed's
last step shows, and stops everything it started.

RUN_ONCE=1 exits after printing; without it the demo runs until Ctrl-C.
Health and metrics ports are free ones, so the test can run beside others.
"""
import os
import re
import signal
import subprocess

from harness import REPO, free_port, wait_for

SCRIPT = os.path.join(REPO, "tests", "harness", "run-local.sh")


def demo_env(tmp_path, **extra):
    b = os.path.join(REPO, os.environ.get("BIN", "bin"),
                     "cloud-controller-manager")
    assert os.access(b, os.X_OK), f"{b} missing: make all"
    return dict(os.environ, CCM_BIN=b,
                CCM_HEALTH_ADDR=f"127.0.0.1:{free_port()}",
                CCM_METRICS_ADDR=f"127.0.0.1:{free_port()}",
                RUN_LOCAL_TIMEOUT="150", **extra)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def started(stderr):
    wd = re.search(r"work directory (\S+)", stderr).group(1)
    ccm = int(re.search(r"cloud-controller-manager pid (\d+)",
                        stderr).group(1))
    return wd, ccm


def test_demo_once_prints_the_result(tmp_path):
    r = subprocess.run(["bash", SCRIPT], env=demo_env(tmp_path, RUN_ONCE="1"),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    # kubectl-get-svc-like row with the EXTERNAL-IP, and the CLB behind it
    row = re.search(r"^default\s+nginx\s+LoadBalancer\s+\S+\s+(\S+)\s+"
                    r"80:\d+/TCP$", out, re.M)
    assert row, out
    ip = row.group(1)
    assert re.match(r"^\d+\.\d+\.\d+\.\d+$", ip), out
    clb = re.search(r"^CLB (lb-\S+)\s+address (\S+) \(intranet\)", out, re.M)
    assert clb and clb.group(2) == ip, out
    assert re.search(r"^  listener tcp:80 -> vServer group rsp-", out, re.M)
    assert len(re.findall(r"^    backend i-\S+ port \d+", out, re.M)) == 4
    assert len(re.findall(r"^route table vtb-\S+: 172\.16\.\d\.0/24 -> "
                          r"Instance i-", out, re.M)) == 4
    nodes = re.findall(r"^\S+\s+cn-hangzhou\.i-sim\d+\s+cn-hangzhou-\w\s+"
                       r"ecs\.\S+\s+(\S+)$", out, re.M)
    assert len(nodes) == 4 and not any("uninitialized" in t for t in nodes)
    assert "200 ok" in out
    assert re.search(r"^ccm_worker_up\{worker=\"service-lb\"\} 1$", out,
                     re.M)
    # everything it started is gone
    wd, ccm = started(r.stderr)
    assert not os.path.exists(wd)
    assert not pid_alive(ccm)


def test_demo_runs_until_ctrl_c(tmp_path):
    err = tmp_path / "stderr"
    with open(err, "w") as ef:
        p = subprocess.Popen(["bash", SCRIPT], env=demo_env(tmp_path),
                             stdout=subprocess.PIPE, stderr=ef,
                             text=True, start_new_session=True)
    try:
        wait_for(lambda: "Ctrl-C stops everything" in err.read_text(), 300,
                 0.5, what="the demo's running line")
        wd, ccm = started(err.read_text())
        assert pid_alive(ccm) and os.path.isdir(wd)
        # what Ctrl-C in a terminal does; bash can lose a SIGINT that
        # lands just before its `wait` blocks (right after the line we
        # saw), so it is pressed again until the script reacts
        def stopping():
            if "run-local: stopping" in err.read_text():
                return True
            os.killpg(p.pid, signal.SIGINT)
            return False
        wait_for(stopping, 60, 1.0, what="the demo reacting to Ctrl-C")
        out, _ = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert "EXTERNAL-IP" in out
    assert "run-local: stopping" in err.read_text()
    wait_for(lambda: not pid_alive(ccm), 30, 0.2, what="CCM gone")
    assert not os.path.exists(wd)
    # no etcd or kube-apiserver of the demo's cluster is left
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True,
                        text=True).stdout
    assert wd not in ps
