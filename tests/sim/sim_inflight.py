"""In-flight accounting of RPC requests (/_sim/inflight).

Counts the requests being handled at once, globally and per CLB, from
arrival until the answer is ready to be written (injected latency included: the latency is what makes
overlapping requests visible), and keeps the largest of each seen since the
last reset. A benchmark reads how much concurrency a client reached and
whether calls on one CLB ever overlapped (a client that serializes per CLB
keeps every per-CLB maximum at 1).
"""
import re
import threading

_LB_N = re.compile(r"^LoadBalancerId\.\d+$")
_RES_N = re.compile(r"^ResourceId\.\d+$")


def _named_lbs(params):
    """CLB ids a request names directly: LoadBalancerId (a comma list in
    DescribeLoadBalancers), LoadBalancerId.N, ResourceId.N of instances."""
    ids = set()
    for k, v in params.items():
        if k == "LoadBalancerId":
            ids.update(x.strip() for x in v.split(","))
        elif _LB_N.match(k):
            ids.add(v.strip())
        elif _RES_N.match(k) and params.get("ResourceType", "instance") == "instance":
            ids.add(v.strip())
    ids.discard("")
    return ids


def _domext_lb(world, de_id):
    for lb_id, lb in world.lbs.items():
        for lsn in lb["listeners"].values():
            if de_id in lsn.get("domexts", {}):
                return lb_id
    return None


def lb_of(world, params):
    """The one CLB a request is about, or None: a request naming several
    CLBs (a batched describe) or none (CreateLoadBalancer, VPC, ECS) is
    counted globally only. vServer-group and domain-extension actions that
    carry only their own id are mapped to the CLB holding it. The caller
    holds world.lock."""
    ids = _named_lbs(params)
    if ids:
        return ids.pop() if len(ids) == 1 else None
    vg = params.get("VServerGroupId")
    if vg:
        group = world.vgroups.get(vg)
        return group["lb_id"] if group else None
    de = params.get("DomainExtensionId")
    if de:
        return _domext_lb(world, de)
    return None


class InFlight:
    """now/max globally and per CLB; a reset keeps what is in flight as the
    new maxima, so a request spanning the reset still counts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.max = 0
        self.per_lb = {}
        self.max_per_lb = {}
        self.counted = 0

    def enter(self, lb):
        with self.lock:
            self.now += 1
            self.counted += 1
            self.max = max(self.max, self.now)
            if lb is not None:
                n = self.per_lb.get(lb, 0) + 1
                self.per_lb[lb] = n
                self.max_per_lb[lb] = max(self.max_per_lb.get(lb, 0), n)

    def leave(self, lb):
        with self.lock:
            self.now -= 1
            if lb is not None:
                n = self.per_lb[lb] - 1
                if n:
                    self.per_lb[lb] = n
                else:
                    del self.per_lb[lb]

    def reset(self):
        with self.lock:
            self.max = self.now
            self.max_per_lb = dict(self.per_lb)
            self.counted = self.now

    def view(self):
        with self.lock:
            return {"now": self.now, "max": self.max,
                    "max_per_lb": dict(self.max_per_lb),
                    "now_per_lb": dict(self.per_lb), "counted": self.counted}
