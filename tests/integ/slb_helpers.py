"""Steps the service-LB integration tests share, on top of test_service's
helpers: a Service started with its CLB, an annotation change and the
cloud calls it caused, the Warning a sync left, a CLB's listener."""

from harness import wait_for
from test_service import (PFX, events, ingress_ip, mutating, patch_svc,
                          svc_body, three_nodes, uniq, wait_settled)


def listener_of(lb, port):
    ls = [x for x in lb["Listeners"] if x["ListenerPort"] == port]
    assert len(ls) == 1, lb["Listeners"]
    return ls[0]


def actions(sim):
    return [c["action"] for c in mutating(sim)]


def annotate(cluster, name, **kv):
    """Sets (value) or removes (None) annotations by suffix."""
    patch_svc(cluster, name, {"metadata": {"annotations": {
        PFX + k.replace("_", "-"): v for k, v in kv.items()}}})


def change(cluster, sim, name, until, what, **kv):
    """annotate() with a fresh call log; once until() holds and the calls
    have settled, returns the mutating calls the change caused."""
    sim.client.clear_calls()
    annotate(cluster, name, **kv)
    wait_for(until, 60, what=what)
    wait_settled(sim)
    return mutating(sim)


def sync_warning(cluster, name, text="", what="SyncLoadBalancerFailed"):
    """Waits for the Service's first SyncLoadBalancerFailed event whose
    message holds text, and returns it."""
    return wait_for(lambda: [e for e in events(cluster,
                                               "SyncLoadBalancerFailed", name)
                             if text in e["message"]],
                    60, what=what)[0]


def start_lb(cluster, world, slb, prefix, resync=None, **svc):
    """Three nodes, a Service named after prefix (svc_body's keywords) and
    a service-lb worker (resync: its --cloud-resync-period, else the
    fixture's); returns (name, worker) once the Service has an ingress IP."""
    three_nodes(world, uniq(prefix))
    name = uniq(prefix)
    world.svc(svc_body(name, **svc))
    p = slb(resync=resync) if resync else slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    return name, p
