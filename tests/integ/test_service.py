"""Service-LB worker (issue 5): CLBs for LoadBalancer Services against the
real kube-apiserver and the cloud simulator, run with the seed's RBAC
(ccm.yaml's ClusterRole) as the worker's identity. Assertions are on the
simulator's state and call log; waits are generous, never speed checks."""

import os
import time
import uuid

import pytest
import yaml

from harness import free_port, wait_for

SEED = "/work/shared/seed/yaml"
CLUSTER_ID = "slb-test"
REGION = "cn-hangzhou"
NS = "default"
SLB_READS = ("Describe", "List")
FINALIZER = "service.k8s.alibaba/resources"
PFX = "service.beta.kubernetes.io/alibaba-cloud-"


# ---------------------------------------------------------------- helpers

def seed_docs(name):
    with open(os.path.join(SEED, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def ensure_rbac(cluster, sa):
    """The seed's ClusterRole bound to kube-system/<sa>; returns a token."""
    role = [d for d in seed_docs("ccm.yaml") if d["kind"] == "ClusterRole"][0]
    st, out = cluster.api("POST",
                          "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                          role)
    assert st in (201, 409), out
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"slb-test:{sa}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole", "name": role["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": sa,
                      "namespace": "kube-system"}]}
    st, out = cluster.api(
        "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        binding)
    assert st in (201, 409), out
    return cluster.sa_token("kube-system", sa)


def node_body(name, instance, labels=None, unschedulable=False):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"providerID": f"{REGION}.{instance}",
                     "unschedulable": unschedulable}}


def set_ready(cluster, name, status="True"):
    st, obj = cluster.api(
        "PATCH", f"/api/v1/nodes/{name}/status",
        {"status": {"conditions": [{"type": "Ready", "status": status,
                                    "reason": "Test", "message": "t"}]}},
        content_type="application/strategic-merge-patch+json")
    assert st == 200, obj


def delete_all_nodes(cluster):
    st, obj = cluster.api("GET", "/api/v1/nodes")
    assert st == 200, obj
    for n in obj.get("items", []):
        cluster.api("DELETE", "/api/v1/nodes/" + n["metadata"]["name"])
    wait_for(lambda: not cluster.api("GET", "/api/v1/nodes")[1].get("items"),
             30, what="all nodes deleted")


def svc_body(name, ports=((80, "TCP"),), annotations=None, policy="Cluster",
             svc_type="LoadBalancer"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS,
                         "annotations": annotations or {}},
            "spec": {"type": svc_type, "selector": {"app": name},
                     "externalTrafficPolicy": policy,
                     "ports": [{"name": f"p{p}", "port": p, "protocol": pr,
                                "targetPort": p}
                               for p, pr in ports]}}


def get_svc(cluster, name):
    return cluster.get(f"/api/v1/namespaces/{NS}/services/{name}")


def ingress_ip(cluster, name):
    s = get_svc(cluster, name)
    ing = ((s or {}).get("status", {}).get("loadBalancer", {})
           .get("ingress") or [])
    return ing[0].get("ip") if ing else None


def write_endpoints(cluster, name, pods, port=80, port_name=None):
    """pods: [(ip, node_name)]"""
    body = {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": NS},
            "subsets": [{"addresses": [{"ip": ip, "nodeName": n}
                                       for ip, n in pods],
                         "ports": [{"port": port, "protocol": "TCP",
                                    **({"name": port_name}
                                       if port_name else {})}]}]
            if pods else []}
    path = f"/api/v1/namespaces/{NS}/endpoints"
    st, out = cluster.api("POST", path, body)
    if st == 409:
        st, out = cluster.api("PUT", f"{path}/{name}", body)
    assert st in (200, 201), out


def lbs(sim):
    """CLBs with their vServer groups attached as "groups"."""
    st = sim.state()
    out = []
    for lb in st["load_balancers"]:
        lb = dict(lb)
        lb["groups"] = [g for g in st["vserver_groups"]
                        if g["LoadBalancerId"] == lb["LoadBalancerId"]]
        out.append(lb)
    return out


def the_lb(sim):
    lst = lbs(sim)
    assert len(lst) == 1, lst
    return lst[0]


