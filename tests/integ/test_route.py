"""Route worker (issue 6): pod CIDR routes in the VPC route tables, against
the real kube-apiserver and the cloud simulator. Counts come from the
simulator's call log; waits are generous multiples of the configured
periods, never speed assertions."""

import json
import math
import os
import re
import time

import pytest

import chaos_check
from harness import free_port, wait_for

TABLE = "vtb-sim0001"
REGION = "cn-hangzhou"
CLUSTER_CIDR = "10.244.0.0/16"
INSTANCES = ["i-sim0002", "i-sim0003", "i-sim0004"]
# the RouteEntryName of entries this cluster (clusterID route-test) makes
MARK = "k8s-route.route-test"


# ---------------------------------------------------------------- helpers

def delete_all_nodes(cluster):
    st, obj = cluster.api("GET", "/api/v1/nodes")
    assert st == 200, obj
    for n in obj.get("items", []):
        cluster.api("DELETE", "/api/v1/nodes/" + n["metadata"]["name"])
    wait_for(lambda: not cluster.api("GET", "/api/v1/nodes")[1].get("items"),
             30, what="all nodes deleted")


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def node_protobuf(name, cidr, provider_id, labels=None):
    """A Node in the API server's protobuf envelope. The test apiserver
    (Debian's 1.20 built with Go 1.19) panics decoding a Node from JSON
    (json-iterator/reflect2 on map[ResourceName]...), protobuf works."""
    meta = _field(1, name)
    for k, v in (labels or {}).items():
        meta += _field(11, _field(1, k) + _field(2, v))
    spec = _field(1, cidr) + _field(3, provider_id) + _field(7, cidr)
    node = _field(1, meta) + _field(2, spec)
    unknown = _field(1, _field(1, "v1") + _field(2, "Node")) + _field(2, node)
    return b"k8s\x00" + unknown


def make_node(cluster, name, cidr, instance, labels=None):
    body = node_protobuf(name, cidr, f"{REGION}.{instance}", labels)
    st, obj = cluster.api("POST", "/api/v1/nodes", body,
                          content_type="application/vnd.kubernetes.protobuf")
    assert st == 201, obj
    return obj


def delete_node(cluster, name):
    st, obj = cluster.api("DELETE", "/api/v1/nodes/" + name)
    assert st == 200, obj


def entries(sim, table=TABLE):
    for t in sim.state()["route_tables"]:
        if t["id"] == table:
            return t["entries"]
    raise AssertionError(f"no table {table}")


def routes(sim, table=TABLE):
    """{cidr: next_hop_id} of the table's Custom entries."""
    return {e["cidr"]: e["next_hop_id"] for e in entries(sim, table)}


def net_unavailable(cluster, name):
    st, obj = cluster.api("GET", "/api/v1/nodes/" + name)
    if st != 200:
        return None
    for c in obj.get("status", {}).get("conditions", []) or []:
        if c["type"] == "NetworkUnavailable":
            return c
    return None


def events(cluster, reason, name=None):
    sel = f"reason={reason}"
    if name:
        sel += f",involvedObject.name={name}"
    st, obj = cluster.api(
        "GET", f"/api/v1/namespaces/default/events?fieldSelector={sel}")
    assert st == 200, obj
    return obj.get("items", [])


def mutations(sim):
    return [c for c in sim.calls()
            if c["action"] in ("CreateRouteEntry", "CreateRouteEntries",
                               "DeleteRouteEntry", "DeleteRouteEntries")]


def deletions(sim):
    return [c for c in mutations(sim) if c["action"].startswith("Delete")]


def add_entry(sim, cidr, hop, hop_type="Instance", table=TABLE, name="",
              extra_hops=()):
    """A Custom entry; name=MARK makes it one this cluster created."""
    return sim.client.mutate("add_route_entry", route_table_id=table, cidr=cidr,
                             next_hop_id=hop, next_hop_type=hop_type, name=name,
                             extra_hops=[{"id": h} for h in extra_hops])["id"]


def passes(p):
    """Route passes the worker started so far (log lines at -v=2)."""
    return len(re.findall(r"route reconcile: \d+ nodes", p.log()))


def wait_passes(p, n, timeout=60):
    """Proof that n more passes ran (never a fixed sleep)."""
    start = passes(p)
    wait_for(lambda: passes(p) >= start + n, timeout,
             what=f"{n} more route passes")


