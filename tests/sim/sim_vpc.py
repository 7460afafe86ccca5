"""VPC 2016-04-28: VPCs, vSwitches, route tables and (asynchronous) route
entries, EIPs."""
import ipaddress
import time

from sim_core import (SimError, idempotent, invalid, missing, page_number_slice,
                      repeat_list, repeat_struct, req, token_slice)

VERSION = "2016-04-28"
BLACKHOLE = ipaddress.ip_network("100.64.0.0/10")


def _vpc(world, vpc_id):
    v = world.vpcs.get(vpc_id)
    if v is None:
        raise SimError("InvalidVpcId.NotFound", "Specified VPC does not exist.", 404)
    return v


def _table(world, params):
    t = world.route_tables.get(req(params, "RouteTableId"))
    if t is None:
        raise SimError("InvalidRouteTableId.NotFound", "Specified route table does not exist.",
                       404)
    world.purge_routes(t)
    return t


def _tables_of(world, vpc_id):
    return [t for t in world.route_tables.values() if t["vpc_id"] == vpc_id]


def vpc_view(world, v):
    return {
        "VpcId": v["id"], "RegionId": world.region, "Status": "Available",
        "VpcName": v.get("name", ""), "CidrBlock": v["cidr"], "Ipv6CidrBlock": "",
        "VRouterId": v.get("vrouter_id", "vrt-" + v["id"][4:]), "Description": "",
        "IsDefault": False, "CreationTime": "2024-01-01T00:00:00Z", "OwnerId":
        int(world.owner_id), "ResourceGroupId": "rg-simdefault",
        "VSwitchIds": {"VSwitchId": [s for s, x in world.vswitches.items()
                                     if x["vpc_id"] == v["id"]]},
        "RouterTableIds": {"RouterTableIds": [t["id"] for t in _tables_of(world, v["id"])]},
        "SecondaryCidrBlocks": {"SecondaryCidrBlock": list(v.get("secondary_cidrs", []))},
        "UserCidrs": {"UserCidr": []}, "NatGatewayIds": {"NatGatewayIds": []},
        "Tags": {"Tag": []},
    }


def describe_vpcs(world, params, ctx):
    items = [v for v in world.vpcs.values()
             if not params.get("VpcId") or v["id"] in params["VpcId"].split(",")]
    if params.get("VpcName"):
        items = [v for v in items if v.get("name") == params["VpcName"]]
    page, meta = page_number_slice(items, params, 10, 50, world.config["page_size"])
    meta["Vpcs"] = {"Vpc": [vpc_view(world, v) for v in page]}
    return meta


def describe_vpc_attribute(world, params, ctx):
    out = vpc_view(world, _vpc(world, req(params, "VpcId")))
    out["Ipv6CidrBlocks"] = {"Ipv6CidrBlock": []}
    out["AssociatedCens"] = {"AssociatedCen": []}
    out["CloudResources"] = {"CloudResourceSetType": []}
    return out


def _vsw_table(world, s):
    for t in world.route_tables.values():
        if s["id"] in t["vswitch_ids"] and t["type"] == "Custom":
            return t
    for t in _tables_of(world, s["vpc_id"]):
        if t["type"] == "System":
            return t
    return None


def vswitch_view(world, s):
    net = ipaddress.ip_network(s["cidr"], strict=False)
    used = sum(1 for e in world.enis.values() if e["vswitch_id"] == s["id"])
    used += sum(1 for lb in world.lbs.values() if lb["VSwitchId"] == s["id"])
    t = _vsw_table(world, s)
    return {
        "VSwitchId": s["id"], "VpcId": s["vpc_id"], "Status": "Available",
        "CidrBlock": s["cidr"], "Ipv6CidrBlock": "", "ZoneId": s["zone"],
        "AvailableIpAddressCount": max(0, net.num_addresses - 4 - used),
        "Description": "", "VSwitchName": s.get("name", ""), "CreationTime":
        "2024-01-01T00:00:00Z", "IsDefault": False, "ResourceGroupId": "rg-simdefault",
        "NetworkAclId": "", "OwnerId": int(world.owner_id), "ShareType": "",
        "RouteTable": {"RouteTableId": t["id"] if t else "",
                       "RouteTableType": t["type"] if t else ""},
        "Tags": {"Tag": []},
    }