def mutating(sim, action=None):
    return [c for c in sim.calls(action)
            if c.get("action") != "Metadata"
            and not c["action"].startswith(SLB_READS)]


def events(cluster, reason, name):
    st, obj = cluster.api(
        "GET", f"/api/v1/namespaces/{NS}/events?fieldSelector="
        f"reason={reason},involvedObject.name={name}")
    assert st == 200, obj
    return obj.get("items", [])


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


# --------------------------------------------------------------- fixtures

@pytest.fixture
def world(cluster, sim):
    """Nodes and Services a test creates, all removed afterwards (the
    finalizer stripped, so the next test's worker never sees them)."""
    delete_all_nodes(cluster)

    class W:
        nodes = []
        svcs = []

        def node(self, name, instance, ready="True", **kw):
            st, out = cluster.api("POST", "/api/v1/nodes",
                                  node_body(name, instance, **kw))
            assert st == 201, out
            self.nodes.append(name)
            if ready:
                set_ready(cluster, name, ready)
            return name

        def svc(self, body):
            out = cluster.create(f"/api/v1/namespaces/{NS}/services", body)
            self.svcs.append(body["metadata"]["name"])
            return out

    w = W()
    try:
        yield w
    finally:
        for s in w.svcs:
            p = f"/api/v1/namespaces/{NS}/services/{s}"
            cluster.api("DELETE", p)
            cluster.api("PATCH", p, {"metadata": {"finalizers": None}})
            cluster.api("DELETE", f"/api/v1/namespaces/{NS}/endpoints/{s}")
        delete_all_nodes(cluster)


@pytest.fixture
def token(cluster):
    return ensure_rbac(cluster, "slb-test-ccm")


@pytest.fixture
def slb(run_ccm, cluster, sim, tmp_path, token):
    """slb(extra=(), resync="1h", cloud={}) -> Process running only the
    service-lb worker with the seed's RBAC."""
    n = [0]

    def start(extra=(), resync="1h", cloud=None, cluster_id=CLUSTER_ID):
        n[0] += 1
        cc = sim.cloud_config(str(tmp_path / f"cloud-{n[0]}.json"),
                              clusterID=cluster_id, **(cloud or {}))
        kc = cluster.write_kubeconfig(str(tmp_path / f"kc-{n[0]}"),
                                      token=token)
        e = dict(os.environ)
        e.update(sim.env)
        args = [f"--cloud-config={cc}", f"--kubeconfig={kc}",
                "--controllers=service", "--leader-elect=false",
                "--configure-cloud-routes=false",
                f"--cloud-resync-period={resync}",
                f"--run-dir={tmp_path}/run{n[0]}",
                f"--health-probe-bind-addr=127.0.0.1:{free_port()}",
                "--metrics-bind-addr=", "-v=2", *extra]
        os.makedirs(f"{tmp_path}/run{n[0]}", exist_ok=True)
        return run_ccm(args, env=e)
    return start


def three_nodes(world, prefix):
    return [world.node(f"{prefix}-{i}", inst)
            for i, inst in enumerate(["i-sim0002", "i-sim0003",
                                      "i-sim0004"])]


def group(lb, name=None):
    gs = lb["groups"]
    if name:
        gs = [g for g in gs if g["VServerGroupName"] == name]
    assert len(gs) == 1, lb["groups"]
    return gs[0]


def server_ports(g):
    return sorted((b["ServerId"], int(b["Port"])) for b in g["BackendServers"])


def listeners(lb):
    return [(x["ListenerPort"], x["ListenerProtocol"], x["Status"])
            for x in lb["Listeners"]]


# ------------------------------------------------------------------ tests

