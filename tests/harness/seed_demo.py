"""The seed's deployment steps against a local cluster and the simulator,
and a report of the result as a person would look at it.

Used by `make run` (tests/harness/run-local.sh) and by the integration tests
(tests/integ/test_demo.py, tests/integ/test_image.py):

    apply_rbac(cluster, manifest)      the RBAC objects of deploy/ccm.yaml
    daemonset_command(manifest, cidr)  the DaemonSet's command line
    apply_test_service(cluster, ns)    deploy/ccm-test.yaml's Service, plus
                                       Endpoints (no kubelet runs pods here)
    report(cluster, sim_url, ...)      kubectl-get-svc table, the CLB, the
                                       VPC routes, the Nodes, /healthz, metrics

`cluster` is a tests/integ/harness.Cluster (admin token, CA, url).
"""
import json
import os
import sys
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CCM_YAML = os.path.join(REPO, "deploy", "ccm.yaml")
TEST_YAML = os.path.join(REPO, "deploy", "ccm-test.yaml")
REC_YAML = os.path.join(REPO, "deploy", "ccm-recommended.yaml")

_PATHS = {
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "ClusterRoleBinding":
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
}


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def _post(cluster, path, obj):
    status, out = cluster.api("POST", path, obj)
    if status not in (201, 409):
        raise RuntimeError(f"POST {path}: {status} {out}")


def _path(obj):
    kind = obj["kind"]
    if kind in _PATHS:
        return _PATHS[kind]
    ns = obj["metadata"].get("namespace", "default")
    if kind in ("Role", "RoleBinding"):
        return (f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/"
                f"{kind.lower()}s")
    plural = {"ServiceAccount": "serviceaccounts", "Service": "services",
              "Endpoints": "endpoints", "ConfigMap": "configmaps"}[kind]
    return f"/api/v1/namespaces/{ns}/{plural}"


def apply_rbac(cluster, manifest=CCM_YAML):
    """Creates the manifest's ClusterRoles, ServiceAccounts and bindings
    (an existing object is left as it is)."""
    for obj in load(manifest):
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role",
                           "RoleBinding", "ServiceAccount"):
            _post(cluster, _path(obj), obj)


def daemonset(manifest=CCM_YAML):
    return next(o for o in load(manifest) if o["kind"] == "DaemonSet")


def daemonset_command(manifest=CCM_YAML, cluster_cidr="172.16.0.0/16"):
    c = daemonset(manifest)["spec"]["template"]["spec"]["containers"][0]
    return [a.replace("${ClusterCIDR}", cluster_cidr) for a in c["command"]]


def apply_test_service(cluster, namespace="default", endpoint_ips=()):
    """The seed's verification Service (deploy/ccm-test.yaml) in
    `namespace`, and Endpoints standing in for its nginx pods."""
    if namespace != "default":
        _post(cluster, "/api/v1/namespaces", {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace}})
    svc = next(o for o in load(TEST_YAML) if o["kind"] == "Service")
    svc["metadata"]["namespace"] = namespace
    _post(cluster, _path(svc), svc)
    if endpoint_ips:
        port = svc["spec"]["ports"][0]
        _post(cluster, f"/api/v1/namespaces/{namespace}/endpoints", {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": svc["metadata"]["name"],
                         "namespace": namespace},
            "subsets": [{"addresses": [{"ip": ip} for ip in endpoint_ips],
                         "ports": [{"port": port["targetPort"],
                                    "protocol": port["protocol"]}]}]})
    return svc["metadata"]["name"]


def remove_test_service(cluster, namespace, name="nginx"):
    """Deletes the Service without waiting for a CCM (its finalizer is
    dropped), so later tests' CCMs do not see it."""
    path = f"/api/v1/namespaces/{namespace}/services/{name}"
    # DELETE first: once deletion has started no finalizer can be added, so
    # a CCM still running cannot put its finalizer back between the two
    # requests and leave the Service stuck for every later test
    cluster.api("DELETE", path)
    cluster.api("PATCH", path, {"metadata": {"finalizers": None}},
                content_type="application/merge-patch+json")
    cluster.api("DELETE", f"/api/v1/namespaces/{namespace}/endpoints/{name}")


def external_ip(cluster, namespace, name):
    status, svc = cluster.api(
        "GET", f"/api/v1/namespaces/{namespace}/services/{name}")
    if status != 200:
        return None
    ing = (svc.get("status", {}).get("loadBalancer", {}).get("ingress")
           or [])
    return ing[0].get("ip") or ing[0].get("hostname") if ing else None


UNINIT = "node.cloudprovider.kubernetes.io/uninitialized"


def missing_work(cluster, sim_url, namespace, name, nodes=True):
    """What the CCM has not done yet for the demo (empty when done)."""
    miss = []
    ip = external_ip(cluster, namespace, name)
    if not ip:
        miss.append(f"EXTERNAL-IP of {namespace}/{name}")
    state = _sim_state(sim_url)
    lbs = [lb for lb in state.get("load_balancers", [])
           if ip and lb.get("Address") == ip]
    if ip and not (lbs and lbs[0].get("Listeners")):
        miss.append("the CLB's listener")
    if not nodes:
        return miss
    if ip and lbs and not any(
            g.get("BackendServers") for g in state.get("vserver_groups", [])
            if g.get("LoadBalancerId") == lbs[0]["LoadBalancerId"]):
        miss.append("the CLB's backends")
    _, out = cluster.api("GET", "/api/v1/nodes")
    items = out.get("items", [])
    if any(not n["spec"].get("providerID") or
           any(t["key"] == UNINIT for t in n["spec"].get("taints", []))
           for n in items):
        miss.append("initialized Nodes")
    routes = sum(len(t.get("entries", []))
                 for t in state.get("route_tables", []))
    if routes < len(items):
        miss.append(f"VPC routes ({routes} of {len(items)})")
    return miss


