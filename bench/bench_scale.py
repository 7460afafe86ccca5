#!/usr/bin/python3
"""Scale benchmark: the release CCM against a local kube-apiserver and the
cloud simulator, on loopback only.

    /usr/bin/python3 bench/bench_scale.py [--bin PATH] [--nodes 200]
        [--services 50] [--steady 60] [--out FILE] [--keep]

Phases (each bounded by its own timeout; a phase that does not finish is
reported as such and the next one still runs):
  a) NODES nodes with pod CIDRs and providerIDs of simulator instances,
     created while the CCM runs -> time until every route exists, cloud calls
  b) SERVICES LoadBalancer Services x 2 TCP ports with Endpoints -> time to
     every ingress IP and to every backend attached, calls per Service
  c) one node added -> calls made until routes and backends follow
  d) STEADY seconds of a steady cluster -> calls made
For every phase: the CCM's CPU seconds (supervisor + workers, from
/proc/<pid>/stat) and the simulator's and API server's CPU for context;
max RSS (VmHWM) per CCM process at the end.

Prints a table and writes bench/results/<date>.txt. Everything it starts
(cluster, simulator, CCM) is stopped in a finally block; SIGTERM/SIGINT/
SIGHUP unwind through it, and a SIGKILL is covered by the cluster watchdog
(CLUSTER_OWNER_PID) and PR_SET_PDEATHSIG on the children.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integ"))
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))
import harness  # noqa: E402
import simclient  # noqa: E402

REGION = "cn-hangzhou"
VPC = "vpc-sim0001"
VSWITCH = "vsw-bench01"
TABLE = "vtb-sim0001"
CLUSTER_CIDR = "10.244.0.0/16"
NS = "default"
READS = ("Describe", "List")
SLB = simclient.SLB
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The route quota raised so 201 routes fit (adjustable on the real cloud).
# The backend quota counts distinct servers on both sides, so 200 nodes on
# 2 ports fit the default 200; past 200 nodes the CCM subsets (see
# bench_subsets.py) and phase b's "all backends" would not complete.
SIM_QUOTAS = {"route_entries_per_table": 1000}


class Timeout(Exception):
    pass


def _sigterm(signum, _frame):
    raise SystemExit(128 + signum)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr,
          flush=True)


def wait_until(pred, timeout, interval):
    """pred() polled until truthy; returns seconds waited or raises
    Timeout. Bounded by `timeout`."""
    t0 = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise Timeout(f"not reached in {timeout:.0f}s")
        time.sleep(interval)


# ----------------------------------------------------------- the world

def make_state(path, nodes):
    """default-state.json plus a /20 vSwitch holding `nodes` instances."""
    with open(simclient.DEFAULT_STATE) as f:
        st = json.load(f)
    st["vswitches"].append({"id": VSWITCH, "vpc_id": VPC,
                            "zone": "cn-hangzhou-h",
                            "cidr": "192.168.16.0/20", "name": "bench"})
    for i in range(nodes):
        st["instances"].append({
            "id": f"i-bench{i:04d}", "name": f"bench-{i}",
            "hostname": f"bench-{i}", "zone": "cn-hangzhou-h",
            "vswitch_id": VSWITCH, "type": "ecs.g6.xlarge",
            # explicit: the simulator cannot allocate while loading a file
            "private_ip": f"192.168.{16 + (i + 10) // 256}.{(i + 10) % 256}",
            "status": "Running", "charge_type": "PostPaid",
            "eni": {"id": f"eni-bench{i:04d}",
                    "mac": f"00:16:3e:10:{i >> 8:02x}:{i & 255:02x}",
                    "source_dest_check": True}})
    st["config"].setdefault("quotas", {}).update(SIM_QUOTAS)
    with open(path, "w") as f:
        json.dump(st, f)


def node_body(i, instance, master=False):
    labels = {"kubernetes.io/hostname": f"bench-{i}"}
    if master:
        labels["node-role.kubernetes.io/master"] = ""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"bench-{i}", "labels": labels},
            "spec": {"providerID": f"{REGION}.{instance}",
                     "podCIDR": f"10.244.{i}.0/24",
                     "podCIDRs": [f"10.244.{i}.0/24"]}}


def create_node(cluster, i, instance, master=False):
    st, out = cluster.api("POST", "/api/v1/nodes",
                          node_body(i, instance, master))
    if st != 201:
        raise RuntimeError(f"create node bench-{i}: {st} {out}")


def svc_body(i):
    name = f"bench-svc-{i:02d}"
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "externalTrafficPolicy": "Cluster",
                     "ports": [{"name": f"p{p}", "port": p, "protocol": "TCP",
                                "targetPort": 8000 + p}
                               for p in (80, 443)]}}


def endpoints_body(i, nodes):
    name = f"bench-svc-{i:02d}"
    pods = [(f"10.244.{(i + k) % nodes}.{10 + k}", f"bench-{(i + k) % nodes}")
            for k in range(2)]
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": NS},
            "subsets": [{"addresses": [{"ip": ip, "nodeName": n}
                                       for ip, n in pods],
                         "ports": [{"name": f"p{p}", "port": 8000 + p,
                                    "protocol": "TCP"}
                                   for p in (80, 443)]}]}


# ------------------------------------------------------- measurements

def proc_stat(pid):
    """(utime+stime, cutime+cstime) in seconds, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is field 3 (state): utime is field 14
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    kids = (int(fields[13]) + int(fields[14])) / CLK_TCK
    return own, kids