def test_seed_nginx_intranet(cluster, sim, world, slb):
    """The seed's ccm-test.yaml: intranet nginx Service on three nodes."""
    names = three_nodes(world, uniq("seed"))
    svc = seed_docs("ccm-test.yaml")[0]
    assert svc["metadata"]["name"] == "nginx"
    out = world.svc(svc)
    node_port = out["spec"]["ports"][0]["nodePort"]
    write_endpoints(cluster, "nginx", [("10.244.1.5", names[0]),
                                       ("10.244.2.5", names[1])])
    p = slb()
    wait_for(lambda: ingress_ip(cluster, "nginx"), 60, what="ingress IP")
    lb = the_lb(sim)
    assert lb["AddressType"] == "intranet"
    assert ingress_ip(cluster, "nginx") == lb["Address"]
    assert listeners(lb) == [(80, "tcp", "running")]
    g = group(lb, f"k8s/80/nginx/default/{CLUSTER_ID}")
    assert server_ports(g) == [("i-sim0002", node_port),
                               ("i-sim0003", node_port),
                               ("i-sim0004", node_port)]
    assert lb["Listeners"][0]["VServerGroupId"] == g["VServerGroupId"]
    assert FINALIZER in get_svc(cluster, "nginx")["metadata"]["finalizers"]
    assert len(mutating(sim)) <= 9

    # delete: protection off first, CLB gone, finalizer gone
    st, _ = cluster.api("DELETE", f"/api/v1/namespaces/{NS}/services/nginx")
    assert st == 200
    wait_for(lambda: get_svc(cluster, "nginx") is None, 60,
             what="Service gone (finalizer removed)")
    assert lbs(sim) == []
    acts = [c["action"] for c in mutating(sim)]
    assert acts.index("SetLoadBalancerDeleteProtection") < \
        acts.index("DeleteLoadBalancer")
    assert p.alive()


# ------------------------------------------------- efficiency and nodes

def add_instances(sim, n):
    return [sim.client.mutate("add_instance", vswitch_id="vsw-sim0001")["id"]
            for _ in range(n)]


def wait_settled(sim, quiet=2.0, timeout=60):
    """Until no mutating call arrives for `quiet` seconds (describes go on
    with the resync period)."""
    last = [len(mutating(sim)), time.monotonic()]

    def settled():
        n = len(mutating(sim))
        if n != last[0]:
            last[0], last[1] = n, time.monotonic()
            return False
        return time.monotonic() - last[1] >= quiet
    wait_for(settled, timeout, 0.2, what="cloud calls settle")


def backends_of(sim, port):
    lb = the_lb(sim)
    return [(sid, p) for sid, p in server_ports(
        group(lb, [g["VServerGroupName"] for g in lb["groups"]
                   if g["VServerGroupName"].startswith(f"k8s/{port}/")][0]))]


def test_counts_two_ports_ten_nodes(cluster, sim, world, slb):
    insts = ["i-sim0002", "i-sim0003", "i-sim0004"] + add_instances(sim, 7)
    prefix = uniq("cnt")
    for i, inst in enumerate(insts):
        world.node(f"{prefix}-{i}", inst)
    name = uniq("two")
    world.svc(svc_body(name, ports=((80, "TCP"), (443, "TCP"))))
    p = slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    wait_settled(sim)
    muts = mutating(sim)
    assert len(muts) <= 9, [c["action"] for c in muts]
    lb = the_lb(sim)
    assert sorted(listeners(lb)) == [(80, "tcp", "running"),
                                     (443, "tcp", "running")]
    assert len(backends_of(sim, 80)) == 10
    assert len(backends_of(sim, 443)) == 10

    # steady state and an endpoint change that moves no backend: nothing
    sim.client.clear_calls()
    write_endpoints(cluster, name, [("10.244.1.7", f"{prefix}-0")])
    time.sleep(3)
    assert mutating(sim) == []

    # one node added: exactly one AddVServerGroupBackendServers per port
    extra = add_instances(sim, 1)[0]
    world.node(f"{prefix}-new", extra)
    wait_for(lambda: len(backends_of(sim, 80)) == 11
             and len(backends_of(sim, 443)) == 11, 60, what="new backend")
    wait_settled(sim)
    acts = [c["action"] for c in mutating(sim)]
    assert acts == ["AddVServerGroupBackendServers"] * 2, acts
    assert p.alive()


