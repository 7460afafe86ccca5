"""SLB (CLB) 2014-05-15: load balancers, listeners, vServer groups, tags."""
import ipaddress
import time

from sim_core import (SimError, case_get, idempotent, int_param, invalid, json_param,
                      missing, now_iso, page_number_slice, repeat_list, req, tags_from_params,
                      token_slice, host_in)

VERSION = "2014-05-15"
PROTOCOLS = ("tcp", "udp", "http", "https")

# -- errors -------------------------------------------------------------------


def lb_not_found(lb_id):
    return SimError("InvalidLoadBalancerId.NotFound",
                    "The specified LoadBalancerId does not exist: %s" % lb_id)


def vgroup_not_found():
    return SimError("InvalidParameter", "The specified VServerGroupId does not exist.")


def listener_not_found():
    return SimError("ListenerNotFound", "You have not created a listener for the specified "
                    "port of the load balancer.", 404)


def get_lb(world, params):
    lb_id = req(params, "LoadBalancerId")
    lb = world.lbs.get(lb_id)
    if lb is None:
        raise lb_not_found(lb_id)
    return lb


def get_vgroup(world, params):
    vg = world.vgroups.get(req(params, "VServerGroupId"))
    if vg is None:
        raise vgroup_not_found()
    return vg


def public(obj):
    """Drop internal (lower-case) keys."""
    return {k: v for k, v in obj.items() if k[:1].isupper()}


def on_off(params, name, default=None):
    v = params.get(name)
    if v is None or v == "":
        return default
    if v not in ("on", "off"):
        raise invalid(name, "Valid values: on, off.")
    return v


# -- load balancers -------------------------------------------------------------

def _lb_address(world, params, vsw):
    want = params.get("Address", "")
    if vsw is None:
        return want or world.alloc_public_ip()
    if not want:
        return world.alloc_private_ip(vsw)
    if not host_in(vsw["cidr"], want):
        raise invalid("Address", "The address is not in the VSwitch CIDR block.")
    if want in world.used_ips():
        raise SimError("InvalidIpAddress.AlreadyUsed", "The specified Address is already used.")
    return want


def _lb_network(world, params):
    addr_type = params.get("AddressType", "internet")
    if addr_type not in ("internet", "intranet"):
        raise invalid("AddressType", "Valid values: internet, intranet.")
    vsw_id = params.get("VSwitchId", "")
    if addr_type == "intranet" and not vsw_id:
        raise missing("VSwitchId")
    vsw = None
    if vsw_id:
        vsw = world.vswitches.get(vsw_id)
        if vsw is None:
            raise SimError("InvalidVSwitchId.NotFound", "The specified VSwitchId does not exist.")
        if params.get("VpcId") and params["VpcId"] != vsw["vpc_id"]:
            raise invalid("VpcId", "The VSwitch does not belong to the VPC.")
    return addr_type, (vsw if addr_type == "intranet" else None), vsw


def create_load_balancer(world, params, ctx):
    return idempotent(world, ctx, params, lambda: _create_lb(world, params))


def _create_lb(world, params):
    if len(world.lbs) >= world.config["quotas"]["load_balancers"]:
        raise SimError("QuotaExceeded.LoadBalancer",
                       "The number of load balancers exceeds the quota.")
    addr_type, alloc_vsw, _ = _lb_network(world, params)
    spec = params.get("LoadBalancerSpec", "")
    pay = params.get("PayType", "PayOnDemand")
    if pay not in ("PayOnDemand", "PrePay"):
        raise invalid("PayType")
    charge = params.get("InternetChargeType", "paybytraffic").lower()
    if charge not in ("paybytraffic", "paybybandwidth"):
        raise invalid("InternetChargeType")
    if charge == "paybybandwidth" and addr_type == "intranet":
        raise SimError("InvalidParameter.InternetChargeType",
                       "Intranet load balancers cannot be charged by bandwidth.")
    tags = tags_from_params(params)
    _check_tags(tags)
    address = _lb_address(world, params, alloc_vsw)
    lb_id = world.ids.make("lb")
    vsw = alloc_vsw
    zone = params.get("MasterZoneId") or (vsw["zone"] if vsw else (world.zones or [""])[0])
    if world.zones and zone not in world.zones:
        raise SimError("InvalidParameter.MasterZoneId",
                       "The specified MasterZoneId does not exist.")
    slave = params.get("SlaveZoneId") or next((z for z in world.zones if z != zone), "")
    ts = time.time()
    lb = {
        "LoadBalancerId": lb_id, "LoadBalancerName": params.get("LoadBalancerName") or
        "auto_named_slb", "Address": address, "AddressType": addr_type,
        "AddressIPVersion": params.get("AddressIPVersion", "ipv4"),
        "NetworkType": "vpc" if vsw else "classic",
        "VpcId": vsw["vpc_id"] if vsw else "", "VSwitchId": vsw["id"] if vsw else "",
        "MasterZoneId": zone, "SlaveZoneId": slave, "LoadBalancerSpec": spec,
        "PayType": pay, "InternetChargeType": charge,
        "Bandwidth": int_param(params, "Bandwidth", 5120, lo=1, hi=5120),
        "InstanceChargeType": params.get("InstanceChargeType", "PayBySpec"),
        "DeleteProtection": on_off(params, "DeleteProtection", "off"),
        "ModificationProtectionStatus": params.get("ModificationProtectionStatus",
                                                   "NonProtection"),
        "ModificationProtectionReason": params.get("ModificationProtectionReason", ""),
        "ResourceGroupId": params.get("ResourceGroupId", "rg-simdefault"),
        "LoadBalancerStatus": "active", "BusinessStatus": "Normal",
        "CreateTime": now_iso(ts)[:-4] + "Z", "CreateTimeStamp": int(ts * 1000),
        "RegionId": world.region, "RegionIdAlias": world.region,
        "tags": tags, "listeners": {}, "backends": [],
    }
    world.lbs[lb_id] = lb
    return {"LoadBalancerId": lb_id, "Address": address, "LoadBalancerName": lb["LoadBalancerName"],
            "VpcId": lb["VpcId"], "VSwitchId": lb["VSwitchId"], "NetworkType": lb["NetworkType"],
            "AddressIPVersion": lb["AddressIPVersion"], "ResourceGroupId": lb["ResourceGroupId"]}