def describe_vswitches(world, params, ctx):
    items = []
    for s in world.vswitches.values():
        if params.get("VpcId") and s["vpc_id"] != params["VpcId"]:
            continue
        if params.get("VSwitchId") and s["id"] not in params["VSwitchId"].split(","):
            continue
        if params.get("ZoneId") and s["zone"] != params["ZoneId"]:
            continue
        items.append(s)
    page, meta = page_number_slice(items, params, 10, 50, world.config["page_size"])
    meta["VSwitches"] = {"VSwitch": [vswitch_view(world, s) for s in page]}
    return meta


def describe_vswitch_attributes(world, params, ctx):
    s = world.vswitches.get(req(params, "VSwitchId"))
    if s is None:
        raise SimError("InvalidVSwitchId.NotFound", "Specified vSwitch does not exist.", 404)
    return vswitch_view(world, s)


# -- route tables -----------------------------------------------------------------

def table_view(world, t):
    return {"RouteTableId": t["id"], "VpcId": t["vpc_id"], "RouteTableType": t["type"],
            "RouteTableName": t["name"], "RouterType": "VRouter",
            "RouterId": world.vpcs[t["vpc_id"]].get("vrouter_id", "vrt-" + t["vpc_id"][4:]),
            "Status": "Available", "CreationTime": t["created"], "Description": "",
            "ResourceGroupId": "rg-simdefault", "OwnerId": int(world.owner_id),
            "AssociateType": "VSwitch", "VSwitchIds": {"VSwitchId": list(t["vswitch_ids"])},
            "Tags": {"Tag": []}}


def _filter_tables(world, params):
    out = []
    for t in world.route_tables.values():
        if params.get("VpcId") and t["vpc_id"] != params["VpcId"]:
            continue
        if params.get("RouteTableId") and t["id"] != params["RouteTableId"]:
            continue
        if params.get("RouteTableType") and t["type"] != params["RouteTableType"]:
            continue
        if params.get("RouteTableName") and t["name"] != params["RouteTableName"]:
            continue
        rid = params.get("RouterId") or params.get("VRouterId")
        if rid and world.vpcs[t["vpc_id"]].get("vrouter_id") != rid:
            continue
        out.append(t)
    return out


def describe_route_table_list(world, params, ctx):
    if params.get("VpcId"):
        _vpc(world, params["VpcId"])
    page, meta = page_number_slice(_filter_tables(world, params), params, 10, 50,
                                   world.config["page_size"])
    meta["RouterTableList"] = {"RouterTableListType": [table_view(world, t) for t in page]}
    meta.update({"Success": True, "Code": "200", "Message": "successful"})
    return meta


def describe_route_tables(world, params, ctx):
    page, meta = page_number_slice(_filter_tables(world, params), params, 10, 50,
                                   world.config["page_size"])
    tables = []
    for t in page:
        world.purge_routes(t)
        view = table_view(world, t)
        view["VRouterId"] = view["RouterId"]
        view["RouteEntrys"] = {"RouteEntry": [entry_view(world, t, e)
                                              for e in all_entries(world, t)]}
        tables.append(view)
    meta["RouteTables"] = {"RouteTable": tables}
    return meta


def _status(e, now):
    if e["deleting_until"] is not None:
        return "Deleting"
    return "Pending" if e["pending_until"] > now else "Available"


def _hop_view(world, hop_id, hop_type):
    return {"NextHopId": hop_id, "NextHopType": hop_type, "Enabled": 1,
            "Weight": 100, "NextHopRegionId": world.region,
            "NextHopRelatedInfo": {"InstanceId": "", "InstanceType": "", "RegionId": ""}}


