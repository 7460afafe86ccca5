"""The chaos run (issue 10): three supervisors with the seed's flags against
the real kube-apiserver and the cloud simulator, a stream of Service,
Endpoints and Node changes, and meanwhile: kill -9 of workers and of the
leading supervisor (restarted), SIGSTOP/SIGCONT of the leader, a
kube-apiserver restart, an etcd compaction, the leader cut off from the API
server by a proxy, cloud throttling (30 %) and 5xx answers (5 %). Then
quiesce, wait for convergence and run tests/integ/chaos_check.py, which
asserts one actor at a time (from the simulator's call log and the audit
log's Lease history), the desired end state, no leak, nothing foreign
touched.

CHAOS_SECONDS (default 120; `make chaos` runs 480) bounds the chaos phase,
CHAOS_SEED (default 1010) fixes every random choice; both are printed.
"""

import json
import os
import random
import re
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid

import chaos_check
from harness import free_port, wait_for
from test_route import delete_all_nodes, make_node
from test_service import ensure_rbac, set_ready
from test_supervisor import SEED_FLAGS

DURATION = float(os.environ.get("CHAOS_SECONDS", "120"))
SEED = int(os.environ.get("CHAOS_SEED", "1010"))
REGION = "cn-hangzhou"
CLUSTER_ID = "chaos"
CLUSTER_CIDR = "172.16.0.0/16"  # SEED_FLAGS' --cluster-cidr
TABLE = "vtb-sim0001"
LEASE_S = 15  # the seed's (default) lease duration
# A frozen or cut-off leader stays so until a standby holds the Lease (with
# the seed's endpoints lock that takes up to two lease durations), at most:
FREEZE_MAX_S = 4 * LEASE_S
PORTS = (80, 443, 8080)
SAS = ("service-controller", "route-controller", "cloud-node-controller")
CONVERGE_S = 420


def log(msg):
    print(f"[chaos {time.strftime('%H:%M:%S', time.gmtime())}] {msg}",
          flush=True)


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


class Sup:
    """One supervisor slot: its proxy to the API server, the process now
    running in it and every identity it has had."""

    def __init__(self, run, n):
        self.run, self.n, self.gen = run, n, 0
        self.proxy = run.tcp_proxy("127.0.0.1", run.cluster.port)
        self.kubeconfig = run.cluster.write_kubeconfig(
            str(run.tmp / f"kc-{n}"), server=self.proxy.url())
        self.proc = self.identity = None
        self.stopped = False

    def start(self):
        self.gen += 1
        port = free_port()
        rd = self.run.tmp / f"run-{self.n}-{self.gen}"
        rd.mkdir()
        self.port = port
        self.proc = self.run.run_ccm(
            [*SEED_FLAGS, f"--cloud-config={self.run.cloud_config}",
             f"--kubeconfig={self.kubeconfig}",
             f"--leader-elect-resource-name={self.run.lock}",
             f"--health-probe-bind-addr=127.0.0.1:{port}",
             f"--metrics-bind-addr=127.0.0.1:{port}",
             f"--run-dir={rd}", "-v=2"],
            env={**self.run.sim.env, "CCM_SCAFFOLD": ""})
        self.identity = self.proc.wait_log(r"identity (\S+),", 60).group(1)
        self.run.identities.add(self.identity)
        self.stopped = False
        return self

    def workers(self):
        out = []
        for pid in self.proc.descendants():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().startswith("ccm-"):
                        out.append(pid)
            except OSError:
                pass
        return out