def delete_load_balancer(world, params, ctx):
    lb = get_lb(world, params)
    if lb["DeleteProtection"] == "on":
        raise SimError("OperationDenied.DeleteProtectionIsOn",
                       "The loadbalancer can't be deleted due to DeleteProtection is enabled.")
    remove_lb(world, lb["LoadBalancerId"])
    return {}


def remove_lb(world, lb_id):
    world.lbs.pop(lb_id, None)
    for vid in [v for v, g in world.vgroups.items() if g["lb_id"] == lb_id]:
        del world.vgroups[vid]


def _internet_charge_code(lb):
    return "3" if lb["InternetChargeType"] == "paybybandwidth" else "4"


def lb_summary(lb):
    out = public(lb)
    out["InternetChargeTypeAlias"] = lb["InternetChargeType"]
    out["InternetChargeType"] = _internet_charge_code(lb)
    out["Tags"] = {"Tag": [dict(t) for t in lb["tags"]]}
    return out


def _parse_filter_tags(params):
    raw = json_param(params, "Tags")
    tags = []
    if raw is not None:
        items = raw if isinstance(raw, list) else [raw]
        for t in items:
            if not isinstance(t, dict):
                raise invalid("Tags")
            tags.append((case_get(t, "TagKey"), case_get(t, "TagValue")))
    tags += [(t["TagKey"], t["TagValue"]) for t in tags_from_params(params)]
    if len(tags) > 10:
        raise invalid("Tags", "At most 10 tags.")
    return tags


def _has_tags(lb, tags):
    have = {(t["TagKey"], t["TagValue"]) for t in lb["tags"]}
    keys = {t["TagKey"] for t in lb["tags"]}
    for k, v in tags:
        if v is None and k in keys:
            continue
        if (k, v) not in have:
            return False
    return True


def _csv(params, name, limit):
    v = params.get(name, "")
    if not v:
        return None
    items = [x.strip() for x in v.split(",") if x.strip()]
    if len(items) > limit:
        raise invalid(name, "At most %d values." % limit)
    return set(items)


def describe_load_balancers(world, params, ctx):
    limit = world.config["quotas"]["lb_ids_per_describe"]
    ids = _csv(params, "LoadBalancerId", limit)
    names = _csv(params, "LoadBalancerName", limit)
    tags = _parse_filter_tags(params)
    simple = ("AddressType", "VpcId", "VSwitchId", "Address", "NetworkType",
              "LoadBalancerStatus", "MasterZoneId", "PayType", "AddressIPVersion",
              "ResourceGroupId")
    out = []
    for lb in world.lbs.values():
        if ids is not None and lb["LoadBalancerId"] not in ids:
            continue
        if names is not None and lb["LoadBalancerName"] not in names:
            continue
        if any(params.get(f) and params[f] != lb.get(f) for f in simple):
            continue
        if tags and not _has_tags(lb, tags):
            continue
        if params.get("ServerId") and not _lb_has_server(world, lb, params["ServerId"]):
            continue
        out.append(lb)
    page, meta = page_number_slice(out, params, 10, 100, world.config["page_size"])
    meta["LoadBalancers"] = {"LoadBalancer": [lb_summary(lb) for lb in page]}
    return meta


def _lb_has_server(world, lb, server_id):
    for g in world.vgroups.values():
        if g["lb_id"] == lb["LoadBalancerId"] and any(b["ServerId"] == server_id
                                                    for b in g["backends"]):
            return True
    return False


def describe_load_balancer_attribute(world, params, ctx):
    lb = get_lb(world, params)
    out = lb_summary(lb)
    out["InternetChargeType"] = lb["InternetChargeType"]
    keys = sorted(lb["listeners"])
    out["ListenerPorts"] = {"ListenerPort": [p for p, _ in keys]}
    out["ListenerPortsAndProtocol"] = {"ListenerPortAndProtocol": [
        {"ListenerPort": p, "ListenerProtocol": proto, "ListenerForward":
         lb["listeners"][(p, proto)]["attrs"].get("ListenerForward", "off"),
         "ForwardPort": lb["listeners"][(p, proto)]["attrs"].get("ForwardPort", 0),
         "Description": lb["listeners"][(p, proto)]["Description"]} for p, proto in keys]}
    out["ListenerPortsAndProtocal"] = {"ListenerPortAndProtocal": [
        {"ListenerPort": p, "ListenerProtocal": proto} for p, proto in keys]}
    out["BackendServers"] = {"BackendServer": [dict(b) for b in lb["backends"]]}
    out["EndTime"] = "2999-09-08T16:00:00Z"
    out["EndTimeStamp"] = 32493801600000
    out["HasReservedInfo"] = "false"
    return out


