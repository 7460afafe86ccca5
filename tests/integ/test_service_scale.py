"""Service-LB worker past the account quotas (issue 11): sticky subsets of
nodes for Cluster-policy Services sized to the backend and attachment
quotas of the cloud-config, whole ENI lists, ownership checked on the
CLB's tags before deletion, and finalizer removal that carries the UID and
resourceVersion judged. Real kube-apiserver and the simulator with its
quotas; nodes are created in bulk and the CCM runs with high API rates so
the large cases stay short."""

import collections
import concurrent.futures
import os
import re
import time
import urllib.request

import pytest

import chaos_check
import test_service
from harness import free_port, wait_for
from test_service import (CLUSTER_ID, FINALIZER, NS, PFX, REGION, events,
                          get_svc, ingress_ip, node_body, set_ready, svc_body,
                          uniq, write_endpoints)
from test_service import token, world  # noqa: F401 - fixtures

FAST = ["--slb-api-qps=1000", "--ecs-api-qps=1000", "--kube-api-qps=1000",
        "--kube-api-burst=1000", "--node-event-aggregation-wait-seconds=1"]
ZONES = ("cn-hangzhou-h", "cn-hangzhou-i")


# ---------------------------------------------------------------- helpers

@pytest.fixture
def ccm(run_ccm, cluster, sim, tmp_path, token):
    """ccm(cloud={...}) -> the service-lb worker with /metrics served and
    fast API rates; .metrics_url is set on the Process."""
    n = [0]

    def start(cloud=None):
        n[0] += 1
        bind = f"127.0.0.1:{free_port()}"
        cc = sim.cloud_config(str(tmp_path / f"cloud-s{n[0]}.json"),
                              clusterID=CLUSTER_ID, **(cloud or {}))
        kc = cluster.write_kubeconfig(str(tmp_path / f"kc-s{n[0]}"),
                                      token=token)
        e = dict(os.environ)
        e.update(sim.env)
        os.makedirs(f"{tmp_path}/run-s{n[0]}", exist_ok=True)
        p = run_ccm([f"--cloud-config={cc}", f"--kubeconfig={kc}",
                     "--controllers=service", "--leader-elect=false",
                     "--configure-cloud-routes=false",
                     "--cloud-resync-period=1h",
                     f"--run-dir={tmp_path}/run-s{n[0]}",
                     f"--health-probe-bind-addr={bind}",
                     f"--metrics-bind-addr={bind}", "-v=2", *FAST], env=e)
        p.metrics_url = f"http://{bind}/metrics"
        return p
    return start


@pytest.fixture
def foreign(sim):
    """Foreign CLBs (another cluster's, tempting: its vServer group is
    named like one of ours and holds i-sim0002; and an untagged one) seeded
    before the CCM runs. .check() at the end of a test: the chaos checker
    finds them unchanged and no mutating call of the CCM naming them."""
    class Foreign:
        ids = chaos_check.seed_foreign_clbs(sim.client, REGION, CLUSTER_ID,
                                            "i-sim0002")
        before = chaos_check.foreign_snapshot(sim.state(), ids)
        late = []    # (snapshot, seq): CLBs that became foreign mid-test
        calls = []   # the call log kept across a test's clear_calls()

        def adopt(self, lb_id):
            """lb_id is no longer ours from now on (its tags were removed):
            unchanged from here, no mutating call names it after now."""
            seq = max((c["seq"] for c in sim.calls()), default=0)
            self.late.append((chaos_check.foreign_snapshot(sim.state(),
                                                           {lb_id}), seq))

        def keep_calls(self):
            self.calls += sim.calls()

        def check(self):
            rep = chaos_check.Report()
            state, calls = sim.state(), self.calls + sim.calls()
            pairs = [(self.before, 0)] + self.late
            for before, seq in pairs:
                ids = {v["LoadBalancerId"] for v in before.values()}
                chaos_check.check_foreign(
                    rep, before, chaos_check.foreign_snapshot(state, ids))
                chaos_check.check_calls_avoid(
                    rep, [c for c in calls if c["seq"] > seq], before)
            print(rep.text())
            assert rep.ok, rep.text()
            assert rep.checked["foreign resources"] == 2 + len(self.late)
            assert rep.checked.get(
                "CCM mutating calls checked for foreign names"), rep.text()
    return Foreign()


def lbs(sim):
    """The CLBs this cluster's CCM may own: every one but the seeded
    foreign ones (named "foreign-...")."""
    return [lb for lb in test_service.lbs(sim)
            if not lb.get("LoadBalancerName", "").startswith("foreign-")]


