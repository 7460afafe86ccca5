"""chaos_check - invariants of a CCM run, from the outside.

Reads what the real components recorded, never what the CCM says about
itself:

* the cloud simulator's call log (tests/sim: every arriving call with its
  wall-clock arrival and User-Agent);
* the kube-apiserver's audit log (tests/harness/cluster.sh writes Lease
  writes at Request level, so each carries holderIdentity, renewTime and
  leaseDurationSeconds, and every other request at Metadata level with its
  userAgent and response status);
* the simulator's state and the API server's objects at the end.

Every CCM request names its sender in the User-Agent:
``alicloud-ccm/<ver> (<role>; identity=<supervisor identity>)`` for the
cloud and ``cloud-controller-manager/<ver> (<role>; identity=<id>)`` for
Kubernetes, role being ``supervisor`` or a worker name.

Invariants (each failure is a Violation naming the call):

(a) leadership, cloud: every mutating cloud call arrived while the sender's
    supervisor held the Lease. A holder holds from its successful acquire
    (the audit log's requestReceivedTimestamp of the first successful Lease
    write naming it) until the first successful Lease write naming someone
    else (including a release, holder ""). The call must also arrive before
    the sender's last successful Lease write + its leaseDurationSeconds (the
    fence promise: nobody may act on a lease that has expired, whether or
    not another candidate has taken it yet). Calls whose User-Agent names no
    identity are violations too: they cannot be attributed.
(b) leadership, Kubernetes: the same for every mutating API request a worker
    sent (create/update/patch/delete; Events and access reviews excluded -
    Events are exempt from the fence by design).
(c) end state: every LoadBalancer Service of the given namespaces has
    exactly one CLB (tagged kubernetes.do.not.delete=a<uid>,
    ack.aliyun.com=<cluster>) with one running listener and one vServer
    group per port whose backends are exactly the eligible nodes at the
    node port, and its ingress IP; every node with a pod CIDR has exactly
    one route to its instance; no CLB, vServer group or route of this
    cluster lacks an owner object; the pre-seeded foreign resources are
    unchanged (check_foreign) and no mutating call of the CCM named one of
    them, refused or not (check_calls_avoid).

Usage::

    rep = chaos_check.Report()
    hist = chaos_check.LeaseHistory.from_audit(events, "kube-system", "ccm")
    chaos_check.check_cloud_calls(rep, calls, hist)
    chaos_check.check_kube_writes(rep, events, hist, since=t0)
    chaos_check.check_end_state(rep, cluster, state, Desired(...))
    chaos_check.check_foreign(rep, before, chaos_check.foreign_snapshot(...))
    chaos_check.check_calls_avoid(rep, calls, before)
    print(rep.text()); assert rep.ok, rep.text()
"""

import calendar
import ipaddress
import json
import math
import re
from dataclasses import dataclass, field

UA_RE = re.compile(r"^(?P<prog>cloud-controller-manager|alicloud-ccm)/(?P<ver>\S+) "
                   r"\((?P<role>[^;()]+); identity=(?P<identity>[^()]+)\)$")
CLOUD_READS = ("Describe", "List", "Get", "Query", "Check")
KUBE_WRITES = ("create", "update", "patch", "delete", "deletecollection")
NOT_MUTATIONS = {"events", "selfsubjectaccessreviews", "subjectaccessreviews",
                 "localsubjectaccessreviews", "selfsubjectrulesreviews",
                 "tokenreviews"}
TS_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$")


def parse_ua(ua):
    """(program, role, identity) of a CCM User-Agent, or None."""
    m = UA_RE.match(ua or "")
    if not m:
        return None
    return m.group("prog"), m.group("role").strip(), m.group("identity")


def parse_ts(s):
    """RFC 3339 UTC ('...Z', optional fraction) -> POSIX seconds (float)."""
    m = TS_RE.match(s or "")
    if not m:
        raise ValueError(f"not an RFC 3339 UTC time: {s!r}")
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = m.group(7) or "0"
    return calendar.timegm((y, mo, d, h, mi, se)) + int(frac) / 10 ** len(frac)


