"""Tests of the cloud simulator itself: signature verification against the
reference vectors, request validation, every action family, paging,
idempotency, asynchronous routes and the fault-injection modes."""
import http.client
import json
import os
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sim_sign  # noqa: E402
from sim_inflight import InFlight  # noqa: E402
from simclient import (ECS, SLB, VPC, RpcError, SimClient, sign_params,  # noqa: E402
                       start_sim)

STS_ID, STS_SECRET = "STS.SimStaticKey0001", "SimStsSecret0001"
STS_TOKEN = "CAISsimStaticSecurityToken+0001/=="


@pytest.fixture(scope="module")
def server():
    s = start_sim()
    yield s
    s.stop()


@pytest.fixture
def sim(server):
    server.reset()
    yield server


def err(fn, *a, **kw):
    with pytest.raises(RpcError) as ei:
        fn(*a, **kw)
    return ei.value


# -- signature vectors (alicloud-openapi.md 1.5) ---------------------------------

BASE = {"Format": "JSON", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0"}
V1 = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
      "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
      "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
      "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
V1B = {("TimeStamp" if k == "Timestamp" else k): v for k, v in V1.items()}
V2 = dict(BASE, AccessKeyId="testid", Action="DescribeLoadBalancers", PageNumber="1",
          PageSize="50", RegionId="cn-hangzhou", SignatureNonce="nonce-0001",
          Tags='[{"TagKey":"kubernetes.do.not.delete","TagValue":"a b*c~d"}]',
          Timestamp="2024-01-02T03:04:05Z", Version="2014-05-15")
V4 = dict(BASE, AccessKeyId="STS.NTestKeyId", Action="DescribeRouteTableList", PageNumber="1",
          PageSize="50", RegionId="cn-beijing", SecurityToken="CAIS+token/with=chars",
          SignatureNonce="nonce-0004", Timestamp="2024-01-02T03:04:05Z", Version="2016-04-28",
          VpcId="vpc-2zeexample")
V6 = dict(BASE, AccessKeyId="testid", Action="SetLoadBalancerName",
          LoadBalancerId="lb-bp1example", LoadBalancerName="a b+c*d~e!f'g(h)i/j:k@l%m&n=o",
          RegionId="cn-hangzhou", SignatureNonce="nonce-0006",
          Timestamp="2024-01-02T03:04:05Z", Version="2014-05-15")
V8 = dict(BASE, AccessKeyId="testid", Action="TagResources", RegionId="cn-hangzhou",
          **{"ResourceId.1": "lb-bp1example"}, ResourceType="instance",
          SignatureNonce="nonce-0008", Timestamp="2024-01-02T03:04:05Z", Version="2014-05-15")
for _n in range(1, 11):
    V8["Tag.%d.Key" % _n] = "k%d" % _n
    V8["Tag.%d.Value" % _n] = "v%d" % _n


@pytest.mark.parametrize("params,secret,expected", [
    (V1, "testsecret", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="),
    (V1B, "testsecret", "CT9X0VtwR86fNWSnsc6v8YGOjuE="),
    (V2, "testsecret", "6lE9RISBClKn4EgsxXjkKx8bZU8="),
    (V4, "stsSecret", "pI1AVQz6VJfqApC8v1m59XPAycY="),
    (V6, "testsecret", "4K/SEJTGAcDeGNdmRlLcSp8hZts="),
    (V8, "testsecret", "wjlJdzdY7zRFz+kXdFvlgJ8y5xg="),
], ids=["V1", "V1b", "V2", "V4", "V6", "V8"])
def test_reference_vectors(params, secret, expected):
    assert sim_sign.sign("GET", params, secret) == expected
    ok, _ = sim_sign.verify("GET", dict(params, Signature=expected), secret)
    assert ok
    ok, _ = sim_sign.verify("POST", dict(params, Signature=expected), secret)
    assert not ok


def test_v1_strings():
    assert sim_sign.canonical_query(V1) == (
        "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1"
        "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0"
        "&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26")
    assert sim_sign.string_to_sign("GET", V1).startswith(
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions")
    assert "Timestamp%3D2016-02-23T12%253A46%253A24Z" in sim_sign.string_to_sign("GET", V1)


def test_percent_encoding():
    assert sim_sign.percent_encode("a b+c*d~e!f'g(h)i/j:k@l%m&n=o-_.节点") == (
        "a%20b%2Bc%2Ad~e%21f%27g%28h%29i%2Fj%3Ak%40l%25m%26n%3Do-_.%E8%8A%82%E7%82%B9")


def test_empty_value_is_signed():
    p = dict(V2, SignatureType="")
    assert "SignatureType%3D%26" in sim_sign.string_to_sign("GET", p)
    assert sim_sign.sign("GET", p, "x") != sim_sign.sign("GET", V2, "x")


def test_client_signer_agrees_with_vectors():
    assert sign_params("GET", V6, "testsecret") == "4K/SEJTGAcDeGNdmRlLcSp8hZts="


# -- transport / verification ---------------------------------------------------------

@pytest.mark.parametrize("method,style", [("GET", "query"), ("POST", "query"),
                                          ("POST", "form")])
def test_transport_styles(sim, method, style):
    body = sim.rpc("DescribeVpcs", VPC, method=method, style=style)
    assert body["Vpcs"]["Vpc"][0]["VpcId"] == "vpc-sim0001"
    assert body["RequestId"]


def test_param_changed_after_signing(sim):
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou", "VpcId": "vpc-sim0001"})
    p["VpcId"] = "vpc-other"
    status, body = sim.send(p)
    assert status == 400 and body["Code"] == "SignatureDoesNotMatch"
    prefix = "server string to sign is:"
    assert prefix in body["Message"]
    server_sts = body["Message"].split(prefix, 1)[1]
    unsigned = {k: v for k, v in p.items() if k != "Signature"}
    assert server_sts == sim_sign.string_to_sign("GET", unsigned)


def test_method_is_signed(sim):
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"}, method="GET")
    status, body = sim.send(p, method="POST")
    assert body["Code"] == "SignatureDoesNotMatch"
    assert "POST&%2F&" in body["Message"]


def test_missing_common_parameter(sim):
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"})
    del p["SignatureNonce"]
    status, body = sim.send(p)
    assert status == 400 and body["Code"] == "MissingParameter"
    assert "SignatureNonce" in body["Message"]


def test_error_shape_and_date_header(sim):
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"}, ak_id="LTAInope")
    status, hdrs, data = sim._request("GET", "/?" + "&".join(
        "%s=%s" % (k, urllib.request.quote(v, safe="")) for k, v in p.items()))
    body = json.loads(data)
    assert status == 404
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["Code"] == "InvalidAccessKeyId.NotFound"
    assert body["HostId"] == "vpc.aliyuncs.com"
    assert hdrs["Date"].endswith("GMT")
    assert int(hdrs["Content-Length"]) == len(data)


def test_nonce_reuse(sim):
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"}, nonce="fixed-nonce-1")
    assert sim.send(p)[0] == 200
    status, body = sim.send(p)
    assert status == 400 and body["Code"] == "SignatureNonceUsed"
    # another key may use the same nonce
    q = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"}, ak_id=STS_ID,
                   ak_secret=STS_SECRET, token=STS_TOKEN, nonce="fixed-nonce-1")
    assert sim.send(q)[0] == 200


def test_timestamp_skew_and_format(sim):
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 16 * 60))
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"}, timestamp=old)
    status, body = sim.send(p)
    assert status == 400 and body["Code"] == "InvalidTimeStamp.Expired"
    assert "Server time is" in body["Message"]
    ok = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 10 * 60))
    assert sim.send(sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"},
                               timestamp=ok))[0] == 200
    bad = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"},
                     timestamp="2024-01-02T03:04:05.123Z")
    assert sim.send(bad)[1]["Code"] == "InvalidTimeStamp.Format"


def test_signature_method_and_version(sim):
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou",
                                         "SignatureMethod": "HMAC-SHA256"})
    assert sim.send(p)[1]["Code"] == "InvalidSignatureMethod"
    p = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou", "SignatureVersion": "2.0"})
    assert sim.send(p)[1]["Code"] == "InvalidSignatureVersion"


def test_sts_tokens(sim):
    ok = sim.rpc("DescribeVpcs", VPC, ak_id=STS_ID, ak_secret=STS_SECRET, token=STS_TOKEN)
    assert ok["TotalCount"] == 1
    e = err(sim.rpc, "DescribeVpcs", VPC, ak_id=STS_ID, ak_secret=STS_SECRET)
    assert e.code == "MissingSecurityToken"
    e = err(sim.rpc, "DescribeVpcs", VPC, ak_id=STS_ID, ak_secret=STS_SECRET, token="CAISwrong")
    assert e.code == "InvalidSecurityToken.MismatchWithAccessKey"
    e = err(sim.rpc, "DescribeVpcs", VPC, ak_id="STS.SimExpiredKey0001",
            ak_secret="SimStsSecretExpired", token="CAISsimExpiredToken0001")
    assert e.code == "InvalidSecurityToken.Expired"