def test_node_readiness_exclusion_and_cordon(cluster, sim, world, slb):
    names = three_nodes(world, uniq("rdy"))
    name = uniq("rdy")
    world.svc(svc_body(name))
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    wait_for(lambda: len(backends_of(sim, 80)) == 3, 30)

    # Ready=False removes the node
    set_ready(cluster, names[0], "False")
    wait_for(lambda: [s for s, _ in backends_of(sim, 80)]
             == ["i-sim0003", "i-sim0004"], 60, what="NotReady removed")
    set_ready(cluster, names[0], "True")
    wait_for(lambda: len(backends_of(sim, 80)) == 3, 60, what="back")

    # Ready=Unknown on every node (API-server partition): all kept
    wait_settled(sim)
    sim.client.clear_calls()
    for n in names:
        set_ready(cluster, n, "Unknown")
    time.sleep(4)
    assert len(backends_of(sim, 80)) == 3
    assert mutating(sim) == []
    for n in names:
        set_ready(cluster, n, "True")

    # excluded label removes the node
    cluster.api("PATCH", f"/api/v1/nodes/{names[1]}", {"metadata": {
        "labels": {"node.kubernetes.io/exclude-from-external-load-balancers":
                   "true"}}})
    wait_for(lambda: [s for s, _ in backends_of(sim, 80)]
             == ["i-sim0002", "i-sim0004"], 60, what="excluded removed")

    # cordoned: kept without the annotation ...
    cluster.api("PATCH", f"/api/v1/nodes/{names[2]}",
                {"spec": {"unschedulable": True}})
    time.sleep(3)
    assert [s for s, _ in backends_of(sim, 80)] == ["i-sim0002", "i-sim0004"]
    # ... removed with remove-unscheduled-backend: on
    cluster.api("PATCH", f"/api/v1/namespaces/{NS}/services/{name}",
                {"metadata": {"annotations": {
                    PFX + "loadbalancer-remove-unscheduled-backend": "on"}}})
    wait_for(lambda: [s for s, _ in backends_of(sim, 80)] == ["i-sim0002"],
             60, what="cordoned removed")


def test_all_nodes_not_ready_keeps_backends_and_warns(cluster, sim, world,
                                                      slb):
    names = three_nodes(world, uniq("down"))
    name = uniq("down")
    world.svc(svc_body(name))
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    wait_for(lambda: len(backends_of(sim, 80)) == 3, 30)
    for n in names:
        set_ready(cluster, n, "False")
    wait_for(lambda: events(cluster, "UnAvailableLoadBalancer", name), 60,
             what="UnAvailableLoadBalancer")
    assert events(cluster, "UnAvailableLoadBalancer", name)[0]["type"] == \
        "Warning"
    # the group is never emptied (nodes seen NotReady one sync apart may
    # go one by one, but the last ones stay)
    wait_settled(sim)
    assert len(backends_of(sim, 80)) >= 1


def test_local_policy_weights(cluster, sim, world, slb):
    names = three_nodes(world, uniq("loc"))
    name = uniq("loc")
    out = world.svc(svc_body(name, policy="Local"))
    np_ = out["spec"]["ports"][0]["nodePort"]
    write_endpoints(cluster, name, [("10.244.1.5", names[0]),
                                    ("10.244.1.6", names[0]),
                                    ("10.244.2.5", names[1])], port_name="p80")
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    g = group(the_lb(sim))
    got = sorted((b["ServerId"], int(b["Port"]), int(b["Weight"]))
                 for b in g["BackendServers"])
    assert got == [("i-sim0002", np_, 2), ("i-sim0003", np_, 1)]


def test_eni_backends_and_virtual_kubelet_pods(cluster, sim, world, slb):
    names = three_nodes(world, uniq("eni"))
    vk = world.node(uniq("vk"), "i-simvk", labels={"type": "virtual-kubelet"})
    # backend-type eni: pod IPs as ENI backends on the target port
    e = uniq("eni")
    world.svc(svc_body(e, annotations={
        "service.beta.kubernetes.io/backend-type": "eni"}))
    write_endpoints(cluster, e, [("192.168.0.100", names[0]),
                                 ("192.168.1.101", names[1])], port_name="p80")
    # Cluster policy: ECS nodes plus the virtual-kubelet pod as ENI
    v = uniq("mix")
    world.svc(svc_body(v, ports=((81, "TCP"),)))
    write_endpoints(cluster, v, [("192.168.1.100", vk),
                                 ("10.244.1.9", names[0])], port=81,
                    port_name="p81")
    slb()
    wait_for(lambda: ingress_ip(cluster, e) and ingress_ip(cluster, v), 60,
             what="ingress IPs")
    by_name = {}
    for lb in lbs(sim):
        for g in lb["groups"]:
            by_name[g["VServerGroupName"].split("/")[2]] = g
    eg = sorted((b["ServerId"], b["Type"], b.get("ServerIp"), int(b["Port"]))
                for b in by_name[e]["BackendServers"])
    assert eg == [("eni-simpod0001", "eni", "192.168.0.100", 80),
                  ("eni-simpod0002", "eni", "192.168.1.101", 80)]
    mg = sorted((b["ServerId"], b["Type"]) for b in by_name[v]["BackendServers"])
    assert mg == [("eni-simpod0002", "eni"), ("i-sim0002", "ecs"),
                  ("i-sim0003", "ecs"), ("i-sim0004", "ecs")]


