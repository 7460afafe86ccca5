#!/usr/bin/python3
"""Scale benchmark: the release CCM against a local kube-apiserver and the
cloud simulator, on loopback only.

    /usr/bin/python3 bench/bench_scale.py [--bin PATH] [--nodes 200]
        [--services 50] [--steady 60] [--sim-rate QPS [--sim-burst N]]
        [--sim-latency MS] [--repeat N] [--out FILE] [--keep]

Phases (each bounded by its own timeout; a phase that does not finish is
reported as such and the next one still runs):
  a) NODES nodes with pod CIDRs and providerIDs of simulator instances,
     created while the CCM runs -> time until every route exists, cloud
     calls; time until every Node is done (initialized, NetworkUnavailable
     False, routed) over its floor: the larger of the busiest CCM
     process's Kubernetes requests (watches aside, from the audit log by
     user-agent role) beyond --kube-api-burst at --kube-api-qps, and the
     cloud floor below
  b) SERVICES LoadBalancer Services x 2 TCP ports with Endpoints -> time to
     every ingress IP and to every backend attached, calls per Service
  c) one node added -> calls made until routes and backends follow
  d) STEADY seconds of a steady cluster -> calls made
With --sim-rate the simulator throttles every action at QPS per
(AccessKeyId, Action) (token bucket, burst --sim-burst) as Alibaba Cloud
does, and phases a and b also report their time divided by the floor: the
least time the cloud's limits allow for the calls that were needed (per
action, successful calls beyond the burst at QPS; the slowest action sets
it), and the share of calls the simulator refused (Throttling.User).
With --sim-latency every cloud call is answered after MS ms (a round trip
to the cloud); phase b then also bounds the floor by its longest serial
chain (the most calls on one CLB, which a CCM must not overlap, times MS).
Phase b reports the most cloud requests the simulator handled at once, and
the most on one CLB (/_sim/inflight).
With --repeat N the whole scenario runs N times, each on a fresh cluster,
simulator and CCM; the report starts with min / median / max over the runs
of the time, ratio, throttled-share and call-count rows of phases a and b,
followed by every run's table.
For every phase: the CCM's CPU seconds (supervisor + workers, from
/proc/<pid>/stat) and the simulator's and API server's CPU for context;
max RSS (VmHWM) per CCM process at the end.

Prints a table and writes bench/results/<date>.txt. Everything it starts
(cluster, simulator, CCM) is stopped in a finally block; SIGTERM/SIGINT/
SIGHUP unwind through it, and a SIGKILL is covered by the cluster watchdog
(CLUSTER_OWNER_PID) and PR_SET_PDEATHSIG on the children.
"""

import argparse
import concurrent.futures
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
# more than 250 nodes: pod CIDRs wrap past 10.255 into 10.0.x (unique up
# to 65,536 nodes)
CLUSTER_CIDR_WIDE = "10.0.0.0/8"
NS = "default"
READS = ("Describe", "List")
SLB = simclient.SLB
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The route quota raised so 201 routes fit (adjustable on the real cloud).
# The backend quota counts distinct servers on both sides, so 200 nodes on
# 2 ports fit the default 200; past 200 nodes the CCM subsets (see
# bench_subsets.py) and phase b's "all backends" would not complete.
SIM_QUOTAS = {"route_entries_per_table": 1000}
POOL = 8  # threads creating objects in parallel (no kubelets exist)


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

def sim_quotas(nodes, services):
    q = dict(SIM_QUOTAS)
    q["route_entries_per_table"] = max(q["route_entries_per_table"],
                                       nodes + 10)
    if services > 50:
        q["load_balancers"] = services + 10
    return q


def make_state(path, nodes, services):
    """default-state.json plus a /18 vSwitch holding `nodes` instances."""
    with open(simclient.DEFAULT_STATE) as f:
        st = json.load(f)
    st["vswitches"].append({"id": VSWITCH, "vpc_id": VPC,
                            "zone": "cn-hangzhou-h",
                            "cidr": "192.168.64.0/18", "name": "bench"})
    for i in range(nodes):
        st["instances"].append({
            "id": f"i-bench{i:04d}", "name": f"bench-{i}",
            "hostname": f"bench-{i}", "zone": "cn-hangzhou-h",
            "vswitch_id": VSWITCH, "type": "ecs.g6.xlarge",
            # explicit: the simulator cannot allocate while loading a file
            "private_ip": f"192.168.{64 + (i + 10) // 256}.{(i + 10) % 256}",
            "status": "Running", "charge_type": "PostPaid",
            "eni": {"id": f"eni-bench{i:04d}",
                    "mac": f"00:16:3e:10:{i >> 8:02x}:{i & 255:02x}",
                    "source_dest_check": True}})
    st["config"].setdefault("quotas", {}).update(sim_quotas(nodes,
                                                            services))
    with open(path, "w") as f:
        json.dump(st, f)


