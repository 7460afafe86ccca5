"""node-init worker against a real kube-apiserver and the cloud simulator:
providerID discovery, initialization, periodic sync and the guarded node
lifecycle (issue 7)."""
import os
import re
import uuid

import pytest

from harness import free_port, wait_for

UNINIT = "node.cloudprovider.kubernetes.io/uninitialized"
SHUTDOWN = "node.cloudprovider.kubernetes.io/shutdown"
REGION = "cn-hangzhou"


def node_status(name, ip=None, ready="True"):
    status = {"conditions": [{"type": "Ready", "status": ready,
                              "reason": "Test", "message": "test"}]}
    if ip:
        status["addresses"] = [{"type": "InternalIP", "address": ip},
                               {"type": "Hostname", "address": name}]
    return status


def node_body(name, ip=None, provider_id=None, labels=None, ready="True",
              tainted=True, pod_cidr=None):
    """A Node as a kubelet registers it: addresses and conditions come
    with the create (the API server keeps a Node's status on create)."""
    spec = {}
    if tainted:
        spec["taints"] = [{"key": UNINIT, "value": "true",
                           "effect": "NoSchedule"}]
    if provider_id:
        spec["providerID"] = provider_id
    if pod_cidr:
        spec["podCIDR"] = pod_cidr
        spec["podCIDRs"] = [pod_cidr]
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": spec, "status": node_status(name, ip, ready)}


def create_node(cluster, body):
    st, obj = cluster.api("POST", "/api/v1/nodes", body)
    assert st == 201, obj
    got = obj["status"].get("addresses") or []
    if got != (body["status"].get("addresses") or []):
        # An API server that drops status on create: set it afterwards.
        set_status(cluster, body["metadata"]["name"], body["status"])


def set_status(cluster, name, status):
    st, obj = cluster.api(
        "PATCH", f"/api/v1/nodes/{name}/status", {"status": status},
        content_type="application/strategic-merge-patch+json")
    assert st == 200, obj


def get_node(cluster, name):
    st, obj = cluster.api("GET", f"/api/v1/nodes/{name}")
    return obj if st == 200 else None


def taint_keys(node):
    return [t["key"] for t in node["spec"].get("taints") or []]


def node_events(cluster, name):
    st, obj = cluster.api(
        "GET", "/api/v1/namespaces/default/events?fieldSelector="
        f"involvedObject.name={name}")
    assert st == 200, obj
    return obj["items"]


def delete_all_nodes(cluster):
    st, obj = cluster.api("GET", "/api/v1/nodes")
    assert st == 200, obj
    for n in obj["items"]:
        cluster.api("DELETE", "/api/v1/nodes/" + n["metadata"]["name"])
    wait_for(lambda: not cluster.api("GET", "/api/v1/nodes")[1]["items"],
             60, 0.2, what="no Node left")


@pytest.fixture
def clean_nodes(cluster):
    """Each test starts with no Node (the cluster is shared with other test
    files: a leftover Node would be synced, and maybe deleted, too) and
    deletes the Nodes it lists."""
    delete_all_nodes(cluster)
    created = []
    yield created
    for n in created:
        cluster.api("DELETE", f"/api/v1/nodes/{n}")


@pytest.fixture
def ccm(cluster, sim, run_ccm, tmp_path):
    """start(*extra_args, env=None, **cloud_overrides) -> Process"""
    def start(*extra, env=None, **cc):
        cfg = sim.cloud_config(str(tmp_path / "cloud.json"), **cc)
        run_dir = tmp_path / f"run-{uuid.uuid4().hex[:6]}"
        run_dir.mkdir()
        e = dict(os.environ)
        e.update(sim.env)
        e.update(env or {})
        # Route checks need a cluster CIDR; tests that do not give one
        # run without cloud routes.
        routes = ([] if any(a.startswith("--cluster-cidr") for a in extra)
                  else ["--configure-cloud-routes=false"])
        args = [*routes, f"--cloud-config={cfg}",
                f"--kubeconfig={cluster.kubeconfig}",
                "--leader-elect=false", "--controllers=node",
                f"--run-dir={run_dir}", "--kube-api-qps=200",
                f"--health-probe-bind-addr=127.0.0.1:{free_port()}",
                "--metrics-bind-addr=",
                "--kube-api-burst=400", "-v=2", *extra]
        p = run_ccm(args, env=e)
        p.run_dir = str(run_dir)
        return p
    return start


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def add_instance(sim, **kw):
    return sim.client.mutate("add_instance", **kw)