def _set_field(field, valid=None):
    def handler(world, params, ctx):
        lb = get_lb(world, params)
        v = req(params, field)
        if valid and v not in valid:
            raise invalid(field, "Valid values: %s." % ", ".join(valid))
        lb[field] = v
        return {}
    return handler


def set_modification_protection(world, params, ctx):
    lb = get_lb(world, params)
    status = req(params, "ModificationProtectionStatus")
    if status not in ("ConsoleProtection", "NonProtection"):
        raise invalid("ModificationProtectionStatus")
    lb["ModificationProtectionStatus"] = status
    lb["ModificationProtectionReason"] = (params.get("ModificationProtectionReason", "")
                                          if status == "ConsoleProtection" else "")
    return {}


def modify_instance_spec(world, params, ctx):
    lb = get_lb(world, params)
    lb["LoadBalancerSpec"] = req(params, "LoadBalancerSpec")
    return {"OrderId": 0}


def modify_instance_charge_type(world, params, ctx):
    lb = get_lb(world, params)
    ict = req(params, "InstanceChargeType")
    if ict not in ("PayBySpec", "PayByCLCU"):
        raise invalid("InstanceChargeType")
    if ict == "PayBySpec" and not params.get("LoadBalancerSpec") and not lb["LoadBalancerSpec"]:
        raise missing("LoadBalancerSpec")
    lb["InstanceChargeType"] = ict
    if params.get("LoadBalancerSpec"):
        lb["LoadBalancerSpec"] = params["LoadBalancerSpec"]
    if ict == "PayByCLCU":
        lb["LoadBalancerSpec"] = ""
    return {"OrderId": 0}


def modify_internet_spec(world, params, ctx):
    lb = get_lb(world, params)
    charge = params.get("InternetChargeType", lb["InternetChargeType"]).lower()
    if charge not in ("paybytraffic", "paybybandwidth"):
        raise invalid("InternetChargeType")
    if lb["AddressType"] == "intranet" and charge == "paybybandwidth":
        raise SimError("InvalidParameter.InternetChargeType",
                       "Intranet load balancers cannot be charged by bandwidth.")
    lb["InternetChargeType"] = charge
    lb["Bandwidth"] = int_param(params, "Bandwidth", lb["Bandwidth"], lo=1, hi=5120)
    return {"OrderId": 0}


# -- tags -----------------------------------------------------------------------

def _check_tags(tags):
    for t in tags:
        k = t["TagKey"]
        if not k or len(k) > 64 or k.startswith(("aliyun", "acs:")) or "http://" in k:
            raise SimError("InvalidTagKey", "The specified tag key is not valid.")
        if len(t["TagValue"]) > 128:
            raise SimError("InvalidTagValue", "The specified tag value is not valid.")


def _merge_tags(lb, tags):
    _check_tags(tags)
    for t in tags:
        lb["tags"] = [x for x in lb["tags"] if x["TagKey"] != t["TagKey"]]
        lb["tags"].append({"TagKey": t["TagKey"], "TagValue": t["TagValue"]})
    if len(lb["tags"]) > 20:
        raise SimError("QuotaExceeded.TagNum", "The number of tags exceeds 20.")


def _legacy_tags(params):
    raw = json_param(params, "Tags")
    if raw is None:
        raise missing("Tags")
    items = raw if isinstance(raw, list) else [raw]
    if len(items) > 10:
        raise invalid("Tags", "At most 10 tags.")
    out = []
    for t in items:
        if not isinstance(t, dict) or case_get(t, "TagKey") is None:
            raise invalid("Tags")
        out.append({"TagKey": str(case_get(t, "TagKey")),
                    "TagValue": str(case_get(t, "TagValue", ""))})
    return out


def add_tags(world, params, ctx):
    lb = get_lb(world, params)
    _merge_tags(lb, _legacy_tags(params))
    return {}


def remove_tags(world, params, ctx):
    lb = get_lb(world, params)
    for t in _legacy_tags(params):
        lb["tags"] = [x for x in lb["tags"] if not (
            x["TagKey"] == t["TagKey"] and (t["TagValue"] in ("", x["TagValue"])))]
    return {}


def describe_tags(world, params, ctx):
    lbs = [get_lb(world, params)] if params.get("LoadBalancerId") else list(world.lbs.values())
    counts = {}
    for lb in lbs:
        for t in lb["tags"]:
            k = (t["TagKey"], t["TagValue"])
            counts[k] = counts.get(k, 0) + 1
    items = [{"TagKey": k, "TagValue": v, "InstanceCount": n} for (k, v), n in counts.items()]
    page, meta = page_number_slice(items, params, 10, 50, world.config["page_size"])
    meta["TagSets"] = {"TagSet": page}
    return meta


def _resource_lbs(world, params):
    if params.get("ResourceType", "instance") != "instance":
        raise invalid("ResourceType", "The simulator supports ResourceType=instance only.")
    ids = repeat_list(params, "ResourceId")
    if len(ids) > 20:
        raise invalid("ResourceId", "At most 20 resources.")
    out = []
    for i in ids:
        lb = world.lbs.get(i)
        if lb is None:
            raise SimError("InvalidResourceId.NotFound", "The specified resource %s does not "
                           "exist." % i)
        out.append(lb)
    return out