def proc_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_name(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return None
    for a in argv:
        if a.startswith(b"--worker="):
            return a[9:].decode()
    return "supervisor"


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(d))
    return out


class CcmProcs:
    """CPU seconds and VmHWM of the supervisor and its workers. A sampler
    thread keeps the high-water mark of every worker pid ever seen (a
    restarted worker's memory is not lost); CPU of exited workers is in
    the supervisor's cutime once reaped."""

    def __init__(self, pid):
        self.pid = pid
        self.hwm = {}  # pid -> (name, kB)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(0.5):
            self.sample()

    def sample(self):
        for p in [self.pid, *children(self.pid)]:
            kb, name = proc_hwm_kb(p), proc_name(p)
            if kb is not None and name:
                old = self.hwm.get(p, (name, 0))[1]
                self.hwm[p] = (name, max(old, kb))

    def cpu(self):
        total = 0.0
        s = proc_stat(self.pid)
        if s:
            total += s[0] + s[1]
        for p in children(self.pid):
            c = proc_stat(p)
            if c:
                total += c[0]
        return total

    def stop(self):
        self._stop.set()
        self._t.join(timeout=2)

    def rss_table(self):
        by = {}
        for name, kb in self.hwm.values():
            by[name] = max(by.get(name, 0), kb)
        return by


def cpu_of(pid):
    s = proc_stat(pid)
    return s[0] if s else 0.0