def test_unknown_action_and_region(sim):
    assert err(sim.rpc, "DescribeNothing", SLB).code == "InvalidAction.NotFound"
    assert err(sim.rpc, "DescribeVpcs", SLB).code == "InvalidAction.NotFound"
    assert err(sim.rpc, "DescribeVpcs", VPC, {"RegionId": "cn-nowhere"}).code == \
        "InvalidRegionId"


# -- metadata ------------------------------------------------------------------------------

def meta_get(sim, path, headers=None, method="GET"):
    status, _, data = sim._request(method, path, None, headers or {})
    return status, data.decode()


def test_metadata_items(sim):
    assert meta_get(sim, "/latest/meta-data/region-id") == (200, "cn-hangzhou")
    assert meta_get(sim, "/latest/meta-data/instance-id") == (200, "i-sim0001")
    assert meta_get(sim, "/latest/meta-data/vpc-id") == (200, "vpc-sim0001")
    assert meta_get(sim, "/latest/meta-data/vswitch-id") == (200, "vsw-sim0001")
    assert meta_get(sim, "/latest/meta-data/zone-id") == (200, "cn-hangzhou-h")
    st, root = meta_get(sim, "/latest/meta-data/")
    assert st == 200 and "ram/" in root.split("\n")
    assert meta_get(sim, "/latest/meta-data/nope")[0] == 404


def test_metadata_token_and_role_credentials(sim):
    st, tok = meta_get(sim, "/latest/api/token", {
        "X-aliyun-ecs-metadata-token-ttl-seconds": "21600"}, "PUT")
    assert st == 200 and tok
    assert meta_get(sim, "/latest/api/token", {
        "X-aliyun-ecs-metadata-token-ttl-seconds": "21601"}, "PUT")[0] == 400
    assert meta_get(sim, "/latest/meta-data/region-id",
                    {"X-aliyun-ecs-metadata-token": "bogus"})[0] == 401
    h = {"X-aliyun-ecs-metadata-token": tok}
    st, role = meta_get(sim, "/latest/meta-data/ram/security-credentials/", h)
    assert (st, role) == (200, "KubernetesMasterRole-sim")
    st, raw = meta_get(sim, "/latest/meta-data/ram/security-credentials/" + role, h)
    cred = json.loads(raw)
    assert cred["Code"] == "Success" and cred["AccessKeyId"].startswith("STS.")
    assert cred["Expiration"].endswith("Z")
    body = sim.rpc("DescribeRouteTableList", VPC, {"VpcId": "vpc-sim0001"},
                   ak_id=cred["AccessKeyId"], ak_secret=cred["AccessKeySecret"],
                   token=cred["SecurityToken"])
    assert body["TotalCount"] == 1
    sim.mutate("expire_sts")
    e = err(sim.rpc, "DescribeVpcs", VPC, ak_id=cred["AccessKeyId"],
            ak_secret=cred["AccessKeySecret"], token=cred["SecurityToken"])
    assert e.code == "InvalidSecurityToken.Expired"
    fresh = json.loads(meta_get(sim, "/latest/meta-data/ram/security-credentials/" + role)[1])
    assert fresh["AccessKeyId"] != cred["AccessKeyId"]


def test_metadata_stall(sim):
    """metadata_stall_until holds metadata requests, then answers them;
    the RPC endpoint is not held meanwhile."""
    t0 = time.time()
    sim.config(metadata_stall_until=t0 + 1.5)
    try:
        assert sim.rpc("DescribeVpcs", VPC)["TotalCount"] >= 1
        assert time.time() - t0 < 1.5
        assert meta_get(sim, "/latest/meta-data/region-id") == (200, "cn-hangzhou")
        assert time.time() >= t0 + 1.5
    finally:
        sim.config(metadata_stall_until=0)
    t1 = time.time()
    assert meta_get(sim, "/latest/meta-data/region-id")[0] == 200
    assert time.time() - t1 < 1.5


def test_metadata_imdsv2_required(sim):
    sim.mutate("set_metadata", imdsv2_required=True)
    assert meta_get(sim, "/latest/meta-data/region-id")[0] == 403


# -- SLB -------------------------------------------------------------------------------------

def create_intranet(sim, **kw):
    p = {"AddressType": "intranet", "VSwitchId": "vsw-sim0001",
         "LoadBalancerSpec": "slb.s1.small"}
    p.update(kw)
    return sim.rpc("CreateLoadBalancer", SLB, p)


def test_create_load_balancer_addresses(sim):
    lb = create_intranet(sim)
    assert lb["LoadBalancerId"].startswith("lb-")
    assert lb["Address"].startswith("192.168.0.")
    assert lb["VpcId"] == "vpc-sim0001"
    want = create_intranet(sim, Address="192.168.0.200")
    assert want["Address"] == "192.168.0.200"
    e = err(create_intranet, sim, Address="192.168.0.200")
    assert e.code == "InvalidIpAddress.AlreadyUsed"
    assert err(create_intranet, sim, Address="192.168.0.10").code == \
        "InvalidIpAddress.AlreadyUsed"
    pub = sim.rpc("CreateLoadBalancer", SLB, {"AddressType": "internet"})
    assert pub["Address"].startswith("47.99.") and pub["VpcId"] == ""
    e = err(sim.rpc, "CreateLoadBalancer", SLB, {"AddressType": "intranet"})
    assert e.code == "MissingParameter" and "VSwitchId" in e.body["Message"]


def test_create_load_balancer_client_token(sim):
    a = create_intranet(sim, ClientToken="tok-1", LoadBalancerName="a")
    b = create_intranet(sim, ClientToken="tok-1", LoadBalancerName="a")
    assert a["LoadBalancerId"] == b["LoadBalancerId"] and a["RequestId"] != b["RequestId"]
    assert sim.rpc("DescribeLoadBalancers", SLB)["TotalCount"] == 1
    e = err(create_intranet, sim, ClientToken="tok-1", LoadBalancerName="b")
    assert e.code == "IdempotentParameterMismatch"


def test_load_balancer_attributes_and_protection(sim):
    lb = create_intranet(sim, DeleteProtection="on", **{"Tag.1.Key": "k", "Tag.1.Value": "v"})
    lid = lb["LoadBalancerId"]
    e = err(sim.rpc, "DeleteLoadBalancer", SLB, {"LoadBalancerId": lid})
    assert e.code == "OperationDenied.DeleteProtectionIsOn"
    sim.rpc("SetLoadBalancerName", SLB, {"LoadBalancerId": lid, "LoadBalancerName": "n1"})
    sim.rpc("ModifyLoadBalancerInstanceSpec", SLB, {"LoadBalancerId": lid,
                                                    "LoadBalancerSpec": "slb.s2.small"})
    sim.rpc("SetLoadBalancerModificationProtection", SLB, {
        "LoadBalancerId": lid, "ModificationProtectionStatus": "ConsoleProtection",
        "ModificationProtectionReason": "managed"})
    attr = sim.rpc("DescribeLoadBalancerAttribute", SLB, {"LoadBalancerId": lid})
    assert attr["LoadBalancerName"] == "n1"
    assert attr["LoadBalancerSpec"] == "slb.s2.small"
    assert attr["DeleteProtection"] == "on"
    assert attr["ModificationProtectionStatus"] == "ConsoleProtection"
    assert attr["Tags"]["Tag"] == [{"TagKey": "k", "TagValue": "v"}]
    assert attr["InternetChargeType"] == "paybytraffic"
    sim.rpc("SetLoadBalancerDeleteProtection", SLB, {"LoadBalancerId": lid,
                                                     "DeleteProtection": "off"})
    sim.rpc("DeleteLoadBalancer", SLB, {"LoadBalancerId": lid})
    e = err(sim.rpc, "DescribeLoadBalancerAttribute", SLB, {"LoadBalancerId": lid})
    assert e.code == "InvalidLoadBalancerId.NotFound"
    assert "LoadBalancerId does not exist" in e.body["Message"]


