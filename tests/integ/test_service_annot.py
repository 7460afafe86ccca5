"""Service-LB worker (issue 14): the Go CCM's CLB annotations that were
missing - forward-port, proxy-protocol, modification-protection,
external-ip-type eip, network-type, backend-ip-version, in-place billing
and tags, immutable keys - against the real
kube-apiserver and the simulator. Per key: create -> the simulator's
state; change -> only the calls that change needs (call log); invalid
value -> a Warning naming the key, the value and what is allowed, and no
mutating call (checked after the Warning proves the sync ran)."""

import json

import pytest

from harness import wait_for
from slb_helpers import (actions, annotate, change, listener_of, start_lb,
                         sync_warning)
from test_service import (FINALIZER, NS, PFX, events, get_svc, ingress_ip,
                          listeners, mutating, svc_body, the_lb, three_nodes,
                          uniq, wait_settled, write_endpoints)
from test_service import slb, token, world  # noqa: F401 - fixtures


def ingress_ips(cluster, name):
    s = get_svc(cluster, name) or {}
    return sorted(i.get("ip") for i in (s.get("status", {})
                                        .get("loadBalancer", {})
                                        .get("ingress") or []))


def delete_svc(cluster, name):
    cluster.api("DELETE", f"/api/v1/namespaces/{NS}/services/{name}")
    wait_for(lambda: get_svc(cluster, name) is None, 60,
             what="Service gone")


def test_forward_port_end_to_end(cluster, sim, world, slb):
    name, _ = start_lb(cluster, world, slb, "fwd", resync="3s",
                       ports=((443, "TCP"), (80, "TCP")), annotations={
                           PFX + "loadbalancer-protocol-port":
                               "https:443,http:80",
                           PFX + "loadbalancer-cert-id": "cert-one",
                           PFX + "loadbalancer-forward-port": "80:443"})
    wait_for(lambda: sorted(listeners(the_lb(sim))) == [
        (80, "http", "running"), (443, "https", "running")], 60,
        what="both listeners running")
    wait_settled(sim)
    lb = the_lb(sim)
    http = listener_of(lb, 80)
    assert http["ListenerForward"] == "on" and http["ForwardPort"] == 443
    assert listener_of(lb, 443)["ServerCertificateId"] == "cert-one"
    acts = actions(sim)
    assert acts.index("CreateLoadBalancerHTTPSListener") < \
        acts.index("CreateLoadBalancerHTTPListener"), acts

    # resyncs find nothing to do on a forwarding listener
    sim.client.clear_calls()
    wait_for(lambda: len(sim.calls("DescribeLoadBalancerListeners")) >= 2,
             30, what="two resyncs")
    assert mutating(sim) == []

    # annotation removed: only the HTTP listener is re-created, plain
    calls = change(cluster, sim, name,
                   lambda: listener_of(the_lb(sim), 80)["ListenerForward"] ==
                   "off", "plain HTTP listener",
                   loadbalancer_forward_port=None)
    assert [c["action"] for c in calls] == [
        "DeleteLoadBalancerListener", "CreateLoadBalancerHTTPListener",
        "StartLoadBalancerListener"], calls
    assert all(c["params"]["ListenerPort"] == "80" for c in calls)
    lb = the_lb(sim)
    g80 = [g for g in lb["groups"]
           if g["VServerGroupName"].startswith("k8s/80/")][0]
    assert listener_of(lb, 80)["VServerGroupId"] == g80["VServerGroupId"]
    assert sorted(listeners(lb)) == [(80, "http", "running"),
                                     (443, "https", "running")]

    # forwarding again: again only the HTTP listener
    calls = change(cluster, sim, name,
                   lambda: listener_of(the_lb(sim), 80)["ListenerForward"] ==
                   "on", "forwarding HTTP listener",
                   loadbalancer_forward_port="80:443")
    assert [c["action"] for c in calls] == [
        "DeleteLoadBalancerListener", "CreateLoadBalancerHTTPListener",
        "StartLoadBalancerListener"], calls
    assert calls[1]["params"]["ListenerForward"] == "on"
    assert calls[1]["params"]["ForwardPort"] == "443"

    # a format error: Warning naming key, value and form; nothing changes
    sim.client.clear_calls()
    annotate(cluster, name, loadbalancer_forward_port="80-443")
    ev = sync_warning(cluster, name, "80-443",
                      what="Warning for the bad forward-port")
    assert ev["type"] == "Warning"
    assert PFX + "loadbalancer-forward-port" in ev["message"]
    assert "<http port>:<https port>" in ev["message"]
    assert mutating(sim) == []
    assert listener_of(the_lb(sim), 80)["ListenerForward"] == "on"

    # deleting the Service: the forwarder goes before its target
    sim.client.clear_calls()
    annotate(cluster, name, loadbalancer_forward_port="80:443",
             loadbalancer_preserve_lb_on_delete="true")
    wait_settled(sim)
    delete_svc(cluster, name)
    dels = [c["params"]["ListenerPort"]
            for c in mutating(sim, "DeleteLoadBalancerListener")]
    assert dels == ["80", "443"], dels
    assert the_lb(sim)["Listeners"] == []