class AuditCounter:
    """Kubernetes requests of the CCM from the audit log (user agent
    cloud-controller-manager/...), read incrementally: (reads, writes,
    events); watches count once, when they end."""

    def __init__(self, path):
        self.path = path
        self.off = 0
        self.acc = [0, 0, 0]

    def take(self):
        """Counts since the last take()."""
        self.poll()
        out, self.acc = tuple(self.acc), [0, 0, 0]
        return out

    def poll(self):
        """Reads new lines; returns how many were CCM writes or Events."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read(64 << 20)
        except OSError:
            return 0
        end = data.rfind(b"\n") + 1
        self.off += end
        before = self.acc[1] + self.acc[2]
        for line in data[:end].splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("stage") != "ResponseComplete":
                continue
            if not ev.get("userAgent", "").startswith(
                    "cloud-controller-manager"):
                continue
            if ev.get("objectRef", {}).get("resource") == "events":
                self.acc[2] += 1
            elif ev.get("verb") in ("create", "update", "patch", "delete"):
                self.acc[1] += 1
            else:
                self.acc[0] += 1
        return self.acc[1] + self.acc[2] - before


class Calls:
    """The simulator's call log, split at phase marks by seq."""

    def __init__(self, sim):
        self.sim = sim
        self.mark = self.last_seq()

    def last_seq(self):
        calls = self.sim.calls()
        return calls[-1]["seq"] if calls else 0

    def since(self, mark):
        return [c for c in self.sim.calls()
                if c["seq"] > mark and c["action"] != "Metadata"]

    def quiet(self, mark, audit, secs, timeout):
        """Waits until neither a cloud call nor a Kubernetes write of the
        CCM arrived for `secs`; bounded by `timeout`. Returns the seconds
        waited, or None at the bound."""
        t0 = time.monotonic()
        last_n, last_t = -1, time.monotonic()
        while time.monotonic() - t0 < timeout:
            n = len(self.since(mark))
            if n != last_n or audit.poll():
                last_n, last_t = n, time.monotonic()
            elif time.monotonic() - last_t >= secs:
                return time.monotonic() - t0
            time.sleep(1.0)
        return None


def is_mutating(c):
    return not c["action"].startswith(READS)


