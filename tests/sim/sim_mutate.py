"""Out-of-band state changes for tests: POST /_sim/state/<op> {args}.
Each op raises KeyError/ValueError for bad input (answered 400)."""
import time

import sim_slb
from sim_core import now_iso


def _need(args, *names):
    for n in names:
        if n not in args:
            raise ValueError("missing argument %r" % n)


def add_instance(w, a):
    _need(a, "vswitch_id")
    if a.get("id") in w.instances:
        raise ValueError("instance exists")
    inst = w.add_instance(a)
    return {"id": inst["id"], "private_ip": inst["private_ip"], "eni_id": inst["eni_id"]}


def remove_instance(w, a):
    inst = w.instances.pop(a["id"])
    w.enis.pop(inst["eni_id"], None)
    return {}


def set_instance(w, a):
    inst = w.instances[a["id"]]
    for k, v in a.items():
        if k == "id":
            continue
        if k not in inst:
            raise ValueError("unknown instance field %r" % k)
        inst[k] = v
        if k == "private_ip":
            w.enis[inst["eni_id"]]["private_ip"] = v
    return {}


def _status(value):
    def op(w, a):
        w.instances[a["id"]]["status"] = value
        return {}
    return op


def add_eni(w, a):
    _need(a, "vswitch_id")
    e = w.add_eni(a)
    return {"id": e["id"], "private_ip": e["private_ip"]}


def remove_eni(w, a):
    del w.enis[a["id"]]
    return {}


def remove_backend(w, a):
    g = w.vgroups[a["vserver_group_id"]]
    before = len(g["backends"])
    g["backends"] = [b for b in g["backends"] if not (
        b["ServerId"] == a["server_id"] and ("port" not in a or b["Port"] == int(a["port"])))]
    return {"removed": before - len(g["backends"])}


def add_backend(w, a):
    """Attach a backend without validation (e.g. a foreign cluster's server)."""
    g = w.vgroups[a["vserver_group_id"]]
    b = {"ServerId": a["server_id"], "Port": int(a["port"]), "Weight": int(a.get("weight", 100)),
         "Type": a.get("type", "ecs"), "ServerIp": a.get("server_ip", ""),
         "VpcId": a.get("vpc_id", ""), "Description": a.get("description", ""),
         "ServerRegionId": w.region}
    g["backends"].append(b)
    return {}


def delete_load_balancer(w, a):
    if a["id"] not in w.lbs:
        raise KeyError(a["id"])
    sim_slb.remove_lb(w, a["id"])
    return {}


def set_load_balancer(w, a):
    lb = w.lbs[a["id"]]
    for k, v in a.items():
        if k != "id":
            if k not in lb or not k[:1].isupper():
                raise ValueError("unknown load balancer field %r" % k)
            lb[k] = v
    return {}


def delete_listener(w, a):
    lb = w.lbs[a["load_balancer_id"]]
    keys = [k for k in lb["listeners"] if k[0] == int(a["port"]) and
            (not a.get("protocol") or k[1] == a["protocol"])]
    if not keys:
        raise KeyError("listener")
    for k in keys:
        del lb["listeners"][k]
    return {}


def delete_vserver_group(w, a):
    del w.vgroups[a["id"]]
    return {}


def set_tag(w, a):
    lb = w.lbs[a["load_balancer_id"]]
    lb["tags"] = [t for t in lb["tags"] if t["TagKey"] != a["key"]]
    if a.get("value") is not None:
        lb["tags"].append({"TagKey": a["key"], "TagValue": a["value"]})
    return {}


def remove_tag(w, a):
    return set_tag(w, {"load_balancer_id": a["load_balancer_id"], "key": a["key"],
                       "value": None})


def add_route_table(w, a):
    t = w.add_route_table(dict(a, type=a.get("type", "Custom")))
    return {"id": t["id"]}


def add_route_entry(w, a):
    _need(a, "route_table_id", "cidr", "next_hop_id")
    t = w.route_tables[a["route_table_id"]]
    extra = [(h["id"], h.get("type", "Instance")) for h in a.get("extra_hops", [])]
    e = w.add_route_entry(t, a["cidr"], a["next_hop_id"], a.get("next_hop_type", "Instance"),
                          pending_ms=int(a.get("pending_ms", 0)), name=a.get("name", ""),
                          description=a.get("description", ""), extra_hops=extra)
    if not a.get("pending_ms"):
        t["busy_until"] = min(t["busy_until"], time.monotonic())
    return {"id": e["id"]}


def delete_route_entry(w, a):
    t = w.route_tables[a["route_table_id"]]
    before = len(t["entries"])
    t["entries"] = [e for e in t["entries"] if not (
        e["cidr"] == a["cidr"] and (not a.get("next_hop_id") or
                                    e["next_hop_id"] == a["next_hop_id"]))]
    return {"removed": before - len(t["entries"])}