BAD = [
    ("loadbalancer-forward-port", "80:8080", "whose listener is http"),
    ("loadbalancer-external-ip-type", "fip", 'must be "eip"'),
    ("loadbalancer-proxy-protocol", "yes", 'must be "on" or "off"'),
    ("loadbalancer-network-type", "alibaba",
     'must be "classic" or "vpc"'),
    ("loadbalancer-backend-ip-version", "ipv5",
     'must be "ipv4" or "ipv6"'),
    ("loadbalancer-backend-ip-version", "ipv6",
     "needs an IPv6 CLB (loadbalancer-ip-version: ipv6)"),
    ("loadbalancer-modification-protection", "on",
     "must be ConsoleProtection or NonProtection"),
]


def test_invalid_values_warn_and_change_nothing(cluster, sim, world, slb):
    three_nodes(world, uniq("bad"))
    names = []
    for key, val, _ in BAD:
        name = uniq("bad")
        names.append(name)
        world.svc(svc_body(name, ports=((80, "TCP"), (8080, "TCP")),
                           annotations={PFX + key: val}))
    slb()
    for name, (key, val, allowed) in zip(names, BAD):
        ev = sync_warning(cluster, name, what=f"Warning for {key}={val}")
        assert ev["type"] == "Warning"
        msg = ev["message"]
        assert PFX + key in msg and f'"{val}"' in msg and allowed in msg, \
            msg
        assert FINALIZER not in (get_svc(cluster, name)["metadata"]
                                 .get("finalizers") or [])
    assert mutating(sim) == []


def test_proxy_protocol(cluster, sim, world, slb):
    # one UDP listener through protocol-port (the API server refuses mixed
    # protocols in a LoadBalancer Service's ports)
    name, _ = start_lb(cluster, world, slb, "pp",
                       ports=((80, "TCP"), (53, "TCP")), annotations={
                           PFX + "loadbalancer-protocol-port": "udp:53",
                           PFX + "loadbalancer-proxy-protocol": "on"})
    wait_for(lambda: len(listeners(the_lb(sim))) == 2, 60,
             what="two listeners")
    wait_settled(sim)
    lb = the_lb(sim)
    assert listener_of(lb, 80)["ProxyProtocolV2Enabled"] is True
    assert listener_of(lb, 53)["ProxyProtocolV2Enabled"] is True

    calls = change(cluster, sim, name,
                   lambda: listener_of(the_lb(sim), 80)[
                       "ProxyProtocolV2Enabled"] is False and
                   listener_of(the_lb(sim), 53)[
                       "ProxyProtocolV2Enabled"] is False,
                   "proxy protocol off", loadbalancer_proxy_protocol="off")
    assert sorted(c["action"] for c in calls) == [
        "SetLoadBalancerTCPListenerAttribute",
        "SetLoadBalancerUDPListenerAttribute"], calls
    assert all(c["params"]["ProxyProtocolV2Enabled"] == "false"
               for c in calls)