def tag_resources(world, params, ctx):
    lbs = _resource_lbs(world, params)
    if not lbs:
        raise missing("ResourceId.1")
    tags = tags_from_params(params)
    if not tags or len(tags) > 20:
        raise invalid("Tag", "1 to 20 tags are required.")
    for lb in lbs:
        _merge_tags(lb, tags)
    return {}


def untag_resources(world, params, ctx):
    lbs = _resource_lbs(world, params)
    if not lbs:
        raise missing("ResourceId.1")
    keys = set(repeat_list(params, "TagKey"))
    remove_all = params.get("All", "false").lower() == "true"
    for lb in lbs:
        lb["tags"] = [] if remove_all else [t for t in lb["tags"] if t["TagKey"] not in keys]
    return {}


def list_tag_resources(world, params, ctx):
    lbs = _resource_lbs(world, params) if repeat_list(params, "ResourceId") else \
        list(world.lbs.values())
    want = [(t["TagKey"], t["TagValue"]) for t in tags_from_params(params)]
    items = []
    for lb in lbs:
        if want and not _has_tags(lb, want):
            continue
        for t in lb["tags"]:
            items.append({"ResourceType": "instance", "ResourceId": lb["LoadBalancerId"],
                          "TagKey": t["TagKey"], "TagValue": t["TagValue"]})
    page, nxt, _ = token_slice(items, params, "MaxResults", 50, 50, world.config["page_size"])
    return {"NextToken": nxt, "TagResources": {"TagResource": page}}


# -- listeners --------------------------------------------------------------------

_HC = {"HealthyThreshold": 3, "UnhealthyThreshold": 3, "HealthCheckInterval": 2,
       "HealthCheckConnectPort": 0}
_L4 = dict(_HC, HealthCheck="on", HealthCheckConnectTimeout=5, PersistenceTimeout=0,
           ConnectionDrain="off", ConnectionDrainTimeout=300, ProxyProtocolV2Enabled=False,
           MasterSlaveServerGroupId="")
_L7 = dict(_HC, HealthCheck="off", HealthCheckURI="/", HealthCheckDomain="",
           HealthCheckHttpCode="http_2xx", HealthCheckTimeout=5, HealthCheckMethod="head",
           StickySession="off", StickySessionType="", CookieTimeout=0, Cookie="",
           XForwardedFor="on", XForwardedFor_SLBIP="off", XForwardedFor_SLBID="off",
           XForwardedFor_proto="off", XForwardedFor_SLBPORT="off",
           XForwardedFor_ClientSrcPort="off", Gzip="on", IdleTimeout=15, RequestTimeout=60,
           ListenerForward="off", ForwardPort=0)
DEFAULTS = {
    "tcp": dict(_L4, HealthCheckType="tcp", HealthCheckDomain="", HealthCheckURI="",
                HealthCheckHttpCode="http_2xx", EstablishedTimeout=900, SynProxy="disable"),
    "udp": dict(_L4, HealthCheckReq="", HealthCheckExp=""),
    "http": dict(_L7),
    "https": dict(_L7, ServerCertificateId="", CACertificateId="", EnableHttp2="on",
                  TLSCipherPolicy="tls_cipher_policy_1_0", BackendProtocol="http"),
}
# lower-case spellings used by the TCP/UDP create APIs
_ALIASES = {"healthCheckInterval": "HealthCheckInterval", "healthCheckReq": "HealthCheckReq",
            "healthCheckExp": "HealthCheckExp"}
_TOP = ("BackendServerPort", "Bandwidth", "Scheduler", "VServerGroupId", "Description",
        "AclId", "AclType", "AclStatus")
_SKIP = ("LoadBalancerId", "ListenerPort", "ListenerProtocol", "VServerGroup")
_SCHEDULERS = ("wrr", "rr", "wlc", "sch", "tch", "qch")


def _typed(proto, name, value):
    ref = DEFAULTS[proto].get(name)
    if isinstance(ref, bool):
        if str(value).lower() not in ("true", "false"):
            raise invalid(name, "It must be true or false.")
        return str(value).lower() == "true"
    if isinstance(ref, int):
        try:
            return int(value)
        except ValueError:
            raise invalid(name, "It must be an integer.")
    return value


def _apply_listener_params(world, lb, lsn, params):
    from sim_core import COMMON_PARAMS
    proto = lsn["ListenerProtocol"]
    for k, v in params.items():
        if k in COMMON_PARAMS or k in _SKIP or k.startswith("Tag."):
            continue
        k = _ALIASES.get(k, k)
        if k in _TOP:
            lsn[k] = _top_value(world, lb, k, v)
        else:
            lsn["attrs"][k] = _typed(proto, k, v)
    if params.get("VServerGroup") == "off":
        lsn["VServerGroupId"] = ""


def _top_value(world, lb, name, v):
    if name in ("BackendServerPort", "Bandwidth"):
        lo, hi = (1, 65535) if name == "BackendServerPort" else (-1, 5120)
        return int_param({name: v}, name, lo=lo, hi=hi)
    if name == "Scheduler" and v not in _SCHEDULERS:
        raise invalid("Scheduler")
    if name == "VServerGroupId" and v:
        vg = world.vgroups.get(v)
        if vg is None or vg["lb_id"] != lb["LoadBalancerId"]:
            raise vgroup_not_found()
    return v


def _check_port_free(lb, port, proto):
    for (p, other) in lb["listeners"]:
        if p == port and (other == "udp") == (proto == "udp"):
            raise SimError("ListenerAlreadyExists",
                           "A listener with the specified port already exists.")