def test_billing_changes_in_place(sim):
    pub = sim.rpc("CreateLoadBalancer", SLB, {"AddressType": "internet"})["LoadBalancerId"]
    sim.rpc("ModifyLoadBalancerInstanceChargeType", SLB, {
        "LoadBalancerId": pub, "InstanceChargeType": "PayByCLCU"})
    attr = sim.rpc("DescribeLoadBalancerAttribute", SLB, {"LoadBalancerId": pub})
    assert attr["InstanceChargeType"] == "PayByCLCU" and attr["LoadBalancerSpec"] == ""
    e = err(sim.rpc, "ModifyLoadBalancerInstanceChargeType", SLB, {
        "LoadBalancerId": pub, "InstanceChargeType": "PayBySpec"})
    assert "LoadBalancerSpec" in e.body["Message"]
    e = err(sim.rpc, "ModifyLoadBalancerInstanceChargeType", SLB, {
        "LoadBalancerId": pub, "InstanceChargeType": "Monthly"})
    assert "InstanceChargeType" in e.body["Message"]
    sim.rpc("ModifyLoadBalancerInstanceChargeType", SLB, {
        "LoadBalancerId": pub, "InstanceChargeType": "PayBySpec",
        "LoadBalancerSpec": "slb.s2.small"})
    sim.rpc("ModifyLoadBalancerInternetSpec", SLB, {
        "LoadBalancerId": pub, "InternetChargeType": "paybybandwidth", "Bandwidth": "10"})
    attr = sim.rpc("DescribeLoadBalancerAttribute", SLB, {"LoadBalancerId": pub})
    assert attr["LoadBalancerSpec"] == "slb.s2.small"
    assert attr["InternetChargeType"] == "paybybandwidth" and attr["Bandwidth"] == 10
    e = err(sim.rpc, "ModifyLoadBalancerInternetSpec", SLB, {
        "LoadBalancerId": pub, "Bandwidth": "0"})
    assert "Bandwidth" in e.body["Message"]
    priv = create_intranet(sim)["LoadBalancerId"]
    e = err(sim.rpc, "ModifyLoadBalancerInternetSpec", SLB, {
        "LoadBalancerId": priv, "InternetChargeType": "paybybandwidth"})
    assert e.code == "InvalidParameter.InternetChargeType"


def test_describe_load_balancers_filters_and_paging(sim):
    ids = []
    for n in range(5):
        tags = {"Tag.1.Key": "cluster", "Tag.1.Value": "c%d" % (n % 2)}
        ids.append(create_intranet(sim, LoadBalancerName="lb%d" % n, **tags)["LoadBalancerId"])
    sim.config(page_size=2)
    seen, page = [], 1
    while True:
        body = sim.rpc("DescribeLoadBalancers", SLB, {"PageNumber": page, "PageSize": 50})
        assert body["TotalCount"] == 5 and body["PageSize"] == 2
        seen += [x["LoadBalancerId"] for x in body["LoadBalancers"]["LoadBalancer"]]
        if page * body["PageSize"] >= body["TotalCount"]:
            break
        page += 1
    assert seen == ids
    by_tag = sim.rpc("DescribeLoadBalancers", SLB, {
        "Tags": json.dumps([{"TagKey": "cluster", "TagValue": "c1"}])})
    assert by_tag["TotalCount"] == 2
    lower = sim.rpc("DescribeLoadBalancers", SLB, {
        "Tags": json.dumps({"tagKey": "cluster", "tagValue": "c0"})})
    assert lower["TotalCount"] == 3
    by_name = sim.rpc("DescribeLoadBalancers", SLB, {"LoadBalancerName": "lb3,lb4"})
    assert by_name["TotalCount"] == 2
    by_id = sim.rpc("DescribeLoadBalancers", SLB, {"LoadBalancerId": ids[0]})
    assert by_id["LoadBalancers"]["LoadBalancer"][0]["LoadBalancerName"] == "lb0"
    assert sim.rpc("DescribeLoadBalancers", SLB, {"AddressType": "internet"})["TotalCount"] == 0


def test_tags_legacy_and_tagresources(sim):
    lid = create_intranet(sim)["LoadBalancerId"]
    sim.rpc("AddTags", SLB, {"LoadBalancerId": lid,
                             "Tags": json.dumps([{"TagKey": "a", "TagValue": "1"}])})
    sim.rpc("TagResources", SLB, {"ResourceType": "instance", "ResourceId.1": lid,
                                  "Tag.1.Key": "b", "Tag.1.Value": "2"})
    tags = sim.rpc("DescribeTags", SLB, {"LoadBalancerId": lid})["TagSets"]["TagSet"]
    assert {(t["TagKey"], t["TagValue"]) for t in tags} == {("a", "1"), ("b", "2")}
    lst = sim.rpc("ListTagResources", SLB, {"ResourceType": "instance", "ResourceId.1": lid})
    assert len(lst["TagResources"]["TagResource"]) == 2
    sim.rpc("UntagResources", SLB, {"ResourceType": "instance", "ResourceId.1": lid,
                                    "TagKey.1": "a"})
    sim.rpc("RemoveTags", SLB, {"LoadBalancerId": lid,
                                "Tags": json.dumps([{"TagKey": "b", "TagValue": "2"}])})
    attr = sim.rpc("DescribeLoadBalancerAttribute", SLB, {"LoadBalancerId": lid})
    assert attr["Tags"]["Tag"] == []


def make_group(sim, lid, backends=None):
    p = {"LoadBalancerId": lid, "VServerGroupName": "k8s/80/svc/default/c1"}
    if backends is not None:
        p["BackendServers"] = json.dumps(backends)
    return sim.rpc("CreateVServerGroup", SLB, p)["VServerGroupId"]


def test_listeners_lifecycle(sim):
    lid = create_intranet(sim)["LoadBalancerId"]
    vg = make_group(sim, lid)
    base = {"LoadBalancerId": lid, "ListenerPort": 80, "Bandwidth": -1, "VServerGroupId": vg}
    sim.rpc("CreateLoadBalancerTCPListener", SLB, dict(base, healthCheckInterval=5))
    sim.rpc("CreateLoadBalancerUDPListener", SLB, base)  # same port, other L4 protocol
    e = err(sim.rpc, "CreateLoadBalancerHTTPListener", SLB,
            dict(base, HealthCheck="on", StickySession="off"))
    assert e.code == "ListenerAlreadyExists"
    e = err(sim.rpc, "CreateLoadBalancerTCPListener", SLB, {"LoadBalancerId": lid,
                                                            "ListenerPort": 81, "Bandwidth": -1})
    assert e.code == "MissingParameter" and "BackendServerPort" in e.body["Message"]
    sim.rpc("CreateLoadBalancerHTTPSListener", SLB, dict(
        base, ListenerPort=443, HealthCheck="off", StickySession="off",
        ServerCertificateId="cert-1"))
    tcp = sim.rpc("DescribeLoadBalancerTCPListenerAttribute", SLB,
                  {"LoadBalancerId": lid, "ListenerPort": 80})
    assert tcp["Status"] == "stopped" and tcp["HealthCheckInterval"] == 5
    assert tcp["VServerGroupId"] == vg and tcp["Bandwidth"] == -1
    sim.rpc("StartLoadBalancerListener", SLB, {"LoadBalancerId": lid, "ListenerPort": 80,
                                               "ListenerProtocol": "tcp"})
    sim.rpc("SetLoadBalancerTCPListenerAttribute", SLB, {
        "LoadBalancerId": lid, "ListenerPort": 80, "Scheduler": "rr",
        "HealthCheckInterval": 7, "VServerGroup": "on", "VServerGroupId": vg})
    tcp = sim.rpc("DescribeLoadBalancerTCPListenerAttribute", SLB,
                  {"LoadBalancerId": lid, "ListenerPort": 80})
    assert (tcp["Status"], tcp["Scheduler"], tcp["HealthCheckInterval"]) == ("running", "rr", 7)
    e = err(sim.rpc, "DescribeLoadBalancerHTTPListenerAttribute", SLB,
            {"LoadBalancerId": lid, "ListenerPort": 80})
    assert e.code == "ListenerNotFound"
    sim.config(page_size=2)
    got, tok = [], None
    while True:
        p = {"LoadBalancerId.1": lid, "MaxResults": 50}
        if tok:
            p["NextToken"] = tok
        body = sim.rpc("DescribeLoadBalancerListeners", SLB, p)
        got += [(x["ListenerPort"], x["ListenerProtocol"]) for x in body["Listeners"]]
        tok = body["NextToken"]
        if not tok:
            break
    assert got == [(80, "tcp"), (80, "udp"), (443, "https")]
    assert body["Listeners"][0]["HTTPSListenerConfig"]["ServerCertificateId"] == "cert-1"
    e = err(sim.rpc, "DeleteVServerGroup", SLB, {"VServerGroupId": vg})
    assert e.code == "RspoolVipExist"
    for port, proto in got:
        sim.rpc("DeleteLoadBalancerListener", SLB, {"LoadBalancerId": lid, "ListenerPort": port,
                                                    "ListenerProtocol": proto})
    sim.rpc("DeleteVServerGroup", SLB, {"VServerGroupId": vg})