def metric(p, name, labels=""):
    """Sum of the series of `name` whose label text contains `labels`."""
    with urllib.request.urlopen(p.metrics_url, timeout=10) as r:
        txt = r.read().decode()
    total = None
    for line in txt.splitlines():
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)", line)
        if m and m.group(1) == name and labels in (m.group(2) or ""):
            total = (total or 0) + float(m.group(3))
    return total


def syncs_ok(p):
    return metric(p, "service_lb_syncs_total", 'result="ok"') or 0


def syncs_settle(p, at_least, quiet=3.0, timeout=300):
    """Until the ok-sync counter reached at_least and then stayed still
    for `quiet` seconds (every queued sync ran); returns its value."""
    last = [None, time.monotonic()]

    def settled():
        v = syncs_ok(p)
        if v != last[0]:
            last[0], last[1] = v, time.monotonic()
            return False
        return v >= at_least and time.monotonic() - last[1] >= quiet
    wait_for(settled, timeout, 0.3, what="service syncs settle")
    return last[0]


def zone_vswitches(sim):
    """Two big vSwitches, one per zone (the default ones are /24)."""
    ids = []
    for i, z in enumerate(ZONES):
        vid = f"vsw-scale{i}"
        if vid not in {v["id"] for v in sim.state()["vswitches"]}:
            sim.client.mutate("add_vswitch", id=vid, vpc_id="vpc-sim0001",
                              cidr=f"192.168.{64 + 16 * i}.0/20", zone=z)
        ids.append(vid)
    return ids


def bulk_nodes(cluster, sim, world, prefix, n, start=0):
    """n Ready nodes on new instances, alternating between the two zones;
    returns {node name: (instance id, zone)}."""
    vsws = zone_vswitches(sim)
    insts = [sim.client.mutate("add_instance",
                               vswitch_id=vsws[i % 2])["id"]
             for i in range(start, start + n)]

    def make(k):
        i = start + k
        name = f"{prefix}-{i:03d}"
        zone = ZONES[i % 2]
        st, out = cluster.api("POST", "/api/v1/nodes", node_body(
            name, insts[k], labels={"topology.kubernetes.io/zone": zone}))
        assert st == 201, out
        set_ready(cluster, name)
        return name, (insts[k], zone)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        out = dict(ex.map(make, range(n)))
    world.nodes.extend(out)
    return out


def bulk_svcs(cluster, world, prefix, n):
    names = [f"{prefix}-{i:02d}" for i in range(n)]

    def make(name):
        world.svc(svc_body(name))
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(make, names))
    return names


def members_by_svc(sim):
    """{service name: set of ECS instance ids in its port-80 group}."""
    out = {}
    for lb in lbs(sim):
        for g in lb["groups"]:
            parts = g["VServerGroupName"].split("/")
            if len(parts) == 5 and parts[0] == "k8s":
                out[parts[2]] = {b["ServerId"] for b in g["BackendServers"]}
    return out


def attachments(members):
    return collections.Counter(i for s in members.values() for i in s)


def all_sized(sim, names, size):
    m = members_by_svc(sim)
    return all(len(m.get(n, ())) == size for n in names) and m


# ------------------------------------------------------------------ tests

def test_subsets_at_the_backend_quota(cluster, sim, world, ccm, foreign):
    """250 nodes in two zones, 20 Cluster-policy Services, 200 backend
    servers per CLB: sticky 200-node subsets across both zones; 10 members
    deleted -> exactly those replaced; 50 more nodes -> nothing moves; the
    quota raised to 300 in the cloud-config -> every node."""
    nodes = bulk_nodes(cluster, sim, world, uniq("big"), 250)
    zone_of = {inst: z for inst, z in nodes.values()}
    names = bulk_svcs(cluster, world, uniq("sub"), 20)
    p = ccm()
    wait_for(lambda: all_sized(sim, names, 200), 600, 1.0,
             what="20 CLBs with 200 backends each")
    first = members_by_svc(sim)
    for n in names:
        per_zone = collections.Counter(zone_of[i] for i in first[n])
        assert per_zone == {ZONES[0]: 100, ZONES[1]: 100}, (n, per_zone)
    assert max(attachments(first).values()) <= 50
    assert all(ingress_ip(cluster, n) for n in names)
    ev = events(cluster, "LoadBalancerSubset", names[0])
    assert ev and "200 of the 250" in ev[0]["message"], ev

    # 10 members of one subset go: exactly those are replaced
    inst_node = {inst: name for name, (inst, _) in nodes.items()}
    gone = sorted(first[names[0]])[:10]
    for inst in gone:
        st, _ = cluster.api("DELETE", "/api/v1/nodes/" + inst_node[inst])
        assert st == 200
    wait_for(lambda: all(
        len(s) == 200 and not s & set(gone)
        for s in members_by_svc(sim).values()), 300, 1.0,
        what="deleted nodes replaced in every subset")
    second = members_by_svc(sim)
    for n in names:
        kept = first[n] - set(gone)
        assert kept <= second[n], n
        assert len(second[n] - first[n]) == len(first[n] & set(gone)), n
    assert len(second[names[0]] - first[names[0]]) == 10

    # 50 more nodes while every subset is full: no subset changes (each
    # Service synced after the additions: 20 more syncs, then quiet)
    before = syncs_settle(p, 0)
    foreign.keep_calls()
    sim.client.clear_calls()
    bulk_nodes(cluster, sim, world, uniq("more"), 50, start=250)
    syncs_settle(p, before + 20)
    assert members_by_svc(sim) == second
    assert [c["action"] for c in sim.calls()
            if "BackendServers" in c["action"] and
            not c["action"].startswith("Describe")] == []

    # quota 300 (a restart on the new cloud-config): every node
    p.stop()
    ccm(cloud={"maxBackendServersPerLoadBalancer": 300})
    sim.client.config(quotas={"backends_per_lb": 300})
    wait_for(lambda: all_sized(sim, names, 290), 600, 1.0,
             what="every CLB holding all 290 nodes")
    foreign.check()


