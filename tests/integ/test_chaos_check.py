"""The chaos checker (chaos_check.py) on hand-made audit events, call-log
records and state dumps: each invariant is shown to catch its violation and
to accept the matching legal history. No cluster needed."""

import chaos_check as cc

T0 = 1796190000.0  # an arbitrary POSIX second
LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ccm"


def ts(t):
    us = int(round(t * 1e6))
    import time as _t
    return _t.strftime("%Y-%m-%dT%H:%M:%S", _t.gmtime(us // 10 ** 6)) + \
        ".%06dZ" % (us % 10 ** 6)


def ua(role, ident, prog="cloud-controller-manager"):
    return f"{prog}/v1 ({role}; identity={ident})"


def lease_write(t, holder, writer, code=200, verb="update", dur=15):
    return {"stage": "ResponseComplete", "verb": verb, "requestURI": LEASE,
            "objectRef": {"resource": "leases",
                          "apiGroup": "coordination.k8s.io",
                          "namespace": "kube-system", "name": "ccm"},
            "userAgent": ua("supervisor", writer),
            "responseStatus": {"code": code},
            "requestObject": {"spec": {"holderIdentity": holder,
                                       "leaseDurationSeconds": dur}},
            "requestReceivedTimestamp": ts(t),
            "stageTimestamp": ts(t + 0.01)}


def kube_write(t, ident, verb="patch", resource="services", role="service-lb",
               code=200):
    return {"stage": "ResponseComplete", "verb": verb,
            "requestURI": f"/api/v1/namespaces/x/{resource}/y",
            "objectRef": {"resource": resource, "namespace": "x"},
            "userAgent": ua(role, ident), "responseStatus": {"code": code},
            "requestReceivedTimestamp": ts(t), "stageTimestamp": ts(t + 0.01)}


def call(t, ident, action="CreateLoadBalancer", seq=1, agent=None):
    return {"seq": seq, "action": action, "arrival_ms": int(t * 1000),
            "user_agent": agent if agent is not None else
            ua("service-lb", ident, "alicloud-ccm"), "status": 200,
            "code": None}


def history():
    """A holds from T0 (renewing every 2 s until T0+10), B acquires at T0+30
    and releases at T0+60."""
    ev = [lease_write(T0, "A", "A", verb="create")]
    ev += [lease_write(T0 + s, "A", "A") for s in range(2, 12, 2)]
    ev.append(lease_write(T0 + 20, "B", "B", code=409))  # refused: no effect
    ev.append(lease_write(T0 + 30, "B", "B"))
    ev += [lease_write(T0 + s, "B", "B") for s in range(32, 60, 2)]
    ev.append(lease_write(T0 + 60, "", "B"))
    return cc.LeaseHistory.from_audit(ev, "kube-system", "ccm")


def test_parse_ua_and_time():
    assert cc.parse_ua(ua("route", "host_1-2")) == \
        ("cloud-controller-manager", "route", "host_1-2")
    assert cc.parse_ua("alicloud-ccm/abc (supervisor; identity=h_u)") == \
        ("alicloud-ccm", "supervisor", "h_u")
    assert cc.parse_ua("alicloud-ccm/abc (worker/route id=x)") is None
    assert cc.parse_ua("kubectl/v1.20") is None
    assert cc.parse_ts("2026-12-02T06:48:13.250000Z") % 60 == 13.25
    assert cc.parse_ts("2026-12-02T06:48:13Z") % 60 == 13


def test_holder_intervals():
    h = history()
    assert h.intervals == {"A": [(T0, T0 + 30)], "B": [(T0 + 30, T0 + 60)]}
    assert h.held("A", T0 + 29.9) and not h.held("A", T0 + 30)
    assert not h.held("B", T0 + 20)  # the 409 did not make B the holder
    assert not h.held("B", T0 + 60)  # released
    assert h.expiry("A", T0 + 29) == T0 + 10 + 15


def test_cloud_calls_inside_and_outside_the_lease():
    h = history()
    rep = cc.Report()
    cc.check_cloud_calls(rep, [
        call(T0 + 1, "A", seq=1),
        call(T0 + 31, "B", seq=2),
        call(T0 + 40, "A", action="DescribeLoadBalancers", seq=3),  # a read
        call(T0 + 40, "A", seq=4),  # A no longer holds
        call(T0 + 26, "A", seq=5),  # A holds by (a) but its lease expired
        call(T0 + 61, "B", seq=6),  # after B's release
        call(T0 + 5, "", seq=7, agent="alicloud-ccm/v1 (service-lb)"),
        call(T0 + 5, "", seq=8, action="Metadata", agent="x"),  # not a call
    ], h)
    got = sorted((v.invariant, v.what.split(" at ")[0]) for v in
                 rep.violations)
    assert got == [("a", "cloud CreateLoadBalancer #4 (200, UA "
                         "'alicloud-ccm/v1 (service-lb; identity=A)')"),
                   ("a", "cloud CreateLoadBalancer #6 (200, UA "
                         "'alicloud-ccm/v1 (service-lb; identity=B)')"),
                   ("a", "cloud CreateLoadBalancer #7 (200, UA "
                         "'alicloud-ccm/v1 (service-lb)')"),
                   ("a-expiry", "cloud CreateLoadBalancer #5 (200, UA "
                                "'alicloud-ccm/v1 (service-lb; identity=A)')")]
    assert "holder then: B" in [v for v in rep.violations
                                if "#4" in v.what][0].what
    assert rep.checked["mutating cloud calls"] == 6
    assert rep.checked["cloud calls"] == 8


def test_kube_writes_of_workers_only():
    h = history()
    ev = [kube_write(T0 + 1, "A"),
          kube_write(T0 + 40, "A"),  # violation
          kube_write(T0 + 40, "A", resource="events", verb="create"),  # exempt
          kube_write(T0 + 40, "A", verb="get"),  # a read
          kube_write(T0 + 40, "A", role="supervisor"),  # not a worker
          kube_write(T0 + 40, "C", role="route")]  # another run's process
    rep = cc.Report()
    cc.check_kube_writes(rep, ev, h, since=T0, identities={"A", "B"})
    assert [v.invariant for v in rep.violations] == ["b"]
    assert "kube patch /api/v1/namespaces/x/services/y (200) by service-lb" \
        in rep.violations[0].what
    assert rep.checked["worker kube requests"] == 4
    assert rep.checked["worker kube mutations"] == 2
    # the legal write at T0+1 came 14 s before the lease A wrote at T0 ended
    assert rep.checked["(b) min seconds from a mutation to its lease end"] == 14.0


def node(name, iid, cidr, ready="True", labels=None):
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"providerID": f"cn-hangzhou.{iid}", "podCIDR": cidr},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}