def cluster_ok(cluster, names):
    def ok():
        for n in names:
            c = net_unavailable(cluster, n)
            if not c or c["status"] != "False" or c["reason"] != "RouteCreated":
                return False
        return True
    return ok


@pytest.fixture
def route_bin(ccm_bin):
    return os.environ.get("CCM_ROUTE_BIN") or ccm_bin


@pytest.fixture
def rccm(run_ccm, route_bin, cluster, sim, tmp_path):
    """rccm(extra=(), cloud={}, kubeconfig=None, period="1h") -> Process
    running only the route worker, without leader election."""
    delete_all_nodes(cluster)
    n = [0]

    def start(extra=(), cloud=None, kubeconfig=None, period="1h", env=None):
        n[0] += 1
        cc = sim.cloud_config(str(tmp_path / f"cloud-{n[0]}.json"),
                              clusterID="route-test", **(cloud or {}))
        e = dict(sim.env)
        e.update(env or {})
        args = [f"--cloud-config={cc}",
                f"--kubeconfig={kubeconfig or cluster.kubeconfig}",
                "--controllers=route", "--leader-elect=false",
                "--configure-cloud-routes=true",
                f"--cluster-cidr={CLUSTER_CIDR}",
                f"--route-reconciliation-period={period}",
                f"--run-dir={tmp_path}/run{n[0]}",
                f"--health-probe-bind-addr=127.0.0.1:{free_port()}",
                "--metrics-bind-addr=", "-v=2", *extra]
        return run_ccm(args, env=e, bin=route_bin)
    try:
        yield start
    finally:
        delete_all_nodes(cluster)


def three_nodes(cluster, prefix):
    names = []
    for i, inst in enumerate(INSTANCES):
        name = f"{prefix}-{i}"
        make_node(cluster, name, f"10.244.{i + 1}.0/24", inst)
        names.append(name)
    return names


# ------------------------------------------------------------------ tests

def test_routes_created_event_driven_and_removed_on_delete(rccm, cluster, sim):
    names = three_nodes(cluster, "rt-basic")
    p = rccm(period="1h")
    wait_for(lambda: len(routes(sim)) == 3, 60, what="3 routes")
    assert routes(sim) == {"10.244.1.0/24": "i-sim0002",
                           "10.244.2.0/24": "i-sim0003",
                           "10.244.3.0/24": "i-sim0004"}
    assert {e["name"] for e in entries(sim)} == {MARK}
    assert all("node rt-basic-" in e["description"] for e in entries(sim))
    wait_for(cluster_ok(cluster, names), 60, what="NetworkUnavailable=False")
    wait_for(lambda: events(cluster, "CreatedRoute", names[0]), 30,
             what="CreatedRoute event")

    # a new node is routed by its watch event (the period is 1h)
    sim.client.mutate("add_instance", id="i-simextra1", vswitch_id="vsw-sim0001")
    make_node(cluster, "rt-basic-new", "10.244.9.0/24", "i-simextra1")
    wait_for(lambda: routes(sim).get("10.244.9.0/24") == "i-simextra1", 60,
             what="route of the new node")
    wait_for(cluster_ok(cluster, ["rt-basic-new"]), 60)

    # a deleted node loses its route, the others keep theirs
    delete_node(cluster, names[1])
    wait_for(lambda: "10.244.2.0/24" not in routes(sim), 60,
             what="route of the deleted node removed")
    assert set(routes(sim)) == {"10.244.1.0/24", "10.244.3.0/24",
                                "10.244.9.0/24"}
    assert p.alive()
    # no Pending entry was ever created twice
    created = [c for c in sim.calls() if c["action"].startswith("CreateRoute")
               and c["status"] == 200]
    assert len(created) <= 2 + 2  # first batch + new node (+ slack)


def test_stale_route_removed_after_restart(rccm, cluster, sim):
    names = three_nodes(cluster, "rt-restart")
    p = rccm(period="1h")
    wait_for(lambda: len(routes(sim)) == 3, 60, what="3 routes")
    wait_for(cluster_ok(cluster, names), 60)
    p.kill()
    delete_node(cluster, names[2])
    time.sleep(0.5)
    assert "10.244.3.0/24" in routes(sim)
    rccm(period="1h")
    wait_for(lambda: "10.244.3.0/24" not in routes(sim), 60,
             what="stale route removed by the reconcile at start")
    assert set(routes(sim)) == {"10.244.1.0/24", "10.244.2.0/24"}


