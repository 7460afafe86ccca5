"""Service-LB worker syncing several Services at once (issue 13): at most
--concurrent-service-syncs syncs have calls in flight, Services naming one
existing CLB never have calls on it at the same time, and a worker stopped
with syncs in flight gives them up cleanly (no Warning, nothing leaked)
and its successor converges without a second CLB per Service. The
simulator counts the requests it is handling at once (/_sim/inflight),
globally and per CLB; every call is slowed so syncs overlap."""

import pytest

from harness import wait_for
from test_service import (PFX, events, ingress_ip, lbs, members, rpc,
                          svc_body, three_nodes, uniq, user_clb)
from test_service import slb, token, world  # noqa: F401 - fixtures


def shared_clb(sim):
    """A hand-made CLB with two vServer groups, one per sharing Service;
    the first already holds a server outside the cluster."""
    lb_id, g1 = user_clb(sim)
    g2 = rpc(sim, "CreateVServerGroup", LoadBalancerId=lb_id,
             VServerGroupName="user-group-2")["VServerGroupId"]
    return lb_id, g1, g2


def sharing_svc(name, lb_id, gid):
    return svc_body(name, annotations={
        PFX + "loadbalancer-id": lb_id,
        PFX + "loadbalancer-vgroup-port": f"{gid}:80"})


@pytest.mark.parametrize("syncs", [1, 4])
def test_syncs_bounded_and_serialized_per_clb(cluster, sim, world, slb,
                                              syncs):
    """6 Services with CLBs of their own and 2 sharing one existing CLB,
    every call 250 ms: with 4 syncs at once requests overlap but never
    more than 4, and never two on the shared CLB; with 1 nothing overlaps
    (the old behaviour)."""
    nodes = three_nodes(world, uniq("conc"))
    lb_id, g1, g2 = shared_clb(sim)
    own = [uniq("own") for _ in range(6)]
    for n in own:
        world.svc(svc_body(n))
    shared = [uniq("shr"), uniq("shr")]
    world.svc(sharing_svc(shared[0], lb_id, g1))
    world.svc(sharing_svc(shared[1], lb_id, g2))
    sim.client.clear_calls()  # the hand-made CLB's calls are not ours
    sim.control(action="*", latency_ms=250)
    sim.client.reset_inflight()
    p = slb(extra=[f"--concurrent-service-syncs={syncs}"])
    for n in own + shared:
        wait_for(lambda n=n: ingress_ip(cluster, n), 180,
                 what=f"ingress of {n}")
    wait_for(lambda: len(members(sim, g1)) == len(nodes) + 1 and
             len(members(sim, g2)) == len(nodes), 60,
             what="both shared groups filled")
    inf = sim.client.inflight()
    assert inf["max"] <= syncs, inf
    if syncs > 1:
        assert inf["max"] >= 2, inf
    else:
        assert inf["max"] == 1, inf
    # both sharing Services changed the CLB, one after the other
    assert inf["max_per_lb"].get(lb_id) == 1, inf
    assert all(v == 1 for v in inf["max_per_lb"].values()), inf
    # one CLB per own Service, the shared one untouched as a whole
    mine = [lb for lb in lbs(sim) if lb["LoadBalancerId"] != lb_id]
    assert len(mine) == len(own)
    creates = sim.calls("CreateLoadBalancer")
    assert len(creates) == len(own), [
        {k: c.get(k) for k in ("status", "code", "fault", "params")}
        for c in creates]
    assert all(ingress_ip(cluster, n) for n in own + shared)
    assert p.alive()


def test_stop_with_syncs_in_flight(cluster, sim, world, slb):
    """SIGTERM while four syncs wait on slow calls: the worker gives the
    calls up and exits cleanly, no Service gets a Warning for it, and the
    next CCM finishes with exactly one CLB per Service."""
    three_nodes(world, uniq("stop"))
    names = [uniq("stop") for _ in range(4)]
    for n in names:
        world.svc(svc_body(n))
    sim.control(action="*", latency_ms=1500)
    sim.client.reset_inflight()
    p = slb(extra=["--concurrent-service-syncs=4"])
    wait_for(lambda: sim.client.inflight()["now"] >= 2, 60,
             what="two syncs with a call in flight")
    assert p.stop() == 0
    # the worker unwound its syncs and exited by itself, cleanly
    assert "worker service-lb reaped (exit 0)" in p.log(), p.log()[-3000:]
    assert all(not events(cluster, "SyncLoadBalancerFailed", n)
               for n in names)
    sim.client.clear_faults()
    slb(extra=["--concurrent-service-syncs=4"])
    for n in names:
        wait_for(lambda n=n: ingress_ip(cluster, n), 120,
                 what=f"ingress of {n}")
    # a create given up after it was sent is found, not made again
    got = sorted(lb.get("LoadBalancerName", "") for lb in lbs(sim))
    assert len(got) == len(names) and len(set(got)) == len(got), got
