"""ECS 2014-05-26: instances and network interfaces."""
import ipaddress
import json

from sim_core import (SimError, invalid, page_number_slice, repeat_list, req,
                      tags_from_params, token_slice)

VERSION = "2014-05-26"


def _json_list(params, name, limit):
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        v = json.loads(raw)
    except ValueError:
        v = None
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise SimError("Invalid%s.Malformed" % name,
                       "The specified parameter %s is not valid." % name)
    if len(v) > limit:
        raise SimError("Invalid%s.ValueNotSupported" % name,
                       "The specified parameter %s exceeds %d items." % (name, limit))
    return set(v)


def instance_view(world, i):
    eni = world.enis.get(i["eni_id"], {})
    eip = i.get("eip") or {}
    return {
        "InstanceId": i["id"], "InstanceName": i["name"], "HostName": i["hostname"],
        "Hostname": i["hostname"], "RegionId": world.region, "ZoneId": i["zone"],
        "InstanceType": i["type"], "InstanceTypeFamily": ".".join(i["type"].split(".")[:2]),
        "Status": i["status"], "InstanceNetworkType": "vpc",
        "InstanceChargeType": i["charge_type"], "SpotStrategy": i["spot_strategy"],
        "InternetChargeType": "PayByTraffic", "Cpu": i["cpu"], "Memory": i["memory"],
        "OSType": "linux", "OSName": "Alibaba Cloud Linux 3", "ImageId": "m-simimage0001",
        "CreationTime": i["created"], "Description": "", "SerialNumber": i["id"][2:],
        "VpcAttributes": {"VpcId": i["vpc_id"], "VSwitchId": i["vswitch_id"],
                          "NatIpAddress": "", "PrivateIpAddress": {"IpAddress": [i["private_ip"]]}},
        "PublicIpAddress": {"IpAddress": [i["public_ip"]] if i["public_ip"] else []},
        "InnerIpAddress": {"IpAddress": []},
        "EipAddress": {"AllocationId": eip.get("id", ""), "IpAddress": eip.get("ip", ""),
                       "InternetChargeType": eip.get("charge_type", "") if eip else "",
                       "Bandwidth": eip.get("bandwidth", 0)},
        "NetworkInterfaces": {"NetworkInterface": [{
            "Type": "Primary", "NetworkInterfaceId": i["eni_id"],
            "PrimaryIpAddress": i["private_ip"], "MacAddress": eni.get("mac", ""),
            "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": i["private_ip"],
                                                "Primary": True}]},
            "Ipv6Sets": {"Ipv6Set": []}}]},
        "SecurityGroupIds": {"SecurityGroupId": ["sg-simdefault0001"]},
        "Tags": {"Tag": [dict(t) for t in i["tags"]]},
        "OperationLocks": {"LockReason": []},
        "MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "enabled"},
    }


def _instance_matches(world, i, params, ids, ips, tags):
    if ids is not None and i["id"] not in ids:
        return False
    if ips is not None and i["private_ip"] not in ips:
        return False
    simple = (("VpcId", "vpc_id"), ("VSwitchId", "vswitch_id"), ("ZoneId", "zone"),
              ("Status", "status"), ("InstanceName", "name"), ("InstanceType", "type"),
              ("InstanceChargeType", "charge_type"))
    for p, k in simple:
        if params.get(p) and i[k] != params[p]:
            return False
    if params.get("InstanceNetworkType") and params["InstanceNetworkType"] != "vpc":
        return False
    have = {(t["TagKey"], t["TagValue"]) for t in i["tags"]}
    return all((t["TagKey"], t["TagValue"]) in have for t in tags)


def describe_instances(world, params, ctx):
    limit = world.config["quotas"]["instance_ids_per_call"]
    ids = _json_list(params, "InstanceIds", limit)
    ips = _json_list(params, "PrivateIpAddresses", limit)
    tags = tags_from_params(params)
    items = [i for i in world.instances.values()
             if _instance_matches(world, i, params, ids, ips, tags)]
    cap = world.config["page_size"]
    if "NextToken" in params or "MaxResults" in params:
        page, nxt, size = token_slice(items, params, "MaxResults", 10, 100, cap)
        meta = {"TotalCount": len(items), "NextToken": nxt, "PageSize": size}
    else:
        page, meta = page_number_slice(items, params, 10, 100, cap)
    meta["Instances"] = {"Instance": [instance_view(world, i) for i in page]}
    return meta


