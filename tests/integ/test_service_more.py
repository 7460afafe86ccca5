"""Service-LB worker (issue 5), more cases: HTTP/HTTPS listeners with a
certificate, preserve-lb-on-delete, the DefaultClusterID warning, the
metrics the worker exports through the supervisor, and a sync slower than
the supervisor's heartbeat deadline. Same setup as test_service.py (the
seed's RBAC as the worker's identity, real kube-apiserver, simulator);
assertions are on the simulator's state and call log."""

import os
import re
import urllib.request

import pytest

from harness import free_port, wait_for
from slb_helpers import listener_of
# fixtures (world, token, slb) and helpers shared with test_service.py
from test_service import (CLUSTER_ID, FINALIZER, NS, PFX, events, get_svc,
                          group, ingress_ip, listeners, members, mutating,
                          svc_body, the_lb, three_nodes, uniq, user_clb,
                          wait_settled)
from test_service import slb, token, world  # noqa: F401 - fixtures


# ---------------------------------------------------------------- helpers

def tag_keys(lb):
    return {t["TagKey"] for t in lb.get("Tags", [])}


@pytest.fixture
def slb_metrics(run_ccm, cluster, sim, tmp_path, token):
    """Like test_service's slb, with /metrics served on the health port;
    returns the Process with .metrics_url set."""
    def start(resync="1h", cluster_id=CLUSTER_ID, elect=False):
        bind = f"127.0.0.1:{free_port()}"
        # the cloud client asks the fence for timeout + connect timeout
        # (5 s): 5 s keeps that inside the default 15 s lease
        lock = [f"--leader-elect-resource-name={uniq('slb-more')}",
                "--cloud-api-timeout=5s"]
        cc = sim.cloud_config(str(tmp_path / "cloud-m.json"),
                              clusterID=cluster_id)
        kc = cluster.write_kubeconfig(str(tmp_path / "kc-m"), token=token)
        e = dict(os.environ)
        e.update(sim.env)
        os.makedirs(f"{tmp_path}/run-m", exist_ok=True)
        p = run_ccm([f"--cloud-config={cc}", f"--kubeconfig={kc}",
                     "--controllers=service",
                     *(lock if elect else ["--leader-elect=false"]),
                     "--configure-cloud-routes=false",
                     f"--cloud-resync-period={resync}",
                     f"--run-dir={tmp_path}/run-m",
                     f"--health-probe-bind-addr={bind}",
                     f"--metrics-bind-addr={bind}", "-v=2"], env=e)
        p.metrics_url = f"http://{bind}/metrics"
        return p
    return start


def scrape(p):
    """{'name{labels}': value} from the supervisor's /metrics."""
    with urllib.request.urlopen(p.metrics_url, timeout=10) as r:
        txt = r.read().decode()
    out = {}
    for line in txt.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def metric(p, name, **labels):
    """The value of the one series of `name` carrying `labels`, or None."""
    hits = []
    for k, v in scrape(p).items():
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?", k)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(a) == b for a, b in labels.items()):
            hits.append(v)
    assert len(hits) <= 1, (name, labels, hits)
    return hits[0] if hits else None


# ------------------------------------------------------------------ tests

def test_https_and_http_listeners_with_cert(cluster, sim, world, slb):
    three_nodes(world, uniq("tls"))
    name = uniq("tls")
    world.svc(svc_body(name, ports=((443, "TCP"), (80, "TCP")), annotations={
        PFX + "loadbalancer-protocol-port": "https:443,http:80",
        PFX + "loadbalancer-cert-id": "cert-one"}))
    slb(resync="3s")
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    wait_for(lambda: sorted(listeners(the_lb(sim))) == [
        (80, "http", "running"), (443, "https", "running")], 60,
        what="HTTP and HTTPS listeners started")
    wait_settled(sim)
    lb = the_lb(sim)
    for port in (80, 443):
        g = group(lb, f"k8s/{port}/{name}/{NS}/{CLUSTER_ID}")
        assert listener_of(lb, port)["VServerGroupId"] == g["VServerGroupId"]
        assert len(g["BackendServers"]) == 3
    assert listener_of(lb, 443)["ServerCertificateId"] == "cert-one"

    # resyncs describe the listeners and find nothing to re-apply
    sim.client.clear_calls()
    wait_for(lambda: len(sim.calls("DescribeLoadBalancerListeners")) >= 2,
             30, what="two resyncs")
    assert mutating(sim) == []

    # a new certificate: one call, on the HTTPS listener only
    sim.client.clear_calls()
    st, out = cluster.api(
        "PATCH", f"/api/v1/namespaces/{NS}/services/{name}",
        {"metadata": {"annotations": {PFX + "loadbalancer-cert-id":
                                      "cert-two"}}})
    assert st == 200, out
    wait_for(lambda: listener_of(the_lb(sim), 443)["ServerCertificateId"]
             == "cert-two", 60, what="certificate replaced")
    wait_settled(sim)
    acts = [c["action"] for c in mutating(sim)]
    assert acts == ["SetLoadBalancerHTTPSListenerAttribute"], acts
    call = mutating(sim)[0]["params"]
    assert call["ListenerPort"] == "443"
    assert call["ServerCertificateId"] == "cert-two"
    assert sorted(listeners(the_lb(sim))) == [
        (80, "http", "running"), (443, "https", "running")]