def wait(p, pred, timeout, what):
    """wait_for with the CCM's log in the failure message."""
    try:
        return wait_for(pred, timeout, 0.2, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- CCM log tail ---\n"
                             f"{p.log()[-6000:]}") from None


def sync_passes(p):
    """[(pass, not returned, deleted, deferred)] from the CCM log."""
    return [tuple(int(x) for x in m) for m in re.findall(
        r"sync pass (\d+): \d+ ECS nodes, (\d+) instances not returned, "
        r"(\d+) nodes deleted, (\d+) deletions deferred", p.log())]


def wait_passes(p, n, timeout=60):
    """Wait for n more periodic sync passes than have been logged so far:
    passes are at least one --node-monitor-period apart, so this bounds
    elapsed time from below without measuring it."""
    start = len(sync_passes(p))
    wait(p, lambda: len(sync_passes(p)) >= start + n, timeout,
         f"{n} more sync passes")


def bus_subscriber(run_prog, prog_bin, run_dir, *topics):
    """prog_bus_sub connected to the CCM's bus (it prints "ready" once its
    own probe made the round trip through the supervisor's hub)."""
    sub = run_prog([prog_bin("prog_bus_sub"), run_dir, *topics])
    sub.wait_log("ready", 60)
    return sub


def test_tainted_node_found_by_ip_and_initialized(cluster, sim, ccm,
                                                  clean_nodes, run_prog,
                                                  prog_bin):
    name = uniq("worker")
    clean_nodes.append(name)
    p = ccm("--controllers=node,route", "--configure-cloud-routes=true",
            "--cluster-cidr=172.20.0.0/16")
    sub = bus_subscriber(run_prog, prog_bin, p.run_dir,
                         "ccm.node.initialized")
    create_node(cluster, node_body(name, ip="192.168.0.11",
                                   pod_cidr="172.20.1.0/24"))
    n = wait(p, lambda: (lambda x: x if UNINIT not in taint_keys(x)
                         else None)(get_node(cluster, name)), 60,
             "taint removed")
    assert n["spec"]["providerID"] == f"{REGION}.i-sim0002"
    lab = n["metadata"]["labels"]
    assert lab["topology.kubernetes.io/region"] == REGION
    assert lab["failure-domain.beta.kubernetes.io/region"] == REGION
    assert lab["topology.kubernetes.io/zone"] == "cn-hangzhou-h"
    assert lab["failure-domain.beta.kubernetes.io/zone"] == "cn-hangzhou-h"
    assert lab["node.kubernetes.io/instance-type"] == "ecs.g6.xlarge"
    assert lab["beta.kubernetes.io/instance-type"] == "ecs.g6.xlarge"
    assert lab["node.alibabacloud.com/instance-charge-type"] == "PostPaid"
    addrs = {(a["type"], a["address"]) for a in n["status"]["addresses"]}
    assert addrs == {("InternalIP", "192.168.0.11"),
                     ("ExternalIP", "47.99.0.2"), ("Hostname", name)}
    conds = {c["type"]: c for c in n["status"]["conditions"]}
    assert conds["NetworkUnavailable"]["status"] == "True"
    assert conds["NetworkUnavailable"]["reason"] == "NoRouteCreated"
    # The discovery asked the cluster's VPC by IP.
    assert any(c["params"].get("VpcId") == "vpc-sim0001" and
               "192.168.0.11" in c["params"].get("PrivateIpAddresses", "")
               for c in sim.calls("DescribeInstances"))
    eni = {e["id"]: e for e in sim.state()["enis"]}["eni-sim0002"]
    assert eni["source_dest_check"] is False
    p.wait_log(f"node {name} initialized from instance i-sim0002", 10)
    sub.wait_log(rf"(?m)^msg ccm\.node\.initialized \d+ {name}$", 30)