def test_modification_protection(cluster, sim, world, slb):
    name, _ = start_lb(cluster, world, slb, "mp")
    wait_settled(sim)
    lb = the_lb(sim)
    # the Go CCM's default, with its reason
    assert lb["ModificationProtectionStatus"] == "ConsoleProtection"
    assert lb["ModificationProtectionReason"] == "managed.by.ack"
    create = mutating(sim, "CreateLoadBalancer")[0]["params"]
    assert create["ModificationProtectionStatus"] == "ConsoleProtection"

    calls = change(cluster, sim, name,
                   lambda: the_lb(sim)["ModificationProtectionStatus"] ==
                   "NonProtection", "protection off",
                   loadbalancer_modification_protection="NonProtection")
    assert [c["action"] for c in calls] == [
        "SetLoadBalancerModificationProtection"], calls
    assert "ModificationProtectionReason" not in calls[0]["params"]

    calls = change(cluster, sim, name,
                   lambda: the_lb(sim)["ModificationProtectionStatus"] ==
                   "ConsoleProtection", "protection on",
                   loadbalancer_modification_protection="ConsoleProtection")
    assert [c["action"] for c in calls] == [
        "SetLoadBalancerModificationProtection"], calls
    assert calls[0]["params"]["ModificationProtectionReason"] == \
        "managed.by.ack"
    assert the_lb(sim)["ModificationProtectionReason"] == "managed.by.ack"


def test_preserve_on_delete_releases_modification_protection(
        cluster, sim, world, slb):
    name, _ = start_lb(cluster, world, slb, "mpk", annotations={
        PFX + "loadbalancer-preserve-lb-on-delete": "true"})
    wait_settled(sim)
    assert the_lb(sim)["ModificationProtectionStatus"] == "ConsoleProtection"
    sim.client.clear_calls()
    delete_svc(cluster, name)
    lb = the_lb(sim)
    assert lb["ModificationProtectionStatus"] == "NonProtection"
    acts = actions(sim)
    assert "DeleteLoadBalancer" not in acts
    assert acts.index("SetLoadBalancerModificationProtection") < \
        acts.index("RemoveTags"), acts


def test_external_ip_type_eip(cluster, sim, world, slb):
    # no EIP bound yet: the CLB address, with the Go CCM's Warning
    name, _ = start_lb(cluster, world, slb, "eip", resync="3s", annotations={
        PFX + "loadbalancer-external-ip-type": "eip"})
    lb = the_lb(sim)
    assert ingress_ips(cluster, name) == [lb["Address"]]
    wait_for(lambda: events(cluster, "FailedSetEIPAddress", name), 60,
             what="FailedSetEIPAddress")
    assert events(cluster, "FailedSetEIPAddress", name)[0]["type"] == \
        "Warning"
    call = sim.calls("DescribeEipAddresses")[-1]["params"]
    assert call["AssociatedInstanceType"] == "SlbInstance"
    assert call["AssociatedInstanceId"] == lb["LoadBalancerId"]

    # two EIPs bound to the CLB (and one elsewhere): status shows the two
    a = sim.client.mutate("add_eip", instance_id=lb["LoadBalancerId"],
                          instance_type="SlbInstance")
    b = sim.client.mutate("add_eip", instance_id=lb["LoadBalancerId"],
                          instance_type="SlbInstance")
    sim.client.mutate("add_eip", instance_id="i-sim0002",
                      instance_type="EcsInstance")
    want = sorted([a["ip"], b["ip"]])
    wait_for(lambda: ingress_ips(cluster, name) == want, 60,
             what="EIPs in status")
    # status only: no cloud change for it
    sim.client.clear_calls()
    wait_for(lambda: len(sim.calls("DescribeEipAddresses")) >= 2, 30,
             what="two resyncs")
    assert mutating(sim) == []
    assert ingress_ips(cluster, name) == want

    # annotation removed: back to the CLB address
    annotate(cluster, name, loadbalancer_external_ip_type=None)
    wait_for(lambda: ingress_ips(cluster, name) == [lb["Address"]], 60,
             what="CLB address again")


def start_pub_priv(cluster, sim, world, slb, prefix, pub_annots=None,
                   priv_annots=None):
    """Three nodes, an internet Service and an intranet one (address-type
    intranet, then priv_annots) and a worker; returns their names once
    both have an ingress IP and the calls have settled."""
    three_nodes(world, uniq(prefix))
    pub, priv = uniq(prefix + "pub"), uniq(prefix + "priv")
    world.svc(svc_body(pub, annotations=pub_annots))
    world.svc(svc_body(priv, annotations={
        PFX + "loadbalancer-address-type": "intranet", **(priv_annots or {})}))
    slb()
    wait_for(lambda: ingress_ip(cluster, pub) and ingress_ip(cluster, priv),
             60, what="ingress IPs")
    wait_settled(sim)
    return pub, priv