def svc(name, uid, ports, ip="1.2.3.4"):
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid},
            "spec": {"type": "LoadBalancer",
                     "ports": [{"port": p, "protocol": "TCP", "nodePort": np}
                               for p, np in ports]},
            "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}}


def world():
    services = [svc("web", "11-22", [(80, 30080)])]
    nodes = [node("n1", "i-1", "172.16.1.0/24"),
             node("n2", "i-2", "172.16.2.0/24", ready="False")]
    lb = {"LoadBalancerId": "lb-1", "Address": "1.2.3.4",
          "Tags": [{"TagKey": "kubernetes.do.not.delete", "TagValue": "a1122"},
                   {"TagKey": "ack.aliyun.com", "TagValue": "c1"}],
          "Listeners": [{"ListenerPort": 80, "ListenerProtocol": "tcp",
                         "Status": "running", "VServerGroupId": "rsp-1"}]}
    groups = [{"VServerGroupId": "rsp-1", "LoadBalancerId": "lb-1",
               "VServerGroupName": "k8s/80/web/ns/c1",
               "BackendServers": [{"ServerId": "i-1", "Port": 30080}]}]
    routes = [{"id": "vtb-1", "entries": [
        {"cidr": "172.16.1.0/24", "next_hop_id": "i-1",
         "status": "Available"},
        {"cidr": "172.16.2.0/24", "next_hop_id": "i-2",
         "status": "Available"},
        {"cidr": "10.99.0.0/24", "next_hop_id": "i-9",
         "status": "Available"}]}]
    state = {"load_balancers": [lb], "vserver_groups": groups,
             "route_tables": routes}
    return services, nodes, state


WANT = cc.Desired("c1", ("ns",), "vtb-1", "172.16.0.0/16")


def test_end_state_converged():
    services, nodes, state = world()
    rep = cc.Report()
    cc.check_end_state(rep, services, nodes, state, WANT)
    assert rep.ok, rep.text()
    assert rep.checked["node routes"] == 2


def test_end_state_catches_duplicates_leaks_and_drift():
    services, nodes, state = world()
    dup = dict(state["load_balancers"][0], LoadBalancerId="lb-2")
    orphan = dict(state["load_balancers"][0], LoadBalancerId="lb-3",
                  Tags=[{"TagKey": "kubernetes.do.not.delete",
                         "TagValue": "agone"},
                        {"TagKey": "ack.aliyun.com", "TagValue": "c1"}])
    state["load_balancers"] += [dup, orphan]
    state["vserver_groups"].append({
        "VServerGroupId": "rsp-9", "LoadBalancerId": "lb-1",
        "VServerGroupName": "k8s/81/web/ns/c1", "BackendServers": []})
    state["vserver_groups"][0]["BackendServers"].append(
        {"ServerId": "i-2", "Port": 30080})  # i-2 is NotReady
    state["route_tables"][0]["entries"].append(
        {"cidr": "172.16.9.0/24", "next_hop_id": "i-9", "status": "Available"})
    state["route_tables"][0]["entries"][1]["status"] = "Pending"
    rep = cc.Report()
    cc.check_end_state(rep, services, nodes, state, WANT)
    text = "\n".join(str(v) for v in rep.violations)
    assert "Service ns/web: 2 CLBs" in text
    assert "CLB lb-3 (agone) has no owner Service" in text
    assert "rsp-9 k8s/81/web/ns/c1 on lb-1 has no owner" in text
    assert "route 172.16.9.0/24 -> i-9 in vtb-1 has no Node" in text
    assert "route 172.16.2.0/24: [('i-2', 'Pending')]" in text
    assert "10.99.0.0/24" not in text  # outside the cluster CIDR