# --------------------------------------------------------- shared CLBs

def rpc(sim, action, **params):
    import simclient
    return sim.client.rpc(action, simclient.SLB,
                          dict({"RegionId": REGION}, **params))


def user_clb(sim, tags=None):
    """A CLB made by hand, with a group holding a server outside the
    cluster (i-sim0001:8080)."""
    extra = {}
    for i, (k, v) in enumerate((tags or {}).items(), 1):
        extra[f"Tag.{i}.Key"] = k
        extra[f"Tag.{i}.Value"] = v
    lb = rpc(sim, "CreateLoadBalancer", AddressType="intranet",
             VSwitchId="vsw-sim0001", LoadBalancerName="user-lb", **extra)
    g = rpc(sim, "CreateVServerGroup", LoadBalancerId=lb["LoadBalancerId"],
            VServerGroupName="user-group",
            BackendServers='[{"ServerId":"i-sim0001","Port":8080,'
                           '"Weight":100,"Description":"manual"}]')
    return lb["LoadBalancerId"], g["VServerGroupId"]


def group_by_id(sim, gid):
    for lb in lbs(sim):
        for g in lb["groups"]:
            if g["VServerGroupId"] == gid:
                return g
    return None


def members(sim, gid):
    return sorted((b["ServerId"], int(b["Port"]), int(b["Weight"]),
                   b.get("Description", ""))
                  for b in group_by_id(sim, gid)["BackendServers"])


def test_reused_clb_foreign_server_survives(cluster, sim, world, slb):
    lb_id, gid = user_clb(sim)
    three_nodes(world, uniq("reuse"))
    name = uniq("reuse")
    out = world.svc(svc_body(name, annotations={
        PFX + "loadbalancer-id": lb_id,
        PFX + "loadbalancer-force-override-listeners": "true",
        PFX + "loadbalancer-vgroup-port": f"{gid}:80"}))
    np_ = out["spec"]["ports"][0]["nodePort"]
    slb()
    wait_for(lambda: len(members(sim, gid)) == 4, 60, what="our backends")
    assert ("i-sim0001", 8080, 100, "manual") in members(sim, gid)
    assert {m[0] for m in members(sim, gid)} == {
        "i-sim0001", "i-sim0002", "i-sim0003", "i-sim0004"}
    assert all(m[1] == np_ for m in members(sim, gid) if m[0] != "i-sim0001")
    lb = [x for x in lbs(sim) if x["LoadBalancerId"] == lb_id][0]
    assert listeners(lb) == [(80, "tcp", "running")]
    assert lb["Listeners"][0]["VServerGroupId"] == gid
    assert len(lbs(sim)) == 1
    # deletion: our backends and listener go, the CLB and the manual
    # server stay
    cluster.api("DELETE", f"/api/v1/namespaces/{NS}/services/{name}")
    wait_for(lambda: get_svc(cluster, name) is None, 60, what="deleted")
    assert members(sim, gid) == [("i-sim0001", 8080, 100, "manual")]
    assert [x["LoadBalancerId"] for x in lbs(sim)] == [lb_id]


def test_clb_of_another_cluster_refused(cluster, sim, world, slb):
    lb_id, _ = user_clb(sim, tags={"ack.aliyun.com": "other-cluster"})
    three_nodes(world, uniq("tag"))
    name = uniq("tag")
    world.svc(svc_body(name, annotations={PFX + "loadbalancer-id": lb_id}))
    sim.client.clear_calls()
    slb()
    wait_for(lambda: events(cluster, "SyncLoadBalancerFailed", name), 60,
             what="refusal Warning")
    ev = events(cluster, "SyncLoadBalancerFailed", name)[0]
    assert ev["type"] == "Warning" and lb_id in ev["message"]
    assert mutating(sim) == []