def test_same_ip_other_vpc_ignored(cluster, sim, ccm, clean_nodes):
    sim.client.mutate("add_vpc", id="vpc-other01", cidr="192.168.0.0/16")
    sim.client.mutate("add_vswitch", id="vsw-other01", vpc_id="vpc-other01",
                      zone="cn-hangzhou-i", cidr="192.168.1.0/24")
    twin = add_instance(sim, vswitch_id="vsw-other01",
                        private_ip="192.168.1.12")
    name = uniq("worker")
    clean_nodes.append(name)
    p = ccm()
    create_node(cluster, node_body(name, ip="192.168.1.12"))
    pid = wait(p, lambda: get_node(cluster, name)["spec"].get("providerID"),
               60, "providerID")
    assert pid == f"{REGION}.i-sim0003" and twin["id"] not in pid
    wait(p, lambda: UNINIT not in taint_keys(get_node(cluster, name)), 60,
         "taint removed")
    twin_eni = {e["id"]: e for e in sim.state()["enis"]}[twin["eni_id"]]
    assert twin_eni["source_dest_check"] is True
    assert not [e for e in node_events(cluster, name)
                if e["type"] == "Warning"]


def test_idc_node_initialized_without_warning_loop(cluster, sim, ccm,
                                                   clean_nodes):
    name = uniq("idc")
    clean_nodes.append(name)
    p = ccm("--node-monitor-period=1s", initializeNonECSNodes=True)
    create_node(cluster, node_body(name, ip="10.200.0.5"))
    wait(p, lambda: UNINIT not in taint_keys(get_node(cluster, name)), 60,
         "IDC taint removed")
    wait_passes(p, 5)  # several syncs: nothing more may happen
    evs = node_events(cluster, name)
    assert not [e for e in evs if e["type"] == "Warning"], evs
    normal = [e for e in evs if e["reason"] == "NonECSNode"]
    assert len(normal) == 1 and normal[0].get("count", 1) == 1, normal
    assert not get_node(cluster, name)["spec"].get("providerID")


def _lifecycle_nodes(cluster, sim, clean_nodes, count, ready):
    """count ECS nodes with instances of their own, plus one healthy
    witness node (i-sim0001), all initialized (no taint).
    Returns (witness name, [(name, instance id)])."""
    names = []
    w = uniq("witness")
    clean_nodes.append(w)
    create_node(cluster, node_body(w, ip="192.168.0.10",
                                   provider_id=f"{REGION}.i-sim0001",
                                   tainted=False))
    for _ in range(count):
        inst = add_instance(sim, vswitch_id="vsw-sim0002")
        n = uniq("lc")
        clean_nodes.append(n)
        create_node(cluster, node_body(n, ip=inst["private_ip"],
                                       provider_id=f"{REGION}.{inst['id']}",
                                       tainted=False, ready=ready))
        names.append((n, inst["id"]))
    return w, names


GRACE_ENV = {"CCM_NODE_GONE_GRACE_MS": "2000"}


def test_ready_node_with_deleted_instance_kept(cluster, sim, ccm,
                                               clean_nodes):
    _, ((name, iid),) = _lifecycle_nodes(cluster, sim, clean_nodes, 1,
                                         "True")
    sim.client.mutate("remove_instance", id=iid)
    p = ccm("--node-monitor-period=1s", env=GRACE_ENV)
    p.wait_log(f"node {name}: instance {iid} not returned .*confirming "
               "later", 60)
    # Lookups are a period (1 s) apart: six misses span more than the
    # 2 s grace, so only Readiness keeps the node.
    rx = (rf"node {name}: instance {iid} still not returned "
          r"\((\d+) lookups\); kept: node is Ready")
    wait(p, lambda: max(map(int, re.findall(rx, p.log())), default=0) >= 6,
         60, "six misses of a Ready node")
    assert get_node(cluster, name) is not None
    assert not [e for e in node_events(cluster, name)
                if e["reason"] in ("DeletedNode", "DeleteNodeFailed")]