def test_listener_forward_and_proxy_protocol(sim):
    lid = create_intranet(sim)["LoadBalancerId"]
    vg = make_group(sim, lid)
    http = {"LoadBalancerId": lid, "ListenerPort": 80, "HealthCheck": "off",
            "StickySession": "off", "ListenerForward": "on", "ForwardPort": 443}
    e = err(sim.rpc, "CreateLoadBalancerHTTPListener", SLB, http)
    assert e.code == "InvalidParameter" and "ForwardPort" in e.body["Message"]
    e = err(sim.rpc, "CreateLoadBalancerHTTPListener", SLB,
            {k: v for k, v in http.items() if k != "ForwardPort"})
    assert e.code == "MissingParameter" and "ForwardPort" in e.body["Message"]
    sim.rpc("CreateLoadBalancerHTTPSListener", SLB, {
        "LoadBalancerId": lid, "ListenerPort": 443, "Bandwidth": -1, "VServerGroupId": vg,
        "HealthCheck": "off", "StickySession": "off", "ServerCertificateId": "cert-1"})
    sim.rpc("CreateLoadBalancerHTTPListener", SLB, http)  # no backends needed
    got = sim.rpc("DescribeLoadBalancerHTTPListenerAttribute", SLB,
                  {"LoadBalancerId": lid, "ListenerPort": 80})
    assert (got["ListenerForward"], got["ForwardPort"]) == ("on", 443)
    e = err(sim.rpc, "DeleteLoadBalancerListener", SLB,
            {"LoadBalancerId": lid, "ListenerPort": 443, "ListenerProtocol": "https"})
    assert e.code == "ListenerForwardExist"
    sim.rpc("DeleteLoadBalancerListener", SLB,
            {"LoadBalancerId": lid, "ListenerPort": 80, "ListenerProtocol": "http"})
    sim.rpc("DeleteLoadBalancerListener", SLB,
            {"LoadBalancerId": lid, "ListenerPort": 443, "ListenerProtocol": "https"})
    tcp = {"LoadBalancerId": lid, "ListenerPort": 81, "Bandwidth": -1, "VServerGroupId": vg}
    e = err(sim.rpc, "CreateLoadBalancerTCPListener", SLB,
            dict(tcp, ProxyProtocolV2Enabled="yes"))
    assert e.code == "InvalidParameter"
    sim.rpc("CreateLoadBalancerTCPListener", SLB, dict(tcp, ProxyProtocolV2Enabled="true"))
    got = sim.rpc("DescribeLoadBalancerTCPListenerAttribute", SLB,
                  {"LoadBalancerId": lid, "ListenerPort": 81})
    assert got["ProxyProtocolV2Enabled"] is True


def test_domain_extensions(sim):
    lid = create_intranet(sim)["LoadBalancerId"]
    vg = make_group(sim, lid)
    sim.rpc("CreateLoadBalancerHTTPSListener", SLB, {
        "LoadBalancerId": lid, "ListenerPort": 443, "Bandwidth": -1, "VServerGroupId": vg,
        "HealthCheck": "off", "StickySession": "off", "ServerCertificateId": "cert-1"})
    sim.rpc("CreateLoadBalancerTCPListener", SLB, {
        "LoadBalancerId": lid, "ListenerPort": 80, "Bandwidth": -1, "VServerGroupId": vg})
    base = {"LoadBalancerId": lid, "ListenerPort": 443, "Domain": "a.example.com",
            "ServerCertificateId": "cert-a"}
    de = sim.rpc("CreateDomainExtension", SLB, base)["DomainExtensionId"]
    assert err(sim.rpc, "CreateDomainExtension", SLB, base).code == "InvalidParameter"
    assert err(sim.rpc, "CreateDomainExtension", SLB,
               dict(base, ListenerPort=80, Domain="b.example.com")).code == "InvalidParameter"
    sim.rpc("SetDomainExtensionAttribute", SLB,
            {"DomainExtensionId": de, "ServerCertificateId": "cert-a2"})
    got = sim.rpc("DescribeDomainExtensions", SLB, {"LoadBalancerId": lid, "ListenerPort": 443})
    assert got["DomainExtensions"]["DomainExtension"] == [
        {"DomainExtensionId": de, "Domain": "a.example.com", "ServerCertificateId": "cert-a2"}]
    sim.rpc("DeleteDomainExtension", SLB, {"DomainExtensionId": de})
    e = err(sim.rpc, "DeleteDomainExtension", SLB, {"DomainExtensionId": de})
    assert e.code == "InvalidParameter.DomainExtensionId"
    got = sim.rpc("DescribeDomainExtensions", SLB, {"LoadBalancerId": lid})
    assert got["DomainExtensions"]["DomainExtension"] == []


def test_listener_quota(sim):
    lid = create_intranet(sim)["LoadBalancerId"]
    sim.config(quotas={"listeners_per_lb": 2})
    for port in (1, 2):
        sim.rpc("CreateLoadBalancerTCPListener", SLB, {"LoadBalancerId": lid, "ListenerPort": port,
                                                       "Bandwidth": -1, "BackendServerPort": 80})
    e = err(sim.rpc, "CreateLoadBalancerTCPListener", SLB, {
        "LoadBalancerId": lid, "ListenerPort": 3, "Bandwidth": -1, "BackendServerPort": 80})
    assert e.code == "ListenerNumberOverLimit"


def test_vserver_group_backends(sim):
    lid = create_intranet(sim)["LoadBalancerId"]
    vg = make_group(sim, lid, [{"ServerId": "i-sim0002", "Port": "30080", "Weight": "100"}])
    add = sim.rpc("AddVServerGroupBackendServers", SLB, {"VServerGroupId": vg, "BackendServers":
                  json.dumps([{"serverId": "i-sim0003", "port": 30080, "weight": 50,
                               "type": "ecs", "description": "d"},
                              {"serverId": "eni-simpod0002", "serverIp": "192.168.1.101",
                               "port": 8080, "weight": 100, "type": "eni"}])})
    servers = add["BackendServers"]["BackendServer"]
    assert [(b["ServerId"], b["Port"], b["Weight"]) for b in servers] == [
        ("i-sim0002", 30080, 100), ("i-sim0003", 30080, 50), ("eni-simpod0002", 8080, 100)]
    assert servers[2]["ServerIp"] == "192.168.1.101"
    sim.rpc("SetVServerGroupAttribute", SLB, {"VServerGroupId": vg, "BackendServers":
            json.dumps([{"ServerId": "i-sim0003", "Port": 30080, "Weight": 0}])})
    sim.rpc("RemoveVServerGroupBackendServers", SLB, {"VServerGroupId": vg, "BackendServers":
            json.dumps([{"ServerId": "i-sim0002", "Port": 30080}])})
    sim.rpc("ModifyVServerGroupBackendServers", SLB, {
        "VServerGroupId": vg,
        "OldBackendServers": json.dumps([{"ServerId": "eni-simpod0002", "Port": 8080,
                                          "ServerIp": "192.168.1.101", "Type": "eni"}]),
        "NewBackendServers": json.dumps([{"ServerId": "eni-simpod0002", "Port": 8080,
                                          "ServerIp": "192.168.1.100", "Type": "eni"}])})
    attr = sim.rpc("DescribeVServerGroupAttribute", SLB, {"VServerGroupId": vg})
    assert [(b["ServerId"], b["Weight"], b["ServerIp"]) for b in
            attr["BackendServers"]["BackendServer"]] == [
        ("i-sim0003", 0, "192.168.1.12"), ("eni-simpod0002", 100, "192.168.1.100")]
    groups = sim.rpc("DescribeVServerGroups", SLB, {"LoadBalancerId": lid})
    assert groups["VServerGroups"]["VServerGroup"][0]["VServerGroupName"] == \
        "k8s/80/svc/default/c1"


def test_backend_validation(sim):
    lid = create_intranet(sim)["LoadBalancerId"]
    vg = make_group(sim, lid)

    def add(b):
        return sim.rpc("AddVServerGroupBackendServers", SLB,
                       {"VServerGroupId": vg, "BackendServers": json.dumps(b)})
    assert err(add, [{"ServerId": "i-nope", "Port": 80}]).code == "InvalidServerId.NotExist"
    assert err(add, [{"ServerId": "eni-nope", "Port": 80, "Type": "eni"}]).code == \
        "InvalidServerId.NotExist"
    assert err(add, [{"ServerId": "i-sim0002", "Port": 80, "Type": "vm"}]).code == \
        "BackendServer.InvalidType"
    too_many = [{"ServerId": "i-sim0002", "Port": p} for p in range(1000, 1021)]
    e = err(add, too_many)
    assert e.code == "TooManyBackendServers" and "20" in e.body["Message"]
    sim.mutate("add_vpc", id="vpc-sim0002", cidr="10.0.0.0/16")
    sim.mutate("add_vswitch", id="vsw-sim0009", vpc_id="vpc-sim0002", cidr="10.0.0.0/24",
               zone="cn-hangzhou-h")
    other = sim.mutate("add_instance", id="i-simother", vswitch_id="vsw-sim0009")
    assert other["private_ip"].startswith("10.0.0.")
    assert err(add, [{"ServerId": "i-simother", "Port": 80}]).code == "NetworkConflict"
    sim.config(quotas={"backends_per_lb": 3})
    # the quota counts servers: one instance on many ports is one server
    add([{"ServerId": "i-sim0002", "Port": p} for p in (1, 2, 3, 4)])
    add([{"ServerId": sid, "Port": 1} for sid in ("i-sim0003", "i-sim0004")])
    assert err(add, [{"ServerId": "i-sim0001", "Port": 1}]).code == \
        "InstanceBackendServerNumberOverLimit"