def entry_view(world, t, e, now=None):
    now = time.monotonic() if now is None else now
    hops = [_hop_view(world, e["next_hop_id"], e["next_hop_type"])] if e["next_hop_id"] else []
    hops += [_hop_view(world, h["id"], h["type"]) for h in e.get("extra_hops", ())]
    return {"RouteEntryId": e["id"], "RouteTableId": t["id"], "DestinationCidrBlock": e["cidr"],
            "Type": e["type"], "Status": _status(e, now), "IpVersion": "IPv4",
            "RouteEntryName": e["name"], "Description": e["description"],
            "InstanceId": e["next_hop_id"], "NextHopType": e["next_hop_type"],
            "GmtModified": e["modified"], "Origin": "", "ServiceType": "",
            "NextHops": {"NextHop": hops}}


def _system_entries(world, t):
    """Read-only System routes: one per vSwitch CIDR plus the cloud service range."""
    out = []
    for s in sorted(world.vswitches.values(), key=lambda x: x["id"]):
        if s["vpc_id"] == t["vpc_id"]:
            out.append({"id": "rte-sys-" + s["id"][4:], "cidr": s["cidr"], "next_hop_id": "",
                        "next_hop_type": "local", "type": "System", "pending_until": 0,
                        "deleting_until": None, "name": "", "description": "",
                        "modified": t["created"]})
    out.append({"id": "rte-sys-svc-" + t["id"][4:], "cidr": "100.64.0.0/10", "next_hop_id": "",
                "next_hop_type": "service", "type": "System", "pending_until": 0,
                "deleting_until": None, "name": "", "description": "", "modified": t["created"]})
    return out


def all_entries(world, t):
    return _system_entries(world, t) + list(t["entries"])


def describe_route_entry_list(world, params, ctx):
    t = _table(world, params)
    f_type = params.get("RouteEntryType", "")
    cidrs = set(repeat_list(params, "DestCidrBlockList"))
    if len(cidrs) > 20:
        raise invalid("DestCidrBlockList", "At most 20 CIDR blocks.")
    if params.get("DestinationCidrBlock"):
        cidrs.add(params["DestinationCidrBlock"])
    hop_type = params.get("NextHopType", "")
    items = []
    for e in all_entries(world, t):
        if f_type and e["type"] != f_type:
            continue
        if cidrs and e["cidr"] not in cidrs:
            continue
        if params.get("RouteEntryId") and e["id"] != params["RouteEntryId"]:
            continue
        if params.get("NextHopId") and e["next_hop_id"] != params["NextHopId"]:
            continue
        if hop_type and e["next_hop_type"].lower() != hop_type.lower():
            continue
        if params.get("RouteEntryName") and e["name"] != params["RouteEntryName"]:
            continue
        items.append(e)
    page, nxt, _ = token_slice(items, params, "MaxResult", 10, 500, world.config["page_size"])
    now = time.monotonic()
    return {"NextToken": nxt, "RouteEntrys": {"RouteEntry": [entry_view(world, t, e, now)
                                                            for e in page]}}


def _norm_cidr(value, name="DestinationCidrBlock"):
    try:
        return str(ipaddress.ip_network(value if "/" in value else value + "/32", strict=False))
    except ValueError:
        raise SimError("InvalidCidrBlock.Malformed", "Specified CIDR block is not valid.")


def _task_conflict(t):
    if t["busy_until"] > time.monotonic():
        raise SimError("TaskConflict",
                       "The operation is too frequent, please wait a moment and try again.")


def _check_destination(world, t, cidr):
    net = ipaddress.ip_network(cidr)
    if net.overlaps(BLACKHOLE):
        raise SimError("InvalidCidrBlock", "Specified CIDR block is not valid.")
    for s in world.vswitches.values():
        if s["vpc_id"] == t["vpc_id"] and net.overlaps(ipaddress.ip_network(s["cidr"])):
            raise SimError("InvalidCidrBlock", "Specified CIDR block is not valid.")