def test_two_clusters_share_group_by_weight(cluster, sim, world, slb):
    lb_id, gid = user_clb(sim)
    name = uniq("share")
    pre = uniq("ca")
    world.node(f"{pre}-0", "i-sim0002")
    world.node(f"{pre}-1", "i-sim0003")
    world.svc(svc_body(name, annotations={
        PFX + "loadbalancer-id": lb_id,
        PFX + "loadbalancer-vgroup-port": f"{gid}:80",
        PFX + "loadbalancer-weight": "60"}))
    a = slb(cluster_id="cluster-a")
    wait_for(lambda: len(members(sim, gid)) == 3, 60, what="cluster A")
    wait_settled(sim)
    a.kill()
    # the other cluster: other nodes, its own weight, same group
    for n in (f"{pre}-0", f"{pre}-1"):
        cluster.api("DELETE", f"/api/v1/nodes/{n}")
    world.node(uniq("cb"), "i-sim0004")
    cluster.api("PATCH", f"/api/v1/namespaces/{NS}/services/{name}",
                {"metadata": {"annotations": {
                    PFX + "loadbalancer-weight": "40"}}})
    slb(cluster_id="cluster-b")
    wait_for(lambda: len(members(sim, gid)) == 4, 60, what="cluster B")
    wait_settled(sim)
    got = {m[0]: (m[2], m[3].split("/")[-1]) for m in members(sim, gid)}
    assert got == {"i-sim0001": (100, "manual"),
                   "i-sim0002": (30, "cluster-a"),
                   "i-sim0003": (30, "cluster-a"),
                   "i-sim0004": (40, "cluster-b")}
    cluster.api("DELETE", f"/api/v1/namespaces/{NS}/services/{name}")
    wait_for(lambda: get_svc(cluster, name) is None, 60, what="deleted")
    assert {m[0] for m in members(sim, gid)} == {
        "i-sim0001", "i-sim0002", "i-sim0003"}


# ------------------------------------------------------- spec changes

def patch_svc(cluster, name, body):
    st, out = cluster.api("PATCH",
                          f"/api/v1/namespaces/{NS}/services/{name}", body)
    assert st == 200, out
    return out


def test_port_added_and_removed(cluster, sim, world, slb):
    three_nodes(world, uniq("port"))
    name = uniq("port")
    world.svc(svc_body(name))
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    svc = get_svc(cluster, name)
    ports = svc["spec"]["ports"] + [{"name": "p443", "port": 443,
                                     "protocol": "TCP", "targetPort": 443}]
    patch_svc(cluster, name, {"spec": {"ports": ports}})
    wait_for(lambda: sorted(listeners(the_lb(sim))) == [
        (80, "tcp", "running"), (443, "tcp", "running")], 60,
        what="listener 443")
    assert len(the_lb(sim)["groups"]) == 2
    svc = get_svc(cluster, name)
    patch_svc(cluster, name, {"spec": {"ports": [
        p for p in svc["spec"]["ports"] if p["port"] == 443]}})
    wait_for(lambda: listeners(the_lb(sim)) == [(443, "tcp", "running")], 60,
             what="listener 80 removed")
    wait_for(lambda: [g["VServerGroupName"] for g in the_lb(sim)["groups"]]
             == [f"k8s/443/{name}/{NS}/{CLUSTER_ID}"], 60,
             what="group of 80 removed")


def test_loadbalancer_nodeport_loadbalancer(cluster, sim, world, slb):
    three_nodes(world, uniq("type"))
    name = uniq("type")
    world.svc(svc_body(name))
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    first = the_lb(sim)["LoadBalancerId"]
    patch_svc(cluster, name, {"spec": {"type": "NodePort"}})
    wait_for(lambda: lbs(sim) == [], 60, what="CLB deleted")
    wait_for(lambda: FINALIZER not in (get_svc(cluster, name)["metadata"]
                                       .get("finalizers") or []), 60,
             what="finalizer removed")
    wait_for(lambda: not ingress_ip(cluster, name), 30, what="status clear")
    patch_svc(cluster, name, {"spec": {"type": "LoadBalancer"}})
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress again")
    lb = the_lb(sim)
    assert lb["LoadBalancerId"] != first
    assert ingress_ip(cluster, name) == lb["Address"]


