"""Adaptive cloud rate per API action (issue 13): with the simulator
throttling one action per (AccessKeyId, Action) at a low rate, the
service-LB worker still converges and learns that action's rate, so only a
small share of its calls is refused. Same setup as test_service.py (the
seed's RBAC, real kube-apiserver, simulator); assertions are on the
simulator's counters and call log, never on timing."""

from harness import wait_for
from test_service import ingress_ip, svc_body, three_nodes, uniq
from test_service import slb, token, world  # noqa: F401 - fixtures

THROTTLED = "CreateVServerGroup"


def test_one_throttled_action_converges(cluster, sim, world, slb):
    three_nodes(world, uniq("rate"))
    sim.client.ratelimit(actions={THROTTLED: {"qps": 2, "burst": 1}})
    names = [uniq("rate") for _ in range(6)]
    for n in names:
        world.svc(svc_body(n, ports=((80, "TCP"), (443, "TCP"))))
    slb()
    wait_for(lambda: all(ingress_ip(cluster, n) for n in names), 240,
             1.0, what="every Service has its ingress")

    def groups_done():
        st = sim.state()
        return len(st["vserver_groups"]) >= 2 * len(names)
    wait_for(groups_done, 120, 0.5, what="a vServer group per port")
    counts = sim.client.ratelimit_view()["counts"][THROTTLED]
    assert counts["allowed"] >= 2 * len(names), counts
    # the limit was hit (the test proves something) ...
    assert counts["throttled"] >= 1, counts
    # ... and learned: well under half of that action's calls were refused
    total = counts["allowed"] + counts["throttled"]
    assert counts["throttled"] < 0.5 * total, counts
    # other actions were not throttled at all (independent budgets)
    assert all(c["code"] != "Throttling.User" for c in sim.calls()
               if c["action"] != THROTTLED)