def _check_next_hop(world, t, hop_type, hop):
    if hop_type == "Instance":
        inst = world.instances.get(hop)
        if inst is None or inst["vpc_id"] != t["vpc_id"]:
            raise SimError("InvalidNextHop.NotFound", "Specified next hop does not exist.")
    elif hop_type == "NetworkInterface":
        eni = world.enis.get(hop)
        if eni is None or eni["vpc_id"] != t["vpc_id"]:
            raise SimError("InvalidNextHop.NotFound", "Specified next hop does not exist.")
    else:
        raise invalid("NextHopType", "The simulator supports Instance and NetworkInterface.")


def _create_checks(world, t, cidr, hop_type, hop):
    """-> (code, message) of the first failing rule, or None."""
    try:
        _check_destination(world, t, cidr)
        _check_next_hop(world, t, hop_type, hop)
    except SimError as e:
        return e.code, e.message
    if any(e["cidr"] == cidr for e in t["entries"]):
        return "InvalidCIDRBlock.Duplicate", "Specified CIDR block is already exists."
    if len(t["entries"]) >= world.config["quotas"]["route_entries_per_table"]:
        return "QuotaExceeded", "Route entry quota exceeded in this route table."
    return None


def create_route_entry(world, params, ctx):
    return idempotent(world, ctx, params, lambda: _create_route_entry(world, params))


def _create_route_entry(world, params):
    t = _table(world, params)
    cidr = _norm_cidr(req(params, "DestinationCidrBlock"))
    hop_type = params.get("NextHopType") or "Instance"
    hop = req(params, "NextHopId")
    _task_conflict(t)
    err = _create_checks(world, t, cidr, hop_type, hop)
    if err:
        raise SimError(err[0], err[1])
    e = world.add_route_entry(t, cidr, hop, hop_type, name=params.get("RouteEntryName", ""),
                              description=params.get("Description", ""))
    return {"RouteEntryId": e["id"]}


def _find_entry(t, params):
    if params.get("RouteEntryId"):
        hits = [e for e in t["entries"] if e["id"] == params["RouteEntryId"]]
    else:
        cidr = _norm_cidr(req(params, "DestinationCidrBlock"))
        hits = [e for e in t["entries"] if e["cidr"] == cidr and
                (not params.get("NextHopId") or e["next_hop_id"] == params["NextHopId"])]
    hits = [e for e in hits if e["deleting_until"] is None]
    if not hits:
        raise SimError("InvalidRouteEntry.NotFound", "Specified route entry does not exist.")
    return hits[0]


def _remove_entry(world, t, e):
    ms = world.config["route_deleting_ms"]
    if ms <= 0:
        t["entries"].remove(e)
        return
    until = time.monotonic() + ms / 1000.0
    e["deleting_until"] = until
    t["busy_until"] = max(t["busy_until"], until)


def delete_route_entry(world, params, ctx):
    t = _table(world, params)
    e = _find_entry(t, params)
    _task_conflict(t)
    if e["pending_until"] > time.monotonic():
        raise SimError("IncorrectRouteEntryStatus", "Specified routeEntry status error.")
    _remove_entry(world, t, e)
    return {}


def _batch_tables(world, rows):
    tables = {}
    for r in rows:
        tid = r.get("RouteTableId")
        if not tid:
            raise missing("RouteEntries.N.RouteTableId")
        if tid not in tables:
            tables[tid] = _table(world, {"RouteTableId": tid})
    for t in tables.values():
        _task_conflict(t)
    return tables


def _batch_rows(params):
    rows = repeat_struct(params, "RouteEntries")
    if not rows:
        raise missing("RouteEntries")
    if len(rows) > 50:
        raise invalid("RouteEntries", "At most 50 entries per call.")
    return rows