def test_conflicting_entry_fixed(rccm, cluster, sim):
    add_entry(sim, "10.244.1.0/24", "i-sim0001")  # wrong instance
    # the conflicting entry above is foreign too but is NOT watched: it sits
    # exactly at a live node's pod CIDR, and the node needs its pod network,
    # so replacing it is the expected change. A foreign entry elsewhere in
    # the cluster CIDR (and one outside) must stay as it is.
    add_entry(sim, "10.244.77.0/24", "i-sim0001")
    foreign = foreign_routes(sim, "10.244.77.0/24")
    names = three_nodes(cluster, "rt-conflict")
    rccm(period="1h")
    wait_for(lambda: routes(sim).get("10.244.1.0/24") == "i-sim0002", 60,
             what="conflicting route replaced")
    wait_for(cluster_ok(cluster, names), 60)
    assert len([e for e in entries(sim) if e["cidr"] == "10.244.1.0/24"]) == 1
    foreign.check()


def test_foreign_routes_survive(rccm, cluster, sim):
    add_entry(sim, "172.16.0.0/24", "i-sim0001")          # outside the CIDR
    add_entry(sim, "10.244.200.0/24", "eni-simpod0001",
              hop_type="NetworkInterface")                 # other hop type
    add_entry(sim, "0.0.0.0/0", "i-sim0001")               # default route
    names = three_nodes(cluster, "rt-foreign")
    p = rccm(period="2s")
    wait_for(lambda: len(routes(sim)) == 6, 60, what="3 node routes")
    wait_for(cluster_ok(cluster, names), 60)
    # several periodic passes later the foreign entries are still there
    wait_passes(p, 3)
    r = routes(sim)
    assert r["172.16.0.0/24"] == "i-sim0001"
    assert r["10.244.200.0/24"] == "eni-simpod0001"
    assert r["0.0.0.0/0"] == "i-sim0001"
    assert not deletions(sim)


def test_two_route_tables(rccm, cluster, sim):
    sim.client.mutate("add_route_table", id="vtb-simcustom", vpc_id="vpc-sim0001",
                      type="Custom", name="custom")
    names = three_nodes(cluster, "rt-tables")
    rccm(period="1h", cloud={"routeTableIDs": f"{TABLE},vtb-simcustom"})
    for t in (TABLE, "vtb-simcustom"):
        wait_for(lambda: len(routes(sim, t)) == 3, 60, what=f"routes in {t}")
    assert routes(sim, TABLE) == routes(sim, "vtb-simcustom")
    wait_for(cluster_ok(cluster, names), 60)


def test_several_tables_without_ids_warns(rccm, cluster, sim):
    sim.client.mutate("add_route_table", id="vtb-simother", vpc_id="vpc-sim0001",
                      type="Custom", name="other")
    three_nodes(cluster, "rt-multi")
    p = rccm(period="1h")
    p.wait_log(r"set routeTableIDs", timeout=60)
    wait_for(lambda: events(cluster, "MultipleRouteTables"), 30,
             what="Warning event")
    assert not mutations(sim)


def test_delayed_node_list_deletes_nothing(rccm, cluster, sim, tcp_proxy,
                                           tmp_kubeconfig):
    from urllib.parse import urlparse
    u = urlparse(cluster.url)
    proxy = tcp_proxy(u.hostname, u.port)
    kc = tmp_kubeconfig(server=f"https://127.0.0.1:{proxy.port}")
    add_entry(sim, "10.244.50.0/24", "i-sim0002", name=MARK)  # stale: no node
    three_nodes(cluster, "rt-delay")
    proxy.freeze()
    p = rccm(period="2s", kubeconfig=kc, extra=["--kube-api-timeout=3s"])
    time.sleep(8)  # several periods with the node LIST stuck
    assert not deletions(sim)
    assert "10.244.50.0/24" in routes(sim)
    proxy.resume()
    wait_for(lambda: len([c for c in routes(sim) if c.startswith("10.244.")
                          and c != "10.244.50.0/24"]) == 3, 90,
             what="routes once the LIST went through")
    assert p.alive()