def by_action(calls):
    out = {}
    for c in calls:
        out[c["action"]] = out.get(c["action"], 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def per_lb(calls, state):
    """Calls attributed to each CLB: by LoadBalancerId, VServerGroupId (its
    CLB) or, for CreateLoadBalancer, by LoadBalancerName."""
    group_lb = {g["VServerGroupId"]: g["LoadBalancerId"]
                for g in state["vserver_groups"]}
    name_lb = {lb["LoadBalancerName"]: lb["LoadBalancerId"]
               for lb in state["load_balancers"]}
    out = {lb["LoadBalancerId"]: [0, 0] for lb in state["load_balancers"]}
    for c in calls:
        p = c.get("params", {})
        lb = (p.get("LoadBalancerId") or group_lb.get(p.get("VServerGroupId"))
              or name_lb.get(p.get("LoadBalancerName")))
        if lb in out:
            out[lb][0] += 1
            out[lb][1] += is_mutating(c)
    return out


# --------------------------------------------------------------- bench

class Bench:
    def __init__(self, args):
        self.a = args
        self.work = tempfile.mkdtemp(prefix="ccm-bench-")
        self.cluster = self.sim = self.ccm = self.procs = None
        self.rows = []  # (phase, metric, value, note)
        self.calls = self.audit = None

    def row(self, phase, metric, value, note=""):
        self.rows.append((phase, metric, value, note))
        log(f"{phase}: {metric} = {value} {note}")

    # -- setup / teardown --------------------------------------------
    def start(self):
        log(f"work directory {self.work}")
        self.cluster = harness.Cluster(os.path.join(self.work, "cluster"))
        self.cluster.start()
        state = os.path.join(self.work, "state.json")
        make_state(state, self.a.nodes + 1)
        self.sim = harness.Sim(os.path.join(self.work, "sim"), state)
        self.calls = Calls(self.sim.client)
        self.audit = AuditCounter(self.cluster.audit_log)
        self.start_ccm()

    def start_ccm(self):
        cc = self.sim.cloud_config(os.path.join(self.work, "cloud.json"),
                                   clusterID="bench")
        self.health = harness.free_port()
        args = [f"--cloud-config={cc}",
                f"--kubeconfig={self.cluster.kubeconfig}",
                "--leader-elect=false", "--configure-cloud-routes=true",
                f"--cluster-cidr={CLUSTER_CIDR}",
                "--route-reconciliation-period=3m",
                f"--run-dir={self.work}/run",
                f"--health-probe-bind-addr=127.0.0.1:{self.health}",
                "--metrics-bind-addr=", f"-v={self.a.v}", *self.a.ccm_arg]
        os.makedirs(f"{self.work}/run", exist_ok=True)
        env = dict(os.environ)
        env.update(self.sim.env)
        self.ccm = harness.run_ccm(self.a.bin, args, env=env,
                                   log_path=os.path.join(self.work, "ccm.log"))
        self.procs = CcmProcs(self.ccm.pid)
        t0 = time.monotonic()
        wait_until(self.ready, 60, 0.2)
        self.row("0", "CCM start to /readyz", f"{time.monotonic() - t0:.1f} s")
        self.procs.sample()

    def ready(self):
        if not self.ccm.alive():
            raise RuntimeError("CCM exited:\n" + self.ccm.log()[-3000:])
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.health}/readyz", timeout=2) as r:
                return r.status == 200
        except (OSError, ValueError):
            return False

    def stop(self):
        for what, fn in (("sampler", self.procs and self.procs.stop),
                         ("ccm", self.ccm and self.ccm.kill),
                         ("sim", self.sim and self.sim.stop),
                         ("cluster", self.cluster and self.cluster.stop)):
            if not fn:
                continue
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                log(f"cleanup of {what}: {e}")
        if self.a.keep:
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- phase bookkeeping --------------------------------------------
    def begin(self):
        self.audit.take()
        return {"seq": self.calls.last_seq(), "t": time.monotonic(),
                "cpu": self.procs.cpu(), "sim": cpu_of(self.sim.proc.pid),
                "api": cpu_of(self.cluster.apiserver_pid)}

    def end(self, phase, m, settle=3.0, settle_max=60.0):
        """Waits for quiet, then records calls, CPU and k8s requests."""
        t = time.monotonic() - m["t"]
        q = self.calls.quiet(m["seq"], self.audit, settle, settle_max)
        self.row(phase, "last cloud call or kube write at",
                 f"{t + q - settle:.1f} s" if q is not None else
                 f"NOT QUIET after {t + settle_max:.0f} s")
        calls = self.calls.since(m["seq"])
        mut = [c for c in calls if is_mutating(c)]
        self.row(phase, "cloud calls", len(calls),
                 f"mutating {len(mut)}")
        self.row(phase, "cloud calls by action", by_action(calls))
        self.kube_row(phase)
        self.row(phase, "CCM CPU", f"{self.procs.cpu() - m['cpu']:.2f} s",
                 f"simulator {cpu_of(self.sim.proc.pid) - m['sim']:.2f} s, "
                 "apiserver "
                 f"{cpu_of(self.cluster.apiserver_pid) - m['api']:.2f} s")
        return calls

    def kube_row(self, phase):
        reads, writes, events = self.audit.take()
        self.row(phase, "kube API requests", reads + writes + events,
                 f"writes {writes}, Events {events}")

    def timed(self, phase, metric, pred, timeout, interval, t0):
        try:
            wait_until(pred, timeout, interval)
            self.row(phase, metric, f"{time.monotonic() - t0:.1f} s")
            return True
        except Timeout as e:
            self.row(phase, metric, "TIMEOUT", str(e))
            return False

    # -- conditions ---------------------------------------------------
    def routes(self):
        for t in self.sim.client.state()["route_tables"]:
            if t["id"] == TABLE:
                return {e["cidr"]: e for e in t["entries"]}
        return {}

    def routes_ok(self, n):
        def ok():
            r = self.routes()
            return (len(r) >= n and all(e.get("status", "Available") ==
                                        "Available" for e in r.values()))
        return ok

    def nodes_route_ok(self):
        st, obj = self.cluster.api("GET", "/api/v1/nodes")
        if st != 200:
            return False
        for n in obj.get("items", []):
            conds = n.get("status", {}).get("conditions") or []
            if not any(c["type"] == "NetworkUnavailable" and
                       c["status"] == "False" for c in conds):
                return False
        return True

    def ingress_all(self, t0, first):
        def ok():
            st, obj = self.cluster.api("GET",
                                       f"/api/v1/namespaces/{NS}/services")
            if st != 200:
                return False
            n = 0
            for s in obj.get("items", []):
                ing = (s.get("status", {}).get("loadBalancer", {})
                       .get("ingress"))
                n += bool(ing and ing[0].get("ip"))
            if n and not first:
                first.append(time.monotonic() - t0)
            return n >= self.a.services
        return ok

    def backends_all(self, want):
        def ok():
            st = self.sim.client.state()
            groups = st["vserver_groups"]
            if len(groups) < 2 * self.a.services:
                return False
            return all(len({b["ServerId"] for b in g["BackendServers"]})
                       >= want for g in groups)
        return ok

    # -- phases -------------------------------------------------------
    def phase_a(self):
        n = self.a.nodes
        m = self.begin()
        # node 0 is a master: routed, but never a CLB backend
        for i in range(n):
            create_node(self.cluster, i, f"i-bench{i:04d}", master=(i == 0))
        self.row("a", "nodes created", n,
                 f"in {time.monotonic() - m['t']:.1f} s (1 master)")
        self.timed("a", "time to all routes", self.routes_ok(n), 300, 0.5,
                   m["t"])
        self.timed("a", "time to NetworkUnavailable=False on all",
                   self.nodes_route_ok, 120, 1.0, m["t"])
        self.end("a", m)

    def phase_b(self):
        s, n = self.a.services, self.a.nodes
        m = self.begin()
        for i in range(s):
            self.cluster.create(f"/api/v1/namespaces/{NS}/services",
                                svc_body(i))
            self.cluster.create(f"/api/v1/namespaces/{NS}/endpoints",
                                endpoints_body(i, n))
        self.row("b", "services created", s,
                 f"in {time.monotonic() - m['t']:.1f} s, 2 TCP ports each")
        first = []
        self.timed("b", "time to all ingress IPs",
                   self.ingress_all(m["t"], first), 420, 0.5, m["t"])
        if first:
            self.row("b", "time to the first ingress IP", f"{first[0]:.1f} s")
        self.timed("b", "time to all backends attached",
                   self.backends_all(n - 1), 300, 2.0, m["t"])
        calls = [c for c in self.end("b", m, settle=5.0)
                 if c.get("version") == SLB]
        lb = per_lb(calls, self.sim.client.state())
        if lb:
            tot = sorted(v[0] for v in lb.values())
            mut = sorted(v[1] for v in lb.values())
            self.row("b", "SLB calls per Service (attributed)",
                     f"median {statistics.median(tot):g}",
                     f"min {tot[0]} max {tot[-1]}; "
                     f"total/Services {len(calls) / s:.1f}")
            self.row("b", "SLB mutating calls per Service (attributed)",
                     f"median {statistics.median(mut):g}",
                     f"min {mut[0]} max {mut[-1]}; total/Services "
                     f"{sum(is_mutating(c) for c in calls) / s:.1f}")

    def phase_c(self):
        n = self.a.nodes
        inst = f"i-bench{n:04d}"
        m = self.begin()
        create_node(self.cluster, n, inst)
        self.timed("c", "time to route of the new node",
                   self.routes_ok(n + 1), 120, 0.5, m["t"])
        self.timed("c", "time to new node in every group",
                   self.backends_all(n), 180, 1.0, m["t"])
        calls = [c for c in self.end("c", m, settle=5.0)
                 if c.get("version") == SLB]
        mut = sum(is_mutating(c) for c in calls)
        self.row("c", "SLB mutating calls per Service",
                 f"{mut / self.a.services:.2f}",
                 f"{len(calls) / self.a.services:.2f} SLB calls in all")

    def phase_d(self):
        m = self.begin()
        time.sleep(self.a.steady)
        calls = self.calls.since(m["seq"])
        self.row("d", f"cloud calls in {self.a.steady} s", len(calls),
                 f"mutating {sum(is_mutating(c) for c in calls)}")
        if calls:
            self.row("d", "cloud calls by action", by_action(calls))
        self.kube_row("d")
        self.row("d", "CCM CPU", f"{self.procs.cpu() - m['cpu']:.2f} s")

    def finish(self):
        self.procs.sample()
        rss = self.procs.rss_table()
        for name in sorted(rss):
            self.row("end", f"max RSS {name}", f"{rss[name] / 1024:.1f} MiB")
        self.row("end", "CCM CPU total", f"{self.procs.cpu():.2f} s",
                 "since start")
        if not self.ccm.alive():
            self.row("end", "CCM", "EXITED", "see log")

    def phase_0(self):
        """What the CCM does on its own at start in an empty cluster."""
        m = {"seq": 0, "t": time.monotonic(), "cpu": 0.0,
             "sim": cpu_of(self.sim.proc.pid),
             "api": cpu_of(self.cluster.apiserver_pid)}
        self.end("0", m, settle=3.0, settle_max=30.0)

    def run(self):
        self.start()
        self.phase_0()
        for ph in (self.phase_a, self.phase_b, self.phase_c, self.phase_d):
            ph()
        self.finish()