def create_route_entries(world, params, ctx):
    rows = _batch_rows(params)
    tables = _batch_tables(world, rows)
    ids, failed = [], []
    for r in rows:
        t = tables[r["RouteTableId"]]
        hop = r.get("NextHop", "")
        try:
            cidr = _norm_cidr(r.get("DstCidrBlock", ""))
        except SimError as e:
            failed.append(_failed(r, e.code, e.message))
            continue
        err = _create_checks(world, t, cidr, r.get("NextHopType") or "Instance", hop)
        if err:
            code = {"InvalidCIDRBlock.Duplicate": "VPC_ROUTE_ENTRY_CIDR_BLOCK_DUPLICATE"
                    }.get(err[0], err[0])
            failed.append(_failed(r, code, err[1]))
            continue
        e = world.add_route_entry(t, cidr, hop, r.get("NextHopType") or "Instance",
                                  name=r.get("Name", ""), description=r.get("Description", ""))
        ids.append(e["id"])
    return {"SuccessCount": len(ids), "FailedCount": len(failed), "RouteEntryIds": ids,
            "FailedRouteEntries": failed}


def _failed(r, code, msg):
    return {"DstCidrBlock": r.get("DstCidrBlock", ""), "NextHop": r.get("NextHop", ""),
            "FailedCode": code, "FailedMessage": msg}


def delete_route_entries(world, params, ctx):
    rows = _batch_rows(params)
    tables = _batch_tables(world, rows)
    ok, failed = 0, []
    for r in rows:
        t = tables[r["RouteTableId"]]
        q = {"RouteEntryId": r.get("RouteEntryId", ""), "DestinationCidrBlock":
             r.get("DstCidrBlock", ""), "NextHopId": r.get("NextHop", "")}
        try:
            e = _find_entry(t, q)
        except SimError:
            failed.append(_failed(r, "VPC_ROUTER_ENTRY_NOT_EXIST",
                                  "Specified route entry does not exist."))
            continue
        if e["pending_until"] > time.monotonic():
            failed.append(_failed(r, "VPC_ROUTE_ENTRY_STATUS_ERROR",
                                  "Specified route entry status error."))
            continue
        _remove_entry(world, t, e)
        ok += 1
    return {"SuccessCount": ok, "FailedCount": len(failed), "FailedRouteEntries": failed}


# -- EIPs ----------------------------------------------------------------------------

def eip_view(world, e):
    return {"AllocationId": e["id"], "IpAddress": e["ip"], "RegionId": world.region,
            "Status": "InUse" if e.get("instance_id") else "Available",
            "InstanceId": e.get("instance_id", ""), "InstanceType": e.get("instance_type", ""),
            "InstanceRegionId": world.region if e.get("instance_id") else "",
            "Bandwidth": str(e.get("bandwidth", 5)), "InternetChargeType":
            e.get("charge_type", "PayByTraffic"), "ChargeType": "PostPaid",
            "AllocationTime": "2024-01-01T00:00:00Z", "Name": e.get("name", ""),
            "Tags": {"Tag": []}}


def describe_eip_addresses(world, params, ctx):
    items = []
    for e in world.eips.values():
        if params.get("AllocationId") and e["id"] != params["AllocationId"]:
            continue
        if params.get("EipAddress") and e["ip"] != params["EipAddress"]:
            continue
        if params.get("AssociatedInstanceType") and \
                e.get("instance_type") != params["AssociatedInstanceType"]:
            continue
        if params.get("AssociatedInstanceId") and \
                e.get("instance_id") != params["AssociatedInstanceId"]:
            continue
        items.append(e)
    page, meta = page_number_slice(items, params, 10, 100, world.config["page_size"])
    meta["EipAddresses"] = {"EipAddress": [eip_view(world, e) for e in page]}
    return meta


ACTIONS = {
    "DescribeVpcs": describe_vpcs,
    "DescribeVpcAttribute": describe_vpc_attribute,
    "DescribeVSwitches": describe_vswitches,
    "DescribeVSwitchAttributes": describe_vswitch_attributes,
    "DescribeRouteTableList": describe_route_table_list,
    "DescribeRouteTables": describe_route_tables,
    "DescribeRouteEntryList": describe_route_entry_list,
    "CreateRouteEntry": create_route_entry,
    "DeleteRouteEntry": delete_route_entry,
    "CreateRouteEntries": create_route_entries,
    "DeleteRouteEntries": delete_route_entries,
    "DescribeEipAddresses": describe_eip_addresses,
}