def fmt_ts(t):
    """POSIX seconds -> 'HH:MM:SS.mmm' UTC, for messages."""
    if t is None or math.isinf(t):
        return "end"
    ms = int(round(t * 1000))
    s = ms // 1000
    return "%02d:%02d:%02d.%03d" % ((s // 3600) % 24, (s // 60) % 60, s % 60,
                                    ms % 1000)


def is_mutating_cloud(action):
    return bool(action) and action != "Metadata" and \
        not action.startswith(CLOUD_READS)


@dataclass
class Violation:
    invariant: str  # "a", "a-expiry", "b", "b-expiry", "c", "foreign"
    what: str

    def __str__(self):
        return f"[{self.invariant}] {self.what}"


@dataclass
class Report:
    """What was checked (counts) and what broke."""
    checked: dict = field(default_factory=dict)
    violations: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.violations

    def count(self, key, n=1):
        self.checked[key] = self.checked.get(key, 0) + n

    def fail(self, invariant, what):
        self.violations.append(Violation(invariant, what))

    def margin(self, key, seconds):
        """Keeps the smallest value seen under `key` (how close a run came
        to breaking an invariant)."""
        old = self.checked.get(key)
        if old is None or seconds < old:
            self.checked[key] = round(seconds, 3)

    def text(self, limit=40):
        lines = ["checked:"]
        lines += [f"  {k}: {v}" for k, v in sorted(self.checked.items())]
        lines += [f"  note: {n}" for n in self.notes]
        if self.ok:
            lines.append("violations: none")
        else:
            lines.append(f"violations: {len(self.violations)}")
            lines += [f"  {v}" for v in self.violations[:limit]]
            if len(self.violations) > limit:
                lines.append(f"  ... {len(self.violations) - limit} more")
        return "\n".join(lines)


# ------------------------------------------------------------ Lease history

@dataclass
class LeaseWrite:
    received: float  # requestReceivedTimestamp (POSIX s)
    done: float      # stageTimestamp
    holder: str      # holderIdentity written ("" = released)
    writer: str      # identity from the User-Agent ("" if none)
    duration_s: float
    verb: str


class LeaseHistory:
    """Successful writes of one Lease and the holder intervals they imply."""

    def __init__(self, writes, default_duration_s=15.0):
        self.writes = sorted(writes, key=lambda w: (w.received, w.done))
        self.default_duration_s = default_duration_s
        self.intervals = self._intervals()

    @classmethod
    def from_audit(cls, events, namespace, name, default_duration_s=15.0):
        out = []
        for e in events:
            ref = e.get("objectRef") or {}
            if e.get("stage") != "ResponseComplete" or \
                    ref.get("resource") != "leases" or \
                    ref.get("apiGroup") != "coordination.k8s.io" or \
                    ref.get("namespace") != namespace or \
                    ref.get("name", _name_from_uri(e)) != name or \
                    e.get("verb") not in ("create", "update", "patch"):
                continue
            code = (e.get("responseStatus") or {}).get("code", 0)
            if not 200 <= code < 300:
                continue
            ua = parse_ua(e.get("userAgent", ""))
            writer = ua[2] if ua else ""
            spec = ((e.get("requestObject") or {}).get("spec")) or None
            holder = spec.get("holderIdentity", "") if spec is not None \
                else writer
            dur = float(spec.get("leaseDurationSeconds") or default_duration_s) \
                if spec is not None else default_duration_s
            out.append(LeaseWrite(parse_ts(e["requestReceivedTimestamp"]),
                                  parse_ts(e["stageTimestamp"]), holder or "",
                                  writer, dur, e["verb"]))
        return cls(out, default_duration_s)

    def _intervals(self):
        iv, cur, start = {}, None, None
        for w in self.writes:
            if w.holder == cur:
                continue
            if cur:
                iv.setdefault(cur, []).append((start, w.received))
            cur, start = (w.holder or None), w.received
        if cur:
            iv.setdefault(cur, []).append((start, math.inf))
        return iv

    def holders(self):
        return sorted(self.intervals)

    def held(self, identity, t):
        return any(a <= t < b for a, b in self.intervals.get(identity, ()))

    def expiry(self, identity, t):
        """End of the lease `identity` last wrote (as holder) before t, or
        None when it wrote none."""
        last = None
        for w in self.writes:
            if w.received > t:
                break
            if w.holder == identity:
                last = w
        return None if last is None else last.received + last.duration_s

    def describe(self, identity, t):
        """Who held at t, for a violation message."""
        who = [h for h, ivs in self.intervals.items()
               if any(a <= t < b for a, b in ivs)]
        mine = ", ".join(f"{fmt_ts(a)}-{fmt_ts(b)}"
                         for a, b in self.intervals.get(identity, ()))
        return (f"holder then: {who[0] if who else 'nobody'}; "
                f"{identity or '?'} held: {mine or 'never'}")


def _name_from_uri(e):
    uri = (e.get("requestURI") or "").split("?")[0]
    return uri.rsplit("/", 1)[-1]


def _check_sender(rep, inv, hist, identity, t, what):
    if not identity:
        rep.fail(inv, f"{what} at {fmt_ts(t)}: no identity in the User-Agent")
        return
    if not hist.held(identity, t):
        rep.fail(inv, f"{what} at {fmt_ts(t)} from {identity} while it did "
                      f"not hold the Lease ({hist.describe(identity, t)})")
        return
    exp = hist.expiry(identity, t)
    if exp is not None:
        rep.margin(f"({inv}) min seconds from a mutation to its lease end",
                   exp - t)
    if exp is not None and t >= exp:
        rep.fail(inv + "-expiry",
                 f"{what} at {fmt_ts(t)} from {identity} after its lease "
                 f"expired at {fmt_ts(exp)} (last renew + duration)")


def check_cloud_calls(rep, calls, hist):
    """(a) over the simulator's call-log records."""
    senders = set()
    for c in calls:
        action = c.get("action", "")
        rep.count("cloud calls")
        if not is_mutating_cloud(action):
            continue
        rep.count("mutating cloud calls")
        ua = parse_ua(c.get("user_agent", ""))
        ident = ua[2] if ua else ""
        senders.add(ident)
        t = c["arrival_ms"] / 1000.0
        what = (f"cloud {action} #{c.get('seq')} ({c.get('status')} "
                f"{c.get('code') or ''}".rstrip() +
                f", UA {c.get('user_agent', '')!r})")
        _check_sender(rep, "a", hist, ident, t, what)
    rep.count("cloud mutation senders", len(senders))


def check_kube_writes(rep, events, hist, since=0.0, identities=None):
    """(b) over the audit log: mutating requests of CCM workers received at
    or after `since` (POSIX s), optionally only from `identities`."""
    for e in events:
        if e.get("stage") != "ResponseComplete":
            continue
        ua = parse_ua(e.get("userAgent", ""))
        if not ua or ua[1] == "supervisor":
            continue
        if identities is not None and ua[2] not in identities:
            continue
        t = parse_ts(e["requestReceivedTimestamp"])
        if t < since:
            continue
        rep.count("worker kube requests")
        ref = e.get("objectRef") or {}
        if e.get("verb") not in KUBE_WRITES or \
                ref.get("resource") in NOT_MUTATIONS:
            continue
        rep.count("worker kube mutations")
        code = (e.get("responseStatus") or {}).get("code", 0)
        what = (f"kube {e['verb']} {e.get('requestURI', '')} ({code}) by "
                f"{ua[1]}")
        _check_sender(rep, "b", hist, ua[2], t, what)


# --------------------------------------------------------------- end state

@dataclass
class Desired:
    """What the end state is compared with."""
    cluster_id: str
    namespaces: tuple           # Services in scope for (c)
    route_table: str
    cluster_cidr: str
    region: str = "cn-hangzhou"
    pod_cidrs_field: str = "podCIDR"


EXCLUDE_LABELS = ("node.kubernetes.io/exclude-from-external-load-balancers",
                  "alpha.service-controller.kubernetes.io/exclude-balancer",
                  "service.beta.kubernetes.io/exclude-node",
                  "service.alibabacloud.com/exclude-node")
MASTER_LABELS = ("node-role.kubernetes.io/master",
                 "node-role.kubernetes.io/control-plane")


def default_lb_name(uid):
    return ("a" + uid.replace("-", ""))[:32]


def tags_of(lb):
    return {t.get("TagKey"): t.get("TagValue") for t in lb.get("Tags", [])}


def _instance(node, region):
    pid = (node.get("spec") or {}).get("providerID", "")
    pre = region + "."
    return pid[len(pre):] if pid.startswith(pre) else None


def _ready(node):
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status")
    return "Unknown"


def eligible_backends(nodes, region):
    """Instance ids of the nodes a Cluster-policy Service balances to."""
    out = set()
    for n in nodes:
        labels = n["metadata"].get("labels") or {}
        iid = _instance(n, region)
        if iid and _ready(n) != "False" and \
                not any(k in labels for k in EXCLUDE_LABELS + MASTER_LABELS):
            out.add(iid)
    return out


def check_end_state(rep, services, nodes, state, want):
    """(c) given all Services and Nodes (API objects) and the simulator's
    state dump."""
    ours = [lb for lb in state["load_balancers"]
            if tags_of(lb).get("ack.aliyun.com") == want.cluster_id]
    groups = state["vserver_groups"]
    lb_svcs = [s for s in services if s["spec"].get("type") == "LoadBalancer"
               and not s["metadata"].get("deletionTimestamp")]
    owners = {default_lb_name(s["metadata"]["uid"]): s for s in lb_svcs}
    backends = eligible_backends(nodes, want.region)
    for s in services:
        md = s["metadata"]
        if md["namespace"] in want.namespaces and md.get("deletionTimestamp"):
            rep.fail("c", f"Service {md['namespace']}/{md['name']} still "
                          "terminating (finalizer not removed)")
    for s in lb_svcs:
        if s["metadata"]["namespace"] in want.namespaces:
            rep.count("LoadBalancer Services")
            _check_service(rep, s, ours, groups, backends, want)
    for lb in ours:
        rep.count("CLBs of this cluster")
        name = tags_of(lb).get("kubernetes.do.not.delete", "")
        if name not in owners:
            rep.fail("c", f"CLB {lb['LoadBalancerId']} ({name}) has no owner "
                          "Service (leaked)")
    _check_groups(rep, ours, groups, lb_svcs, want)
    _check_routes(rep, nodes, state, want)


def _check_service(rep, s, ours, groups, backends, want):
    md = s["metadata"]
    key = f"{md['namespace']}/{md['name']}"
    mine = [lb for lb in ours if tags_of(lb).get("kubernetes.do.not.delete")
            == default_lb_name(md["uid"])]
    if len(mine) != 1:
        rep.fail("c", f"Service {key}: {len(mine)} CLBs, want exactly 1 "
                      f"({[lb['LoadBalancerId'] for lb in mine]})")
        return
    lb = mine[0]
    ing = ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") \
        or []
    if not ing or ing[0].get("ip") != lb.get("Address"):
        rep.fail("c", f"Service {key}: ingress {ing} is not the CLB address "
                      f"{lb.get('Address')}")
    want_l = {(p["port"], p.get("protocol", "TCP").lower())
              for p in s["spec"]["ports"]}
    have_l = {(int(x["ListenerPort"]), x["ListenerProtocol"])
              for x in lb.get("Listeners", [])}
    if want_l != have_l:
        rep.fail("c", f"Service {key}: listeners {sorted(have_l)}, want "
                      f"{sorted(want_l)}")
    by_id = {g["VServerGroupId"]: g for g in groups}
    if not backends:
        rep.fail("c", f"Service {key}: no eligible node (the run must keep "
                      "one Ready)")
    for p in s["spec"]["ports"]:
        rep.count("Service ports")
        gname = (f"k8s/{p['port']}/{md['name']}/{md['namespace']}/"
                 f"{want.cluster_id}")
        gs = [g for g in groups if g["LoadBalancerId"] == lb["LoadBalancerId"]
              and g["VServerGroupName"] == gname]
        if len(gs) != 1:
            rep.fail("c", f"Service {key}: {len(gs)} vServer groups {gname}")
            continue
        lsn = [x for x in lb.get("Listeners", [])
               if int(x["ListenerPort"]) == p["port"]]
        if lsn and (lsn[0].get("Status") != "running" or
                    by_id.get(lsn[0].get("VServerGroupId")) is not gs[0]):
            rep.fail("c", f"Service {key} port {p['port']}: listener "
                          f"{lsn[0].get('Status')} on group "
                          f"{lsn[0].get('VServerGroupId')}, want running on "
                          f"{gs[0]['VServerGroupId']}")
        have = sorted((b["ServerId"], int(b["Port"]))
                      for b in gs[0]["BackendServers"])
        want_b = sorted((i, int(p.get("nodePort", 0))) for i in backends)
        if have != want_b:
            rep.fail("c", f"Service {key} port {p['port']}: backends {have}, "
                          f"want {want_b}")


def _check_groups(rep, ours, groups, lb_svcs, want):
    ids = {lb["LoadBalancerId"] for lb in ours}
    valid = set()
    for s in lb_svcs:
        md = s["metadata"]
        for p in s["spec"]["ports"]:
            valid.add(f"k8s/{p['port']}/{md['name']}/{md['namespace']}/"
                      f"{want.cluster_id}")
    for g in groups:
        if g["LoadBalancerId"] not in ids:
            continue
        rep.count("vServer groups of this cluster")
        if g["VServerGroupName"] not in valid:
            rep.fail("c", f"vServer group {g['VServerGroupId']} "
                          f"{g['VServerGroupName']} on {g['LoadBalancerId']} "
                          "has no owner Service port (leaked)")


def _check_routes(rep, nodes, state, want):
    tables = [t for t in state["route_tables"] if t["id"] == want.route_table]
    if not tables:
        rep.fail("c", f"route table {want.route_table} missing")
        return
    entries = tables[0]["entries"]
    net = ipaddress.ip_network(want.cluster_cidr)
    wanted = {}
    for n in nodes:
        cidr = (n.get("spec") or {}).get(want.pod_cidrs_field)
        iid = _instance(n, want.region)
        if cidr and iid:
            wanted[cidr] = iid
    for cidr, iid in sorted(wanted.items()):
        rep.count("node routes")
        got = [e for e in entries if e["cidr"] == cidr]
        if [(e["next_hop_id"], e["status"]) for e in got] != \
                [(iid, "Available")]:
            rep.fail("c", f"route {cidr}: {[(e['next_hop_id'], e['status']) for e in got]}, "
                          f"want exactly [({iid!r}, 'Available')]")
    for e in entries:
        try:
            inside = ipaddress.ip_network(e["cidr"]).subnet_of(net)
        except (ValueError, TypeError):
            inside = False
        if inside and e["cidr"] not in wanted:
            rep.fail("c", f"route {e['cidr']} -> {e['next_hop_id']} in "
                          f"{want.route_table} has no Node (leaked)")


# ----------------------------------------------------------------- foreign

def foreign_snapshot(state, lb_ids=(), routes=()):
    """The parts of a state dump the CCM must never change: CLBs by id (with
    listeners, tags and their vServer groups with backends) and route
    entries by (table, cidr)."""
    snap = {}
    for lb in state["load_balancers"]:
        if lb["LoadBalancerId"] in lb_ids:
            d = {k: v for k, v in lb.items()}
            d["groups"] = sorted(
                ({"id": g["VServerGroupId"], "name": g["VServerGroupName"],
                  "backends": sorted(
                      (b["ServerId"], int(b["Port"]), str(b.get("Weight")),
                       b.get("Description", "")) for b in g["BackendServers"])}
                 for g in state["vserver_groups"]
                 if g["LoadBalancerId"] == lb["LoadBalancerId"]),
                key=lambda g: g["id"])
            snap["lb:" + lb["LoadBalancerId"]] = d
    for t in state["route_tables"]:
        for e in t["entries"]:
            if (t["id"], e["cidr"]) in routes:
                snap[f"route:{t['id']}:{e['cidr']}"] = {
                    k: e.get(k) for k in ("id", "cidr", "next_hop_id",
                                          "next_hop_type", "name", "status",
                                          "description", "extra_hops")}
    return snap


def check_foreign(rep, before, after):
    for k, v in sorted(before.items()):
        rep.count("foreign resources")
        if k not in after:
            rep.fail("foreign", f"{k} was deleted")
        elif after[k] != v:
            diff = sorted(x for x in set(v) | set(after[k])
                          if v.get(x) != after[k].get(x))
            rep.fail("foreign", f"{k} changed: {diff}")


# Route CIDRs are named by these parameters (single and batch calls); ids by
# their value alone, so any parameter carrying a foreign id is caught.
CIDR_PARAM_RE = re.compile(r"(^|\.)(DestinationCidrBlock|DstCidrBlock)$")


def _foreign_names(before):
    ids, cidrs = set(), set()
    for k, v in before.items():
        if k.startswith("lb:"):
            ids.add(v["LoadBalancerId"])
            ids.update(g["id"] for g in v["groups"])
        elif k.startswith("route:"):
            ids.add(v["id"])
            cidrs.add(v["cidr"])
    ids.discard(None)
    return ids, cidrs


def check_calls_avoid(rep, calls, before):
    """No mutating cloud call of the CCM (User-Agent alicloud-ccm/...)
    names a resource of the foreign snapshot `before`: a CLB, vServer group
    or route entry id as any parameter's value, or a foreign route's CIDR as
    a destination. Catches an attempt even when the cloud refused it (the
    state comparison of check_foreign cannot). Calls of other senders (the
    test's own seeding) are not the CCM's and are skipped."""
    ids, cidrs = _foreign_names(before)
    for c in calls:
        action = c.get("action", "")
        if not is_mutating_cloud(action) or \
                not (c.get("user_agent") or "").startswith("alicloud-ccm/"):
            continue
        rep.count("CCM mutating calls checked for foreign names")
        hit = sorted(f"{k}={v}" for k, v in (c.get("params") or {}).items()
                     if v in ids or (CIDR_PARAM_RE.search(k) and v in cidrs))
        if hit:
            rep.fail("foreign-call", f"cloud {action} #{c.get('seq')} "
                                     f"({c.get('status')}) names foreign "
                                     f"{', '.join(hit)}")


def seed_foreign_clbs(client, region, cluster_id, backend):
    """Two CLBs the CCM must never touch, made through the cloud API as a
    user would: one of another cluster (its tags, a TCP listener on 80 and a
    vServer group named like one of `cluster_id`'s, holding `backend`) and
    an untagged one. Their names start with "foreign-". Returns their ids."""
    from simclient import SLB
    other = client.rpc("CreateLoadBalancer", SLB, {
        "RegionId": region, "LoadBalancerName": "foreign-other-cluster",
        "Tag.1.Key": "ack.aliyun.com", "Tag.1.Value": "other-cluster",
        "Tag.2.Key": "kubernetes.do.not.delete",
        "Tag.2.Value": "aforeign"})["LoadBalancerId"]
    g = client.rpc("CreateVServerGroup", SLB, {
        "RegionId": region, "LoadBalancerId": other,
        "VServerGroupName": f"k8s/80/web/default/{cluster_id}",
        "BackendServers": json.dumps([{"ServerId": backend, "Port": 30080,
                                       "Weight": 100}])})
    client.rpc("CreateLoadBalancerTCPListener", SLB, {
        "RegionId": region, "LoadBalancerId": other, "ListenerPort": 80,
        "Bandwidth": -1, "VServerGroupId": g["VServerGroupId"]})
    plain = client.rpc("CreateLoadBalancer", SLB, {
        "RegionId": region,
        "LoadBalancerName": "foreign-untagged"})["LoadBalancerId"]
    return {other, plain}
