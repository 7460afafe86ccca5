"""node-init worker against a real kube-apiserver and the cloud simulator:
providerID discovery, initialization, periodic sync and the guarded node
lifecycle (issue 7)."""
import json
import os
import time
import uuid

import pytest

from harness import wait_for

UNINIT = "node.cloudprovider.kubernetes.io/uninitialized"
SHUTDOWN = "node.cloudprovider.kubernetes.io/shutdown"
REGION = "cn-hangzhou"


def node_body(name, ip=None, provider_id=None, labels=None, ready="True",
              tainted=True, pod_cidr=None):
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
            "spec": spec, "_ip": ip, "_ready": ready}


def create_node(cluster, body):
    ip, ready = body.pop("_ip"), body.pop("_ready")
    st, obj = cluster.api("POST", "/api/v1/nodes", body)
    assert st == 201, obj
    set_status(cluster, body["metadata"]["name"], ip, ready)


def set_status(cluster, name, ip=None, ready="True"):
    status = {"conditions": [{"type": "Ready", "status": ready,
                              "reason": "Test", "message": "test"}]}
    if ip:
        status["addresses"] = [{"type": "InternalIP", "address": ip},
                               {"type": "Hostname", "address": name}]
    st, obj = cluster.api("PATCH", f"/api/v1/nodes/{name}/status",
                          {"status": status},
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


@pytest.fixture
def clean_nodes(cluster):
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
        args = [f"--cloud-config={cfg}", f"--kubeconfig={cluster.kubeconfig}",
                "--leader-elect=false", "--controllers=node",
                f"--run-dir={run_dir}", "--kube-api-qps=200",
                "--kube-api-burst=400", "-v=2", *extra]
        p = run_ccm(args, env=e)
        p.run_dir = str(run_dir)
        return p
    return start


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def add_instance(sim, **kw):
    return sim.client.mutate("add_instance", **kw)


def test_tainted_node_found_by_ip_and_initialized(cluster, sim, ccm,
                                                  clean_nodes):
    name = uniq("worker")
    clean_nodes.append(name)
    p = ccm("--controllers=node,route", "--configure-cloud-routes=true",
            "--cluster-cidr=172.20.0.0/16")
    create_node(cluster, node_body(name, ip="192.168.0.11",
                                   pod_cidr="172.20.1.0/24"))

    def done():
        n = get_node(cluster, name)
        return n if UNINIT not in taint_keys(n) else None
    n = wait_for(done, 60, 0.2, what="taint removed\n" + p.log())
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
    eni = sim.state()["enis"]["eni-sim0002"] if isinstance(
        sim.state().get("enis"), dict) else None
    sdc = [c for c in sim.calls("ModifyNetworkInterfaceAttribute")
           if c["params"].get("NetworkInterfaceId") == "eni-sim0002"]
    assert sdc and sdc[-1]["params"]["SourceDestCheck"] == "false"
    if eni is not None:
        assert eni["source_dest_check"] is False
    p.wait_log(f"node {name} initialized from instance i-sim0002", 10)


def test_same_ip_other_vpc_ignored(cluster, sim, ccm, clean_nodes):
    sim.client.mutate("add_vpc", id="vpc-other01", cidr="192.168.0.0/16")
    sim.client.mutate("add_vswitch", id="vsw-other01", vpc_id="vpc-other01",
                      zone="cn-hangzhou-i", cidr="192.168.1.0/24")
    twin = add_instance(sim, vswitch_id="vsw-other01",
                        private_ip="192.168.1.12")
    name = uniq("worker")
    clean_nodes.append(name)
    ccm()
    create_node(cluster, node_body(name, ip="192.168.1.12"))
    pid = wait_for(lambda: get_node(cluster, name)["spec"].get("providerID"),
                   60, 0.2, what="providerID")
    assert pid == f"{REGION}.i-sim0003" and twin["id"] not in pid
    calls = sim.calls("DescribeInstances")
    assert any(c["params"].get("VpcId") == "vpc-sim0001" for c in calls)


def test_idc_node_initialized_without_warning_loop(cluster, sim, ccm,
                                                   clean_nodes):
    name = uniq("idc")
    clean_nodes.append(name)
    p = ccm("--node-monitor-period=1s", initializeNonECSNodes=True)
    create_node(cluster, node_body(name, ip="10.200.0.5"))
    wait_for(lambda: UNINIT not in taint_keys(get_node(cluster, name)), 60,
             0.2, what="IDC taint removed\n" + p.log())
    time.sleep(4)  # several sync periods: nothing more may happen
    evs = node_events(cluster, name)
    assert not [e for e in evs if e["type"] == "Warning"], evs
    normal = [e for e in evs if e["reason"] == "NonECSNode"]
    assert len(normal) == 1 and normal[0].get("count", 1) == 1
    assert not get_node(cluster, name)["spec"].get("providerID")


def _lifecycle_nodes(cluster, sim, clean_nodes, count, ready):
    """count ECS nodes with instances of their own, plus one healthy
    witness node (i-sim0001), all initialized (no taint)."""
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
    return names


GRACE_ENV = {"CCM_NODE_GONE_GRACE_MS": "2000"}


def test_ready_node_with_deleted_instance_kept(cluster, sim, ccm,
                                               clean_nodes):
    (name, iid), = _lifecycle_nodes(cluster, sim, clean_nodes, 1, "True")
    sim.client.mutate("remove_instance", id=iid)
    p = ccm("--node-monitor-period=1s", env=GRACE_ENV)
    p.wait_log("confirming later", 30)
    time.sleep(5)
    assert get_node(cluster, name) is not None


def test_notready_node_deleted_after_second_lookup(cluster, sim, ccm,
                                                   clean_nodes):
    (name, iid), = _lifecycle_nodes(cluster, sim, clean_nodes, 1, "False")
    sim.client.mutate("remove_instance", id=iid)
    p = ccm("--node-monitor-period=1s", env=GRACE_ENV)
    p.wait_log(f"node {name}: instance {iid} not returned", 30)
    assert get_node(cluster, name) is not None  # first miss: kept
    wait_for(lambda: get_node(cluster, name) is None, 30, 0.2,
             what="node deleted\n" + p.log())
    evs = node_events(cluster, name)
    assert [e for e in evs if e["reason"] == "DeletedNode"], evs


def test_empty_describe_never_deletes(cluster, sim, ccm, clean_nodes):
    nodes = _lifecycle_nodes(cluster, sim, clean_nodes, 2, "False")
    sim.control(action="DescribeInstances", empty_result=1000)
    p = ccm("--node-monitor-period=1s", env=GRACE_ENV)
    wait_for(lambda: len(sim.calls("DescribeInstances")) >= 6, 60, 0.2,
             what="several syncs")
    for n, _ in nodes:
        assert get_node(cluster, n) is not None
    assert "not returned" not in p.log()


def test_deletions_capped_per_sync(cluster, sim, ccm, clean_nodes):
    nodes = _lifecycle_nodes(cluster, sim, clean_nodes, 4, "False")
    for _, iid in nodes:
        sim.client.mutate("remove_instance", id=iid)
    # A long period: the second sync deletes, the third is far away.
    p = ccm("--node-monitor-period=4s", "--max-node-deletions-per-sync=2",
            env=GRACE_ENV)
    wait_for(lambda: sum(get_node(cluster, n) is None for n, _ in nodes)
             >= 2, 60, 0.2, what="two deletions\n" + p.log())
    time.sleep(1)
    assert sum(get_node(cluster, n) is None for n, _ in nodes) == 2
    assert "deletion deferred" in p.log()


def test_stopped_instance_shutdown_taint(cluster, sim, ccm, clean_nodes):
    (name, iid), = _lifecycle_nodes(cluster, sim, clean_nodes, 1, "False")
    p = ccm("--node-monitor-period=1s")
    sim.client.mutate("set_instance", id=iid, status="Stopped")
    wait_for(lambda: SHUTDOWN in taint_keys(get_node(cluster, name)), 30,
             0.2, what="shutdown taint\n" + p.log())
    sim.client.mutate("set_instance", id=iid, status="Running")
    wait_for(lambda: SHUTDOWN not in taint_keys(get_node(cluster, name)), 30,
             0.2, what="shutdown taint removed")


def test_no_network_unavailable_without_route(cluster, sim, ccm,
                                              clean_nodes):
    name = uniq("worker")
    clean_nodes.append(name)
    ccm("--controllers=*,-route,-service", "--cluster-cidr=172.20.0.0/16")
    create_node(cluster, node_body(name, ip="192.168.1.13",
                                   pod_cidr="172.20.3.0/24"))
    n = wait_for(lambda: (lambda x: x if UNINIT not in taint_keys(x)
                          else None)(get_node(cluster, name)), 60, 0.2,
                 what="initialized")
    conds = {c["type"]: c["status"] for c in n["status"]["conditions"]}
    assert conds.get("NetworkUnavailable") != "True"


def test_label_tampering_undone(cluster, sim, ccm, clean_nodes):
    name = uniq("worker")
    clean_nodes.append(name)
    ccm("--node-monitor-period=1s")
    create_node(cluster, node_body(name, ip="192.168.1.13"))
    wait_for(lambda: UNINIT not in taint_keys(get_node(cluster, name)), 60,
             0.2, what="initialized")
    st, obj = cluster.api(
        "PATCH", f"/api/v1/nodes/{name}",
        {"metadata": {"labels": {"node.kubernetes.io/instance-type": "x"}}},
        content_type="application/merge-patch+json")
    assert st == 200, obj
    wait_for(lambda: get_node(cluster, name)["metadata"]["labels"]
             ["node.kubernetes.io/instance-type"] == "ecs.c6.large", 30, 0.2,
             what="label restored")


def test_500_nodes_bounded_calls(cluster, sim, ccm, clean_nodes):
    insts = []
    for i in range(500):
        insts.append(add_instance(sim, vswitch_id="vsw-sim0002"
                                  if i % 2 else "vsw-sim0001"))
    p = ccm("--node-event-aggregation-wait-seconds=2",
            "--skip-disable-source-dest-check=true")
    wait_for(lambda: "node-init controller started" in p.log(), 30, 0.2)
    time.sleep(1)
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
    wait_for(all_done, 300, 1.0, what="500 nodes initialized")
    used = len(sim.calls("DescribeInstances")) - before
    assert used <= 6, used