def test_network_type(cluster, sim, world, slb):
    pub, priv = start_pub_priv(
        cluster, sim, world, slb, "net",
        {PFX + "loadbalancer-network-type": "classic"},
        {PFX + "loadbalancer-network-type": "vpc"})
    creates = {c["params"]["AddressType"]: c["params"]
               for c in mutating(sim, "CreateLoadBalancer")}
    assert "VSwitchId" not in creates["internet"]
    assert creates["intranet"]["VSwitchId"] == "vsw-sim0001"
    st = sim.state()
    by_addr = {lb["AddressType"]: lb for lb in st["load_balancers"]}
    assert by_addr["internet"]["NetworkType"] == "classic"
    assert by_addr["intranet"]["NetworkType"] == "vpc"

    # immutable: a Warning naming both, and no call
    sim.client.clear_calls()
    annotate(cluster, priv, loadbalancer_network_type="classic")
    ev = sync_warning(cluster, priv, "network-type",
                      what="immutable network type Warning")
    assert ev["type"] == "Warning"
    assert "classic" in ev["message"] and "vpc" in ev["message"]
    assert mutating(sim) == []
    assert {lb["NetworkType"] for lb in sim.state()["load_balancers"]} == \
        {"classic", "vpc"}


def domexts(lb, port=443):
    return sorted((d["Domain"], d["ServerCertificateId"]) for d in
                  listener_of(lb, port)["DomainExtensions"]["DomainExtension"])


def test_domain_extensions(cluster, sim, world, slb):
    name, p = start_lb(cluster, world, slb, "sni", ports=((443, "TCP"),),
                       annotations={
                           PFX + "loadbalancer-protocol-port": "https:443",
                           PFX + "loadbalancer-cert-id": "cert-main",
                           PFX + "loadbalancer-domain-extensions":
                               "a.example.com:cert-a,b.example.com:cert-b"})
    wait_for(lambda: len(listeners(the_lb(sim))) == 1 and
             domexts(the_lb(sim)) == [("a.example.com", "cert-a"),
                                      ("b.example.com", "cert-b")], 60,
             what="two domain extensions")
    wait_settled(sim)
    acts = actions(sim)
    assert acts.index("StartLoadBalancerListener") < \
        acts.index("CreateDomainExtension"), acts

    # change one certificate, drop one domain, add one: three calls
    calls = change(cluster, sim, name,
                   lambda: domexts(the_lb(sim)) == [
                       ("a.example.com", "cert-a2"),
                       ("c.example.com", "cert-c")],
                   "domain extensions changed",
                   loadbalancer_domain_extensions=(
                       "a.example.com:cert-a2,c.example.com:cert-c"))
    assert [c["action"] for c in calls] == [
        "DeleteDomainExtension", "SetDomainExtensionAttribute",
        "CreateDomainExtension"], calls
    assert calls[1]["params"]["ServerCertificateId"] == "cert-a2"
    assert calls[1]["params"]["DomainExtensionId"]
    assert calls[2]["params"]["Domain"] == "c.example.com"

    # a fresh process reads them back and has nothing to do; a bad item
    # then gives a Warning (naming key, value and form), which also proves
    # the first sync of the new process is over: no call from either
    p.stop()
    sim.client.clear_calls()
    slb()
    wait_for(lambda: sim.calls("DescribeDomainExtensions"), 60,
             what="domain extensions described")
    annotate(cluster, name, loadbalancer_domain_extensions="a.example.com")
    ev = sync_warning(cluster, name, "domain-extensions",
                      what="Warning for the bad value")
    assert ev["type"] == "Warning"
    assert '"a.example.com"' in ev["message"]
    assert "<domain>:<certificate id>" in ev["message"]
    assert mutating(sim) == []

    # empty: none wanted, both go
    change(cluster, sim, name, lambda: domexts(the_lb(sim)) == [],
           "domain extensions removed", loadbalancer_domain_extensions="")
    assert actions(sim) == ["DeleteDomainExtension"] * 2


def test_tunnel_type_is_left_to_another_controller(cluster, sim, world, slb):
    """As in the Go CCM a tunnel Service is not a CLB Service: once
    annotated, ours is cleaned up like one given to another class."""
    name, _ = start_lb(cluster, world, slb, "tun")
    wait_settled(sim)
    assert len(sim.state()["load_balancers"]) == 1
    annotate(cluster, name, loadbalancer_tunnel_type="tunnel")
    wait_for(lambda: FINALIZER not in (get_svc(cluster, name)["metadata"]
                                       .get("finalizers") or []), 60,
             what="finalizer removed")
    assert sim.state()["load_balancers"] == []
    assert not ingress_ip(cluster, name)


