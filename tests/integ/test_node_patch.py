"""Kubernetes write load of the node-init worker's periodic sync (issue
13, "one status/condition PATCH per object per change"): once a Node
carries what the cloud says, further syncs - and the first sync of a
worker restarted after SIGKILL - write nothing to it. Real kube-apiserver
(its audit log is the witness) and the cloud simulator."""
import os
import re
import signal
import urllib.request
import uuid

import pytest

from harness import free_port, wait_for
from test_node_init import (UNINIT, add_instance, create_node, get_node,
                            node_body, taint_keys, uniq, wait)
from test_node_init import ccm, clean_nodes  # noqa: F401 - fixtures

PERIOD = "--node-monitor-period=3s"


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def worker_pid(port, name):
    m = re.search(r"worker %s: running \(pid (\d+)" % name,
                  http(port, "/readyz"))
    return int(m.group(1)) if m else None


def log_since(p, offset):
    with open(p.log_path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def passes_since(p, offset):
    """node-init sync pass numbers logged after byte `offset`."""
    return [int(x) for x in re.findall(r"sync pass (\d+): \d+ ECS nodes",
                                       log_since(p, offset))]


def route_passes_since(p, offset):
    """Route passes started after byte `offset`: one starts only once the
    one before has finished (and queued its condition PATCHes)."""
    return len(re.findall(r"worker/route: route reconcile: \d+ nodes",
                          log_since(p, offset)))


def node_writes(cluster, names):
    """(verb, uri, user agent, time received) of every write of the named Nodes the audit log holds,
    in order. A marker request is sent first and waited for, so the log
    is known to hold every request received before it."""
    marker = f"/api/v1/namespaces/default/configmaps/mark-{uuid.uuid4().hex}"
    cluster.api("GET", marker)

    def events():
        ev = cluster.audit_events()
        return ev if any(e.get("requestURI") == marker for e in ev) else None
    out = []
    for e in wait_for(events, 60, 0.2, what="audit marker"):
        ref = e.get("objectRef") or {}
        if e.get("requestURI") == marker:
            break
        if ref.get("resource") != "nodes" or ref.get("name") not in names:
            continue
        if e.get("stage") not in (None, "ResponseComplete"):
            continue
        if e.get("verb") not in ("get", "list", "watch"):
            out.append((e["verb"], e["requestURI"], e.get("userAgent"),
                        e.get("requestReceivedTimestamp")))
    return out


def bare_body(name, instance, cidr):
    """A Node as the footprint benchmark registers it: providerID, pod
    CIDR and the uninitialized taint, no status at all."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                         "labels": {"kubernetes.io/hostname": name}},
            "spec": {"providerID": f"cn-hangzhou.{instance}",
                     "podCIDR": cidr, "podCIDRs": [cidr],
                     "taints": [{"key": UNINIT, "value": "true",
                                 "effect": "NoSchedule"}]}}


def initialized_nodes(cluster, sim, p, clean_nodes, count, bare=False):
    names = []
    for i in range(count):
        inst = add_instance(sim, vswitch_id="vsw-sim0002")
        n = uniq("quiet")
        clean_nodes.append(n)
        names.append(n)
        if bare:
            st, obj = cluster.api("POST", "/api/v1/nodes", bare_body(
                n, inst["id"], f"172.20.{10 + i}.0/24"))
            assert st == 201, obj
        else:
            create_node(cluster, node_body(n, ip=inst["private_ip"]))
    for n in names:
        # logged once both of the initialization's PATCHes were answered
        p.wait_log(f"node {n} initialized from instance", 90)
    return names


def writes_after(cluster, names, before):
    return node_writes(cluster, names)[len(before):]


VARIANTS = {
    "kubelet": ((), False),
    "bare-with-routes": (("--controllers=node,route",
                          "--configure-cloud-routes=true",
                          "--cluster-cidr=172.20.0.0/16",
                          "--route-reconciliation-period=3s"), True),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_periodic_sync_and_restart_patch_nothing(cluster, sim, ccm,
                                                 clean_nodes, variant):
    extra, bare = VARIANTS[variant]
    routes = "--configure-cloud-routes=true" in extra
    port = free_port()
    p = ccm(PERIOD, f"--health-probe-bind-addr=127.0.0.1:{port}", *extra)
    names = initialized_nodes(cluster, sim, p, clean_nodes, 3, bare)
    # Initialized: the Nodes hold what the cloud says, so no sync after
    # this point has anything to write.
    before = node_writes(cluster, names)
    for n in names:  # once at most (no status to write when it matches)
        st = [w for w in before if w[1] == f"/api/v1/nodes/{n}/status"
              and "(node-init;" in w[2]]
        assert len(st) <= 1, "\n".join(map(str, before))
        assert (f"/api/v1/nodes/{n}" in [w[1] for w in before]
                ), "\n".join(map(str, before))  # taint, labels
    off = p.log_size()
    wait(p, lambda: len(passes_since(p, off)) >= 2, 90,
         "two more sync passes")
    if routes:
        wait(p, lambda: route_passes_since(p, off) >= 3, 90,
             "two more route passes")
    assert writes_after(cluster, names, before) == [], p.log()[-4000:]

    # A restarted worker starts from a fresh cache: its first sync and the
    # one after must find nothing to write either.
    workers = ["node-init", "route"] if routes else ["node-init"]
    old = {w: wait(p, lambda: worker_pid(port, w), 60, f"{w} pid")
           for w in workers}
    off = p.log_size()
    for w in workers:
        os.kill(old[w], signal.SIGKILL)
    for w in workers:
        wait(p, lambda: worker_pid(port, w) not in (None, old[w]), 90,
             f"{w} restarted")
    # the old worker was past pass 2: a pass 2 now is the new worker's
    wait(p, lambda: 2 in passes_since(p, off), 90,
         "the new worker's first two passes")
    if routes:
        first = p.wait_log("route controller: first full reconcile done",
                           90, off)
        wait(p, lambda: route_passes_since(p, off + first.end()) >= 2, 90,
             "the new route worker's second pass done")
    assert writes_after(cluster, names, before) == [], p.log()[-4000:]
    for n in names:  # still as the initialization left it
        node = get_node(cluster, n)
        assert node["metadata"]["labels"]["topology.kubernetes.io/region"]
        assert any(a["type"] == "InternalIP"
                   for a in node["status"]["addresses"])


def node_init_writes(cluster, names):
    """(uri, response code) of node-init's writes and reads of the named
    Nodes, in order (the marker request of node_writes first, so every
    request received before it is in the log)."""
    node_writes(cluster, names)
    out = []
    for e in cluster.audit_events():
        ref = e.get("objectRef") or {}
        if (ref.get("resource") == "nodes" and ref.get("name") in names
                and e.get("stage") in (None, "ResponseComplete")
                and "(node-init;" in e.get("userAgent", "")
                and e.get("verb") in ("get", "patch")):
            out.append((e["verb"], e["requestURI"],
                        (e.get("responseStatus") or {}).get("code")))
    return out


def test_initialization_is_one_status_and_one_spec_patch(cluster, sim, ccm,
                                                         clean_nodes):
    """The spec PATCH carries a resourceVersion; built from the cached
    Node it would name the version the status PATCH just replaced and
    cost a 409, a GET and a second PATCH per Node. With node-init the only
    writer, each joining Node gets exactly one PATCH of each."""
    p = ccm()
    # registered without status: the initialization writes the addresses
    names = initialized_nodes(cluster, sim, p, clean_nodes, 3, bare=True)
    got = node_init_writes(cluster, names)
    for n in names:
        mine = [(v, uri.split("?")[0], code) for v, uri, code in got
                if uri.split("?")[0] in (f"/api/v1/nodes/{n}",
                                         f"/api/v1/nodes/{n}/status")]
        assert mine == [("patch", f"/api/v1/nodes/{n}/status", 200),
                        ("patch", f"/api/v1/nodes/{n}", 200)], got
    for n in names:
        assert UNINIT not in taint_keys(get_node(cluster, n))