def add_eip(w, a):
    eid = a.get("id") or w.ids.make("eip")
    w.eips[eid] = {"id": eid, "ip": a.get("ip") or w.alloc_public_ip(),
                   "instance_id": a.get("instance_id", ""),
                   "instance_type": a.get("instance_type", ""),
                   "bandwidth": a.get("bandwidth", 5)}
    return {"id": eid, "ip": w.eips[eid]["ip"]}


def add_account(w, a):
    _need(a, "access_key_id", "access_key_secret")
    w.add_account(a)
    return {}


def expire_sts(w, a):
    """Expire the metadata role credential now (the next fetch issues a new one)."""
    cred = w.meta_cred
    if cred:
        w.accounts[cred["AccessKeyId"]]["expiration"] = time.time() - 1
        w.meta_cred = None
    return {}


def set_metadata(w, a):
    w.metadata.update(a)
    return {}


def add_vpc(w, a):
    _need(a, "id", "cidr")
    w.vpcs[a["id"]] = {"id": a["id"], "cidr": a["cidr"], "name": a.get("name", ""),
                       "vrouter_id": a.get("vrouter_id", "vrt-" + a["id"][4:])}
    if a.get("route_table", True):
        w.add_route_table({"vpc_id": a["id"], "type": "System"})
    return {}


def add_vswitch(w, a):
    _need(a, "id", "vpc_id", "cidr", "zone")
    if a["vpc_id"] not in w.vpcs:
        raise KeyError(a["vpc_id"])
    w.vswitches[a["id"]] = {"id": a["id"], "vpc_id": a["vpc_id"], "cidr": a["cidr"],
                            "zone": a["zone"], "name": a.get("name", "")}
    for t in w.route_tables.values():
        if t["vpc_id"] == a["vpc_id"] and t["type"] == "System":
            t["vswitch_ids"].append(a["id"])
    return {}


OPS = {
    "add_vpc": add_vpc, "add_vswitch": add_vswitch,
    "add_instance": add_instance, "remove_instance": remove_instance,
    "set_instance": set_instance, "stop_instance": _status("Stopped"),
    "start_instance": _status("Running"), "add_eni": add_eni, "remove_eni": remove_eni,
    "remove_backend": remove_backend, "add_backend": add_backend,
    "delete_load_balancer": delete_load_balancer, "set_load_balancer": set_load_balancer,
    "delete_listener": delete_listener, "delete_vserver_group": delete_vserver_group,
    "set_tag": set_tag, "remove_tag": remove_tag, "add_route_table": add_route_table,
    "add_route_entry": add_route_entry, "delete_route_entry": delete_route_entry,
    "add_eip": add_eip, "add_account": add_account, "expire_sts": expire_sts,
    "set_metadata": set_metadata,
}


def dump(w):
    """JSON-friendly full state (GET /_sim/state)."""
    import time as _t
    now = _t.monotonic()
    tables = []
    for t in w.route_tables.values():
        w.purge_routes(t)
        tables.append({"id": t["id"], "vpc_id": t["vpc_id"], "type": t["type"],
                       "vswitch_ids": t["vswitch_ids"], "busy": t["busy_until"] > now,
                       "entries": [{"id": e["id"], "cidr": e["cidr"],
                                    "next_hop_id": e["next_hop_id"],
                                    "next_hop_type": e["next_hop_type"], "name": e["name"],
                                    "description": e.get("description", ""),
                                    "extra_hops": list(e.get("extra_hops", ())),
                                    "status": ("Deleting" if e["deleting_until"] else
                                               "Pending" if e["pending_until"] > now
                                               else "Available")}
                                   for e in t["entries"]]})
    lbs = []
    for lb in w.lbs.values():
        d = sim_slb.public(lb)
        d["Tags"] = list(lb["tags"])
        d["Listeners"] = [sim_slb.listener_view(l) for _, l in sorted(lb["listeners"].items())]
        lbs.append(d)
    groups = [{"VServerGroupId": g["VServerGroupId"], "VServerGroupName": g["VServerGroupName"],
               "LoadBalancerId": g["lb_id"], "BackendServers": [dict(b) for b in g["backends"]]}
              for g in w.vgroups.values()]
    return {"region": w.region, "zones": w.zones, "config": w.config,
            "vpcs": list(w.vpcs.values()), "vswitches": list(w.vswitches.values()),
            "route_tables": tables, "instances": list(w.instances.values()),
            "enis": list(w.enis.values()), "eips": list(w.eips.values()),
            "load_balancers": lbs, "vserver_groups": groups,
            "metadata": w.metadata, "time": now_iso()}