def describe_instance_attribute(world, params, ctx):
    i = world.instances.get(req(params, "InstanceId"))
    if i is None:
        raise SimError("InvalidInstanceId.NotFound",
                       "The specified InstanceId does not exist.", 404)
    return instance_view(world, i)


def eni_view(world, e):
    return {
        "NetworkInterfaceId": e["id"], "Status": e["status"], "Type": e["type"],
        "VpcId": e["vpc_id"], "VSwitchId": e["vswitch_id"], "ZoneId": e["zone"],
        "PrivateIpAddress": e["private_ip"], "MacAddress": e["mac"],
        "InstanceId": e["instance_id"], "NetworkInterfaceName": e["name"],
        "Description": e["description"], "SourceDestCheck": e["source_dest_check"],
        "OwnerId": world.owner_id, "ResourceGroupId": "rg-simdefault",
        "CreationTime": "2024-01-01T00:00:00Z", "ServiceManaged": False,
        "SecurityGroupIds": {"SecurityGroupId": ["sg-simdefault0001"]},
        "AssociatedPublicIp": {},
        "PrivateIpSets": {"PrivateIpSet": [
            {"PrivateIpAddress": ip, "Primary": n == 0, "AssociatedPublicIp": {}}
            for n, ip in enumerate([e["private_ip"]] + e["secondary_ips"])]},
        "Ipv6Sets": {"Ipv6Set": [{"Ipv6Address": a} for a in e.get("ipv6s", [])]},
        "Attachment": {"InstanceId": e["instance_id"]} if e["instance_id"] else {},
        "Tags": {"Tag": []},
    }


def _ipv6_filter(params):
    """Ipv6Address.N, compared in canonical form (the API does too)."""
    out = set()
    for v in repeat_list(params, "Ipv6Address"):
        try:
            out.add(str(ipaddress.IPv6Address(v)))
        except ValueError:
            raise invalid("Ipv6Address", "%r is not an IPv6 address." % v)
    return out


def _eni_filters(params):
    ids = repeat_list(params, "NetworkInterfaceId")
    ips = repeat_list(params, "PrivateIpAddress")
    v6 = repeat_list(params, "Ipv6Address")
    for name, vals in (("NetworkInterfaceId", ids), ("PrivateIpAddress", ips),
                       ("Ipv6Address", v6)):
        if len(vals) > 100:
            raise invalid(name, "At most 100 values.")
    return set(ids), set(ips), _ipv6_filter(params)


def describe_network_interfaces(world, params, ctx):
    ids, ips, v6 = _eni_filters(params)
    simple = (("VpcId", "vpc_id"), ("VSwitchId", "vswitch_id"), ("InstanceId", "instance_id"),
              ("Type", "type"), ("Status", "status"), ("PrimaryIpAddress", "private_ip"))
    items = []
    for e in world.enis.values():
        if ids and e["id"] not in ids:
            continue
        if ips and not ips.intersection([e["private_ip"]] + e["secondary_ips"]):
            continue
        if v6 and not v6.intersection(e.get("ipv6s", [])):
            continue
        if any(params.get(p) and e[k] != params[p] for p, k in simple):
            continue
        items.append(e)
    cap = world.config["page_size"]
    if "NextToken" in params or "MaxResults" in params:
        page, nxt, size = token_slice(items, params, "MaxResults", 10, 500, cap)
        meta = {"TotalCount": len(items), "NextToken": nxt, "PageSize": size}
    else:
        page, meta = page_number_slice(items, params, 10, 500, cap)
    meta["NetworkInterfaceSets"] = {"NetworkInterfaceSet": [eni_view(world, e) for e in page]}
    return meta


def modify_network_interface_attribute(world, params, ctx):
    e = world.enis.get(req(params, "NetworkInterfaceId"))
    if e is None:
        raise SimError("InvalidEniId.NotFound",
                       "The specified NetworkInterfaceId does not exist.", 404)
    sdc = params.get("SourceDestCheck")
    if sdc is not None:
        if sdc.lower() not in ("true", "false"):
            raise invalid("SourceDestCheck")
        e["source_dest_check"] = sdc.lower() == "true"
    for p, k in (("NetworkInterfaceName", "name"), ("Description", "description")):
        if p in params:
            e[k] = params[p]
    return {}


ACTIONS = {
    "DescribeInstances": describe_instances,
    "DescribeInstanceAttribute": describe_instance_attribute,
    "DescribeNetworkInterfaces": describe_network_interfaces,
    "ModifyNetworkInterfaceAttribute": modify_network_interface_attribute,
}