def test_mass_deletion_blocked_until_delete_event(rccm, cluster, sim):
    stale = [f"10.244.{100 + i}.0/24" for i in range(6)]
    for c in stale:
        add_entry(sim, c, "i-sim0002", name=MARK)
    p = rccm(period="2s")
    wait_for(lambda: events(cluster, "RouteDeletionBlocked"), 60,
             what="RouteDeletionBlocked event")
    p.wait_log(r"deleting none", timeout=30)
    wait_passes(p, 2)
    assert set(stale) <= set(routes(sim))
    assert not deletions(sim)
    # a Node owning one of them appears, then is deleted: that route goes
    make_node(cluster, "rt-mass-0", stale[0], "i-sim0002")
    wait_for(cluster_ok(cluster, ["rt-mass-0"]), 60)
    delete_node(cluster, "rt-mass-0")
    wait_for(lambda: stale[0] not in routes(sim), 60,
             what="route of the deleted node removed")
    assert set(stale[1:]) <= set(routes(sim))


@pytest.mark.parametrize("fault", [
    {"action": "CreateRouteEntries", "fail_next": 2, "code": "TaskConflict",
     "status": 400,
     "message": "The operation is too frequent, please wait a moment."},
    {"action": "CreateRouteEntries", "fail_next": 3, "code": "Throttling.User",
     "status": 400},
    {"action": "DescribeRouteEntryList", "fail_next": 2,
     "code": "ServiceUnavailable", "status": 503},
    {"action": "CreateRouteEntries", "fail_next": 8, "code": "TaskConflict",
     "status": 400},
])
def test_cloud_faults_converge(rccm, cluster, sim, fault):
    sim.control(**fault)
    names = three_nodes(cluster, "rt-fault")
    p = rccm(period="1h")
    wait_for(lambda: len(routes(sim)) == 3, 120, what="3 routes despite faults")
    wait_for(cluster_ok(cluster, names), 60)
    assert p.alive()


def test_quota_exhausted_reported(rccm, cluster, sim):
    sim.client.config(quotas={"route_entries_per_table": 2})
    names = three_nodes(cluster, "rt-quota")
    p = rccm(period="1h", cloud={"maxRouteEntriesPerRouteTable": 2})
    wait_for(lambda: len(routes(sim)) == 2, 60, what="2 routes")
    # the worker knows the quota: one cluster-level Warning says how many
    ev = wait_for(lambda: events(cluster, "RouteQuotaExceeded"), 60,
                  what="RouteQuotaExceeded event")
    assert ev[0]["type"] == "Warning"
    assert "needs 3 custom route entries but the quota is 2" in \
        ev[0]["message"], ev[0]["message"]
    p.wait_log(r"needs 3 custom route entries, 1 more than the quota of 2",
               timeout=30)

    def failed():
        ev = events(cluster, "CreateRouteFailed")
        return [e for e in ev if "quota" in e["message"].lower()]
    ev = wait_for(failed, 60, what="CreateRouteFailed with the quota")
    bad = ev[0]["involvedObject"]["name"]
    assert ev[0]["type"] == "Warning"
    wait_for(lambda: (net_unavailable(cluster, bad) or {}).get("status") == "True",
             60, what="NetworkUnavailable=True on the unrouted node")
    assert net_unavailable(cluster, bad)["reason"] == "NoRouteCreated"
    others = [n for n in names if n != bad]
    wait_for(cluster_ok(cluster, others), 60)
    assert p.alive()


def test_dry_run_changes_nothing(rccm, cluster, sim):
    add_entry(sim, "10.244.60.0/24", "i-sim0002", name=MARK)  # stale
    names = three_nodes(cluster, "rt-dry")
    p = rccm(period="1h", extra=["--dry-run"])
    p.wait_log(r"dry-run: would create route 10\.244\.1\.0/24", timeout=60)
    p.wait_log(r"dry-run: would delete route 10\.244\.60\.0/24", timeout=60)
    wait_for(lambda: events(cluster, "WouldCreateRoute", names[0]), 30)
    assert not [c for c in mutations(sim) if c["status"] == 200]
    assert routes(sim) == {"10.244.60.0/24": "i-sim0002"}
    assert net_unavailable(cluster, names[0]) is None