# ------------------------------------------------------------- report

def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def header(args):
    try:
        rev = subprocess.run(["git", "-C", REPO, "describe", "--always",
                              "--dirty"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = "?"
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"bench_scale {datetime.datetime.now().isoformat(timespec='seconds')}"
            f"  rev {rev}\nhost: {os.cpu_count()} CPUs ({cpu}), "
            f"Python {platform.python_version()}, load average at the end "
            f"{loadavg()}\n"
            f"binary: {args.bin}\nnodes {args.nodes} (+1 in c), services "
            f"{args.services} x 2 TCP ports, steady {args.steady} s; "
            f"extra CCM flags {args.ccm_arg or 'none'}; "
            f"simulator quotas {SIM_QUOTAS}; route_pending_ms 200\n")


def table(rows):
    w1 = max(len(r[1]) for r in rows)
    out = []
    for ph, metric, value, note in rows:
        v = json.dumps(value) if isinstance(value, dict) else str(value)
        out.append(f"{ph:<4} {metric:<{w1}}  {v}" + (f"  ({note})"
                                                       if note else ""))
    return "\n".join(out) + "\n"


def result_path(d):
    os.makedirs(d, exist_ok=True)
    base = datetime.date.today().isoformat()
    p = os.path.join(d, base + ".txt")
    k = 2
    while os.path.exists(p) and k < 1000:
        p = os.path.join(d, f"{base}-{k}.txt")
        k += 1
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get(
        "CCM_BIN", os.path.join(REPO, "bin", "cloud-controller-manager")))
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--services", type=int, default=50)
    ap.add_argument("--steady", type=int, default=60)
    ap.add_argument("--ccm-arg", action="append", default=[],
                    help="extra CCM flag, e.g. --ccm-arg=--slb-api-qps=0")
    ap.add_argument("--v", type=int, default=0, help="CCM log verbosity")
    ap.add_argument("--out", help="result file (default "
                    "bench/results/<date>.txt)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (logs)")
    args = ap.parse_args()
    if not (1 <= args.nodes <= 250 and 1 <= args.services <= 55):
        ap.error("--nodes 1..250 (pod CIDRs 10.244.N.0/24), --services 1..55 "
                 "(simulator CLB quota)")
    if not os.access(args.bin, os.X_OK):
        ap.error(f"{args.bin} is not built (make all)")
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _sigterm)
    b = Bench(args)
    rc = 0
    try:
        b.run()
    except (Exception, KeyboardInterrupt, SystemExit) as e:  # noqa: BLE001
        log(f"aborted: {type(e).__name__}: {e}")
        b.row("-", "ABORTED", type(e).__name__, str(e)[:300])
        rc = 1
    finally:
        b.stop()
    if b.rows:
        text = header(args) + "\n" + table(b.rows)
        print(text, end="")
        out = args.out or result_path(os.path.join(HERE, "results"))
        with open(out, "w") as f:
            f.write(text)
        log(f"wrote {out}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