def _check_forward(lb, proto, params):
    """HTTP -> HTTPS redirection: the target must be an HTTPS listener of
    the same CLB; a forwarding listener needs no backends."""
    fwd = on_off(params, "ListenerForward", "off")
    if fwd == "off":
        return False
    if proto != "http":
        raise invalid("ListenerForward", "Only HTTP listeners can forward.")
    port = int_param(params, "ForwardPort", lo=1, hi=65535)
    if port is None:
        raise missing("ForwardPort")
    if (port, "https") not in lb["listeners"]:
        raise invalid("ForwardPort", "The ForwardPort must be an HTTPS listener port "
                      "of the load balancer.")
    return True


def _validate_new(proto, params, forward=False):
    if proto in ("tcp", "udp", "https"):
        req(params, "Bandwidth")
    if not params.get("VServerGroupId") and not forward:
        req(params, "BackendServerPort")
    if proto in ("http", "https"):
        on_off(params, "HealthCheck") or req(params, "HealthCheck")
        sticky = on_off(params, "StickySession") or req(params, "StickySession")
        if sticky == "on":
            st = req(params, "StickySessionType")
            if st not in ("insert", "server"):
                raise invalid("StickySessionType")
            req(params, "CookieTimeout" if st == "insert" else "Cookie")
    if proto == "https":
        req(params, "ServerCertificateId")


def create_listener(proto):
    def handler(world, params, ctx):
        lb = get_lb(world, params)
        port = int_param(params, "ListenerPort", lo=1, hi=65535)
        if port is None:
            raise missing("ListenerPort")
        _validate_new(proto, params, _check_forward(lb, proto, params))
        _check_port_free(lb, port, proto)
        if len(lb["listeners"]) >= world.config["quotas"]["listeners_per_lb"]:
            raise SimError("ListenerNumberOverLimit",
                           "The maximum number of listeners is exceeded.")
        lsn = {"ListenerPort": port, "ListenerProtocol": proto, "Status": "stopped",
               "BackendServerPort": 0, "Bandwidth": -1, "Scheduler": "wrr",
               "VServerGroupId": "", "Description": "", "AclId": "", "AclType": "",
               "AclStatus": "off", "attrs": dict(DEFAULTS[proto])}
        _apply_listener_params(world, lb, lsn, params)
        lb["listeners"][(port, proto)] = lsn
        return {}
    return handler


def find_listener(lb, params, proto=None):
    port = int_param(params, "ListenerPort", lo=1, hi=65535)
    if port is None:
        raise missing("ListenerPort")
    want = proto or params.get("ListenerProtocol", "").lower() or None
    hits = [k for k in lb["listeners"] if k[0] == port and (want is None or k[1] == want)]
    if not hits:
        raise listener_not_found()
    if len(hits) > 1:
        raise invalid("ListenerProtocol", "Several listeners use this port; specify it.")
    return lb["listeners"][hits[0]]


def set_listener(proto):
    def handler(world, params, ctx):
        lb = get_lb(world, params)
        lsn = find_listener(lb, params, proto)
        if params.get("VServerGroup") == "on" and not params.get("VServerGroupId"):
            raise missing("VServerGroupId")
        _apply_listener_params(world, lb, lsn, params)
        return {}
    return handler


def listener_view(lsn):
    out = public(lsn)
    out.update(lsn["attrs"])
    if lsn["ListenerProtocol"] == "https":
        out["DomainExtensions"] = {"DomainExtension": [
            dict(d) for d in lsn.get("domexts", {}).values()]}
    return out


def describe_listener(proto):
    def handler(world, params, ctx):
        lb = get_lb(world, params)
        out = listener_view(find_listener(lb, params, proto))
        out["LoadBalancerId"] = lb["LoadBalancerId"]
        out.pop("ListenerProtocol", None)
        return out
    return handler


def _listener_status(status):
    def handler(world, params, ctx):
        lb = get_lb(world, params)
        find_listener(lb, params)["Status"] = status
        return {}
    return handler


def delete_listener(world, params, ctx):
    lb = get_lb(world, params)
    lsn = find_listener(lb, params)
    if lsn["ListenerProtocol"] == "https" and any(
            o["attrs"].get("ListenerForward") == "on" and
            o["attrs"].get("ForwardPort") == lsn["ListenerPort"]
            for o in lb["listeners"].values()):
        raise SimError("ListenerForwardExist", "The specified listener is forwarded by the "
                       "other listener, the ListenerForward relationship should be deleted "
                       "firstly.")
    del lb["listeners"][(lsn["ListenerPort"], lsn["ListenerProtocol"])]
    return {}


def describe_listeners(world, params, ctx):
    ids = repeat_list(params, "LoadBalancerId")
    lbs = [world.lbs[i] for i in ids if i in world.lbs] if ids else list(world.lbs.values())
    proto = params.get("ListenerProtocol", "").lower()
    port = int_param(params, "ListenerPort", lo=1, hi=65535)
    items = []
    for lb in lbs:
        for key in sorted(lb["listeners"]):
            lsn = lb["listeners"][key]
            if (proto and key[1] != proto) or (port and key[0] != port):
                continue
            if params.get("Description") and lsn["Description"] != params["Description"]:
                continue
            items.append(_listener_item(lb, lsn))
    page, nxt, size = token_slice(items, params, "MaxResults", 20, 100,
                                  world.config["page_size"])
    return {"TotalCount": len(items), "MaxResults": size, "NextToken": nxt, "Listeners": page}


