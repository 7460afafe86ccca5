"""pytest fixtures for the integration tests (see tests/integ/harness.py).

cluster   session: etcd + kube-apiserver 1.20 (tests/harness/cluster.sh)
ccm_bin   path of the ASan+UBSan binary (bin/san/cloud-controller-manager)
sim       function: a fresh cloud simulator with the default state
run_ccm   function: factory run_ccm(args, env=None, log_path=None) ->
          harness.Process; every process is SIGKILLed (whole group) at
          teardown, and a sanitizer report in its output fails the test
tmp_kubeconfig  function: factory (token=None, server=None) -> path
"""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REPO = harness.REPO


@pytest.fixture(scope="session")
def cluster():
    keep = os.environ.get("CCM_KEEP_CLUSTER_DIR")
    d = tempfile.mkdtemp(prefix="ccm-cluster-")
    c = harness.Cluster(d)
    try:
        c.start()
        yield c
    finally:
        c.stop()
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def ccm_bin():
    b = os.environ.get("CCM_BIN") or os.path.join(
        REPO, "bin", "san", "cloud-controller-manager")
    assert os.access(b, os.X_OK), (
        f"{b} missing: build it with `make bin/san/cloud-controller-manager`"
        " (tests/run.sh does `make testbins`)")
    return b


@pytest.fixture(scope="session")
def prog_bin():
    """prog_bin(name) -> path of build/san/tests/integ/<name>."""
    bdir = os.environ.get("CCM_BUILD_DIR") or os.path.join(REPO, "build")

    def get(name):
        p = os.path.join(bdir, "san", "tests", "integ", name)
        assert os.access(p, os.X_OK), f"{p} missing: run `make testbins`"
        return p
    return get


@pytest.fixture
def sim(tmp_path):
    s = harness.Sim(str(tmp_path / "sim"))
    try:
        yield s
    finally:
        s.stop()


def _check_sanitizers(procs):
    bad = []
    for p in procs:
        reps = p.sanitizer_reports()
        if reps:
            bad.append(f"{p.log_path}: {reps[0]}")
    assert not bad, "sanitizer report in process output: " + "; ".join(bad)


@pytest.fixture
def run_ccm(ccm_bin, tmp_path):
    procs = []

    def start(args, env=None, log_path=None, bin=None, cwd=None):
        n = len(procs)
        lp = log_path or str(tmp_path / f"ccm-{n}.log")
        p = harness.run_ccm(bin or ccm_bin, args, env=env, log_path=lp,
                            cwd=cwd)
        procs.append(p)
        return p
    try:
        yield start
    finally:
        for p in procs:
            p.kill()
    _check_sanitizers(procs)


@pytest.fixture
def run_prog(tmp_path):
    """Like run_ccm for any program (e.g. tests/integ/prog_* drivers)."""
    procs = []

    def start(argv, env=None, log_path=None, cwd=None):
        lp = log_path or str(tmp_path / f"prog-{len(procs)}.log")
        p = harness.Process(argv, env=env, log_path=lp, cwd=cwd)
        procs.append(p)
        return p
    try:
        yield start
    finally:
        for p in procs:
            p.kill()
    _check_sanitizers(procs)


@pytest.fixture
def tmp_kubeconfig(cluster, tmp_path):
    n = [0]

    def make(token=None, server=None):
        n[0] += 1
        return cluster.write_kubeconfig(str(tmp_path / f"kubeconfig-{n[0]}"),
                                        token=token, server=server)
    return make


@pytest.fixture
def tcp_proxy():
    """tcp_proxy(host, port) -> harness.TcpProxy, closed at teardown."""
    proxies = []

    def make(host, port):
        p = harness.TcpProxy(host, port)
        proxies.append(p)
        return p
    try:
        yield make
    finally:
        for p in proxies:
            p.close()
