#!/usr/bin/python3
"""Subset benchmark (issue 11's "done when"): the CCM's service-LB worker
against a local kube-apiserver and the cloud simulator, NODES nodes and
SERVICES Cluster-policy LoadBalancer Services, every account quota at its
default but the CLB-instance quota (raised so every Service can have one).

    /usr/bin/python3 bench/bench_subsets.py [--bin PATH] [--nodes 500]
        [--services 200] [--out FILE] [--keep]

Reports the subset size, the time until every Service has its ingress IP
and a full subset, the most CLBs any instance is in (quota 50), and the
SLB calls made. Not part of make test: it takes minutes.
"""

import argparse
import collections
import concurrent.futures
import datetime
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integ"))
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))
import harness  # noqa: E402

REGION = "cn-hangzhou"
NS = "default"
ZONES = ("cn-hangzhou-h", "cn-hangzhou-i")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr,
          flush=True)


def wait_until(pred, timeout, interval):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"not done after {timeout} s")
        time.sleep(interval)
    return time.monotonic() - t0


def node_body(name, inst, zone):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                         "labels": {"topology.kubernetes.io/zone": zone}},
            "spec": {"providerID": f"{REGION}.{inst}"}}


def svc_body(name):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "externalTrafficPolicy": "Cluster",
                     "ports": [{"name": "p80", "port": 80,
                                "protocol": "TCP", "targetPort": 80}]}}


def make_nodes(cluster, sim, n):
    vsws = []
    for i, z in enumerate(ZONES):
        vid = f"vsw-subset{i}"
        sim.client.mutate("add_vswitch", id=vid, vpc_id="vpc-sim0001",
                          cidr=f"192.168.{64 + 16 * i}.0/20", zone=z)
        vsws.append(vid)
    insts = [sim.client.mutate("add_instance", vswitch_id=vsws[i % 2])["id"]
             for i in range(n)]

    def make(i):
        name = f"sub-{i:04d}"
        st, out = cluster.api("POST", "/api/v1/nodes",
                              node_body(name, insts[i], ZONES[i % 2]))
        assert st == 201, out
        st, out = cluster.api(
            "PATCH", f"/api/v1/nodes/{name}/status",
            {"status": {"conditions": [{"type": "Ready", "status": "True",
                                        "reason": "Bench", "message": "b"}]}},
            content_type="application/strategic-merge-patch+json")
        assert st == 200, out
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(make, range(n)))


def subsets(sim):
    out = {}
    st = sim.client.state()
    for g in st["vserver_groups"]:
        parts = g["VServerGroupName"].split("/")
        if len(parts) == 5 and parts[0] == "k8s":
            out[parts[2]] = {b["ServerId"] for b in g["BackendServers"]}
    return out


def run(a, work):
    rows = []
    cluster = harness.Cluster(os.path.join(work, "cluster"))
    sim = ccm = None
    try:
        cluster.start()
        sim = harness.Sim(os.path.join(work, "sim"))
        sim.client.config(quotas={"load_balancers": a.services + 10})
        t0 = time.monotonic()
        make_nodes(cluster, sim, a.nodes)
        names = [f"svc-{i:03d}" for i in range(a.services)]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda n: cluster.create(
                f"/api/v1/namespaces/{NS}/services", svc_body(n)), names))
        rows.append(("setup", f"{a.nodes} nodes, {a.services} Services",
                     f"{time.monotonic() - t0:.1f} s"))
        cc = sim.cloud_config(os.path.join(work, "cloud.json"),
                              clusterID="bench")
        env = dict(os.environ)
        env.update(sim.env)
        os.makedirs(f"{work}/run", exist_ok=True)
        ccm = harness.run_ccm(a.bin, [
            f"--cloud-config={cc}", f"--kubeconfig={cluster.kubeconfig}",
            "--controllers=service", "--leader-elect=false",
            "--configure-cloud-routes=false", f"--run-dir={work}/run",
            f"--health-probe-bind-addr=127.0.0.1:{harness.free_port()}",
            "--metrics-bind-addr=", "--slb-api-qps=1000",
            "--kube-api-qps=1000", "--kube-api-burst=1000"], env=env,
            log_path=os.path.join(work, "ccm.log"))
        full = a.nodes * 50 // a.services
        size = min(200, a.nodes, max(3, full))

        def done():
            if not ccm.alive():
                raise RuntimeError("CCM exited")
            m = subsets(sim)
            return len(m) == a.services and \
                all(len(s) == size for s in m.values())
        t = wait_until(done, a.timeout, 2.0)
        rows.append(("run", f"every Service with {size} backends", f"{t:.1f} s"))
        m = subsets(sim)
        att = collections.Counter(i for s in m.values() for i in s)
        rows.append(("run", "most CLBs per instance (quota 50)",
                     str(max(att.values()))))
        calls = sim.client.calls()
        muts = [c for c in calls
                if not c["action"].startswith(("Describe", "List"))]
        rows.append(("run", "SLB calls / mutating",
                     f"{len(calls)} / {len(muts)}"))
        served = sum(1 for n in names
                     if (cluster.get(f"/api/v1/namespaces/{NS}/services/{n}")
                         or {}).get("status", {}).get("loadBalancer", {})
                     .get("ingress"))
        rows.append(("run", "Services with an ingress IP", str(served)))
    finally:
        for fn in (ccm and ccm.kill, sim and sim.stop, cluster.stop):
            if fn:
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - keep cleaning up
                    log(f"cleanup: {e}")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get(
        "CCM_BIN", os.path.join(REPO, "bin", "cloud-controller-manager")))
    ap.add_argument("--nodes", type=int, default=500)
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--out", help="result file (default "
                    "bench/results/<date>-subsets.txt)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not 1 <= a.nodes <= 4000:
        ap.error("--nodes 1..4000 (two /20 vSwitches)")
    work = tempfile.mkdtemp(prefix="bench-subsets-")
    try:
        rows = run(a, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")
    txt = (f"bench_subsets {datetime.datetime.now().isoformat('T', 'seconds')}"
           f" nodes {a.nodes} services {a.services}\n" +
           "".join(f"{p:<6} {k:<40} {v}\n" for p, k, v in rows))
    print(txt, end="")
    out = a.out or os.path.join(
        HERE, "results", datetime.date.today().isoformat() + "-subsets.txt")
    with open(out, "w") as f:
        f.write(txt)


if __name__ == "__main__":
    main()