def _listener_item(lb, lsn):
    item = public(lsn)
    item["LoadBalancerId"] = lb["LoadBalancerId"]
    item["AclIds"] = [a for a in lsn["AclId"].split(",") if a]
    item["Tags"] = []
    item["%sListenerConfig" % lsn["ListenerProtocol"].upper()] = dict(lsn["attrs"])
    return item


# -- domain extensions (SNI certificates of HTTPS listeners) -----------------------

def _domext(world, params):
    de_id = req(params, "DomainExtensionId")
    for lb in world.lbs.values():
        for lsn in lb["listeners"].values():
            if de_id in lsn.get("domexts", {}):
                return lsn["domexts"][de_id]
    raise SimError("InvalidParameter.DomainExtensionId",
                   "The specified DomainExtensionId %s does not exist." % de_id)


def _https_listener(lb, params):
    lsn = find_listener(lb, params)
    if lsn["ListenerProtocol"] != "https":
        raise invalid("ListenerPort", "Domain extensions need an HTTPS listener.")
    return lsn


def create_domain_extension(world, params, ctx):
    lb = get_lb(world, params)
    lsn = _https_listener(lb, params)
    domain = req(params, "Domain")
    cert = req(params, "ServerCertificateId")
    exts = lsn.setdefault("domexts", {})
    if any(d["Domain"].lower() == domain.lower() for d in exts.values()):
        raise invalid("Domain", "The domain already has an extension on this listener.")
    if len(exts) >= world.config["quotas"].get("domain_extensions_per_listener", 16):
        raise SimError("QuotaExceeded.DomainExtension",
                       "The number of domain extensions exceeds the quota.")
    de_id = world.ids.make("de")
    exts[de_id] = {"DomainExtensionId": de_id, "Domain": domain, "ServerCertificateId": cert}
    return {"DomainExtensionId": de_id, "ListenerPort": lsn["ListenerPort"]}


def describe_domain_extensions(world, params, ctx):
    lb = get_lb(world, params)
    port = int_param(params, "ListenerPort", lo=1, hi=65535)
    out = []
    for (p, proto), lsn in sorted(lb["listeners"].items()):
        if proto != "https" or (port and p != port):
            continue
        for d in lsn.get("domexts", {}).values():
            if params.get("DomainExtensionId") in (None, "", d["DomainExtensionId"]):
                out.append(dict(d))
    return {"DomainExtensions": {"DomainExtension": out}}


def set_domain_extension(world, params, ctx):
    d = _domext(world, params)
    d["ServerCertificateId"] = req(params, "ServerCertificateId")
    return {}


def delete_domain_extension(world, params, ctx):
    de_id = _domext(world, params)["DomainExtensionId"]
    for lb in world.lbs.values():
        for lsn in lb["listeners"].values():
            lsn.get("domexts", {}).pop(de_id, None)
    return {}


# -- vServer groups -----------------------------------------------------------------

def _parse_backends(world, lb, raw, name="BackendServers"):
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(name, "It must be a JSON array.")
    if len(raw) > world.config["quotas"]["backends_per_call"]:
        raise SimError("TooManyBackendServers", "The total number of input real servers "
                       "exceeds max supported number: %d" %
                       world.config["quotas"]["backends_per_call"])
    return [_parse_backend(world, lb, b, name) for b in raw]


def _parse_backend(world, lb, b, name):
    if not isinstance(b, dict) or not case_get(b, "ServerId"):
        raise missing("ServerId")
    sid = str(case_get(b, "ServerId"))
    btype = str(case_get(b, "Type", "ecs") or "ecs")
    try:
        port = int(case_get(b, "Port", 0))
        weight = int(case_get(b, "Weight", 100))
    except (TypeError, ValueError):
        raise invalid(name, "Port and Weight must be integers.")
    if not 1 <= port <= 65535 or not 0 <= weight <= 100:
        raise invalid(name, "Port must be 1-65535 and Weight 0-100.")
    ip, vpc = _backend_target(world, sid, btype, str(case_get(b, "ServerIp", "") or ""))
    _check_family(lb, ip)
    if lb["VpcId"] and vpc != lb["VpcId"]:
        raise SimError("NetworkConflict", "The backend server %s is not in the VPC of the "
                       "load balancer." % sid)
    desc = str(case_get(b, "Description", "") or "")
    if len(desc) > 80:
        raise invalid("Description")
    return {"ServerId": sid, "Port": port, "Weight": weight, "Type": btype, "ServerIp": ip,
            "VpcId": vpc, "Description": desc, "ServerRegionId": world.region}


def _canon_ip(ip):
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise invalid("BackendServers", "ServerIp %r is not an IP address." % ip)


def _check_family(lb, ip):
    """An IPv4 CLB cannot reach an IPv6 backend."""
    if ":" in ip and lb.get("AddressIPVersion", "ipv4") != "ipv6":
        raise SimError("InvalidBackendServers.IpVersionMismatch",
                       "The IPv6 ServerIp %s needs a load balancer with "
                       "AddressIPVersion ipv6." % ip)


def _backend_target(world, sid, btype, ip):
    if btype == "ecs":
        inst = world.instances.get(sid)
        if inst is None:
            raise SimError("InvalidServerId.NotExist", "The specified ServerId is not exist.")
        return inst["private_ip"], inst["vpc_id"]
    if btype == "eni":
        eni = world.enis.get(sid)
        if eni is None:
            raise SimError("InvalidServerId.NotExist", "The specified ServerId is not exist.")
        ips = [eni["private_ip"]] + eni["secondary_ips"] + eni.get("ipv6s", [])
        if ip and _canon_ip(ip) not in ips:
            raise SimError("InvalidBackendServers.ServerIpConflict",
                           "The ServerIp %s does not belong to %s." % (ip, sid))
        return _canon_ip(ip) if ip else eni["private_ip"], eni["vpc_id"]
    raise SimError("BackendServer.InvalidType", "The specified Type is invalid.")