class Run:
    def __init__(self, cluster, sim, run_ccm, tcp_proxy, tmp):
        self.cluster, self.sim, self.run_ccm = cluster, sim, run_ccm
        self.tcp_proxy, self.tmp = tcp_proxy, tmp
        # two streams, so the fault schedule does not depend on how many
        # changes the other thread made meanwhile
        self.rng = random.Random(SEED)
        self.frng = random.Random(SEED + 1)
        self.ready = {}  # node -> Ready as last set
        self.lock = "chaos-" + uuid.uuid4().hex[:8]
        self.ns = "chaos-" + uuid.uuid4().hex[:6]
        self.identities = set()
        self.injected = []
        self.changes = {}
        self.stop = threading.Event()
        self.nodes = {}  # name -> (instance, cidr)
        self.free = []  # (instance, cidr) not used by a node
        self.svcs = set()
        self.cloud_config = sim.cloud_config(str(tmp / "cloud-config.conf"),
                                             clusterID=CLUSTER_ID)

    # ------------------------------------------------------------ world
    def api(self, method, path, body=None, **kw):
        try:
            return self.cluster.api(method, path, body, timeout=10, **kw)
        except OSError as e:  # the API server may be restarting
            return 0, str(e)

    def setup_world(self):
        delete_all_nodes(self.cluster)
        for sa in SAS:
            ensure_rbac(self.cluster, sa)
        st, out = self.api("POST", "/api/v1/namespaces", {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": self.ns}})
        assert st == 201, out
        for i in range(6):
            inst = self.sim.client.mutate("add_instance",
                                          vswitch_id="vsw-sim0001")["id"]
            self.free.append((inst, f"172.16.{10 + i}.0/24"))

    def seed_foreign(self):
        """A CLB of another cluster (listener, group, backend), an untagged
        CLB and a route outside the cluster CIDR: never to be touched."""
        c = self.sim.client
        from simclient import SLB
        other = c.rpc("CreateLoadBalancer", SLB, {
            "RegionId": REGION, "LoadBalancerName": "foreign-other-cluster",
            "Tag.1.Key": "ack.aliyun.com", "Tag.1.Value": "other-cluster",
            "Tag.2.Key": "kubernetes.do.not.delete",
            "Tag.2.Value": "aforeign"})["LoadBalancerId"]
        g = c.rpc("CreateVServerGroup", SLB, {
            "RegionId": REGION, "LoadBalancerId": other,
            "VServerGroupName": f"k8s/80/web/default/{CLUSTER_ID}",
            "BackendServers": json.dumps([{"ServerId": "i-sim0002",
                                           "Port": 30080,
                                           "Weight": 100}])})
        c.rpc("CreateLoadBalancerTCPListener", SLB, {
            "RegionId": REGION, "LoadBalancerId": other, "ListenerPort": 80,
            "Bandwidth": -1, "VServerGroupId": g["VServerGroupId"]})
        plain = c.rpc("CreateLoadBalancer", SLB, {
            "RegionId": REGION,
            "LoadBalancerName": "foreign-untagged"})["LoadBalancerId"]
        c.mutate("add_route_entry", route_table_id=TABLE,
                 cidr="10.99.0.0/24", next_hop_id="i-sim0001")
        self.foreign_keys = ({other, plain}, {(TABLE, "10.99.0.0/24")})
        return chaos_check.foreign_snapshot(c.state(), *self.foreign_keys)

    # ---------------------------------------------------- change stream
    def svc_body(self, name, ports):
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": self.ns},
                "spec": {"type": "LoadBalancer", "selector": {"app": name},
                         "externalTrafficPolicy": "Cluster",
                         "ports": [{"name": f"p{p}", "port": p,
                                    "protocol": "TCP", "targetPort": p}
                                   for p in ports]}}

    def ports(self):
        return sorted(self.rng.sample(PORTS, self.rng.randint(1, 2)))

    def add_svc(self):
        name = f"svc-{uuid.uuid4().hex[:5]}"
        st, _ = self.api("POST", f"/api/v1/namespaces/{self.ns}/services",
                         self.svc_body(name, self.ports()))
        if st == 201:
            self.svcs.add(name)
            self.put_endpoints(name)
        return st

    def put_endpoints(self, name):
        nodes = sorted(self.nodes)
        pods = [(f"10.1.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}",
                 self.rng.choice(nodes)) for _ in range(2)] if nodes else []
        body = {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": self.ns},
                "subsets": [{"addresses": [{"ip": ip, "nodeName": n}
                                           for ip, n in pods],
                             "ports": [{"port": 80, "protocol": "TCP"}]}]
                if pods else []}
        path = f"/api/v1/namespaces/{self.ns}/endpoints"
        st, _ = self.api("POST", path, body)
        if st == 409:
            st, _ = self.api("PUT", f"{path}/{name}", body)
        return st

    def add_node(self):
        if not self.free:
            return 0
        inst, cidr = self.free.pop(self.rng.randrange(len(self.free)))
        name = f"chaos-{inst}"
        try:
            make_node(self.cluster, name, cidr, inst)
            set_ready(self.cluster, name)
        except (AssertionError, OSError):
            self.free.append((inst, cidr))
            self.api("DELETE", f"/api/v1/nodes/{name}")
            return 0
        self.nodes[name] = (inst, cidr)
        return 201

    def del_node(self):
        name = self.rng.choice(sorted(self.nodes))
        st, _ = self.api("DELETE", f"/api/v1/nodes/{name}")
        if st in (200, 404):
            self.free.append(self.nodes.pop(name))
            self.ready.pop(name, None)
        return st

    def flip_node(self):
        name = self.rng.choice(sorted(self.nodes))
        ready = sum(1 for n in self.nodes if self.ready.get(n, True))
        status = "False" if self.ready.get(name, True) and ready > 1 \
            else "True"
        try:
            set_ready(self.cluster, name, status)
        except (AssertionError, OSError):
            return 0
        self.ready[name] = status == "True"
        return 200

    def label_node(self):
        name = self.rng.choice(sorted(self.nodes))
        v = self.rng.choice(["a", "b", None])
        st, _ = self.api("PATCH", f"/api/v1/nodes/{name}",
                         {"metadata": {"labels": {"chaos/tier": v}}})
        return st

    def change(self):
        """One random change; returns its name."""
        ops = []
        if len(self.svcs) < 5:
            ops += ["add_svc"] * 2
        if len(self.svcs) > 1:
            ops.append("del_svc")
        if self.svcs:
            ops += ["svc_ports", "endpoints", "endpoints"]
        if len(self.nodes) < 5 and self.free:
            ops.append("add_node")
        if len(self.nodes) > 2:
            ops.append("del_node")
        if self.nodes:
            ops += ["flip_node", "label_node"]
        op = self.rng.choice(ops)
        path = f"/api/v1/namespaces/{self.ns}/services"
        if op == "add_svc":
            st = self.add_svc()
        elif op == "del_svc":
            name = self.rng.choice(sorted(self.svcs))
            st, _ = self.api("DELETE", f"{path}/{name}")
            if st in (200, 404):
                self.svcs.discard(name)
                self.api("DELETE",
                         f"/api/v1/namespaces/{self.ns}/endpoints/{name}")
        elif op == "svc_ports":
            name = self.rng.choice(sorted(self.svcs))
            st, _ = self.api("PATCH", f"{path}/{name}", {"spec": {
                "ports": self.svc_body(name, self.ports())["spec"]["ports"]}})
        elif op == "endpoints":
            st = self.put_endpoints(self.rng.choice(sorted(self.svcs)))
        else:
            st = getattr(self, op)()
        key = f"{op} ({'ok' if 200 <= st < 300 else 'refused'})"
        self.changes[key] = self.changes.get(key, 0) + 1
        return op

    def stream(self):
        while not self.stop.is_set():
            try:
                self.change()
            except Exception as e:  # keep changing; the run reports it
                self.changes[f"error {type(e).__name__}"] = \
                    self.changes.get(f"error {type(e).__name__}", 0) + 1
            self.stop.wait(self.rng.uniform(0.3, 1.5))

    # ----------------------------------------------------------- faults
    def holder(self):
        for _ in range(3):
            st, obj = self.api(
                "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/"
                f"leases/{self.lock}")
            if st == 200:
                return obj["spec"].get("holderIdentity") or None
            time.sleep(1)
        return None

    def leader(self):
        h = self.holder()
        for s in self.sups:
            if s.identity == h and s.proc.alive():
                return s
        return None

    def inject(self, what, detail=""):
        self.injected.append((time.time(), what, detail))
        log(f"inject {what} {detail}")

    def kill_worker(self):
        """kill -9 of the leader's workers in turn: service-lb, route,
        node-init."""
        s = self.leader()
        by = {}
        for pid in (s.workers() if s else []):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    by[f.read().strip()] = pid
            except OSError:
                pass
        if not by:
            return False
        self.kills = getattr(self, "kills", -1) + 1
        names = ["ccm-service-lb", "ccm-route", "ccm-node-init"]
        comm = names[self.kills % 3]
        comm = comm if comm in by else sorted(by)[0]
        os.kill(by[comm], signal.SIGKILL)
        self.inject("kill -9 worker", f"{comm} of {s.identity}")
        return True

    def kill_leader(self):
        s = self.leader()
        if not s:
            return False
        os.kill(s.proc.pid, signal.SIGKILL)
        s.proc.kill()
        self.inject("kill -9 leading supervisor", s.identity)
        s.start()
        log(f"restarted slot {s.n} as {s.identity}")
        return True

    def freeze_leader(self):
        s = self.leader()
        if not s:
            return False
        os.kill(s.proc.pid, signal.SIGSTOP)
        s.stopped = True
        self.inject("SIGSTOP leading supervisor", s.identity)
        self.until_moved(s.identity)
        os.kill(s.proc.pid, signal.SIGCONT)
        s.stopped = False
        self.inject("SIGCONT", s.identity)
        return True

    def cut_leader(self):
        s = self.leader()
        if not s:
            return False
        s.proxy.blackhole()
        self.inject("leader cut off from the API server", s.identity)
        self.until_moved(s.identity)
        s.proxy.resume()
        self.inject("leader reconnected", s.identity)
        return True

    def restart_apiserver(self):
        self.inject("kube-apiserver restart")
        self.cluster.restart_apiserver()
        return True

    def compact_etcd(self):
        out = json.loads(self.cluster.etcdctl("endpoint", "status",
                                              "-w", "json"))
        rev = out[0]["Status"]["header"]["revision"]
        self.cluster.etcdctl("compact", str(rev))
        self.inject("etcd compaction", f"revision {rev}")
        return True

    def until_moved(self, old):
        """Until another identity holds the Lease (a few seconds more, so
        the new leader's workers act while the old one is still away)."""
        t = time.time()
        while time.time() - t < FREEZE_MAX_S:
            h = self.holder()
            if h and h != old:
                self.inject("Lease taken over", f"by {h} after "
                            f"{time.time() - t:.0f} s")
                self.stop.wait(3)
                return
            time.sleep(0.5)
        self.inject("Lease not taken over", f"in {FREEZE_MAX_S} s")

    def chaos(self, until):
        kinds = [self.kill_worker, self.kill_leader, self.freeze_leader,
                 self.cut_leader, self.restart_apiserver, self.compact_etcd]
        while time.time() < until:
            order = kinds[:]
            self.frng.shuffle(order)
            for k in order:
                if time.time() >= until:
                    return
                wait_for(self.leader, 3 * (2 * LEASE_S + 4), 1.0,
                         what="a leader among the supervisors")
                self.stop.wait(self.frng.uniform(2, 6))
                k()

    def quiesce(self):
        for s in self.sups:
            if s.stopped:
                os.kill(s.proc.pid, signal.SIGCONT)
            s.proxy.resume()
            if not s.proc.alive():
                s.start()
        self.sim.client.clear_faults()
        for name in sorted(self.nodes):
            set_ready(self.cluster, name)
            self.ready[name] = True

    # -------------------------------------------------------------- check
    def end_state(self, rep):
        st, svcs = self.api("GET", "/api/v1/services")
        st2, nodes = self.api("GET", "/api/v1/nodes")
        if st != 200 or st2 != 200:
            rep.fail("c", f"cannot read Services/Nodes ({st}, {st2})")
            return
        chaos_check.check_end_state(
            rep, svcs["items"], nodes["items"], self.sim.state(),
            chaos_check.Desired(CLUSTER_ID, (self.ns,), TABLE, CLUSTER_CIDR,
                                REGION))

    def converged(self):
        rep = chaos_check.Report()
        self.end_state(rep)
        self.last_end = rep
        return rep.ok

    def cleanup(self):
        path = f"/api/v1/namespaces/{self.ns}/services"
        st, obj = self.api("GET", path)
        for s in (obj.get("items", []) if st == 200 else []):
            n = s["metadata"]["name"]
            self.api("DELETE", f"{path}/{n}")
            self.api("PATCH", f"{path}/{n}", {"metadata": {"finalizers": None}})
        delete_all_nodes(self.cluster)


def test_chaos(cluster, sim, run_ccm, tcp_proxy, tmp_path):
    log(f"seed {SEED} (CHAOS_SEED), chaos phase {DURATION:.0f} s "
        "(CHAOS_SECONDS)")
    r = Run(cluster, sim, run_ccm, tcp_proxy, tmp_path)
    try:
        _run(r)
    finally:
        r.stop.set()
        for s in getattr(r, "sups", []):
            if s.proc and s.proc.alive():
                os.kill(s.proc.pid, signal.SIGCONT)
        r.cleanup()


def _run(r):
    r.setup_world()
    foreign = r.seed_foreign()
    since_seq = max((c["seq"] for c in r.sim.calls()), default=0)
    t0 = time.time()
    r.sim.client.config(seed=SEED)
    r.sim.control(action="*", throttle_rate=0.3)
    r.sim.control(action="*", error_rate_5xx=0.05)
    r.inject("cloud throttling 30 % and 5xx 5 % on every action")
    r.sups = [Sup(r, n).start() for n in range(3)]
    log("supervisors: " + ", ".join(s.identity for s in r.sups))
    wait_for(r.leader, 3 * (2 * LEASE_S + 4), 1.0, what="a first leader")
    for _ in range(3):
        r.add_node()
    for _ in range(2):
        r.add_svc()

    streamer = threading.Thread(target=r.stream, daemon=True)
    streamer.start()
    try:
        r.chaos(time.time() + DURATION)
    finally:
        r.stop.set()
        streamer.join(30)
    log("quiesce: faults off, every supervisor running, nodes Ready")
    r.quiesce()
    ok = wait_for_or_none(r.converged, CONVERGE_S)
    t_end = time.time()

    rep = chaos_check.Report()
    events = r.cluster.audit_events()
    hist = chaos_check.LeaseHistory.from_audit(events, "kube-system", r.lock,
                                               LEASE_S)
    calls = r.sim.client.calls(since=since_seq)
    chaos_check.check_cloud_calls(rep, calls, hist)
    chaos_check.check_kube_writes(rep, events, hist, since=t0,
                                  identities=r.identities)
    r.end_state(rep)
    chaos_check.check_foreign(rep, foreign, chaos_check.foreign_snapshot(
        r.sim.state(), *r.foreign_keys))
    rep.count("Lease writes", len(hist.writes))
    rep.count("Lease holders", len(hist.holders()))
    for h in hist.holders():
        rep.notes.append(f"held by {h}: " + ", ".join(
            f"{chaos_check.fmt_ts(a)}-{chaos_check.fmt_ts(b)}"
            for a, b in hist.intervals[h]))
    if not ok:
        rep.notes.append(f"not converged {CONVERGE_S} s after quiescing")
    print(_summary(r, rep, t0, t_end), flush=True)
    assert ok and rep.ok, "chaos invariant broken:\n" + rep.text()
    # the run proves something only if leadership moved and clouds calls
    # were checked
    assert len(hist.holders()) >= 2, "the run never moved the Lease"
    assert rep.checked.get("mutating cloud calls", 0) > 0
    assert rep.checked.get("worker kube mutations", 0) > 0


def wait_for_or_none(pred, timeout):
    try:
        return wait_for(pred, timeout, 2.0, what="convergence")
    except AssertionError:
        return None


def _summary(r, rep, t0, t_end):
    lines = [f"=== chaos run: seed {SEED}, {DURATION:.0f} s of chaos, "
             f"{t_end - t0:.0f} s in all ===", "injected:"]
    lines += [f"  {chaos_check.fmt_ts(t)} {w} {d}".rstrip()
              for t, w, d in r.injected]
    lines.append("changes: " + ", ".join(f"{k}: {v}" for k, v in
                                         sorted(r.changes.items())))
    lines.append(rep.text())
    return "\n".join(lines)


def test_checker_flags_an_actor_without_the_lease(cluster, sim, run_ccm,
                                                  tmp_path):
    """The checker on real components: a leader-elected CCM acts for a
    Service and stops (releasing the Lease), then a CCM with
    --leader-elect=false acts for another. Every mutation of the second, to
    the cloud and to the API server, is reported under (a) and (b); none of
    the first's is."""
    lock, ns = "chk-" + uuid.uuid4().hex[:8], "chk-" + uuid.uuid4().hex[:6]
    delete_all_nodes(cluster)
    cluster.create("/api/v1/namespaces", {"apiVersion": "v1",
                                          "kind": "Namespace",
                                          "metadata": {"name": ns}})
    make_node(cluster, "chk-node", "172.16.1.0/24", "i-sim0002")
    set_ready(cluster, "chk-node")
    cc_path = sim.cloud_config(str(tmp_path / "cc.json"), clusterID="chk")
    since_seq = max((c["seq"] for c in sim.calls()), default=0)
    t0 = time.time()

    def ccm(n, *extra):
        port = free_port()
        (tmp_path / f"run{n}").mkdir()
        p = run_ccm([f"--cloud-config={cc_path}",
                     f"--kubeconfig={cluster.kubeconfig}",
                     "--controllers=service", "--configure-cloud-routes=false",
                     f"--leader-elect-resource-name={lock}",
                     f"--health-probe-bind-addr=127.0.0.1:{port}",
                     f"--metrics-bind-addr=127.0.0.1:{port}",
                     f"--run-dir={tmp_path}/run{n}", "-v=2", *extra],
                    env={**sim.env, "CCM_SCAFFOLD": ""})
        return p, p.wait_log(r"identity (\S+),", 60).group(1)

    def lb_service(name):
        cluster.create(f"/api/v1/namespaces/{ns}/services", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "ports": [{"port": 80, "protocol": "TCP",
                                "targetPort": 80}]}})

        def ingress():
            s = cluster.get(f"/api/v1/namespaces/{ns}/services/{name}")
            return (s.get("status", {}).get("loadBalancer", {})
                    .get("ingress"))
        wait_for(ingress, 120, 0.5, what=f"ingress of {name}")

    try:
        legit, legit_id = ccm(1)
        lb_service("first")
        assert legit.stop() == 0
        rogue, rogue_id = ccm(2, "--leader-elect=false")
        lb_service("second")
        rep = chaos_check.Report()
        events = cluster.audit_events()
        hist = chaos_check.LeaseHistory.from_audit(events, "kube-system",
                                                   lock, LEASE_S)
        chaos_check.check_cloud_calls(rep, sim.client.calls(since=since_seq),
                                      hist)
        chaos_check.check_kube_writes(rep, events, hist, since=t0,
                                      identities={legit_id, rogue_id})
        print(rep.text(), flush=True)
        assert hist.holders() == [legit_id]
        by = {}
        for v in rep.violations:
            assert rogue_id in v.what and legit_id not in v.what, v
            by[v.invariant] = by.get(v.invariant, 0) + 1
        assert by.get("a", 0) >= 1 and by.get("b", 0) >= 1, rep.text()
        # the legitimate leader's own mutations were checked and passed
        assert rep.checked["mutating cloud calls"] > by["a"]
        assert rep.checked["worker kube mutations"] > by["b"]
    finally:
        path = f"/api/v1/namespaces/{ns}/services"
        for n in ("first", "second"):
            cluster.api("DELETE", f"{path}/{n}")
            cluster.api("PATCH", f"{path}/{n}",
                        {"metadata": {"finalizers": None}})
        delete_all_nodes(cluster)