def call_targets(c):
    p = c.get("params", {})
    return {p.get("LoadBalancerId"), p.get("VServerGroupId")}


def test_out_of_band_changes_repaired_by_resync(cluster, sim, world, slb):
    three_nodes(world, uniq("drift"))
    a, b, c = uniq("gone"), uniq("less"), uniq("calm")
    for n in (a, b, c):
        world.svc(svc_body(n))
    slb(resync="3s")
    wait_for(lambda: all(ingress_ip(cluster, n) for n in (a, b, c)), 60,
             what="three CLBs")
    wait_settled(sim)
    by = {}
    for lb in lbs(sim):
        by[lb["groups"][0]["VServerGroupName"].split("/")[2]] = lb
    calm_ids = {by[c]["LoadBalancerId"], by[c]["groups"][0]["VServerGroupId"]}
    sim.client.clear_calls()
    sim.client.mutate("delete_load_balancer", id=by[a]["LoadBalancerId"])
    sim.client.mutate("remove_backend",
                      vserver_group_id=by[b]["groups"][0]["VServerGroupId"],
                      server_id="i-sim0003")
    def recreated():
        new = [x for x in lbs(sim) if x["LoadBalancerId"] not in
               {by[n]["LoadBalancerId"] for n in (a, b, c)}]
        return len(new) == 1 and ingress_ip(cluster, a) == new[0]["Address"]
    wait_for(recreated, 60, what="CLB recreated, status updated")
    wait_for(lambda: len(members(sim, by[b]["groups"][0]["VServerGroupId"]))
             == 3, 60, what="backend restored")
    wait_settled(sim)
    assert len(lbs(sim)) == 3
    touched = set()
    for call in mutating(sim):
        touched |= call_targets(call)
    assert not touched & calm_ids, touched


# ------------------------------------------------------- idempotency

def test_commit_then_fail_on_every_create(cluster, sim, world, slb):
    three_nodes(world, uniq("ctf"))
    for act in ("CreateLoadBalancer", "CreateVServerGroup",
                "CreateLoadBalancerTCPListener"):
        sim.control(action=act, commit_then_fail=1, mode="500")
    name = uniq("ctf")
    world.svc(svc_body(name, ports=((80, "TCP"), (443, "TCP"))))
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 120, what="ingress IP")
    wait_for(lambda: sorted(listeners(the_lb(sim))) == [
        (80, "tcp", "running"), (443, "tcp", "running")], 120,
        what="both listeners")
    wait_settled(sim)
    lb = the_lb(sim)
    names = sorted(g["VServerGroupName"] for g in lb["groups"])
    assert names == sorted(f"k8s/{p}/{name}/{NS}/{CLUSTER_ID}"
                           for p in (80, 443))


def test_foreign_finalizer_survives(cluster, sim, world, slb):
    three_nodes(world, uniq("fin"))
    name = uniq("fin")
    world.svc(svc_body(name))
    # our read happens before the foreign write, our patch after it
    sim.control(action="DescribeLoadBalancers", latency_ms=1500, count=1)
    slb()
    time.sleep(0.7)
    patch_svc(cluster, name, {"metadata": {"finalizers": ["example.com/keep"]}})
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    fins = get_svc(cluster, name)["metadata"]["finalizers"]
    assert sorted(fins) == sorted(["example.com/keep", FINALIZER])
    cluster.api("DELETE", f"/api/v1/namespaces/{NS}/services/{name}")
    wait_for(lambda: lbs(sim) == [], 60, what="CLB deleted")
    wait_for(lambda: get_svc(cluster, name)["metadata"]["finalizers"]
             == ["example.com/keep"], 60, what="only ours removed")