def _identity(b):
    return (b["ServerId"], b["Port"], b["ServerIp"] if b["Type"] != "ecs" else "")


def _server(b):
    """What the 'backend servers per CLB' quota counts: a server (an ECS
    instance, or an ENI address), however many groups and ports it is in."""
    return (b["ServerId"], b["ServerIp"] if b["Type"] != "ecs" else "")


def _lb_servers(world, lb):
    out = {_server(b) for b in lb["backends"]}
    for g in world.vgroups.values():
        if g["lb_id"] == lb["LoadBalancerId"]:
            out.update(_server(b) for b in g["backends"])
    return out


def _instance_lbs(world):
    """ECS instance id -> ids of the CLBs it is a backend of."""
    out = {}
    for lb in world.lbs.values():
        for b in lb["backends"]:
            if b["Type"] == "ecs":
                out.setdefault(b["ServerId"], set()).add(lb["LoadBalancerId"])
    for g in world.vgroups.values():
        for b in g["backends"]:
            if b["Type"] == "ecs":
                out.setdefault(b["ServerId"], set()).add(g["lb_id"])
    return out


# No documented error code was found for the "times one ECS instance can be
# attached to CLBs" quota; named in the style of the backend-server one.
ATTACH_OVER_LIMIT = "InstanceAttachedLoadBalancerNumberOverLimit"


def _add_members(world, lb, group, new):
    quotas = world.config["quotas"]
    have = {_identity(b) for b in group["backends"]}
    fresh = [b for b in new if _identity(b) not in have]
    servers = _lb_servers(world, lb)
    if len(servers | {_server(b) for b in fresh}) > quotas["backends_per_lb"]:
        raise SimError("InstanceBackendServerNumberOverLimit",
                       "The number of backend servers of the load balancer exceeds the limit.")
    joining = {b["ServerId"] for b in fresh if b["Type"] == "ecs" and _server(b) not in servers}
    if joining:
        attached = _instance_lbs(world)
        for sid in sorted(joining):
            if len(attached.get(sid, ())) >= quotas["lbs_per_instance"]:
                raise SimError(ATTACH_OVER_LIMIT,
                               "The ECS instance %s is already attached to the maximum number "
                               "of load balancers (%d)." % (sid, quotas["lbs_per_instance"]))
    group["backends"].extend(fresh)


def _group_reply(group):
    return {"VServerGroupId": group["VServerGroupId"],
            "BackendServers": {"BackendServer": [dict(b) for b in group["backends"]]}}


def create_vserver_group(world, params, ctx):
    lb = get_lb(world, params)
    backends = _parse_backends(world, lb, json_param(params, "BackendServers"))
    name = params.get("VServerGroupName", "")
    if len(name) > 80:
        raise invalid("VServerGroupName")
    vid = world.ids.make("rsp")
    group = {"VServerGroupId": vid, "VServerGroupName": name, "lb_id": lb["LoadBalancerId"],
             "CreateTime": now_iso(), "backends": [], "tags": tags_from_params(params)}
    _add_members(world, lb, group, backends)
    world.vgroups[vid] = group
    return _group_reply(group)


def _users_of(world, group):
    lb = world.lbs.get(group["lb_id"])
    if lb is None:
        return []
    return [k for k, l in sorted(lb["listeners"].items())
            if group["VServerGroupId"] in (l["VServerGroupId"],
                                           l["attrs"].get("MasterSlaveServerGroupId"))]


def delete_vserver_group(world, params, ctx):
    group = get_vgroup(world, params)
    if _users_of(world, group):
        raise SimError("RspoolVipExist", "there are vips associating with this vServer group.")
    del world.vgroups[group["VServerGroupId"]]
    return {}


def describe_vserver_groups(world, params, ctx):
    lb = get_lb(world, params)
    with_lsn = params.get("IncludeListener", "false").lower() == "true"
    out = []
    for g in world.vgroups.values():
        if g["lb_id"] != lb["LoadBalancerId"]:
            continue
        if params.get("Description") and g["VServerGroupName"] != params["Description"]:
            continue
        item = {"VServerGroupId": g["VServerGroupId"], "VServerGroupName": g["VServerGroupName"],
                "CreateTime": g["CreateTime"], "ServerCount": len(g["backends"]),
                "Tags": {"Tag": list(g["tags"])},
                "AssociatedObjects": {"Listeners": {"Listener": []}, "Rules": {"Rule": []}}}
        if with_lsn:
            item["AssociatedObjects"]["Listeners"]["Listener"] = [
                {"Port": p, "Protocol": proto} for p, proto in _users_of(world, g)]
        out.append(item)
    return {"VServerGroups": {"VServerGroup": out}}


def describe_vserver_group_attribute(world, params, ctx):
    g = get_vgroup(world, params)
    out = _group_reply(g)
    out.update({"VServerGroupName": g["VServerGroupName"], "LoadBalancerId": g["lb_id"],
                "CreateTime": g["CreateTime"], "Tags": {"Tag": list(g["tags"])}})
    return out


def _group_and_lb(world, params):
    g = get_vgroup(world, params)
    return g, world.lbs[g["lb_id"]]