def pod_cidr(i):
    return f"10.{(244 + i // 256) % 256}.{i % 256}.0/24"


UNINIT_TAINT = {"key": "node.cloudprovider.kubernetes.io/uninitialized",
                "value": "true", "effect": "NoSchedule"}


def node_body(i, instance, master=False, uninit=False):
    labels = {"kubernetes.io/hostname": f"bench-{i}"}
    if master:
        labels["node-role.kubernetes.io/master"] = ""
    spec = {"providerID": f"{REGION}.{instance}", "podCIDR": pod_cidr(i),
            "podCIDRs": [pod_cidr(i)]}
    if uninit:
        spec["taints"] = [UNINIT_TAINT]
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"bench-{i}", "labels": labels},
            "spec": spec}


def create_node(cluster, i, instance, master=False, uninit=False):
    st, out = cluster.api("POST", "/api/v1/nodes",
                          node_body(i, instance, master, uninit))
    if st != 201:
        raise RuntimeError(f"create node bench-{i}: {st} {out}")


def create_all(fn, items):
    """fn(item) for every item on POOL threads; the first error raises."""
    with concurrent.futures.ThreadPoolExecutor(POOL) as ex:
        for f in [ex.submit(fn, it) for it in items]:
            f.result()


def svc_body(i, policy="Cluster"):
    name = f"bench-svc-{i:02d}"
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "externalTrafficPolicy": policy,
                     "ports": [{"name": f"p{p}", "port": p, "protocol": "TCP",
                                "targetPort": 8000 + p}
                               for p in (80, 443)]}}


def endpoints_body(i, nodes):
    name = f"bench-svc-{i:02d}"
    # node 0 is the master: pods run on workers 1..nodes-1
    pods = [(pod_cidr(1 + (i + k) % (nodes - 1)).replace(".0/24",
                                                         f".{10 + k}"),
             f"bench-{1 + (i + k) % (nodes - 1)}") for k in range(2)]
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


ROLLUP = ("Pss", "Pss_Anon", "Pss_File", "Private_Clean", "Private_Dirty",
          "Shared_Clean", "Shared_Dirty", "Rss")


def proc_rollup_kb(pid):
    """The fields of ROLLUP from /proc/<pid>/smaps_rollup (kB), or None."""
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k, _, rest = line.partition(":")
                if k in ROLLUP:
                    out[k] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return out if "Pss" in out else None


def mib(kb):
    return f"{kb / 1024:.1f} MiB"


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

    def pids(self):
        """{name: pid} of the supervisor and the live workers."""
        out = {}
        for p in [self.pid, *children(self.pid)]:
            name = proc_name(p)
            if name:
                out[name] = p
        return out

    def footprint(self):
        """{name: rollup} now; private = Private_Clean + Private_Dirty,
        shared = PSS - private (this process's share of shared pages)."""
        out = {}
        for name, p in self.pids().items():
            r = proc_rollup_kb(p)
            if r:
                r["private"] = r.get("Private_Clean", 0) + r.get(
                    "Private_Dirty", 0)
                r["shared"] = r["Pss"] - r["private"]
                out[name] = r
        return out

    def rss_table(self):
        by = {}
        for name, kb in self.hwm.values():
            by[name] = max(by.get(name, 0), kb)
        return by


def cpu_of(pid):
    s = proc_stat(pid)
    return s[0] if s else 0.0


def audit_time(ev):
    """requestReceivedTimestamp of an audit event as epoch seconds (0 when
    absent or unreadable)."""
    ts = ev.get("requestReceivedTimestamp", "")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.datetime.strptime(ts, fmt).replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            continue
    return 0.0


def ua_role(ua):
    """The process role in "cloud-controller-manager/<ver> (<role>;
    identity=<id>)": supervisor, service-lb, route, node-init."""
    if "(" not in ua:
        return "?"
    return ua.split("(", 1)[1].split(";", 1)[0].split(")", 1)[0].strip()