def test_subsets_shrink_to_the_attachment_quota(cluster, sim, world, ccm,
                                                foreign):
    """120 nodes, 5 CLBs per ECS instance, 40 Services: 120 * 5 / 40 = 15
    members each, no instance in more than 5 CLBs, an Event and a metric
    say the subsets were shrunk."""
    bulk_nodes(cluster, sim, world, uniq("att"), 120)
    names = bulk_svcs(cluster, world, uniq("att"), 40)
    sim.client.config(quotas={"lbs_per_instance": 5})
    p = ccm(cloud={"maxLoadBalancersPerInstance": 5})
    wait_for(lambda: all_sized(sim, names, 15), 600, 1.0,
             what="40 CLBs with 15 backends each")
    counts = attachments(members_by_svc(sim))
    assert max(counts.values()) <= 5
    assert sum(counts.values()) == 600
    ev = events(cluster, "LoadBalancerSubsetShrunk", names[-1])
    assert ev and ev[0]["type"] == "Warning", ev
    msg = ev[0]["message"]
    assert "15 of the 120" in msg and "maxLoadBalancersPerInstance" in msg
    assert metric(p, "service_lb_subset_shrunk") == 1
    assert metric(p, "service_lb_subset_size") == 15
    assert not [c for c in sim.calls() if "OverLimit" in (c.get("code") or "")]
    foreign.check()


def eni_svc(world, name):
    world.svc(svc_body(name, annotations={
        "service.beta.kubernetes.io/backend-type": "eni"}))


def eni_members(sim):
    lb = [x for x in lbs(sim)][0]
    return sorted(b["ServerIp"] for g in lb["groups"]
                  for b in g["BackendServers"])


def test_eni_backends_read_whole(cluster, sim, world, ccm, foreign):
    """An ENI with 12 secondary IPs and a pod on each: 12 ENI backends. A
    DescribeNetworkInterfaces failing half way (page 2 of 2): no backend is
    removed, a Warning; once it answers again, the removal follows."""
    node = world.node(uniq("eni"), "i-sim0002")
    ips = [f"192.168.0.{150 + i}" for i in range(12)]
    sim.client.mutate("add_eni", id="eni-simbig", vswitch_id="vsw-sim0001",
                      instance_id="i-sim0002", secondary_ips=ips)
    other = ["192.168.1.150"]
    sim.client.mutate("add_eni", id="eni-simother", vswitch_id="vsw-sim0002",
                      secondary_ips=other)
    name = uniq("pods")
    eni_svc(world, name)
    write_endpoints(cluster, name, [(ip, node) for ip in ips + other],
                    port_name="p80")
    p = ccm()
    wait_for(lambda: lbs(sim) and len(eni_members(sim)) == 13, 120, 0.5,
             what="13 ENI backends")
    assert set(ips) <= set(eni_members(sim))

    # one answer per page, the second page fails: nothing is removed
    sim.client.config(page_size=1)
    sim.control(action="DescribeNetworkInterfaces", skip=1, fail_next=1000)
    keep = ips[:6] + other  # still on both ENIs: two pages
    write_endpoints(cluster, name, [(ip, node) for ip in keep],
                    port_name="p80")
    wait_for(lambda: [e for e in events(cluster, "SyncLoadBalancerFailed",
                                        name)
                      if "DescribeNetworkInterfaces" in e["message"]],
             120, 0.5, what="Warning for the half-way ENI lookup")
    assert len(eni_members(sim)) == 13
    ok = syncs_ok(p)
    sim.client.clear_faults()
    wait_for(lambda: eni_members(sim) == sorted(keep), 120, 0.5,
             what="removal once the lookup answers whole")
    wait_for(lambda: syncs_ok(p) > ok, 60, 0.2, what="that sync done")

    # a pod IP no ENI holds: Warning, and no removal in that sync (waited
    # for: the sync's success counted after the Warning)
    before = syncs_ok(p)
    write_endpoints(cluster, name,
                    [(ip, node) for ip in keep[:3] + ["192.168.0.249"]],
                    port_name="p80")
    wait_for(lambda: [e for e in events(cluster, "SkipSyncBackends", name)
                      if "192.168.0.249" in e["message"]],
             120, 0.5, what="SkipSyncBackends for the unknown pod IP")
    wait_for(lambda: syncs_ok(p) > before, 60, 0.2, what="that sync done")
    assert eni_members(sim) == sorted(keep)
    write_endpoints(cluster, name, [(ip, node) for ip in keep[:3]],
                    port_name="p80")
    wait_for(lambda: eni_members(sim) == sorted(keep[:3]), 120, 0.5,
             what="removal once every pod IP resolves")
    foreign.check()