def test_200_nodes_call_bounds(rccm, cluster, sim):
    batch = 50
    n = 200
    for i in range(n):
        sim.client.mutate("add_instance", id=f"i-simbulk{i:03d}",
                          vswitch_id="vsw-sim0001")
    p = rccm(period="1h", extra=[f"--route-reconcile-batch-size={batch}",
                                 "--node-event-aggregation-wait-seconds=8",
                                 "--kube-api-qps=500", "--kube-api-burst=1000"])
    p.wait_log(r"first full reconcile done", timeout=60)
    sim.client.clear_calls()
    for i in range(n):
        make_node(cluster, f"rt-bulk-{i:03d}", f"10.244.{i}.0/24",
                  f"i-simbulk{i:03d}")
    wait_for(lambda: len(routes(sim)) == n, 120, what="200 routes")
    creates = [c for c in sim.calls() if c["action"] in
               ("CreateRouteEntries", "CreateRouteEntry")]
    assert len(creates) <= math.ceil(n / batch) * 1, len(creates)
    wait_for(cluster_ok(cluster, [f"rt-bulk-{i:03d}" for i in range(n)]), 180,
             what="NetworkUnavailable=False on 200 nodes")
    # every listing of the table took at most 2 pages
    listing, pages = [], 0
    for c in sim.calls("DescribeRouteEntryList"):
        if not c["params"].get("NextToken"):
            if pages:
                listing.append(pages)
            pages = 0
        pages += 1
    listing.append(pages)
    assert max(listing) <= 2, listing


# ------------------------------------------------- ownership (issue 11)

def event_names(cluster, reason):
    return {e["metadata"]["name"] for e in events(cluster, reason)}


def foreign_events(cluster, before=frozenset()):
    """ForeignRouteEntry Events not in `before` (the cluster, and so its
    Events, outlives each test)."""
    return [e for e in events(cluster, "ForeignRouteEntry")
            if e["metadata"]["name"] not in before]


# a user's route outside the cluster CIDR (to an instance that is no node)
OUTSIDE = "172.31.0.0/24"


class Foreign:
    """Route entries the worker must leave exactly as they are, snapshotted
    before it starts; check() runs the chaos checker over them: unchanged
    (id, next hops, name, description) and named by no mutating call of
    the CCM."""

    def __init__(self, sim, cidrs):
        self.sim = sim
        self.keys = {(TABLE, c) for c in cidrs}
        self.before = chaos_check.foreign_snapshot(sim.state(),
                                                   routes=self.keys)
        assert len(self.before) == len(self.keys), self.before

    def check(self):
        rep = chaos_check.Report()
        after = chaos_check.foreign_snapshot(self.sim.state(),
                                             routes=self.keys)
        chaos_check.check_foreign(rep, self.before, after)
        chaos_check.check_calls_avoid(rep, self.sim.calls(), self.before)
        print(rep.text())
        assert rep.ok, rep.text()
        assert rep.checked.get("CCM mutating calls checked for foreign names")


def foreign_routes(sim, *present):
    """Seeds the entry OUTSIDE the cluster CIDR and watches it together
    with the test's own foreign entries inside it (`present` CIDRs)."""
    add_entry(sim, OUTSIDE, "i-sim0001", name="vpn-to-office")
    return Foreign(sim, (OUTSIDE,) + present)


def test_hand_made_route_left_alone_with_one_warning(rccm, cluster, sim):
    # the measured case: a hand-made route inside the cluster CIDR to an
    # instance that is no node
    before = event_names(cluster, "ForeignRouteEntry")
    rte = add_entry(sim, "10.244.128.0/17", "i-sim0001")
    foreign = foreign_routes(sim, "10.244.128.0/17")
    names = three_nodes(cluster, "rt-hand")
    p = rccm(period="2s")
    wait_for(lambda: len(routes(sim)) == 5, 60, what="3 node routes")
    wait_for(cluster_ok(cluster, names), 60)
    wait_for(lambda: foreign_events(cluster, before), 60,
             what="ForeignRouteEntry Warning")
    wait_passes(p, 3)
    assert routes(sim)["10.244.128.0/17"] == "i-sim0001"
    assert [e["id"] for e in entries(sim) if e["cidr"] == "10.244.128.0/17"] \
        == [rte]
    assert not deletions(sim)
    # one Warning: a single Event, never repeated, and one log line
    ev = foreign_events(cluster, before)
    assert len(ev) == 1 and ev[0]["type"] == "Warning", ev
    assert ev[0].get("count", 1) == 1, ev[0]
    assert "10.244.128.0/17" in ev[0]["message"]
    assert len(re.findall(r"entry %s 10\.244\.128\.0/17" % rte, p.log())) == 1
    foreign.check()