def test_preserve_lb_on_delete(cluster, sim, world, slb):
    three_nodes(world, uniq("keep"))
    name = uniq("keep")
    world.svc(svc_body(name, ports=((80, "TCP"), (443, "TCP")), annotations={
        PFX + "loadbalancer-preserve-lb-on-delete": "true"}))
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    wait_for(lambda: len(listeners(the_lb(sim))) == 2, 60,
             what="two listeners")
    wait_settled(sim)
    lb_id = the_lb(sim)["LoadBalancerId"]
    assert FINALIZER in get_svc(cluster, name)["metadata"]["finalizers"]

    sim.client.clear_calls()
    st, _ = cluster.api("DELETE", f"/api/v1/namespaces/{NS}/services/{name}")
    assert st == 200
    wait_for(lambda: get_svc(cluster, name) is None, 60,
             what="Service gone (finalizer removed)")
    lb = the_lb(sim)
    assert lb["LoadBalancerId"] == lb_id
    assert lb["Listeners"] == []
    assert lb["groups"] == []
    # no longer ours: a later Service of any cluster may reuse it
    assert not tag_keys(lb) & {"kubernetes.do.not.delete", "ack.aliyun.com"}
    acts = [c["action"] for c in mutating(sim)]
    assert "DeleteLoadBalancer" not in acts
    assert "SetLoadBalancerDeleteProtection" not in acts


def test_vgroup_port_with_default_cluster_id_warns(cluster, sim, world, slb):
    lb_id, gid = user_clb(sim)
    three_nodes(world, uniq("dcid"))
    name = uniq("dcid")
    world.svc(svc_body(name, annotations={
        PFX + "loadbalancer-id": lb_id,
        PFX + "loadbalancer-vgroup-port": f"{gid}:80"}))
    slb(cluster_id=None)  # cloud-config without clusterID
    wait_for(lambda: events(cluster, "DefaultClusterID", name), 60,
             what="DefaultClusterID Warning")
    ev = events(cluster, "DefaultClusterID", name)[0]
    assert ev["type"] == "Warning"
    assert "clusterID" in ev["message"], ev["message"]
    # a warning, not a refusal: the backends are still added
    wait_for(lambda: len(members(sim, gid)) == 4, 60, what="our backends")
    assert ("i-sim0001", 8080, 100, "manual") in members(sim, gid)


def test_metrics_endpoint_source_and_drift_repair(cluster, sim, world,
                                                  slb_metrics):
    three_nodes(world, uniq("met"))
    name = uniq("met")
    world.svc(svc_body(name))
    p = slb_metrics(resync="3s")
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    wait_settled(sim)
    # the 1.20 server serves no discovery.k8s.io/v1: core/v1 Endpoints
    assert metric(p, "service_lb_endpoint_source",
                  source="endpoints") == 1
    assert metric(p, "service_lb_endpoint_source",
                  source="endpointslices") is None
    assert metric(p, "service_lb_drift_repairs_total") == 0
    # resyncs of an unchanged CLB repair nothing
    n_desc = len(sim.calls("DescribeLoadBalancerAttribute"))
    wait_for(lambda: len(sim.calls("DescribeLoadBalancerAttribute"))
             >= n_desc + 2, 30, what="two resyncs")
    assert metric(p, "service_lb_drift_repairs_total") == 0

    gid = group(the_lb(sim))["VServerGroupId"]
    sim.client.mutate("remove_backend", vserver_group_id=gid,
                      server_id="i-sim0003")
    wait_for(lambda: len(group(the_lb(sim))["BackendServers"]) == 3, 60,
             what="backend restored by the resync")
    wait_settled(sim)
    assert metric(p, "service_lb_drift_repairs_total") == 1
    assert metric(p, "ccm_worker_restarts_total", worker="service-lb") == 0


@pytest.mark.parametrize("elect", [False, True], ids=["no-election",
                                                     "leader-elect"])
def test_sync_slower_than_heartbeat_deadline(cluster, sim, world,
                                             slb_metrics, elect):
    """Every cloud call takes 1.2 s: creating a 3-port CLB (2 describes,
    1 create, 3 groups, 3 listeners, 3 starts: 12 calls) keeps one sync
    on the loop for well over the supervisor's 10 s deadline. With leader
    election the lease renewals must also reach the worker meanwhile."""
    three_nodes(world, uniq("slow"))
    name = uniq("slow")
    world.svc(svc_body(name, ports=((80, "TCP"), (443, "TCP"),
                                    (8080, "TCP"))))
    sim.control(action="*", latency_ms=1200)
    p = slb_metrics(elect=elect)
    wait_for(lambda: p.descendants(), 60, what="worker started")
    workers = set(p.descendants())
    wait_for(lambda: ingress_ip(cluster, name), 180, what="ingress IP")
    # the premise: the calls of the one sync span more than 10 s
    calls = [c for c in sim.calls() if c["action"] != "Metadata"]
    starts = [c["time"] for c in calls
              if c["action"] == "StartLoadBalancerListener"]
    assert len(starts) == 3 and starts[-1] - calls[0]["time"] > 10
    wait_for(lambda: sorted(listeners(the_lb(sim))) == [
        (80, "tcp", "running"), (443, "tcp", "running"),
        (8080, "tcp", "running")], 60, what="three listeners")
    lb = the_lb(sim)
    assert len(lb["groups"]) == 3
    assert all(len(g["BackendServers"]) == 3 for g in lb["groups"])
    assert len(sim.calls("CreateLoadBalancer")) == 1
    # the worker was never killed or restarted
    assert set(p.descendants()) == workers
    assert metric(p, "ccm_worker_restarts_total", worker="service-lb") == 0
    assert "missed its heartbeat deadline" not in p.log()
    # nor was a call fenced (lease records arrive during the sync) or
    # failed: the one sync never had to be retried
    assert not re.search(r"retry in \d+ms", p.log())
    assert p.alive()