def test_terminating_namespace_cleanup(cluster, sim, world, slb):
    three_nodes(world, uniq("tns"))
    ns = uniq("tns")
    cluster.create("/api/v1/namespaces", {"apiVersion": "v1",
                                          "kind": "Namespace",
                                          "metadata": {"name": ns}})
    body = svc_body("web")
    body["metadata"]["namespace"] = ns
    cluster.create(f"/api/v1/namespaces/{ns}/services", body)
    path = f"/api/v1/namespaces/{ns}/services/web"
    try:
        slb()
        wait_for(lambda: lbs(sim) and (cluster.get(path)["status"]
                                       .get("loadBalancer", {})
                                       .get("ingress")), 60, what="CLB")
        cluster.api("DELETE", f"/api/v1/namespaces/{ns}")
        cluster.api("DELETE", path)
        wait_for(lambda: lbs(sim) == [], 60, what="CLB deleted")
        wait_for(lambda: cluster.get(path) is None, 60,
                 what="finalizer removed, Service gone")
    finally:
        cluster.api("PATCH", path, {"metadata": {"finalizers": None}})
        cluster.api("DELETE", path)


# ------------------------------------------------------ input and dry-run

def test_bad_annotation_warns_and_spares_others(cluster, sim, world, slb):
    three_nodes(world, uniq("bad"))
    bad, good = uniq("bad"), uniq("good")
    world.svc(svc_body(bad, annotations={
        PFX + "loadbalancer-protocol-port": "sctp:80"}))
    world.svc(svc_body(good, annotations={
        PFX + "loadbalancer-address-type": "intranet"}))
    src = uniq("src")
    body = svc_body(src)
    body["spec"]["loadBalancerSourceRanges"] = ["10.0.0.0/8"]
    world.svc(body)
    slb()
    wait_for(lambda: ingress_ip(cluster, good) and ingress_ip(cluster, src),
             60, what="good Services served")
    wait_for(lambda: events(cluster, "SyncLoadBalancerFailed", bad), 60,
             what="Warning on the bad Service")
    ev = events(cluster, "SyncLoadBalancerFailed", bad)[0]
    assert ev["type"] == "Warning"
    assert "loadbalancer-protocol-port" in ev["message"], ev["message"]
    assert not ingress_ip(cluster, bad)
    assert FINALIZER not in (get_svc(cluster, bad)["metadata"]
                             .get("finalizers") or [])
    for c in mutating(sim):
        assert bad not in str(c["params"]), c
    wait_for(lambda: events(cluster, "SourceRangesNotApplied", src), 60,
             what="SourceRangesNotApplied")
    assert events(cluster, "SourceRangesNotApplied", src)[0]["type"] == \
        "Warning"


def test_dry_run_changes_nothing(cluster, sim, world, slb):
    three_nodes(world, uniq("dry"))
    name = uniq("dry")
    world.svc(svc_body(name))
    p = slb(extra=("--dry-run",))
    p.wait_log(r"dry-run: service .*would call CreateLoadBalancer", 60)
    assert p.wait(60) == 0
    assert mutating(sim) == []
    assert lbs(sim) == []
    assert FINALIZER not in (get_svc(cluster, name)["metadata"]
                             .get("finalizers") or [])


def test_worker_killed_after_create_lb(cluster, sim, world, slb):
    """SIGKILL the worker while CreateLoadBalancer is committed but not yet
    answered: the restarted worker finds the CLB by its tag."""
    import signal
    three_nodes(world, uniq("kill"))
    sim.control(action="CreateLoadBalancer", commit_then_delay_ms=5000,
                count=1)
    name = uniq("kill")
    world.svc(svc_body(name, ports=((80, "TCP"), (443, "TCP"))))
    p = slb()
    wait_for(lambda: len(lbs(sim)) == 1, 60, what="CLB committed")
    for pid in p.descendants():
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: ingress_ip(cluster, name), 120,
             what="ingress IP from the restarted worker")
    wait_for(lambda: sorted(listeners(the_lb(sim))) == [
        (80, "tcp", "running"), (443, "tcp", "running")], 60)
    wait_settled(sim)
    lb = the_lb(sim)
    assert sorted(g["VServerGroupName"] for g in lb["groups"]) == sorted(
        f"k8s/{port}/{name}/{NS}/{CLUSTER_ID}" for port in (80, 443))
    # the killed request is never logged as answered; no second create
    assert len(sim.calls("CreateLoadBalancer")) <= 1