def test_clb_found_by_name_only_is_not_deleted(cluster, sim, world, ccm,
                                               foreign):
    """Our tags removed from the CLB (it now matches only by its default
    name): deleting the Service leaves the CLB and completes, with a
    Warning naming it."""
    world.node(uniq("own"), "i-sim0002")
    name = uniq("own")
    world.svc(svc_body(name))
    ccm()
    wait_for(lambda: ingress_ip(cluster, name), 120, what="ingress IP")
    lb = lbs(sim)[0]
    lid = lb["LoadBalancerId"]
    for key in ("kubernetes.do.not.delete", "ack.aliyun.com"):
        sim.client.mutate("remove_tag", load_balancer_id=lid, key=key)
    foreign.adopt(lid)  # matched by name only from now on: not ours
    st, _ = cluster.api("DELETE", f"/api/v1/namespaces/{NS}/services/{name}")
    assert st == 200
    wait_for(lambda: get_svc(cluster, name) is None, 120,
             what="Service deleted (finalizer removed)")
    assert [x["LoadBalancerId"] for x in lbs(sim)] == [lid]
    ev = events(cluster, "LoadBalancerNotOwned", name)
    assert ev and ev[0]["type"] == "Warning" and lid in ev[0]["message"]
    assert not sim.calls("DeleteLoadBalancer")
    assert not sim.calls("SetLoadBalancerDeleteProtection")
    foreign.check()


def test_recreated_service_keeps_its_finalizer(cluster, sim, world, ccm,
                                               foreign):
    """The Service is deleted and re-created under the same name while the
    cleanup of the old one is in flight: the old one's finalizer removal is
    refused (UID/resourceVersion precondition) and the new object keeps
    its finalizer."""
    world.node(uniq("pre"), "i-sim0002")
    name = uniq("pre")
    world.svc(svc_body(name))
    p = ccm()
    wait_for(lambda: ingress_ip(cluster, name), 120, what="ingress IP")
    path = f"/api/v1/namespaces/{NS}/services/{name}"
    sim.control(action="DeleteLoadBalancer", latency_ms=4000, count=1)
    mark = p.log_size()
    st, _ = cluster.api("DELETE", path)
    assert st == 200
    wait_for(lambda: events(cluster, "DeletingLoadBalancer", name), 60,
             0.1, what="cleanup in flight")
    # meanwhile: the old object goes and a new one takes its name
    st, out = cluster.api("PATCH", path, {"metadata": {"finalizers": None}},
                          content_type="application/merge-patch+json")
    assert st == 200, out
    wait_for(lambda: get_svc(cluster, name) is None, 30, 0.1,
             what="old object gone")
    body = svc_body(name)
    body["metadata"]["finalizers"] = [FINALIZER]
    new = cluster.create(f"/api/v1/namespaces/{NS}/services", body)
    p.wait_log(r"changed since it was judged", 120, start=mark)
    cur = get_svc(cluster, name)
    assert cur["metadata"]["uid"] == new["metadata"]["uid"]
    assert FINALIZER in cur["metadata"]["finalizers"]
    wait_for(lambda: ingress_ip(cluster, name), 120,
             what="the new Service served")
    cur = get_svc(cluster, name)
    assert cur["metadata"]["uid"] == new["metadata"]["uid"]
    assert FINALIZER in cur["metadata"]["finalizers"]
    foreign.check()