def test_attachment_quota(sim):
    """One ECS instance can be a backend of at most lbs_per_instance CLBs;
    more groups or ports on a CLB it is already in do not count again."""
    sim.config(quotas={"lbs_per_instance": 2})
    groups = [make_group(sim, create_intranet(sim)["LoadBalancerId"]) for _ in range(3)]

    def add(vg, sid, port=80):
        return sim.rpc("AddVServerGroupBackendServers", SLB, {
            "VServerGroupId": vg,
            "BackendServers": json.dumps([{"ServerId": sid, "Port": port}])})
    add(groups[0], "i-sim0002")
    add(groups[1], "i-sim0002")
    add(groups[1], "i-sim0002", 81)
    e = err(add, groups[2], "i-sim0002")
    assert e.code == "InstanceAttachedLoadBalancerNumberOverLimit"
    assert "i-sim0002" in e.body["Message"]
    add(groups[2], "i-sim0003")
    sim.rpc("RemoveVServerGroupBackendServers", SLB, {
        "VServerGroupId": groups[0],
        "BackendServers": json.dumps([{"ServerId": "i-sim0002", "Port": 80}])})
    add(groups[2], "i-sim0002")


# -- VPC ---------------------------------------------------------------------------------------

def test_vpc_describes(sim):
    assert sim.rpc("DescribeVpcAttribute", VPC, {"VpcId": "vpc-sim0001"})["CidrBlock"] == \
        "192.168.0.0/16"
    vsw = sim.rpc("DescribeVSwitches", VPC, {"VpcId": "vpc-sim0001"})
    assert [s["ZoneId"] for s in vsw["VSwitches"]["VSwitch"]] == ["cn-hangzhou-h", "cn-hangzhou-i"]
    one = sim.rpc("DescribeVSwitchAttributes", VPC, {"VSwitchId": "vsw-sim0002"})
    assert one["CidrBlock"] == "192.168.1.0/24"
    tables = sim.rpc("DescribeRouteTableList", VPC, {"VpcId": "vpc-sim0001"})
    assert [t["RouteTableId"] for t in tables["RouterTableList"]["RouterTableListType"]] == \
        ["vtb-sim0001"]
    sim.mutate("add_route_table", id="vtb-sim0002", vpc_id="vpc-sim0001")
    sim.config(page_size=1)
    p1 = sim.rpc("DescribeRouteTableList", VPC, {"VpcId": "vpc-sim0001"})
    p2 = sim.rpc("DescribeRouteTableList", VPC, {"VpcId": "vpc-sim0001", "PageNumber": 2})
    assert p1["TotalCount"] == 2
    assert p2["RouterTableList"]["RouterTableListType"][0]["RouteTableId"] == "vtb-sim0002"
    eips = sim.rpc("DescribeEipAddresses", VPC, {"AssociatedInstanceType": "EcsInstance"})
    assert eips["EipAddresses"]["EipAddress"][0]["IpAddress"] == "47.99.0.3"


def entries(sim, **kw):
    out, tok = [], None
    while True:
        p = dict({"RouteTableId": "vtb-sim0001", "MaxResult": 500}, **kw)
        if tok:
            p["NextToken"] = tok
        body = sim.rpc("DescribeRouteEntryList", VPC, p)
        out += body["RouteEntrys"]["RouteEntry"]
        tok = body["NextToken"]
        if not tok:
            return out


def wait_available(sim, table="vtb-sim0001"):
    for _ in range(200):
        st = [t for t in sim.state()["route_tables"] if t["id"] == table][0]
        if not st["busy"]:
            return
        time.sleep(0.05)
    raise AssertionError("table stays busy")


def test_route_entry_async_and_conflicts(sim):
    sim.config(route_pending_ms=400)
    p = {"RouteTableId": "vtb-sim0001", "DestinationCidrBlock": "172.20.0.0/24",
         "NextHopType": "Instance", "NextHopId": "i-sim0002", "ClientToken": "ct-1"}
    rte = sim.rpc("CreateRouteEntry", VPC, p)["RouteEntryId"]
    assert rte.startswith("rte-")
    assert sim.rpc("CreateRouteEntry", VPC, p)["RouteEntryId"] == rte
    custom = entries(sim, RouteEntryType="Custom")
    assert [(e["DestinationCidrBlock"], e["Status"]) for e in custom] == [
        ("172.20.0.0/24", "Pending")]
    assert custom[0]["NextHops"]["NextHop"][0]["NextHopId"] == "i-sim0002"
    e = err(sim.rpc, "CreateRouteEntry", VPC, dict(p, DestinationCidrBlock="172.20.1.0/24",
                                                   ClientToken="ct-2"))
    assert e.code == "TaskConflict"
    wait_available(sim)
    assert entries(sim, RouteEntryType="Custom")[0]["Status"] == "Available"
    e = err(sim.rpc, "CreateRouteEntry", VPC, dict(p, ClientToken="ct-3"))
    assert e.code == "InvalidCIDRBlock.Duplicate"
    e = err(sim.rpc, "CreateRouteEntry", VPC, dict(p, ClientToken="", NextHopId="i-nope",
                                                   DestinationCidrBlock="172.20.9.0/24"))
    assert e.code == "InvalidNextHop.NotFound"
    e = err(sim.rpc, "CreateRouteEntry", VPC, dict(p, ClientToken="",
                                                   DestinationCidrBlock="192.168.0.0/25"))
    assert e.code == "InvalidCidrBlock"
    sim.rpc("DeleteRouteEntry", VPC, {"RouteTableId": "vtb-sim0001", "NextHopId": "i-sim0002",
                                      "DestinationCidrBlock": "172.20.0.0/24"})
    e = err(sim.rpc, "DeleteRouteEntry", VPC, {"RouteTableId": "vtb-sim0001",
                                               "NextHopId": "i-sim0002",
                                               "DestinationCidrBlock": "172.20.0.0/24"})
    assert e.code == "InvalidRouteEntry.NotFound"


def test_route_entry_quota(sim):
    sim.config(route_pending_ms=0, quotas={"route_entries_per_table": 2})
    for n in range(2):
        sim.rpc("CreateRouteEntry", VPC, {"RouteTableId": "vtb-sim0001", "NextHopId": "i-sim0002",
                                          "DestinationCidrBlock": "172.21.%d.0/24" % n})
    e = err(sim.rpc, "CreateRouteEntry", VPC, {"RouteTableId": "vtb-sim0001",
                                               "NextHopId": "i-sim0002",
                                               "DestinationCidrBlock": "172.21.9.0/24"})
    assert e.code == "QuotaExceeded"
    assert e.body["Message"] == "Route entry quota exceeded in this route table."
    out = sim.rpc("CreateRouteEntries", VPC, {
        "RouteEntries.1.RouteTableId": "vtb-sim0001", "RouteEntries.1.NextHop": "i-sim0002",
        "RouteEntries.1.DstCidrBlock": "172.21.8.0/24"})
    assert out["FailedRouteEntries"][0]["FailedCode"] == "QuotaExceeded"


def test_route_entry_ecmp_and_marks(sim):
    sim.config(route_pending_ms=0)
    sim.mutate("add_route_entry", route_table_id="vtb-sim0001", cidr="172.24.0.0/24",
               next_hop_id="i-sim0002", extra_hops=[{"id": "i-sim0003"}])
    sim.rpc("CreateRouteEntry", VPC, {"RouteTableId": "vtb-sim0001", "NextHopId": "i-sim0002",
                                      "DestinationCidrBlock": "172.24.1.0/24",
                                      "RouteEntryName": "k8s-route.c1",
                                      "Description": "node n1"})
    wait_available(sim)
    custom = {e["DestinationCidrBlock"]: e for e in entries(sim, RouteEntryType="Custom")}
    hops = custom["172.24.0.0/24"]["NextHops"]["NextHop"]
    assert [h["NextHopId"] for h in hops] == ["i-sim0002", "i-sim0003"]
    assert custom["172.24.1.0/24"]["RouteEntryName"] == "k8s-route.c1"
    assert custom["172.24.1.0/24"]["Description"] == "node n1"
    st = [t for t in sim.state()["route_tables"] if t["id"] == "vtb-sim0001"][0]
    ecmp = [e for e in st["entries"] if e["cidr"] == "172.24.0.0/24"][0]
    assert ecmp["extra_hops"] == [{"id": "i-sim0003", "type": "Instance"}]