def wait_done(cluster, sim_url, namespace, name, timeout, nodes=True):
    """Polls missing_work until it is empty or `timeout` s have passed;
    returns what is still missing."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            miss = missing_work(cluster, sim_url, namespace, name, nodes)
        except OSError as e:  # the API server or simulator not answering
            miss = [str(e)]
        if not miss or time.monotonic() >= deadline:
            return miss
        time.sleep(0.5)


def _table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(str(c).ljust(w) for c, w in zip(r, widths))
                     .rstrip() for r in rows)


def _svc_table(cluster, namespace):
    rows = [("NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP",
             "PORT(S)")]
    _, out = cluster.api("GET", f"/api/v1/namespaces/{namespace}/services")
    for s in out.get("items", []):
        spec = s["spec"]
        ports = ",".join(
            f"{p['port']}:{p['nodePort']}/{p['protocol']}"
            if p.get("nodePort") else f"{p['port']}/{p['protocol']}"
            for p in spec.get("ports", []))
        ext = external_ip(cluster, namespace, s["metadata"]["name"])
        if spec.get("type") == "LoadBalancer" and not ext:
            ext = "<pending>"
        rows.append((namespace, s["metadata"]["name"], spec.get("type"),
                     spec.get("clusterIP", ""), ext or "<none>", ports))
    return _table(rows)


def _sim_state(sim_url):
    with urllib.request.urlopen(sim_url + "/_sim/state", timeout=10) as r:
        return json.load(r)


def _clb_lines(state):
    lines = []
    for lb in state.get("load_balancers", []):
        lid = lb["LoadBalancerId"]
        lines.append(f"CLB {lid}  address {lb.get('Address')}"
                     f" ({lb.get('AddressType')})  name"
                     f" {lb.get('LoadBalancerName')}"
                     f"  status {lb.get('LoadBalancerStatus')}")
        for lsn in lb.get("Listeners", []):
            lines.append(f"  listener {lsn.get('ListenerProtocol', '?')}:"
                         f"{lsn.get('ListenerPort')} -> vServer group"
                         f" {lsn.get('VServerGroupId', '-')}"
                         f" ({lsn.get('Status', '')})")
        for vg in state.get("vserver_groups", []):
            if vg.get("LoadBalancerId") != lid:
                continue
            lines.append(f"  vServer group {vg['VServerGroupId']}"
                         f" {vg.get('VServerGroupName', '')}")
            for b in vg.get("BackendServers", []):
                lines.append(f"    backend {b.get('ServerId')}"
                             f" port {b.get('Port')} weight"
                             f" {b.get('Weight')} type {b.get('Type', 'ecs')}")
    return lines or ["(no CLB in the simulator)"]


def _route_lines(state):
    lines = []
    for t in state.get("route_tables", []):
        for e in t.get("entries", []):
            lines.append(f"route table {t.get('id')}: {e.get('cidr')} ->"
                         f" {e.get('next_hop_type')} {e.get('next_hop_id')}"
                         f" ({e.get('status')})")
    return lines or ["(no custom route entries)"]


def _node_lines(cluster):
    rows = [("NAME", "PROVIDER-ID", "ZONE", "INSTANCE-TYPE", "TAINTS")]
    _, out = cluster.api("GET", "/api/v1/nodes")
    for n in out.get("items", []):
        lab = n["metadata"].get("labels", {})
        taints = ",".join(t["key"] for t in n["spec"].get("taints", [])) \
            or "<none>"
        rows.append((n["metadata"]["name"], n["spec"].get("providerID", ""),
                     lab.get("topology.kubernetes.io/zone", ""),
                     lab.get("node.kubernetes.io/instance-type", ""),
                     taints))
    return _table(rows)


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except Exception as e:  # shown to the reader, not fatal
        return 0, str(e)


def report(cluster, sim_url, namespace="default", health_url=None,
           metrics_url=None,
           metric_prefixes=("leader_election", "ccm_worker_up",
                            "ccm_worker_restarts", "ccm_informer_relists")):
    """The demo's printout as one string."""
    state = _sim_state(sim_url)
    out = ["$ kubectl get svc -n " + namespace, _svc_table(cluster, namespace),
           "", "# the simulator's CLBs (listeners, backends)"]
    out += _clb_lines(state)
    out += ["", "# the simulator's VPC route entries"] + _route_lines(state)
    out += ["", "$ kubectl get nodes  (providerID, labels, taints)",
            _node_lines(cluster)]
    if health_url:
        status, body = _get(health_url)
        out += ["", f"$ curl {health_url}", f"{status} {body.strip()}"]
    if metrics_url:
        status, body = _get(metrics_url)
        picked = [ln for ln in body.splitlines()
                  if ln.startswith(metric_prefixes)][:15]
        out += ["", f"$ curl {metrics_url}  (a few lines)"] + picked
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit("seed_demo: a library for run-local.sh and the tests")