def lb_by(sim, **kv):
    found = [lb for lb in sim.state()["load_balancers"]
             if all(lb.get(k) == v for k, v in kv.items())]
    assert len(found) == 1, found
    return found[0]


def tags_of(lb):
    return {t["TagKey"]: t["TagValue"] for t in lb["Tags"]}


def test_instance_charge_type_and_spec_in_place(cluster, sim, world, slb):
    name, _ = start_lb(cluster, world, slb, "ict")
    wait_settled(sim)
    assert the_lb(sim)["InstanceChargeType"] == "PayBySpec"

    # annotated after the create: described once, then one call
    calls = change(cluster, sim, name,
                   lambda: the_lb(sim)["InstanceChargeType"] == "PayByCLCU",
                   "PayByCLCU", loadbalancer_instance_charge_type="PayByCLCU")
    assert [c["action"] for c in calls] == [
        "ModifyLoadBalancerInstanceChargeType"], calls
    assert calls[0]["params"]["InstanceChargeType"] == "PayByCLCU"
    assert "LoadBalancerSpec" not in calls[0]["params"]

    # back to PayBySpec: the annotated spec rides on the same call
    calls = change(cluster, sim, name,
                   lambda: the_lb(sim)["InstanceChargeType"] == "PayBySpec",
                   "PayBySpec", loadbalancer_instance_charge_type="PayBySpec",
                   loadbalancer_spec="slb.s2.small")
    assert [c["action"] for c in calls] == [
        "ModifyLoadBalancerInstanceChargeType"], calls
    assert calls[0]["params"]["LoadBalancerSpec"] == "slb.s2.small"
    assert the_lb(sim)["LoadBalancerSpec"] == "slb.s2.small"

    # same type, another spec: only the spec call
    change(cluster, sim, name,
           lambda: the_lb(sim)["LoadBalancerSpec"] == "slb.s3.small",
           "spec s3", loadbalancer_spec="slb.s3.small")
    assert actions(sim) == ["ModifyLoadBalancerInstanceSpec"]


def test_internet_charge_type_and_bandwidth_in_place(cluster, sim, world,
                                                     slb):
    traffic = {PFX + "loadbalancer-charge-type": "paybytraffic"}
    pub, priv = start_pub_priv(cluster, sim, world, slb, "bw", traffic,
                               traffic)
    assert lb_by(sim, AddressType="internet")["InternetChargeType"] == \
        "paybytraffic"

    # bandwidth alone is not applied while billed by traffic
    change(cluster, sim, pub,
           lambda: lb_by(sim, AddressType="internet")[
               "LoadBalancerName"] == "bw-renamed", "renamed",
           loadbalancer_bandwidth="10", loadbalancer_name="bw-renamed")
    assert actions(sim) == ["SetLoadBalancerName"]

    calls = change(cluster, sim, pub,
                   lambda: lb_by(sim, AddressType="internet")[
                       "InternetChargeType"] == "paybybandwidth",
                   "paybybandwidth",
                   loadbalancer_charge_type="paybybandwidth")
    assert [c["action"] for c in calls] == [
        "ModifyLoadBalancerInternetSpec"], calls
    assert calls[0]["params"]["InternetChargeType"] == "paybybandwidth"
    assert calls[0]["params"]["Bandwidth"] == "10"
    assert lb_by(sim, AddressType="internet")["Bandwidth"] == 10

    # under paybybandwidth a bandwidth change is one call
    calls = change(cluster, sim, pub,
                   lambda: lb_by(sim, AddressType="internet")[
                       "Bandwidth"] == 20, "bandwidth 20",
                   loadbalancer_bandwidth="20")
    assert [c["action"] for c in calls] == [
        "ModifyLoadBalancerInternetSpec"], calls
    assert calls[0]["params"]["Bandwidth"] == "20"

    # an intranet CLB is never re-billed (the rest of its sync runs)
    change(cluster, sim, priv,
           lambda: lb_by(sim, AddressType="intranet")[
               "LoadBalancerName"] == "priv-renamed", "renamed",
           loadbalancer_charge_type="paybybandwidth",
           loadbalancer_name="priv-renamed")
    assert actions(sim) == ["SetLoadBalancerName"]
    assert lb_by(sim, AddressType="intranet")["InternetChargeType"] == \
        "paybytraffic"