def test_route_entry_list_paging_and_filters(sim):
    sim.config(route_pending_ms=0, page_size=2)
    for n in range(5):
        sim.mutate("add_route_entry", route_table_id="vtb-sim0001", cidr="172.22.%d.0/24" % n,
                   next_hop_id="i-sim000%d" % (2 + n % 3))
    custom = entries(sim, RouteEntryType="Custom", NextHopType="Instance")
    assert [e["DestinationCidrBlock"] for e in custom] == ["172.22.%d.0/24" % n for n in range(5)]
    assert len(entries(sim)) == 5 + 3  # plus two vSwitch routes and the service route
    one = entries(sim, DestinationCidrBlock="172.22.3.0/24", NextHopId="i-sim0002")
    assert [e["DestinationCidrBlock"] for e in one] == ["172.22.3.0/24"]
    e = err(sim.rpc, "DescribeRouteEntryList", VPC, {"RouteTableId": "vtb-sim0001",
                                                     "NextToken": "garbage"})
    assert e.code == "InvalidNextToken"


def test_route_entries_batch(sim):
    sim.config(route_pending_ms=0)
    sim.mutate("add_route_entry", route_table_id="vtb-sim0001", cidr="172.23.0.0/24",
               next_hop_id="i-sim0002")
    res = sim.rpc("CreateRouteEntries", VPC, {
        "RouteEntries.1.RouteTableId": "vtb-sim0001", "RouteEntries.1.DstCidrBlock":
        "172.23.0.0/24", "RouteEntries.1.NextHop": "i-sim0002",
        "RouteEntries.1.NextHopType": "Instance",
        "RouteEntries.2.RouteTableId": "vtb-sim0001", "RouteEntries.2.DstCidrBlock":
        "172.23.1.0/24", "RouteEntries.2.NextHop": "i-sim0003",
        "RouteEntries.2.NextHopType": "Instance"})
    assert res["SuccessCount"] == 1 and res["FailedCount"] == 1
    assert res["FailedRouteEntries"][0]["FailedCode"] == "VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE"
    res = sim.rpc("DeleteRouteEntries", VPC, {
        "RouteEntries.1.RouteTableId": "vtb-sim0001", "RouteEntries.1.DstCidrBlock":
        "172.23.1.0/24", "RouteEntries.1.NextHop": "i-sim0003",
        "RouteEntries.2.RouteTableId": "vtb-sim0001", "RouteEntries.2.DstCidrBlock":
        "172.23.7.0/24", "RouteEntries.2.NextHop": "i-sim0003"})
    assert res["SuccessCount"] == 1
    assert res["FailedRouteEntries"][0]["FailedCode"] == "VPC_ROUTER_ENTRY_NOT_EXIST"


# -- ECS ---------------------------------------------------------------------------------------

def test_describe_instances(sim):
    body = sim.rpc("DescribeInstances", ECS, {"InstanceIds": json.dumps(["i-sim0002",
                                                                         "i-sim0003", "i-x"])})
    inst = {i["InstanceId"]: i for i in body["Instances"]["Instance"]}
    assert set(inst) == {"i-sim0002", "i-sim0003"}
    assert inst["i-sim0003"]["EipAddress"]["IpAddress"] == "47.99.0.3"
    assert inst["i-sim0002"]["PublicIpAddress"]["IpAddress"] == ["47.99.0.2"]
    assert inst["i-sim0002"]["NetworkInterfaces"]["NetworkInterface"][0]["Type"] == "Primary"
    by_ip = sim.rpc("DescribeInstances", ECS, {"VpcId": "vpc-sim0001", "InstanceNetworkType":
                                               "vpc", "PrivateIpAddresses":
                                               json.dumps(["192.168.1.13"])})
    assert [i["InstanceId"] for i in by_ip["Instances"]["Instance"]] == ["i-sim0004"]
    sim.config(page_size=2)
    got, tok = [], None
    while True:
        p = {"MaxResults": 100}
        if tok:
            p["NextToken"] = tok
        body = sim.rpc("DescribeInstances", ECS, p)
        got += [i["InstanceId"] for i in body["Instances"]["Instance"]]
        tok = body["NextToken"]
        if not tok:
            break
    assert got == ["i-sim0001", "i-sim0002", "i-sim0003", "i-sim0004"]
    p2 = sim.rpc("DescribeInstances", ECS, {"PageNumber": 2, "PageSize": 10})
    assert [i["InstanceId"] for i in p2["Instances"]["Instance"]] == ["i-sim0003", "i-sim0004"]
    e = err(sim.rpc, "DescribeInstances", ECS, {"InstanceIds": "i-sim0001"})
    assert e.code == "InvalidInstanceIds.Malformed"
    sim.mutate("stop_instance", id="i-sim0004")
    one = sim.rpc("DescribeInstances", ECS, {"InstanceIds": '["i-sim0004"]'})
    assert one["Instances"]["Instance"][0]["Status"] == "Stopped"


def test_network_interfaces(sim):
    body = sim.rpc("DescribeNetworkInterfaces", ECS, {
        "VpcId": "vpc-sim0001", "Status": "InUse", "MaxResults": 100,
        "PrivateIpAddress.1": "192.168.1.101", "PrivateIpAddress.2": "192.168.0.11"})
    got = {e["NetworkInterfaceId"] for e in body["NetworkInterfaceSets"]["NetworkInterfaceSet"]}
    assert got == {"eni-simpod0002", "eni-sim0002"}
    sim.rpc("ModifyNetworkInterfaceAttribute", ECS, {"NetworkInterfaceId": "eni-sim0002",
                                                     "SourceDestCheck": "false"})
    one = sim.rpc("DescribeNetworkInterfaces", ECS, {"NetworkInterfaceId.1": "eni-sim0002"})
    assert one["NetworkInterfaceSets"]["NetworkInterfaceSet"][0]["SourceDestCheck"] is False
    e = err(sim.rpc, "ModifyNetworkInterfaceAttribute", ECS, {"NetworkInterfaceId": "eni-x",
                                                              "SourceDestCheck": "false"})
    assert e.code == "InvalidEniId.NotFound"



def test_network_interfaces_by_ipv6(sim):
    body = sim.rpc("DescribeNetworkInterfaces", ECS, {
        "VpcId": "vpc-sim0001", "Status": "InUse", "MaxResults": 100,
        "Ipv6Address.1": "2408:4005:3a0:2:0::101", "Ipv6Address.2": "2408:4005:3a0:9::1"})
    sets = body["NetworkInterfaceSets"]["NetworkInterfaceSet"]
    assert [e["NetworkInterfaceId"] for e in sets] == ["eni-simpod0002"]
    assert [a["Ipv6Address"] for a in sets[0]["Ipv6Sets"]["Ipv6Set"]] == [
        "2408:4005:3a0:2::100", "2408:4005:3a0:2::101"]
    e = err(sim.rpc, "DescribeNetworkInterfaces", ECS, {"Ipv6Address.1": "192.168.0.100"})
    assert e.code.startswith("Invalid") and "Ipv6Address" in e.body["Message"]
    many = {"Ipv6Address.%d" % (n + 1): "2408::%x" % n for n in range(101)}
    e = err(sim.rpc, "DescribeNetworkInterfaces", ECS, many)
    assert "Ipv6Address" in e.body["Message"]


def test_eni_backend_with_ipv6_server_ip(sim):
    v6 = create_intranet(sim, AddressIPVersion="ipv6")["LoadBalancerId"]
    vg = make_group(sim, v6)
    sim.rpc("AddVServerGroupBackendServers", SLB, {"VServerGroupId": vg, "BackendServers":
            json.dumps([{"ServerId": "eni-simpod0002", "ServerIp": "2408:4005:3a0:2::101",
                         "Port": 8080, "Type": "eni"}])})
    attr = sim.rpc("DescribeVServerGroupAttribute", SLB, {"VServerGroupId": vg})
    assert [(b["ServerId"], b["ServerIp"]) for b in attr["BackendServers"]["BackendServer"]
            if b["Type"] == "eni"] == [("eni-simpod0002", "2408:4005:3a0:2::101")]
    e = err(sim.rpc, "AddVServerGroupBackendServers", SLB, {
        "VServerGroupId": vg, "BackendServers": json.dumps([
            {"ServerId": "eni-simpod0001", "ServerIp": "2408:4005:3a0:2::101",
             "Port": 8080, "Type": "eni"}])})
    assert e.code == "InvalidBackendServers.ServerIpConflict"
    v4 = create_intranet(sim)["LoadBalancerId"]
    vg4 = make_group(sim, v4)
    e = err(sim.rpc, "AddVServerGroupBackendServers", SLB, {
        "VServerGroupId": vg4, "BackendServers": json.dumps([
            {"ServerId": "eni-simpod0001", "ServerIp": "2408:4005:3a0:1::100",
             "Port": 8080, "Type": "eni"}])})
    assert e.code == "InvalidBackendServers.IpVersionMismatch"


# -- faults & control -----------------------------------------------------------------------

