#!/usr/bin/python3
"""Failover benchmark: how long a standby takes to lead after the leader
is SIGKILLed or SIGTERMed, for both lock types, with the seed's election
timings (lease 15 s, renew deadline 10 s, retry period 2 s).

    /usr/bin/python3 bench/bench_failover.py [--bin PATH] [--reps 1]
        [--out FILE]

Starts a local etcd + kube-apiserver (tests/integ/harness.py) and, per case,
two supervisors of the given binary with every controller disabled (only
election is measured; no cloud is needed). The time is from the signal to
the standby's /metrics showing leader_election_master_status 1, polled
every 50 ms; the standby's election round count at that moment is
reported too. Prints a table and writes bench/results/<date>-failover.txt.
Nothing is asserted: `make test` never times anything.
"""

import argparse
import datetime
import json
import os
import re
import signal
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integ"))
import harness  # noqa: E402


def metrics(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                    timeout=2) as r:
            return r.read().decode()
    except OSError:
        return ""


def leading(port):
    return re.search(r"^leader_election_master_status\{[^}]*\} 1$",
                     metrics(port), re.M) is not None


def rounds(port):
    m = re.search(r"^ccm_leader_election_rounds_total (\d+)$", metrics(port),
                  re.M)
    return int(m.group(1)) if m else -1


def start(binary, cluster, work, lock, name, n):
    port = harness.free_port()
    cc = os.path.join(work, "cloud-config.json")
    if not os.path.exists(cc):
        with open(cc, "w") as f:
            json.dump({"Global": {
                "accessKeyID": "QUtJRHRlc3Q=",
                "accessKeySecret": "c2VjcmV0c2VjcmV0",
                "region": "cn-hangzhou", "vpcid": "vpc-bench",
                "vswitchid": "vsw-bench", "clusterID": "bench"}}, f)
    args = [f"--cloud-config={cc}", f"--kubeconfig={cluster.kubeconfig}",
            "--controllers=-service,-route,-node",
            "--configure-cloud-routes=false",
            f"--run-dir={work}/run-{name}-{n}",
            f"--health-probe-bind-addr=127.0.0.1:{port}",
            f"--metrics-bind-addr=127.0.0.1:{port}",
            f"--leader-elect-resource-lock={lock}",
            f"--leader-elect-resource-name={name}"]
    p = harness.run_ccm(binary, args,
                        log_path=os.path.join(work, f"{name}-{n}.log"))
    return p, port


def wait(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def one_case(binary, cluster, work, lock, sig, rep):
    name = f"bench-{lock}-{sig.name.lower()}-{rep}"
    a, pa = start(binary, cluster, work, lock, name, 0)
    b = None
    try:
        if not wait(lambda: leading(pa) or not a.alive(), 60) or \
                not a.alive():
            return None, None
        b, pb = start(binary, cluster, work, lock, name, 1)
        # the standby has observed the locks a few times
        if not wait(lambda: rounds(pb) >= 3, 60):
            return None, None
        t0 = time.monotonic()
        os.kill(a.pid, sig)
        ok = wait(lambda: leading(pb), 120, step=0.05)
        took = time.monotonic() - t0
        return (took if ok else None), rounds(pb)
    finally:
        for p in (a, b):
            if p:
                p.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(
        REPO, "bin", "cloud-controller-manager"))
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--out")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-failover.")
    cluster = harness.Cluster(os.path.join(work, "cluster")).start()
    rows = []
    try:
        for lock in ("leases", "endpoints"):
            for sig in (signal.SIGKILL, signal.SIGTERM):
                for rep in range(a.reps):
                    took, n = one_case(a.bin, cluster, work, lock, sig, rep)
                    rows.append((lock, sig.name, rep, took, n))
                    print(f"{lock:10} {sig.name:8} rep {rep}: "
                          f"{'timeout' if took is None else '%.2f s' % took}"
                          f" (standby round {n})", flush=True)
    finally:
        cluster.stop()
    out = a.out or os.path.join(
        HERE, "results", f"{datetime.date.today()}-failover.txt")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write("# failover: signal to standby leading; seed timings "
                "(lease 15s, renew 10s, retry 2s)\n")
        f.write("lock       signal   rep seconds standby_round\n")
        for lock, sig, rep, took, n in rows:
            f.write(f"{lock:10} {sig:8} {rep:3} "
                    f"{'timeout' if took is None else '%.2f' % took:7} "
                    f"{n}\n")
    print(f"bench: failover results in {out}")
    return 0 if all(r[3] is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