def test_notready_node_deleted_after_second_lookup(cluster, sim, ccm,
                                                   clean_nodes):
    witness, ((name, iid),) = _lifecycle_nodes(cluster, sim, clean_nodes, 1,
                                               "False")
    sim.client.mutate("remove_instance", id=iid)
    p = ccm("--node-monitor-period=1s", env=GRACE_ENV)
    wait(p, lambda: get_node(cluster, name) is None, 60, "node deleted")
    log = p.log()
    first = log.index(f"node {name}: instance {iid} not returned")
    assert first < log.index(f"Deleted node {name}"), log
    evs = node_events(cluster, name)
    assert [e for e in evs if e["reason"] == "DeletedNode"], evs
    # The witness (Ready, instance present) is untouched.
    assert get_node(cluster, witness) is not None
    wait(p, lambda: sum(pp[2] for pp in sync_passes(p)) >= 1, 60,
         "the deleting pass's summary")
    assert sum(pp[2] for pp in sync_passes(p)) == 1


BROKEN_ANSWERS = {
    # success, lists emptied, TotalCount 0: no witness came back
    "empty": ([{"action": "DescribeInstances", "empty_result": 100000}],
              {}, True),
    # every lookup fails
    "error": ([{"action": "DescribeInstances", "fail_next": 100000,
                "code": "ServiceUnavailable", "status": 503}], {}, True),
    "throttled": ([{"action": "DescribeInstances", "throttle_rate": 1.0}],
                  {}, True),
    # one instance per page and the second page throttled: the witness
    # came back, the others were filtered out by a broken paging
    "partial": ([{"action": "DescribeInstances", "qps": 0.2, "burst": 1}],
                {"page_size": 1}, False),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_ANSWERS))
def test_broken_describe_never_deletes(cluster, sim, ccm, clean_nodes, kind):
    faults, config, remove = BROKEN_ANSWERS[kind]
    _, nodes = _lifecycle_nodes(cluster, sim, clean_nodes, 2, "False")
    if remove:
        # Even really gone instances are not judged on such answers.
        for _, iid in nodes:
            sim.client.mutate("remove_instance", id=iid)
    if config:
        sim.client.config(**config)
    for f in faults:
        sim.control(**f)
    p = ccm("--node-monitor-period=1s", env=GRACE_ENV)
    wait_passes(p, 6, 120)
    for n, _ in nodes:
        assert get_node(cluster, n) is not None
    assert not re.search(r"instance \S+ not returned", p.log())
    assert all(pp[1] == 0 and pp[2] == 0 for pp in sync_passes(p))
    if kind == "partial":
        # First pages answered, and later pages asked for and refused.
        calls = sim.calls("DescribeInstances")
        assert [c for c in calls if c["status"] == 200], calls
        assert [c for c in calls if c["params"].get("NextToken") and
                "Throttling" in (c["code"] or "")], calls


def test_deletions_capped_per_sync(cluster, sim, ccm, clean_nodes):
    _, nodes = _lifecycle_nodes(cluster, sim, clean_nodes, 4, "False")
    for _, iid in nodes:
        sim.client.mutate("remove_instance", id=iid)
    p = ccm("--node-monitor-period=1s", "--max-node-deletions-per-sync=2",
            env=GRACE_ENV)
    wait(p, lambda: all(get_node(cluster, n) is None for n, _ in nodes), 60,
         "all four deleted")
    wait(p, lambda: sum(pp[2] for pp in sync_passes(p)) >= 4, 60,
         "the deleting passes' summaries")
    passes = sync_passes(p)
    assert sum(pp[2] for pp in passes) == 4, passes
    assert max(pp[2] for pp in passes) == 2, passes
    assert any(pp[3] > 0 for pp in passes), passes
    assert "deletion deferred" in p.log()


def test_stopped_instance_shutdown_taint(cluster, sim, ccm, clean_nodes):
    _, ((name, iid),) = _lifecycle_nodes(cluster, sim, clean_nodes, 1,
                                         "False")
    p = ccm("--node-monitor-period=1s")
    sim.client.mutate("stop_instance", id=iid)
    wait(p, lambda: SHUTDOWN in taint_keys(get_node(cluster, name)), 60,
         "shutdown taint")
    t = [x for x in get_node(cluster, name)["spec"]["taints"]
         if x["key"] == SHUTDOWN][0]
    assert t["effect"] == "NoSchedule"
    sim.client.mutate("start_instance", id=iid)
    wait(p, lambda: SHUTDOWN not in taint_keys(get_node(cluster, name)), 60,
         "shutdown taint removed")
    assert get_node(cluster, name) is not None