class AuditCounter:
    """Kubernetes requests of the CCM from the audit log (user agent
    cloud-controller-manager/...), read incrementally: (reads, writes,
    events); watches count once, when they end. Every request but the
    lease ones is also kept in `recs` as (received at, role, kind), kind
    one of read, write, event, watch, for floors by process."""

    def __init__(self, path):
        self.path = path
        self.off = 0
        self.acc = [0, 0, 0]
        self.lease = 0  # leader-election renewals, counted apart
        self.recs = []

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
            res = ev.get("objectRef", {}).get("resource")
            verb = ev.get("verb")
            if res == "leases":
                self.lease += 1
                continue
            if res == "events":
                self.acc[2] += 1
                kind = "event"
            elif verb in ("create", "update", "patch", "delete"):
                self.acc[1] += 1
                kind = "write"
            else:
                self.acc[0] += 1
                kind = "watch" if verb == "watch" else "read"
            self.recs.append((audit_time(ev), ua_role(ev["userAgent"]),
                              kind))
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


def ccm_flag(args, name, default):
    """The value of --name=V among the extra CCM flags, else default."""
    for a in args:
        if a.startswith(name + "="):
            return float(a.split("=", 1)[1])
    return default


# --------------------------------------------------------------- bench

class Bench:
    def __init__(self, args):
        self.a = args
        self.work = tempfile.mkdtemp(prefix="ccm-bench-")
        self.cluster = self.sim = self.ccm = self.procs = None
        self.rows = []  # (phase, metric, value, note)
        self.stats = {}  # (phase, metric) -> (number, unit) for --repeat
        self.calls = self.audit = None
        self.fp = {}  # label -> footprint()
        self.nodes_total = 0  # Nodes bench-0.. created so far

    def row(self, phase, metric, value, note=""):
        self.rows.append((phase, metric, value, note))
        log(f"{phase}: {metric} = {value} {note}")

    def stat(self, phase, metric, number, unit):
        """A number a --repeat summary takes min/median/max of."""
        self.stats[(phase, metric)] = (number, unit)

    # -- setup / teardown --------------------------------------------
    def start(self):
        log(f"work directory {self.work}")
        self.cluster = harness.Cluster(os.path.join(self.work, "cluster"))
        self.cluster.start()
        state = os.path.join(self.work, "state.json")
        make_state(state, self.a.nodes + 1, self.a.services)
        self.sim = harness.Sim(os.path.join(self.work, "sim"), state)
        self.calls = Calls(self.sim.client)
        if self.a.sim_rate:
            lim = {"qps": self.a.sim_rate}
            if self.a.sim_burst:
                lim["burst"] = self.a.sim_burst
            self.sim.client.ratelimit(default=lim)
        if self.a.sim_latency:
            self.sim.client.control(action="*", latency_ms=self.a.sim_latency)
        self.audit = AuditCounter(self.cluster.audit_log)
        self.start_ccm()

    def start_ccm(self):
        cc = self.sim.cloud_config(os.path.join(self.work, "cloud.json"),
                                   clusterID="bench")
        self.health = harness.free_port()
        args = [f"--cloud-config={cc}",
                f"--kubeconfig={self.cluster.kubeconfig}",
                "--leader-elect=false", "--configure-cloud-routes=true",
                "--cluster-cidr=" + (CLUSTER_CIDR if self.a.nodes <= 250
                                     else CLUSTER_CIDR_WIDE),
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
                "wall": time.time(),
                "lease": self.audit.lease, "arec": len(self.audit.recs),
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
        self.stat(phase, "cloud calls", len(calls), "")
        self.stat(phase, "mutating cloud calls", len(mut), "")
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
        return reads, writes, events

    def timed(self, phase, metric, pred, timeout, interval, t0):
        """-> seconds from t0 until pred held, None on timeout."""
        try:
            wait_until(pred, timeout, interval)
            t = time.monotonic() - t0
            self.row(phase, metric, f"{t:.1f} s")
            self.stat(phase, metric, t, "s")
            return t
        except Timeout as e:
            self.row(phase, metric, "TIMEOUT", str(e))
            return None

    def calls_until(self, m, t):
        """The phase's cloud calls up to t seconds after it began."""
        return [c for c in self.calls.since(m["seq"])
                if c["time"] <= m["wall"] + t and c["action"] != "Metadata"]

    def cloud_floor(self, calls, lat=0):
        """(seconds, why) the cloud's limits need at least for the
        successful `calls`: per action at the simulator's rate (the
        slowest action sets it), per product at the CCM's own
        --*-api-qps and, with `lat`, the most calls on one CLB one at a
        time at lat ms each. (0.0, "no limit binds") when none does."""
        ok = {}
        for c in calls:
            if c.get("status") == 200:
                ok[c["action"]] = ok.get(c["action"], 0) + 1
        floor, why = 0.0, "no limit binds"
        if not ok:
            return floor, why
        if self.a.sim_rate:
            rate = self.a.sim_rate
            burst = self.a.sim_burst or max(1.0, rate)
            slow = max(ok, key=ok.get)
            floor = max(0.0, ok[slow] - burst) / rate
            why = f"{ok[slow]} {slow} calls at {rate:g}/s, burst {burst:g}"
        # the CCM's own ceilings (--*-api-qps, whole CCM) bind too
        for prod, ver in (("slb", SLB), ("vpc", simclient.VPC),
                          ("ecs", simclient.ECS)):
            qps = ccm_flag(self.a.ccm_arg, f"--{prod}-api-qps", 10.0)
            n = sum(c.get("status") == 200 and c.get("version") == ver
                    for c in calls)
            # its bucket holds max(1, qps) calls (alicloud/ali_rate.c),
            # full when the phase starts after an idle spell
            cf = max(0.0, n - max(1.0, qps)) / qps if qps > 0 else 0.0
            if cf > floor:
                floor, why = cf, (f"{n} {prod} calls at --{prod}-api-qps="
                                  f"{qps:g}, burst {max(1.0, qps):g}")
        if lat:
            lb = per_lb([c for c in calls if c.get("version") == SLB
                         and c.get("status") == 200],
                        self.sim.client.state())
            most = max((v[0] for v in lb.values()), default=0)
            if most * lat / 1000.0 > floor:
                floor = most * lat / 1000.0
                why = (f"{most} calls on one CLB, one at a time, "
                       f"{lat:g} ms each")
        return floor, why

    def floor_rows(self, phase, what, t, m, chain=False):
        """Time to `what` against the floor the limits allow: the
        simulator's rate per action, the CCM's own ceilings and, with
        `chain` and --sim-latency, the longest run of calls on one CLB
        (which the CCM must not overlap) at the simulator's latency."""
        lat = self.a.sim_latency if chain else 0
        if t is None or not (self.a.sim_rate or lat):
            return
        calls = self.calls_until(m, t)
        if not any(c.get("status") == 200 for c in calls):
            return
        throttled = sum(c.get("code") == "Throttling.User" for c in calls)
        floor, why = self.cloud_floor(calls, lat)
        self.row(phase, f"{what} / floor",
                 f"{t / floor:.2f}x" if floor > 0 else "floor 0",
                 f"floor {floor:.1f} s: {why}")
        self.row(phase, "throttled calls",
                 f"{100.0 * throttled / len(calls):.1f} %",
                 f"{throttled} of {len(calls)} until {what}")
        if floor > 0:
            self.stat(phase, f"{what} / floor", t / floor, "x")
        self.stat(phase, "throttled calls", 100.0 * throttled / len(calls),
                  "%")

    def kube_floor(self, m, t):
        """(seconds, why, {role: {kind: n}}) for the Kubernetes requests
        each CCM process sent until t: every request but a watch passes
        its process's own client limiter (kube/kube_ratelimit.c: a token
        bucket of --kube-api-burst tokens, full after the idle spell
        before the phase, refilled at --kube-api-qps), so a process needs
        at least (requests - burst) / qps; the busiest process sets it."""
        self.audit.poll()
        end = m["wall"] + t
        by = {}
        for at, role, kind in self.audit.recs[m["arec"]:]:
            if at <= end and kind != "watch":
                k = by.setdefault(role, {"write": 0, "event": 0, "read": 0})
                k[kind] += 1
        qps = ccm_flag(self.a.ccm_arg, "--kube-api-qps", 20.0)
        burst = max(1.0, ccm_flag(self.a.ccm_arg, "--kube-api-burst", 30.0))
        floor, why = 0.0, "no limit binds"
        for role in sorted(by):
            n = sum(by[role].values())
            kf = max(0.0, n - burst) / qps if qps > 0 else 0.0
            if kf > floor:
                floor, why = kf, (f"{n} {role} kube requests at "
                                  f"--kube-api-qps={qps:g}, burst {burst:g}")
        return floor, why, by

    def node_floor_rows(self, phase, what, t, m):
        """Time to every Node done against the larger of the Kubernetes
        floor (per process, its requests at --kube-api-qps) and the cloud
        floor (as floor_rows, without the CLB chain); says which binds."""
        if t is None:
            return
        kf, kwhy, by = self.kube_floor(m, t)
        self.row(phase, f"kube requests until {what}",
                 sum(sum(k.values()) for k in by.values()),
                 "; ".join(f"{r} {sum(k.values())} (writes {k['write']}, "
                           f"Events {k['event']}, reads {k['read']})"
                           for r, k in sorted(by.items())) or "none")
        calls = self.calls_until(m, t)
        cf, cwhy = self.cloud_floor(calls)
        if kf >= cf:
            floor, why = kf, (f"kube: {kwhy} (cloud floor {cf:.1f} s: "
                              f"{cwhy})")
        else:
            floor, why = cf, (f"cloud: {cwhy} (kube floor {kf:.1f} s: "
                              f"{kwhy})")
        self.row(phase, f"{what} / floor",
                 f"{t / floor:.2f}x" if floor > 0 else "floor 0",
                 f"floor {floor:.1f} s: {why}")
        if floor > 0:
            self.stat(phase, f"{what} / floor", t / floor, "x")
            self.stat(phase, f"{what}: floor", floor, "s")
        if calls:
            throttled = sum(c.get("code") == "Throttling.User"
                            for c in calls)
            self.row(phase, f"throttled calls until {what}",
                     f"{100.0 * throttled / len(calls):.1f} %",
                     f"{throttled} of {len(calls)}")
            self.stat(phase, f"throttled calls until {what}",
                      100.0 * throttled / len(calls), "%")

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

    def nodes_pending(self, n):
        """How many of Nodes 0..n-1 are not done joining: initialized
        (with --uninitialized: the taint gone, providerID and the cloud's
        zone and instance-type labels set, its ENI's SourceDestCheck off:
        what node-init does; without, the bench registers Nodes already
        initialized), NetworkUnavailable False, pod CIDR routed
        (Available)."""
        uninit = self.a.uninitialized
        st, obj = self.cluster.api("GET", "/api/v1/nodes")
        items = {nd["metadata"]["name"]: nd
                 for nd in (obj.get("items", []) if st == 200 else [])}
        state = self.sim.client.state()
        routes = {e["cidr"]: e for t in state["route_tables"]
                  if t["id"] == TABLE for e in t["entries"]}
        sdc = {e["id"]: e.get("source_dest_check", True)
               for e in state["enis"]}

        def done(i):
            nd = items.get(f"bench-{i}")
            if not nd:
                return False
            conds = nd.get("status", {}).get("conditions") or []
            if not any(c["type"] == "NetworkUnavailable" and
                       c["status"] == "False" for c in conds):
                return False
            r = routes.get(pod_cidr(i))
            if not r or r.get("status", "Available") != "Available":
                return False
            if not uninit:
                return True
            spec, lab = nd["spec"], nd["metadata"].get("labels") or {}
            return not (any(x["key"] == UNINIT_TAINT["key"]
                            for x in spec.get("taints") or [])
                        or not spec.get("providerID")
                        or "topology.kubernetes.io/zone" not in lab
                        or "node.kubernetes.io/instance-type" not in lab
                        or sdc.get(f"eni-bench{i:04d}", True))
        return sum(not done(i) for i in range(n))

    def nodes_done(self, n):
        return lambda: self.nodes_pending(n) == 0

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

    def want_backends(self, n):
        """Distinct servers per vServer group when all are attached:
        every worker (Cluster) or the 2 endpoint nodes (Local). Past the
        CLBs-per-instance quota (50 by default, so above 50 Cluster
        Services) a Cluster Service gets a subset of the workers, of the
        size workers/slb_subset.c computes: workers * 50 / Services, not
        below 3."""
        if self.a.policy != "Cluster":
            return min(2, n - 1)
        full, cap = min(n - 1, 200), (n - 1) * 50
        if self.a.services * full <= cap:
            return full
        return min(full, max(3, cap // self.a.services))

    def footprint(self, label):
        """PSS per process now (smaps_rollup), split private/shared."""
        fp = self.procs.footprint()
        self.fp[label] = fp
        tot = sum(r["Pss"] for r in fp.values())
        self.row("mem", f"PSS total, {label}", mib(tot),
                 f"private {mib(sum(r['private'] for r in fp.values()))}, "
                 f"{len(fp)} processes")
        for name in sorted(fp):
            r = fp[name]
            self.row("mem", f"PSS {name}, {label}", mib(r["Pss"]),
                     f"private {mib(r['private'])} (anon "
                     f"{mib(r.get('Pss_Anon', 0))}), shared share "
                     f"{mib(r['shared'])}, RSS {mib(r.get('Rss', 0))}")

    def per_object(self, before, after, count, what):
        """Bytes per cached object: PSS growth between two labels over
        the objects added (includes allocator slack and work state)."""
        a, b = self.fp.get(before), self.fp.get(after)
        if not a or not b or count <= 0:
            return
        for name in sorted(b):
            if name in a:
                d = b[name]["Pss"] - a[name]["Pss"]
                self.row("mem", f"{name}: PSS growth per {what}",
                         f"{d * 1024 / count:.0f} B",
                         f"{before} -> {after}, {count} objects")

    def settle_mem(self):
        """Lets heaps settle after a phase: PSS polled until it changes by
        less than 1 % within 2 s (bounded at 20 s)."""
        last = -1
        for _ in range(10):
            tot = sum(r["Pss"] for r in self.procs.footprint().values())
            if last > 0 and abs(tot - last) < last / 100:
                return
            last = tot
            time.sleep(2.0)

    def phase_e(self):
        """SIGKILL of one worker: what its restart costs the API server."""
        name = self.a.restart_worker
        pids = self.procs.pids()
        if name not in pids:
            self.row("e", f"restart of {name}", "SKIPPED", "no such worker")
            return
        m = self.begin()
        old = pids[name]
        os.kill(old, signal.SIGKILL)
        self.timed("e", f"{name} SIGKILLed, new worker up",
                   lambda: self.procs.pids().get(name, old) != old, 60,
                   0.2, m["t"])
        self.end("e", m, settle=5.0)
        self.footprint("after restart")

    # -- phases -------------------------------------------------------
    def phase_a(self):
        n = self.a.nodes
        m = self.begin()
        # node 0 is a master: routed, but never a CLB backend
        create_all(lambda i: create_node(self.cluster, i, f"i-bench{i:04d}",
                                         master=(i == 0),
                                         uninit=self.a.uninitialized),
                   range(n))
        self.nodes_total = n
        self.row("a", "nodes created", n,
                 f"in {time.monotonic() - m['t']:.1f} s (1 master)")
        t = self.timed("a", "time to all routes", self.routes_ok(n), 300,
                       0.5, m["t"])
        self.floor_rows("a", "time to all routes", t, m)
        self.timed("a", "time to NetworkUnavailable=False on all",
                   self.nodes_route_ok, 120, 1.0, m["t"])
        t = self.timed("a", "time to every Node done", self.nodes_done(n),
                       300, 1.0, m["t"])
        self.node_floor_rows("a", "time to every Node done", t, m)
        self.end("a", m)

    def phase_b(self):
        s, n = self.a.services, self.a.nodes
        m = self.begin()
        self.sim.client.reset_inflight()
        def one(i):
            self.cluster.create(f"/api/v1/namespaces/{NS}/services",
                                svc_body(i, self.a.policy))
            self.cluster.create(f"/api/v1/namespaces/{NS}/endpoints",
                                endpoints_body(i, n))
        create_all(one, range(s))
        self.row("b", "services created", s,
                 f"in {time.monotonic() - m['t']:.1f} s, 2 TCP ports each")
        first = []
        t = self.timed("b", "time to all ingress IPs",
                       self.ingress_all(m["t"], first), 420, 0.5, m["t"])
        self.floor_rows("b", "time to all ingress IPs", t, m, chain=True)
        if first:
            self.row("b", "time to the first ingress IP", f"{first[0]:.1f} s")
        self.timed("b", "time to all backends attached",
                   self.backends_all(self.want_backends(n)), 300, 2.0,
                   m["t"])
        calls = [c for c in self.end("b", m, settle=5.0)
                 if c.get("version") == SLB]
        self.inflight_rows("b")
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

    def inflight_rows(self, phase):
        """The most cloud requests the simulator handled at once since the
        phase began, and the most on one CLB (1 = never overlapped)."""
        v = self.sim.client.inflight()
        per = v["max_per_lb"]
        most = max(per.values(), default=0)
        self.row(phase, "cloud requests in flight at once, most",
                 v["max"], f"of {v['counted']} requests")
        self.row(phase, "requests in flight on one CLB, most", most,
                 f"{sum(k > 1 for k in per.values())} of {len(per)} CLBs "
                 "had overlapping requests")
        self.stat(phase, "cloud requests in flight at once, most", v["max"],
                  "")
        self.stat(phase, "requests in flight on one CLB, most", most, "")

    def phase_c(self):
        n = self.a.nodes
        inst = f"i-bench{n:04d}"
        m = self.begin()
        create_node(self.cluster, n, inst, uninit=self.a.uninitialized)
        self.nodes_total = n + 1
        self.timed("c", "time to route of the new node",
                   self.routes_ok(n + 1), 120, 0.5, m["t"])
        if self.a.policy == "Cluster" and self.want_backends(n + 1) == n:
            self.timed("c", "time to new node in every group",
                       self.backends_all(n), 180, 1.0, m["t"])
        elif self.a.policy == "Cluster":
            self.row("c", "time to new node in every group", "SKIPPED",
                     f"subsets of {self.want_backends(n + 1)} of {n} "
                     "workers: not every group takes it")
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
        reads, writes, events = self.kube_row("d")
        self.row("d", "kube API requests per minute",
                 f"{(reads + writes + events) * 60 / self.a.steady:.1f}",
                 "watches count when they end (--min-request-timeout); "
                 "lease requests apart: "
                 f"{(self.audit.lease - m['lease']) * 60 / self.a.steady:.1f}"
                 f"/min")
        self.row("d", "CCM CPU", f"{self.procs.cpu() - m['cpu']:.2f} s")

    def finish(self):
        self.procs.sample()
        rss = self.procs.rss_table()
        for name in sorted(rss):
            self.row("end", f"max RSS {name}", f"{rss[name] / 1024:.1f} MiB")
        self.row("end", "CCM CPU total", f"{self.procs.cpu():.2f} s",
                 "since start")
        try:
            text = self.ccm.log()
        except OSError:
            text = ""
        if self.nodes_total:
            self.row("end", "Nodes not done", self.nodes_pending(
                self.nodes_total), f"of {self.nodes_total}: not initialized, "
                "NetworkUnavailable not False or not routed")
        self.row("end", "CCM log lines with 'timed out'",
                 sum("timed out" in ln for ln in text.splitlines()),
                 "failed or fenced requests")
        if not self.ccm.alive():
            self.row("end", "CCM", "EXITED", "see log")

    def phase_0(self):
        """What the CCM does on its own at start in an empty cluster."""
        m = {"seq": 0, "t": time.monotonic(), "cpu": 0.0,
             "sim": cpu_of(self.sim.proc.pid),
             "api": cpu_of(self.cluster.apiserver_pid)}
        self.end("0", m, settle=3.0, settle_max=30.0)
        self.settle_mem()
        self.footprint("empty cluster")

    def run(self):
        self.start()
        self.phase_0()
        self.phase_a()
        self.settle_mem()
        self.footprint(f"{self.a.nodes} nodes")
        self.per_object("empty cluster", f"{self.a.nodes} nodes",
                        self.a.nodes, "Node")
        self.phase_b()
        self.phase_c()
        self.phase_d()
        label = (f"{self.a.nodes + 1} nodes + {self.a.services} Services "
                 "(steady)")
        self.footprint(label)
        self.per_object(f"{self.a.nodes} nodes", label, self.a.services,
                        "Service (with Endpoints and its CLB)")
        if self.a.restart_worker:
            self.phase_e()
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
            f"{args.services} x 2 TCP ports ({args.policy}), steady "
            f"{args.steady} s, restart {args.restart_worker or 'none'}"
            f"{', nodes uninitialized' if args.uninitialized else ''}; "
            f"extra CCM flags {args.ccm_arg or 'none'}; simulator rate "
            f"limit {f'{args.sim_rate:g}/s per action' if args.sim_rate else 'none'}; "
            f"simulator quotas {sim_quotas(args.nodes + 1, args.services)}; "
            "route_pending_ms 200"
            + (f"; simulator latency {args.sim_latency:g} ms on every cloud "
               "call (refused ones too)" if args.sim_latency else "")
            + (f"; {args.repeat} runs, each on a fresh cluster, simulator "
               "and CCM" if args.repeat > 1 else "") + "\n")


def table(rows):
    w1 = max(len(r[1]) for r in rows)
    out = []
    for ph, metric, value, note in rows:
        v = json.dumps(value) if isinstance(value, dict) else str(value)
        out.append(f"{ph:<4} {metric:<{w1}}  {v}" + (f"  ({note})"
                                                       if note else ""))
    return "\n".join(out) + "\n"


def fmt_stat(x, unit):
    if unit == "s":
        return f"{x:.1f} s"
    if unit == "x":
        return f"{x:.2f}x"
    if unit == "%":
        return f"{x:.1f} %"
    return f"{x:g}"


def summary_rows(runs):
    """min / median / max over the runs of every number phases a and b
    recorded, in the order the first run recorded them; a number a run
    lacks (a timeout, an abort) is left out and the note says so."""
    keys = []
    for b in runs:
        keys += [k for k in b.stats if k[0] in ("a", "b") and k not in keys]
    rows = []
    for k in keys:
        got = [b.stats[k] for b in runs if k in b.stats]
        unit = got[0][1]
        vals = sorted(v for v, _ in got)
        value = " / ".join(fmt_stat(x, unit) for x in (
            vals[0], statistics.median(vals), vals[-1]))
        each = ", ".join(fmt_stat(b.stats[k][0], unit) if k in b.stats
                         else "-" for b in runs)
        note = f"runs: {each}"
        if len(got) < len(runs):
            note += f"; missing in {len(runs) - len(got)} of {len(runs)}"
        rows.append((k[0], k[1], value, note))
    return rows


def report(args, runs):
    """One run: its table. Several: the min/median/max summary, then the
    table of every run."""
    if len(runs) == 1:
        return header(args) + "\n" + table(runs[0].rows) if runs[0].rows \
            else ""
    out = header(args) + "\n"
    rows = summary_rows(runs)
    if rows:
        out += (f"min / median / max over {len(runs)} runs "
                f"(of {args.repeat} asked)\n" + table(rows))
    for k, b in enumerate(runs):
        if b.rows:
            out += f"\n== run {k + 1} of {len(runs)}\n" + table(b.rows)
    return out


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
    ap.add_argument("--services", type=int, default=50,
                    help="at most 922 (Local) or 1384 (Cluster): NodePorts")
    ap.add_argument("--policy", choices=("Cluster", "Local"),
                    default="Cluster", help="externalTrafficPolicy; Local "
                    "puts only the 2 endpoint nodes behind each CLB (needed "
                    "above 201 nodes: the CLB backend quota is 200)")
    ap.add_argument("--uninitialized", action="store_true",
                    help="nodes carry the uninitialized taint (kubelets "
                    "with --cloud-provider=external): node-init patches "
                    "each one")
    ap.add_argument("--restart-worker", default="service-lb",
                    help="worker SIGKILLed in phase e ('' skips phase e)")
    ap.add_argument("--steady", type=int, default=60)
    ap.add_argument("--ccm-arg", action="append", default=[],
                    help="extra CCM flag, e.g. --ccm-arg=--slb-api-qps=0")
    ap.add_argument("--sim-rate", type=float, default=0.0,
                    help="simulator throttles every action at this many "
                    "calls/s per AccessKey (0 = no throttling)")
    ap.add_argument("--sim-burst", type=float, default=0.0,
                    help="burst of those buckets (default max(1, rate))")
    ap.add_argument("--sim-latency", type=float, default=0.0, metavar="MS",
                    help="simulator answers every cloud call after MS ms "
                    "(a round trip to the cloud, e.g. 60; 0 = none)")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="run the whole scenario N times (fresh cluster, "
                    "simulator and CCM each time); min/median/max of "
                    "phases a and b over the runs")
    ap.add_argument("--v", type=int, default=0, help="CCM log verbosity")
    ap.add_argument("--out", help="result file (default "
                    "bench/results/<date>.txt)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (logs)")
    args = ap.parse_args()
    if not (1 <= args.repeat <= 100 and 0 <= args.sim_latency <= 60000):
        ap.error("--repeat 1..100, --sim-latency 0..60000 ms")
    if not (2 <= args.nodes <= 5000 and 1 <= args.services <= 2000):
        ap.error("--nodes 2..5000 (instances in a /18 vSwitch), "
                 "--services 1..2000")
    # 2 NodePorts per Service, + 1 health-check NodePort with Local, out
    # of the API server's default range 30000-32767
    per = 3 if args.policy == "Local" else 2
    if args.services * per > 2768:
        ap.error(f"--services {args.services} needs {args.services * per} "
                 "NodePorts; the API server's range has 2768 "
                 f"(at most {2768 // per} Services with --policy "
                 f"{args.policy})")
    if args.policy == "Cluster" and args.nodes > 201:
        ap.error("--nodes > 201 needs --policy Local (a CLB holds at most "
                 "200 backend servers)")
    if not os.access(args.bin, os.X_OK):
        ap.error(f"{args.bin} is not built (make all)")
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _sigterm)
    runs, rc = [], 0
    for k in range(args.repeat):
        if args.repeat > 1:
            log(f"run {k + 1} of {args.repeat}")
        b = Bench(args)
        runs.append(b)
        stop = False
        try:
            b.run()
        except (Exception, KeyboardInterrupt, SystemExit) as e:  # noqa: BLE001
            log(f"aborted: {type(e).__name__}: {e}")
            b.row("-", "ABORTED", type(e).__name__, str(e)[:300])
            rc = 1
            # a signal ends the whole benchmark, a failed run only itself
            stop = not isinstance(e, Exception)
        finally:
            b.stop()
        if stop:
            break
    text = report(args, runs)
    if text:
        print(text, end="")
        out = args.out or result_path(os.path.join(HERE, "results"))
        with open(out, "w") as f:
            f.write(text)
        log(f"wrote {out}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