def test_two_next_hops_left_alone(rccm, cluster, sim):
    # ECMP, unmarked, at a CIDR no node has; and ECMP marked as ours
    before = event_names(cluster, "ForeignRouteEntry")
    add_entry(sim, "10.244.90.0/24", "i-sim0002", extra_hops=["i-sim0003"])
    add_entry(sim, "10.244.91.0/24", "i-sim0002", extra_hops=["i-sim0004"],
              name=MARK)
    foreign = foreign_routes(sim, "10.244.90.0/24", "10.244.91.0/24")
    names = three_nodes(cluster, "rt-ecmp")
    p = rccm(period="2s")
    wait_for(lambda: len(routes(sim)) == 6, 60, what="3 node routes")
    wait_for(cluster_ok(cluster, names), 60)
    wait_for(lambda: len(foreign_events(cluster, before)) == 2, 60,
             what="a Warning per ECMP entry")
    wait_passes(p, 3)
    assert not deletions(sim)
    for c, extra in (("10.244.90.0/24", "i-sim0003"),
                     ("10.244.91.0/24", "i-sim0004")):
        e = [x for x in entries(sim) if x["cidr"] == c]
        assert len(e) == 1 and e[0]["extra_hops"][0]["id"] == extra, e
    p.wait_log(r"10\.244\.90\.0/24 -> i-sim0002 \(Instance, 2 next hops\)",
               timeout=10)
    foreign.check()


def test_marked_route_of_node_deleted_while_down_collected(rccm, cluster,
                                                           sim):
    names = three_nodes(cluster, "rt-down")
    hand = add_entry(sim, "10.244.200.0/24", "i-sim0001")  # not ours
    foreign = foreign_routes(sim, "10.244.200.0/24")
    p = rccm(period="1h")
    wait_for(lambda: len(routes(sim)) == 5, 60, what="3 routes")
    wait_for(cluster_ok(cluster, names), 60)
    p.kill()
    delete_node(cluster, names[0])
    # the CCM never saw the DELETE: only the marker says the route is ours
    p = rccm(period="1h")
    wait_for(lambda: "10.244.1.0/24" not in routes(sim), 60,
             what="marked route of the deleted node collected")
    p.wait_log(r"deleted route 10\.244\.1\.0/24 -> i-sim0002 .*\(no node\)",
               timeout=10)
    assert set(routes(sim)) == {"10.244.2.0/24", "10.244.3.0/24",
                                "10.244.200.0/24", OUTSIDE}
    assert [e["id"] for e in entries(sim)
            if e["cidr"] == "10.244.200.0/24"] == [hand]
    foreign.check()


def test_legacy_unmarked_route_adopted(rccm, cluster, sim):
    # routes an older CCM made (no marker), exactly at each node's pod
    # CIDR with its instance: adopted, not recreated
    before = event_names(cluster, "ForeignRouteEntry")
    legacy = {f"10.244.{i + 1}.0/24": add_entry(sim, f"10.244.{i + 1}.0/24",
                                                inst)
              for i, inst in enumerate(INSTANCES)}
    foreign = foreign_routes(sim)
    names = three_nodes(cluster, "rt-legacy")
    p = rccm(period="2s")
    wait_for(cluster_ok(cluster, names), 60, what="nodes routed")
    wait_passes(p, 2)
    assert {e["cidr"]: e["id"] for e in entries(sim)
            if e["cidr"] != OUTSIDE} == legacy
    assert not mutations(sim)
    assert not foreign_events(cluster, before)
    # an adopted route goes with its node (the DELETE names its instance)
    delete_node(cluster, names[1])
    wait_for(lambda: "10.244.2.0/24" not in routes(sim), 60,
             what="adopted route removed with its node")
    assert set(routes(sim)) == {"10.244.1.0/24", "10.244.3.0/24", OUTSIDE}
    foreign.check()


def test_table_read_whole_across_pages(rccm, cluster, sim):
    sim.client.config(page_size=2)
    foreign = foreign_routes(sim)  # first: the stale entry stays last
    for i, inst in enumerate(INSTANCES):
        add_entry(sim, f"10.244.{i + 1}.0/24", inst, name=MARK)
    add_entry(sim, "10.244.99.0/24", "i-sim0002", name=MARK)  # stale, last
    names = three_nodes(cluster, "rt-pages")
    p = rccm(period="1h")
    wait_for(lambda: "10.244.99.0/24" not in routes(sim), 60,
             what="stale route on the last page removed")
    wait_for(cluster_ok(cluster, names), 60)
    assert not [c for c in mutations(sim) if c["action"].startswith("Create")]
    assert [c for c in sim.calls("DescribeRouteEntryList")
            if c["params"].get("NextToken")], "the listing was not paged"
    assert p.alive()
    foreign.check()