def test_fault_fail_next(sim):
    sim.control(action="DescribeVpcs", fail_next=2, code="ServiceUnavailable", status=503)
    for _ in range(2):
        e = err(sim.rpc, "DescribeVpcs", VPC)
        assert (e.status, e.code) == (503, "ServiceUnavailable")
    assert sim.rpc("DescribeVpcs", VPC)["TotalCount"] == 1
    assert sim.faults() == []


def test_fault_rates(sim):
    sim.control(action="DescribeVSwitches", throttle_rate=1.0)
    e = err(sim.rpc, "DescribeVSwitches", VPC)
    assert (e.status, e.code) == (400, "Throttling.User")
    sim.control(action="*", error_rate_5xx=1.0)
    e = err(sim.rpc, "DescribeVpcs", VPC)
    assert e.status == 503
    sim.clear_faults()
    sim.control(action="DescribeVpcs", qps=1, burst=1)
    sim.rpc("DescribeVpcs", VPC)
    assert err(sim.rpc, "DescribeVpcs", VPC).code == "Throttling.User"


def test_ratelimit_per_key_and_action(sim):
    # rates low enough that no token comes back during the test
    sim.ratelimit(default={"qps": 0.001, "burst": 2},
                  actions={"DescribeVSwitches": {"qps": 0.001, "burst": 1}})
    for _ in range(2):
        sim.rpc("DescribeVpcs", VPC)
    e = err(sim.rpc, "DescribeVpcs", VPC)
    assert (e.status, e.code) == (400, "Throttling.User")
    assert e.body["Message"] == "Request was denied due to user flow control."
    # the override replaces the default for its action, it does not stack
    sim.rpc("DescribeVSwitches", VPC)
    assert err(sim.rpc, "DescribeVSwitches", VPC).code == "Throttling.User"
    # another action and another AccessKey have buckets of their own
    sim.rpc("DescribeRouteTableList", VPC)
    sim.rpc("DescribeVpcs", VPC, ak_id=STS_ID, ak_secret=STS_SECRET, token=STS_TOKEN)
    counts = sim.ratelimit_view()["counts"]
    assert counts["DescribeVpcs"] == {"allowed": 3, "throttled": 1}
    assert counts["DescribeVSwitches"] == {"allowed": 1, "throttled": 1}
    throttled = [c for c in sim.calls("DescribeVpcs") if c["code"] == "Throttling.User"]
    assert len(throttled) == 1 and throttled[0]["status"] == 400
    # removing the override brings the action back under the default
    view = sim.ratelimit(actions={"DescribeVSwitches": None}, reset_counts=True)
    assert view["actions"] == {} and view["counts"] == {}
    sim.rpc("DescribeVSwitches", VPC)
    sim.clear_ratelimit()
    for _ in range(5):
        sim.rpc("DescribeVpcs", VPC)


def test_ratelimit_refills(sim):
    sim.ratelimit(default={"qps": 20, "burst": 1})
    sim.rpc("DescribeVpcs", VPC)
    ok = 0
    deadline = time.monotonic() + 30
    while ok < 3 and time.monotonic() < deadline:
        status, _ = sim.rpc("DescribeVpcs", VPC, raise_error=False)
        ok += status == 200
        time.sleep(0.02)
    assert ok == 3


@pytest.mark.parametrize("doc", [{"default": {"burst": 1}}, {"default": {"qps": 0}},
                                 {"actions": {"X": {"qps": 1, "rate": 2}}}, {"other": 1},
                                 {"default": {"qps": 1, "burst": 0.5}}])
def test_ratelimit_bad_config(sim, doc):
    with pytest.raises(RuntimeError) as ei:
        sim.ratelimit(**doc)
    assert "400" in str(ei.value)
    assert sim.ratelimit_view()["default"] is None


def test_fault_latency_and_delay(sim):
    sim.control(action="DescribeVpcs", latency_ms=300, count=1)
    t0 = time.monotonic()
    sim.rpc("DescribeVpcs", VPC)
    assert time.monotonic() - t0 >= 0.3
    sim.control(action="CreateLoadBalancer", commit_then_delay_ms=300, count=1)
    t0 = time.monotonic()
    create_intranet(sim)
    assert time.monotonic() - t0 >= 0.3
    assert sim.faults() == []


def test_fault_commit_then_fail(sim):
    sim.control(action="CreateLoadBalancer", commit_then_fail=1, mode="500")
    e = err(create_intranet, sim)
    assert (e.status, e.code) == (500, "InternalError")
    assert sim.rpc("DescribeLoadBalancers", SLB)["TotalCount"] == 1
    sim.control(action="CreateLoadBalancer", commit_then_fail=1, mode="reset")
    c = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
    p = sim.signed("CreateLoadBalancer", SLB, {"RegionId": "cn-hangzhou",
                                                "AddressType": "internet"})
    qs = "&".join("%s=%s" % (k, urllib.request.quote(v, safe="")) for k, v in p.items())
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        c.request("GET", "/?" + qs)
        c.getresponse().read()
    c.close()
    assert sim.rpc("DescribeLoadBalancers", SLB)["TotalCount"] == 2
    assert [c["fault"] for c in sim.calls("CreateLoadBalancer")] == [
        "commit_then_fail", "commit_then_reset"]


def test_fault_empty_result(sim):
    sim.control(action="DescribeInstances", empty_result=1)
    body = sim.rpc("DescribeInstances", ECS, {"InstanceIds": '["i-sim0001"]'})
    assert body["Instances"] == {"Instance": []} and body["TotalCount"] == 0
    body = sim.rpc("DescribeInstances", ECS, {"InstanceIds": '["i-sim0001"]'})
    assert len(body["Instances"]["Instance"]) == 1


def test_ratelimit_refusal_takes_the_latency(sim):
    """A call refused by the rate limit is answered after the injected
    latency like any other (a round trip to the cloud), without consuming
    a counted latency rule."""
    sim.ratelimit(default={"qps": 0.001, "burst": 1})
    sim.rpc("DescribeVpcs", VPC)
    sim.control(action="DescribeVpcs", latency_ms=300, count=1)
    t0 = time.monotonic()
    assert err(sim.rpc, "DescribeVpcs", VPC).code == "Throttling.User"
    assert time.monotonic() - t0 >= 0.3
    assert sim.faults()[0]["count"] == 1


# -- in-flight accounting ----------------------------------------------------------------