def test_no_network_unavailable_without_route(cluster, sim, ccm,
                                              clean_nodes):
    name = uniq("worker")
    clean_nodes.append(name)
    p = ccm("--controllers=*,-route,-service", "--cluster-cidr=172.20.0.0/16",
            "--node-monitor-period=1s")
    create_node(cluster, node_body(name, ip="192.168.1.13",
                                   pod_cidr="172.20.3.0/24"))
    wait(p, lambda: UNINIT not in taint_keys(get_node(cluster, name)), 60,
         "initialized")
    wait_passes(p, 2)
    n = get_node(cluster, name)
    conds = {c["type"]: c["status"] for c in n["status"]["conditions"]}
    assert conds.get("NetworkUnavailable") != "True", conds


def test_label_tampering_undone(cluster, sim, ccm, clean_nodes):
    name = uniq("worker")
    clean_nodes.append(name)
    p = ccm("--node-monitor-period=1s")
    create_node(cluster, node_body(name, ip="192.168.1.13"))
    wait(p, lambda: UNINIT not in taint_keys(get_node(cluster, name)), 60,
         "initialized")
    st, obj = cluster.api(
        "PATCH", f"/api/v1/nodes/{name}",
        {"metadata": {"labels": {"node.kubernetes.io/instance-type": "x",
                                 "topology.kubernetes.io/zone": None}}},
        content_type="application/merge-patch+json")
    assert st == 200, obj

    def restored():
        lab = get_node(cluster, name)["metadata"]["labels"]
        return (lab.get("node.kubernetes.io/instance-type") == "ecs.c6.large"
                and lab.get("topology.kubernetes.io/zone") == "cn-hangzhou-i")
    wait(p, restored, 60, "labels restored")


def test_500_nodes_bounded_calls(cluster, sim, ccm, clean_nodes):
    # The default /24 vSwitches cannot hold 500 more instances.
    sim.client.mutate("add_vswitch", id="vsw-bulk01", vpc_id="vpc-sim0001",
                      zone="cn-hangzhou-i", cidr="192.168.16.0/20")
    insts = [add_instance(sim, vswitch_id="vsw-bulk01") for _ in range(500)]
    # Nodes are created faster than one per second: a generous wait keeps
    # the batches full whatever the machine's speed.
    p = ccm("--node-event-aggregation-wait-seconds=10",
            "--skip-disable-source-dest-check=true")
    p.wait_log("node-init controller started", 60)
    wait(p, lambda: sync_passes(p), 60, "the startup sync")
    before = len(sim.calls("DescribeInstances"))
    names = []
    for i, inst in enumerate(insts):
        n = f"bulk-{i:03d}-{uuid.uuid4().hex[:4]}"
        names.append(n)
        clean_nodes.append(n)
        create_node(cluster, node_body(n, ip=inst["private_ip"]))

    def all_done():
        st, obj = cluster.api("GET", "/api/v1/nodes?labelSelector="
                              "topology.kubernetes.io/region")
        got = {x["metadata"]["name"] for x in obj["items"]
               if UNINIT not in taint_keys(x)}
        return all(n in got for n in names)
    wait(p, all_done, 600, "500 nodes initialized")
    used = len(sim.calls("DescribeInstances")) - before
    assert used <= 6, used


def test_node_without_address_waits_for_it(cluster, sim, ccm, clean_nodes):
    """A node seen before its addresses is neither looked up nor taken for
    a data-centre machine; its status update brings it back."""
    name = uniq("early")
    clean_nodes.append(name)
    p = ccm(initializeNonECSNodes=True)
    body = node_body(name)
    body["status"].pop("addresses", None)
    create_node(cluster, body)
    p.wait_log(f"node {name}: no address reported yet", 60)
    assert UNINIT in taint_keys(get_node(cluster, name))
    set_status(cluster, name, node_status(name, "192.168.1.12"))
    pid = wait(p, lambda: get_node(cluster, name)["spec"].get("providerID"),
               60, "providerID")
    assert pid == f"{REGION}.i-sim0003"
    assert not [e for e in node_events(cluster, name)
                if e["reason"] == "NonECSNode"]