def test_additional_tags_in_place(cluster, sim, world, slb):
    name, _ = start_lb(cluster, world, slb, "tag", annotations={
        PFX + "loadbalancer-additional-resource-tags": "team=a,env=dev"})
    wait_settled(sim)
    lb = the_lb(sim)
    tags = tags_of(lb)
    assert tags["team"] == "a" and tags["env"] == "dev"
    owner = {k: tags[k] for k in ("kubernetes.do.not.delete",
                                  "ack.aliyun.com")}
    # somebody tags the CLB in the console
    sim.client.mutate("set_tag", load_balancer_id=lb["LoadBalancerId"],
                      key="console", value="x")

    # team re-valued, env dropped (we set it), console kept (we did not)
    calls = change(cluster, sim, name,
                   lambda: "env" not in tags_of(the_lb(sim)), "env untagged",
                   loadbalancer_additional_resource_tags="team=b")
    assert [c["action"] for c in calls] == ["AddTags", "RemoveTags"], calls
    assert '"team"' in calls[0]["params"]["Tags"] and \
        '"b"' in calls[0]["params"]["Tags"]
    assert '"env"' in calls[1]["params"]["Tags"]
    assert "console" not in calls[1]["params"]["Tags"]
    tags = tags_of(the_lb(sim))
    assert tags == dict(owner, team="b", console="x"), tags

    # annotation removed: no tag changes (Go CCM), the rest still syncs
    change(cluster, sim, name,
           lambda: the_lb(sim)["LoadBalancerName"] == "tag-renamed",
           "renamed", loadbalancer_additional_resource_tags=None,
           loadbalancer_name="tag-renamed")
    assert actions(sim) == ["SetLoadBalancerName"]
    assert tags_of(the_lb(sim)) == dict(owner, team="b", console="x")


def test_immutable_keys_warn_and_are_not_applied(cluster, sim, world, slb):
    pub, priv = start_pub_priv(cluster, sim, world, slb, "imm")
    before = {lb["LoadBalancerId"]: lb
              for lb in sim.state()["load_balancers"]}
    lb = lb_by(sim, AddressType="internet")
    other_zone = [z for z in sim.state()["zones"]
                  if z != lb["MasterZoneId"]][0]

    # six keys at once, plus a name change: one Warning names each key
    # with both values; only the name is applied
    sim.client.clear_calls()
    annotate(cluster, pub, loadbalancer_master_zoneid=other_zone,
             loadbalancer_slave_zoneid="cn-hangzhou-x",
             loadbalancer_resource_group_id="rg-other",
             loadbalancer_ip_version="ipv6",
             loadbalancer_ip="47.9.9.9",
             loadbalancer_address_type="intranet",
             loadbalancer_name="imm-renamed")
    ev = sync_warning(cluster, pub, PFX + "loadbalancer-master-zoneid",
                      what="immutable Warning")
    wait_settled(sim)
    assert ev["type"] == "Warning"
    msg = ev["message"]
    assert lb["LoadBalancerId"] in msg
    for key, have, want in [
            ("master-zoneid", lb["MasterZoneId"], other_zone),
            ("slave-zoneid", lb["SlaveZoneId"], "cn-hangzhou-x"),
            ("resource-group-id", lb["ResourceGroupId"], "rg-other"),
            ("ip-version", "ipv4", "ipv6"),
            ("ip", lb["Address"], "47.9.9.9"),
            ("address-type", "internet", "intranet")]:
        assert f'{PFX}loadbalancer-{key} is "{have}", the annotation ' \
            f'asks for "{want}"' in msg, (key, msg)
    assert "cannot change after creation" in msg
    assert actions(sim) == ["SetLoadBalancerName"]
    after = lb_by(sim, LoadBalancerId=lb["LoadBalancerId"])
    for k in ("MasterZoneId", "SlaveZoneId", "ResourceGroupId",
              "AddressIPVersion", "Address", "AddressType"):
        assert after[k] == before[lb["LoadBalancerId"]][k], k
    assert ingress_ip(cluster, pub) == lb["Address"]

    # the vSwitch of an intranet CLB: Warning, no call at all
    plb = lb_by(sim, AddressType="intranet")
    vsw = [v["id"] for v in sim.state()["vswitches"]
           if v["id"] != plb["VSwitchId"]][0]
    sim.client.clear_calls()
    annotate(cluster, priv, loadbalancer_vswitch_id=vsw)
    msg = sync_warning(cluster, priv, PFX + "loadbalancer-vswitch-id",
                       what="immutable vSwitch Warning")["message"]
    wait_settled(sim)
    assert f'is "{plb["VSwitchId"]}", the annotation asks for "{vsw}"' \
        in msg, msg
    assert mutating(sim) == []
    assert lb_by(sim, LoadBalancerId=plb["LoadBalancerId"])["VSwitchId"] == \
        plb["VSwitchId"]