def concurrently(sim, calls):
    """Sends every (action, version, params) at the same moment, each on a
    connection of its own; returns once all are answered."""
    import threading
    gate = threading.Barrier(len(calls))
    errors = []

    def one(action, version, params):
        c = SimClient(sim.url)
        try:
            gate.wait(30)
            c.rpc(action, version, params)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            c.close()
    threads = [threading.Thread(target=one, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and not any(t.is_alive() for t in threads)


def test_inflight_counts_concurrent_calls(sim):
    """Two slow calls at once -> max 2; VPC calls belong to no CLB."""
    assert sim.reset_inflight()["max"] == 0
    sim.control(action="DescribeVpcs", latency_ms=1000)
    concurrently(sim, [("DescribeVpcs", VPC, {})] * 2)
    view = sim.inflight()
    assert (view["now"], view["max"], view["max_per_lb"]) == (0, 2, {})
    assert view["counted"] == 2
    sim.reset_inflight()
    assert (sim.inflight()["max"], sim.inflight()["counted"]) == (0, 0)


def test_inflight_per_load_balancer(sim):
    """Calls on one CLB overlap -> its max is 2, whether they name the CLB
    or only one of its vServer groups; the other CLB's stays 1."""
    lid1 = create_intranet(sim)["LoadBalancerId"]
    lid2 = create_intranet(sim)["LoadBalancerId"]
    vg = make_group(sim, lid1)
    sim.reset_inflight()
    sim.control(action="*", latency_ms=1000)
    concurrently(sim, [
        ("DescribeLoadBalancerAttribute", SLB, {"LoadBalancerId": lid1}),
        ("DescribeVServerGroupAttribute", SLB, {"VServerGroupId": vg}),
        ("DescribeLoadBalancerListeners", SLB, {"LoadBalancerId.1": lid2})])
    view = sim.inflight()
    assert view["max"] == 3 and view["now"] == 0
    assert view["max_per_lb"] == {lid1: 2, lid2: 1}
    assert view["now_per_lb"] == {}


def test_inflight_sequential_and_unattributed(sim):
    """One call after another -> 1; CreateLoadBalancer and a describe of
    several CLBs are counted globally only."""
    lid1 = create_intranet(sim)["LoadBalancerId"]
    lid2 = create_intranet(sim)["LoadBalancerId"]
    sim.reset_inflight()
    sim.control(action="*", latency_ms=100)
    for _ in range(2):
        sim.rpc("DescribeLoadBalancerAttribute", SLB, {"LoadBalancerId": lid1})
    create_intranet(sim)
    sim.rpc("DescribeLoadBalancers", SLB, {"LoadBalancerId": lid1 + "," + lid2})
    view = sim.inflight()
    assert (view["now"], view["max"], view["counted"]) == (0, 1, 4)
    assert view["max_per_lb"] == {lid1: 1}


def test_inflight_reset_keeps_what_is_in_flight():
    t = InFlight()
    t.enter("lb-a")
    t.enter(None)
    t.leave(None)
    t.reset()
    assert t.view() == {"now": 1, "max": 1, "max_per_lb": {"lb-a": 1},
                        "now_per_lb": {"lb-a": 1}, "counted": 1}
    t.enter("lb-a")
    t.leave("lb-a")
    t.leave("lb-a")
    assert t.view() == {"now": 0, "max": 2, "max_per_lb": {"lb-a": 2},
                        "now_per_lb": {}, "counted": 2}


def test_bad_fault_and_config_rejected(sim):
    with pytest.raises(RuntimeError):
        sim.control(action="X", bogus=1)
    with pytest.raises(RuntimeError):
        sim.config(no_such_key=1)


def test_call_log(sim):
    sim.clear_calls()
    sim.rpc("DescribeVpcs", VPC, ak_id=STS_ID, ak_secret=STS_SECRET, token=STS_TOKEN)
    err(sim.rpc, "DescribeVpcs", VPC, {"RegionId": "cn-nowhere"})
    calls = sim.calls("DescribeVpcs")
    assert [(c["status"], c["code"]) for c in calls] == [(200, None), (400, "InvalidRegionId")]
    assert calls[0]["access_key_id"] == STS_ID
    assert calls[0]["params"]["Signature"] == "***"
    assert calls[0]["params"]["SecurityToken"] == "***"
    assert STS_TOKEN not in json.dumps(sim.calls())
    assert "Python" in calls[0]["user_agent"]


def _raw_send(sim, params, ua, wait_answer=True):
    """One request on its own connection with a given User-Agent."""
    import socket
    from urllib.parse import quote
    qs = "&".join("%s=%s" % (quote(k, safe=""), quote(v, safe="")) for k, v in params.items())
    s = socket.create_connection((sim.host, sim.port), timeout=30)
    s.sendall(("GET /?%s HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\n\r\n" % (qs, ua)).encode())
    if wait_answer:
        s.recv(65536)
    s.close()


def test_call_log_records_every_arrival_with_sender(sim):
    """Refused, throttled, faulted and abandoned calls are all logged with
    their wall-clock arrival (ms) and User-Agent; `since` pages the log."""
    sim.clear_calls()
    ua = "alicloud-ccm/t (service-lb; identity=host_abc)"
    t0 = int(time.time() * 1000)
    ok = sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"})
    _raw_send(sim, ok, ua)
    bad = dict(sim.signed("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"}), Signature="AAAA")
    _raw_send(sim, bad, ua)
    sim.control(action="DescribeVSwitches", throttle_rate=1.0, count=1)
    _raw_send(sim, sim.signed("DescribeVSwitches", VPC, {"RegionId": "cn-hangzhou"}), ua)
    sim.control(action="DescribeRouteTableList", error_rate_5xx=1.0, count=1)
    _raw_send(sim, sim.signed("DescribeRouteTableList", VPC, {"RegionId": "cn-hangzhou"}), ua)
    # the client leaves before the answer; the change is applied and logged
    sim.control(action="CreateLoadBalancer", latency_ms=300, count=1)
    _raw_send(sim, sim.signed("CreateLoadBalancer", SLB, {"RegionId": "cn-hangzhou"}), ua,
              wait_answer=False)
    calls = None
    for _ in range(100):
        calls = sim.calls()
        if any(c["action"] == "CreateLoadBalancer" for c in calls):
            break
        time.sleep(0.1)
    t1 = int(time.time() * 1000)
    got = [(c["action"], c["status"], c["code"]) for c in calls]
    assert got == [("DescribeVpcs", 200, None),
                   ("DescribeVpcs", 400, "SignatureDoesNotMatch"),
                   ("DescribeVSwitches", 400, "Throttling.User"),
                   ("DescribeRouteTableList", 503, "ServiceUnavailable"),
                   ("CreateLoadBalancer", 200, None)], got
    for c in calls:
        assert c["user_agent"] == ua
        assert isinstance(c["arrival_ms"], int) and t0 <= c["arrival_ms"] <= t1
        assert c["arrival_ms"] == int(c["time"] * 1000)
    assert len(sim.state()["load_balancers"]) == 1
    last = calls[1]["seq"]
    assert [c["seq"] for c in sim.calls(since=last)] == [c["seq"] for c in calls[2:]]


def test_config_seed_reseeds_fault_decisions(sim):
    def pattern():
        sim.config(seed=42)
        sim.control(action="DescribeVpcs", throttle_rate=0.5, count=20)
        out = []
        for _ in range(20):
            try:
                sim.rpc("DescribeVpcs", VPC)
                out.append(1)
            except RpcError:
                out.append(0)
        sim.clear_faults()
        return out
    first = pattern()
    assert 0 < sum(first) < 20
    assert pattern() == first


def test_out_of_band_mutators(sim):
    lid = create_intranet(sim, DeleteProtection="on")["LoadBalancerId"]
    vg = make_group(sim, lid, [{"ServerId": "i-sim0002", "Port": 80}])
    sim.rpc("CreateLoadBalancerTCPListener", SLB, {"LoadBalancerId": lid, "ListenerPort": 80,
                                                   "Bandwidth": -1, "VServerGroupId": vg})
    sim.mutate("remove_backend", vserver_group_id=vg, server_id="i-sim0002")
    attr = sim.rpc("DescribeVServerGroupAttribute", SLB, {"VServerGroupId": vg})
    assert attr["BackendServers"]["BackendServer"] == []
    sim.mutate("delete_listener", load_balancer_id=lid, port=80)
    assert sim.rpc("DescribeLoadBalancerListeners", SLB, {"LoadBalancerId.1": lid})[
        "Listeners"] == []
    sim.mutate("set_tag", load_balancer_id=lid, key="x", value="y")
    assert sim.rpc("DescribeLoadBalancers", SLB, {"Tags": '[{"TagKey":"x","TagValue":"y"}]'})[
        "TotalCount"] == 1
    sim.mutate("delete_load_balancer", id=lid)
    assert sim.rpc("DescribeLoadBalancers", SLB)["TotalCount"] == 0
    added = sim.mutate("add_instance", vswitch_id="vsw-sim0002", hostname="node-9")
    assert added["id"].startswith("i-") and added["private_ip"].startswith("192.168.1.")
    sim.mutate("remove_instance", id=added["id"])
    assert [i["id"] for i in sim.state()["instances"]] == [
        "i-sim0001", "i-sim0002", "i-sim0003", "i-sim0004"]


def test_many_calls_on_one_connection(sim):
    for _ in range(200):
        sim.rpc("DescribeVpcs", VPC)
    assert len(sim.calls("DescribeVpcs")) == 200


def test_fault_skip_fails_half_way(sim):
    """skip lets the first matching calls through: page 1 answers, page 2
    fails."""
    sim.config(page_size=1)
    sim.control(action="DescribeNetworkInterfaces", skip=1, fail_next=1)
    page1 = sim.rpc("DescribeNetworkInterfaces", ECS, {"MaxResults": "1"})
    assert page1["NextToken"]
    e = err(sim.rpc, "DescribeNetworkInterfaces", ECS,
            {"MaxResults": "1", "NextToken": page1["NextToken"]})
    assert e.code == "ServiceUnavailable"
    assert sim.rpc("DescribeNetworkInterfaces", ECS, {"MaxResults": "1"})


def test_tls_listener_serves_same_state(tmp_path):
    """--tls-cert/--tls-key add an HTTPS listener over the same state,
    verified here against the test CA that signed its certificate."""
    import ssl
    import subprocess
    d = str(tmp_path)

    def ossl(*a):
        subprocess.run(["openssl", *a], check=True, capture_output=True, cwd=d)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=sim test CA", "-keyout", "ca.key", "-out", "ca.crt")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", "srv.key", "-out", "srv.csr")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "1", "-extfile", "ext", "-out", "srv.crt")
    state = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "default-state.json")
    tls_port = os.path.join(d, "tls.port")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "alisim.py"),
         "--state", state, "--port", "0", "--tls-cert", d + "/srv.crt",
         "--tls-key", d + "/srv.key", "--tls-port-file", tls_port],
        stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT ")
        with open(tls_port) as f:
            port = int(f.read())
        ctx = ssl.create_default_context(cafile=d + "/ca.crt")
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/_sim/state",
                                    context=ctx, timeout=10) as r:
            assert json.load(r)["region"] == "cn-hangzhou"
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"https://127.0.0.1:{port}/_sim/state",
                                   context=ssl.create_default_context(),
                                   timeout=10)
    finally:
        proc.kill()
        proc.wait()