def test_end_state_backends_and_listeners():
    services, nodes, state = world()
    state["vserver_groups"][0]["BackendServers"] = []
    state["load_balancers"][0]["Listeners"][0]["Status"] = "stopped"
    services[0]["status"] = {}
    rep = cc.Report()
    cc.check_end_state(rep, services, nodes, state, WANT)
    text = "\n".join(str(v) for v in rep.violations)
    assert "backends [], want [('i-1', 30080)]" in text
    assert "listener stopped" in text
    assert "ingress [] is not the CLB address 1.2.3.4" in text


def test_foreign_snapshot_compare():
    _, _, state = world()
    state["load_balancers"][0]["Tags"] = []
    keys = ({"lb-1"}, {("vtb-1", "10.99.0.0/24")})
    before = cc.foreign_snapshot(state, *keys)
    rep = cc.Report()
    cc.check_foreign(rep, before, cc.foreign_snapshot(state, *keys))
    assert rep.ok and rep.checked["foreign resources"] == 2
    state["vserver_groups"][0]["BackendServers"] = []
    state["route_tables"][0]["entries"].pop()
    rep = cc.Report()
    cc.check_foreign(rep, before, cc.foreign_snapshot(state, *keys))
    assert sorted(str(v) for v in rep.violations) == [
        "[foreign] lb:lb-1 changed: ['groups']",
        "[foreign] route:vtb-1:10.99.0.0/24 was deleted"]


def test_calls_naming_foreign_resources():
    _, _, state = world()
    keys = ({"lb-1"}, {("vtb-1", "10.99.0.0/24")})
    state["route_tables"][0]["entries"][2]["id"] = "rte-9"
    before = cc.foreign_snapshot(state, *keys)

    def mut(seq, action, params, agent=None):
        c = call(T0, "A", action=action, seq=seq, agent=agent)
        c["params"] = params
        return c
    calls = [
        mut(1, "DescribeLoadBalancerAttribute", {"LoadBalancerId": "lb-1"}),
        mut(2, "CreateVServerGroup", {"LoadBalancerId": "lb-1"},
            agent="simclient/1.0 Python"),  # the test's own seeding
        mut(3, "CreateLoadBalancer", {"LoadBalancerName": "a1"}),
        mut(4, "DeleteRouteEntries", {
            "RouteEntries.1.RouteTableId": "vtb-1",
            "RouteEntries.1.DstCidrBlock": "172.16.9.0/24"}),
        # refused or not, each of these is an attempt on a foreign resource
        mut(5, "SetLoadBalancerDeleteProtection",
            {"LoadBalancerId": "lb-1", "DeleteProtection": "off"}),
        mut(6, "RemoveVServerGroupBackendServers",
            {"VServerGroupId": "rsp-1"}),
        mut(7, "DeleteRouteEntry", {"RouteTableId": "vtb-1",
                                    "DestinationCidrBlock": "10.99.0.0/24"}),
        mut(8, "DeleteRouteEntries", {"RouteEntries.3.RouteEntryId": "rte-9"}),
    ]
    rep = cc.Report()
    cc.check_calls_avoid(rep, calls[:4], before)
    assert rep.ok, rep.text()
    assert rep.checked["CCM mutating calls checked for foreign names"] == 2
    rep = cc.Report()
    cc.check_calls_avoid(rep, calls, before)
    assert [str(v) for v in rep.violations] == [
        "[foreign-call] cloud SetLoadBalancerDeleteProtection #5 (200) "
        "names foreign LoadBalancerId=lb-1",
        "[foreign-call] cloud RemoveVServerGroupBackendServers #6 (200) "
        "names foreign VServerGroupId=rsp-1",
        "[foreign-call] cloud DeleteRouteEntry #7 (200) names foreign "
        "DestinationCidrBlock=10.99.0.0/24",
        "[foreign-call] cloud DeleteRouteEntries #8 (200) names foreign "
        "RouteEntries.3.RouteEntryId=rte-9"]