# ------------------------------------------- backend-ip-version: ipv6

# IPv6 addresses of the simulator's pod ENIs (default-state.json)
POD6_A = "2408:4005:3a0:1::100"     # eni-simpod0001
POD6_B = "2408:4005:3a0:2::101"     # eni-simpod0002 (its second one)


def eni_backends(sim):
    g = the_lb(sim)["groups"]
    assert len(g) == 1, g
    return sorted((b["ServerId"], b["Type"], b.get("ServerIp"), int(b["Port"]))
                  for b in g[0]["BackendServers"])


def test_backend_ip_version_ipv6_eni_backends(cluster, sim, world, slb):
    names = three_nodes(world, uniq("v6"))
    name = uniq("v6")
    world.svc(svc_body(name, annotations={
        PFX + "loadbalancer-ip-version": "ipv6",
        PFX + "loadbalancer-backend-ip-version": "ipv6"}))
    # pods on ordinary ECS nodes: with ipv6 they are ENI backends anyway;
    # one address is written non-canonically, as the API server keeps it
    write_endpoints(cluster, name, [(POD6_A, names[0]),
                                    ("2408:4005:03a0:2:0:0:0:101", names[1])],
                    port_name="p80")
    slb()
    wait_for(lambda: ingress_ip(cluster, name), 60, what="ingress IP")
    assert the_lb(sim)["AddressIPVersion"] == "ipv6"
    wait_for(lambda: len(eni_backends(sim)) == 2, 60, what="ENI backends")
    assert eni_backends(sim) == [("eni-simpod0001", "eni", POD6_A, 80),
                                 ("eni-simpod0002", "eni", POD6_B, 80)]
    # looked up by Ipv6Address.N (PrivateIpAddress.N never matches IPv6)
    q = [c["params"] for c in sim.calls("DescribeNetworkInterfaces")]
    assert any(sorted(v for k, v in p.items()
                      if k.startswith("Ipv6Address.")) == [POD6_A, POD6_B]
               for p in q), q
    assert not any(k.startswith("PrivateIpAddress.") for p in q for k in p)
    # one pod goes: exactly its backend is removed, the other stays
    wait_settled(sim)
    sim.client.clear_calls()
    write_endpoints(cluster, name, [(POD6_B, names[1])], port_name="p80")
    wait_for(lambda: len(eni_backends(sim)) == 1, 60, what="backend removed")
    assert eni_backends(sim) == [("eni-simpod0002", "eni", POD6_B, 80)]
    wait_settled(sim)
    new = mutating(sim)
    assert [c["action"] for c in new] == ["RemoveVServerGroupBackendServers"]
    gone = json.loads(new[0]["params"]["BackendServers"])
    assert [(b["ServerId"], b.get("ServerIp"), int(b["Port"]))
            for b in gone] == [("eni-simpod0001", POD6_A, 80)]


def test_backend_ip_version_ipv6_needs_ipv6_clb(cluster, sim, world, slb):
    names = three_nodes(world, uniq("v6bad"))
    name = uniq("v6bad")
    world.svc(svc_body(name, annotations={
        PFX + "loadbalancer-ip-version": "ipv4",
        PFX + "loadbalancer-backend-ip-version": "ipv6"}))
    write_endpoints(cluster, name, [(POD6_A, names[0])], port_name="p80")
    slb()
    # the Warning is the proof the sync ran; nothing was changed before it
    ev = sync_warning(cluster, name, what="Warning for backend-ip-version")
    assert ev["type"] == "Warning"
    assert PFX + "loadbalancer-backend-ip-version" in ev["message"]
    assert '"ipv6"' in ev["message"]
    assert "loadbalancer-ip-version: ipv6" in ev["message"]
    assert mutating(sim) == []
    assert sim.state()["load_balancers"] == []