def add_backends(world, params, ctx):
    g, lb = _group_and_lb(world, params)
    raw = json_param(params, "BackendServers")
    if raw is None:
        raise missing("BackendServers")
    _add_members(world, lb, g, _parse_backends(world, lb, raw))
    return _group_reply(g)


def _loose_identities(world, raw, name):
    """Identities named in a Remove/Old list; tolerate servers that vanished."""
    if not isinstance(raw, list):
        raise invalid(name, "It must be a JSON array.")
    if len(raw) > world.config["quotas"]["backends_per_call"]:
        raise SimError("TooManyBackendServers", "The total number of input real servers "
                       "exceeds max supported number: %d" %
                       world.config["quotas"]["backends_per_call"])
    out = set()
    for b in raw:
        if not isinstance(b, dict) or not case_get(b, "ServerId"):
            raise missing("ServerId")
        btype = str(case_get(b, "Type", "ecs") or "ecs")
        try:
            port = int(case_get(b, "Port", 0))
        except (TypeError, ValueError):
            raise invalid(name)
        ip = str(case_get(b, "ServerIp", "") or "") if btype != "ecs" else ""
        out.add((str(case_get(b, "ServerId")), port, ip))
    return out


def _drop(group, ids):
    def gone(b):
        ident = _identity(b)
        return ident in ids or (ident[0], ident[1], "") in ids
    group["backends"] = [b for b in group["backends"] if not gone(b)]


def remove_backends(world, params, ctx):
    g, _ = _group_and_lb(world, params)
    raw = json_param(params, "BackendServers")
    if raw is None:
        raise missing("BackendServers")
    _drop(g, _loose_identities(world, raw, "BackendServers"))
    return _group_reply(g)


def set_vserver_group_attribute(world, params, ctx):
    g, lb = _group_and_lb(world, params)
    if "VServerGroupName" in params:
        g["VServerGroupName"] = params["VServerGroupName"]
    for nb in _parse_backends(world, lb, json_param(params, "BackendServers")):
        for b in g["backends"]:
            if _identity(b) == _identity(nb):
                b["Weight"] = nb["Weight"]
                b["Description"] = nb["Description"]
    out = _group_reply(g)
    out["VServerGroupName"] = g["VServerGroupName"]
    return out


def modify_backends(world, params, ctx):
    g, lb = _group_and_lb(world, params)
    old = json_param(params, "OldBackendServers")
    new = json_param(params, "NewBackendServers")
    if old is None:
        raise missing("OldBackendServers")
    if new is None:
        raise missing("NewBackendServers")
    new_b = _parse_backends(world, lb, new, "NewBackendServers")
    _drop(g, _loose_identities(world, old, "OldBackendServers"))
    _add_members(world, lb, g, new_b)
    return _group_reply(g)


def set_lb_status(world, params, ctx):
    lb = get_lb(world, params)
    st = req(params, "LoadBalancerStatus")
    if st not in ("active", "inactive"):
        raise invalid("LoadBalancerStatus")
    lb["LoadBalancerStatus"] = st
    return {}


ACTIONS = {
    "CreateLoadBalancer": create_load_balancer,
    "DeleteLoadBalancer": delete_load_balancer,
    "DescribeLoadBalancers": describe_load_balancers,
    "DescribeLoadBalancerAttribute": describe_load_balancer_attribute,
    "SetLoadBalancerName": _set_field("LoadBalancerName"),
    "SetLoadBalancerDeleteProtection": _set_field("DeleteProtection", ("on", "off")),
    "SetLoadBalancerModificationProtection": set_modification_protection,
    "ModifyLoadBalancerInstanceSpec": modify_instance_spec,
    "ModifyLoadBalancerInstanceChargeType": modify_instance_charge_type,
    "ModifyLoadBalancerInternetSpec": modify_internet_spec,
    "SetLoadBalancerStatus": set_lb_status,
    "AddTags": add_tags, "RemoveTags": remove_tags, "DescribeTags": describe_tags,
    "TagResources": tag_resources, "UntagResources": untag_resources,
    "ListTagResources": list_tag_resources,
    "DescribeLoadBalancerListeners": describe_listeners,
    "StartLoadBalancerListener": _listener_status("running"),
    "StopLoadBalancerListener": _listener_status("stopped"),
    "DeleteLoadBalancerListener": delete_listener,
    "CreateVServerGroup": create_vserver_group,
    "DeleteVServerGroup": delete_vserver_group,
    "DescribeVServerGroups": describe_vserver_groups,
    "DescribeVServerGroupAttribute": describe_vserver_group_attribute,
    "AddVServerGroupBackendServers": add_backends,
    "RemoveVServerGroupBackendServers": remove_backends,
    "SetVServerGroupAttribute": set_vserver_group_attribute,
    "ModifyVServerGroupBackendServers": modify_backends,
    "CreateDomainExtension": create_domain_extension,
    "DescribeDomainExtensions": describe_domain_extensions,
    "SetDomainExtensionAttribute": set_domain_extension,
    "DeleteDomainExtension": delete_domain_extension,
}
for _p in PROTOCOLS:
    _u = _p.upper()
    ACTIONS["CreateLoadBalancer%sListener" % _u] = create_listener(_p)
    ACTIONS["SetLoadBalancer%sListenerAttribute" % _u] = set_listener(_p)
    ACTIONS["DescribeLoadBalancer%sListenerAttribute" % _u] = describe_listener(_p)
