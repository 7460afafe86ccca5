"""Shared pieces of the simulator: errors, id generation, paging, parameter
parsing and the in-memory world (loaded from the state file)."""
import copy
import ipaddress
import itertools
import json
import random
import threading
import time
import uuid

PRODUCT_HOST = {
    "2014-05-15": "slb.aliyuncs.com",
    "2016-04-28": "vpc.aliyuncs.com",
    "2014-05-26": "ecs.aliyuncs.com",
}


class SimError(Exception):
    """An API error answered as {RequestId, HostId, Code, Message, Recommend}."""

    def __init__(self, code, message, status=400):
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status


def missing(name):
    return SimError("MissingParameter",
                    'The input parameter "%s" that is mandatory for processing '
                    "this request is not supplied." % name)


def invalid(name, detail=None):
    msg = "The specified parameter %s is not valid." % name
    if detail:
        msg += " " + detail
    return SimError("InvalidParameter", msg)


def request_id():
    return str(uuid.uuid4()).upper()


def now_iso(ts=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))


def req(params, name):
    v = params.get(name)
    if v is None or v == "":
        raise missing(name)
    return v


def int_param(params, name, default=None, lo=None, hi=None):
    v = params.get(name)
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        raise invalid(name, "It must be an integer.")
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise invalid(name, "It must be between %s and %s." % (lo, hi))
    return n


def json_param(params, name):
    v = params.get(name)
    if v is None or v == "":
        return None
    try:
        return json.loads(v)
    except ValueError:
        raise invalid(name, "It is not a valid JSON string.")


def repeat_list(params, prefix):
    """Values of Name.1, Name.2, ... (ordered by N)."""
    out = []
    plen = len(prefix) + 1
    for k, v in params.items():
        if k.startswith(prefix + ".") and k[plen:].isdigit():
            out.append((int(k[plen:]), v))
    return [v for _, v in sorted(out)]


def repeat_struct(params, prefix):
    """Name.N.Field=value -> [ {Field: value}, ... ] ordered by N."""
    groups = {}
    plen = len(prefix) + 1
    for k, v in params.items():
        if not k.startswith(prefix + "."):
            continue
        n, _, field = k[plen:].partition(".")
        if n.isdigit() and field:
            groups.setdefault(int(n), {})[field] = v
    return [groups[n] for n in sorted(groups)]


def tags_from_params(params):
    """Tag.N.Key / Tag.N.Value -> [{TagKey, TagValue}]"""
    out = []
    for t in repeat_struct(params, "Tag"):
        if "Key" in t:
            out.append({"TagKey": t["Key"], "TagValue": t.get("Value", "")})
    return out


def page_number_slice(items, params, default_size, max_size, cap):
    """PageNumber/PageSize paging; cap is the configured page_size limit."""
    number = int_param(params, "PageNumber", 1, lo=1)
    size = int_param(params, "PageSize", default_size, lo=1, hi=max_size)
    size = min(size, cap)
    start = (number - 1) * size
    return items[start:start + size], {"TotalCount": len(items), "PageNumber": number,
                                        "PageSize": size}


def token_slice(items, params, size_name, default_size, max_size, cap):
    """NextToken/MaxResults paging: the token is an opaque offset."""
    size = int_param(params, size_name, default_size, lo=1, hi=max_size)
    size = min(size, cap)
    tok = params.get("NextToken", "")
    start = 0
    if tok:
        if not tok.startswith("sim") or not tok[3:].isdigit():
            raise SimError("InvalidNextToken", "The specified NextToken is not valid.")
        start = int(tok[3:])
    page = items[start:start + size]
    nxt = "sim%d" % (start + size) if start + size < len(items) else ""
    return page, nxt, size


class IdGen:
    """Alibaba-looking ids: prefix + 20 lowercase alnum chars (deterministic)."""

    ALPHA = "0123456789abcdefghijklmnopqrstuvwxyz"

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.count = itertools.count(1)

    def make(self, prefix):
        body = "".join(self.rng.choice(self.ALPHA) for _ in range(16))
        return "%s-sim%s%04d" % (prefix, body, next(self.count) % 10000)


def host_in(cidr, ip):
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


DEFAULT_CONFIG = {
    "page_size": 100,          # cap applied on top of each action's own limit
    "route_pending_ms": 200,   # CreateRouteEntry: Pending this long, then Available
    "route_deleting_ms": 0,    # DeleteRouteEntry: Deleting this long, then gone
    "nonce_window_s": 900,
    "max_skew_s": 900,
    "clock_offset_s": 0,       # the server's clock minus the real one
    "public_pool_cidr": "47.99.0.0/16",
    "sts_ttl_s": 3600,
    "metadata_stall_until": 0,  # unix time: metadata requests wait until then
    "calls_max": 200000,
    "seed": 1,
    "quotas": {
        "listeners_per_lb": 50,
        "backends_per_call": 20,
        "backends_per_lb": 200,     # distinct servers, not group memberships
        "lbs_per_instance": 50,     # CLBs one ECS instance can be a backend of
        "load_balancers": 60,
        "route_entries_per_table": 200,
        "lb_ids_per_describe": 10,
        "instance_ids_per_call": 100,
    },
}


class World:
    """Everything the simulated account owns. Guarded by self.lock."""

    def __init__(self, doc):
        self.lock = threading.RLock()
        self.load(doc)

    def load(self, doc):
        self.doc = copy.deepcopy(doc)
        cfg = copy.deepcopy(DEFAULT_CONFIG)
        user_cfg = doc.get("config", {})
        for k, v in user_cfg.items():
            if k == "quotas":
                cfg["quotas"].update(v)
            else:
                cfg[k] = v
        self.config = cfg
        self.ids = IdGen(cfg.get("seed", 1))
        self.rng = random.Random(cfg.get("seed", 1))
        self.region = doc.get("region", "cn-hangzhou")
        self.regions = set(doc.get("regions", [self.region]))
        self.regions.add(self.region)
        self.zones = list(doc.get("zones", []))
        self.owner_id = str(doc.get("owner_account_id", "1234567890123456"))
        self.accounts = {}
        for a in doc.get("accounts", []):
            self.add_account(a)
        self.vpcs = {}
        for v in doc.get("vpcs", []):
            self.vpcs[v["id"]] = dict(v)
        self.vswitches = {}
        for s in doc.get("vswitches", []):
            self.vswitches[s["id"]] = dict(s)
        self.route_tables = {}
        for t in doc.get("route_tables", []):
            self.add_route_table(t)
        self.instances = {}
        self.enis = {}
        self.lbs = {}  # before instances: allocating their IPs reads it
        for i in doc.get("instances", []):
            self.add_instance(i)
        for e in doc.get("enis", []):
            self.add_eni(e)
        self.eips = {}
        for e in doc.get("eips", []):
            self.eips[e["id"]] = dict(e)
        self.vgroups = {}
        self.client_tokens = {}
        self.public_next = 10
        self.metadata = dict(doc.get("metadata", {}))
        self.meta_tokens = {}
        self.meta_cred = None

    # -- accounts ---------------------------------------------------------
    def add_account(self, a):
        exp = a.get("expiration")
        self.accounts[a["access_key_id"]] = {
            "secret": a["access_key_secret"],
            "token": a.get("security_token"),
            "expiration": parse_iso(exp) if exp else None,
            "disabled": bool(a.get("disabled", False)),
        }

    # -- network ------------------------------------------------------------
    def add_route_table(self, t):
        tid = t.get("id") or self.ids.make("vtb")
        vpc_id = t.get("vpc_id") or next(iter(self.vpcs))
        table = {
            "id": tid, "vpc_id": vpc_id, "type": t.get("type", "System"),
            "name": t.get("name", ""), "entries": [], "busy_until": 0.0,
            "vswitch_ids": t.get("vswitch_ids") or (
                [s for s, v in self.vswitches.items() if v["vpc_id"] == vpc_id]
                if t.get("type", "System") == "System" else []),
            "created": now_iso(),
        }
        self.route_tables[tid] = table
        for e in t.get("entries", []):
            self.add_route_entry(table, e.get("cidr"), e.get("next_hop_id"),
                                 e.get("next_hop_type", "Instance"), pending_ms=0,
                                 name=e.get("name", ""), description=e.get("description", ""),
                                 extra_hops=[(h["id"], h.get("type", "Instance"))
                                             for h in e.get("extra_hops", [])])
        return table

    def add_route_entry(self, table, cidr, hop, hop_type="Instance", pending_ms=None,
                        name="", description="", extra_hops=()):
        """extra_hops: further (id, type) next hops of an ECMP entry."""
        if pending_ms is None:
            pending_ms = self.config["route_pending_ms"]
        now = time.monotonic()
        until = now + pending_ms / 1000.0
        entry = {"id": self.ids.make("rte"), "cidr": cidr, "next_hop_id": hop,
                 "next_hop_type": hop_type, "type": "Custom", "pending_until": until,
                 "deleting_until": None, "name": name, "description": description,
                 "modified": now_iso(),
                 "extra_hops": [{"id": h[0], "type": h[1]} for h in extra_hops]}
        table["entries"].append(entry)
        table["busy_until"] = max(table["busy_until"], until)
        return entry

    def purge_routes(self, table):
        now = time.monotonic()
        table["entries"] = [e for e in table["entries"]
                            if e["deleting_until"] is None or e["deleting_until"] > now]

    def add_instance(self, i):
        iid = i.get("id") or self.ids.make("i")
        vsw = self.vswitches[i["vswitch_id"]]
        ip = i.get("private_ip") or self.alloc_private_ip(vsw)
        eni = dict(i.get("eni") or {})
        eni_id = eni.get("id") or self.ids.make("eni")
        inst = {
            "id": iid, "name": i.get("name", iid), "hostname": i.get("hostname", iid),
            "zone": i.get("zone", vsw["zone"]), "vswitch_id": vsw["id"], "vpc_id": vsw["vpc_id"],
            "type": i.get("type", "ecs.g6.large"), "private_ip": ip,
            "public_ip": i.get("public_ip", ""), "eip": i.get("eip"),
            "status": i.get("status", "Running"), "charge_type": i.get("charge_type", "PostPaid"),
            "spot_strategy": i.get("spot_strategy", "NoSpot"),
            "tags": list(i.get("tags", [])), "eni_id": eni_id,
            "cpu": i.get("cpu", 2), "memory": i.get("memory", 8192),
            "created": i.get("created", "2024-01-01T00:00Z"),
        }
        self.instances[iid] = inst
        self.enis[eni_id] = {
            "id": eni_id, "vswitch_id": vsw["id"], "vpc_id": vsw["vpc_id"], "zone": inst["zone"],
            "private_ip": ip, "secondary_ips": list(eni.get("secondary_ips", [])),
            "ipv6s": [str(ipaddress.IPv6Address(a)) for a in eni.get("ipv6s", [])],
            "instance_id": iid, "type": "Primary", "status": "InUse",
            "mac": eni.get("mac") or self.mac(),
            "source_dest_check": eni.get("source_dest_check", True),
            "name": eni.get("name", ""), "description": "",
        }
        return inst

    def add_eni(self, e):
        eid = e.get("id") or self.ids.make("eni")
        vsw = self.vswitches[e["vswitch_id"]]
        ip = e.get("private_ip") or self.alloc_private_ip(vsw)
        self.enis[eid] = {
            "id": eid, "vswitch_id": vsw["id"], "vpc_id": vsw["vpc_id"], "zone": vsw["zone"],
            "private_ip": ip, "secondary_ips": list(e.get("secondary_ips", [])),
            "ipv6s": [str(ipaddress.IPv6Address(a)) for a in e.get("ipv6s", [])],
            "instance_id": e.get("instance_id", ""), "type": e.get("type", "Secondary"),
            "status": e.get("status", "InUse"), "mac": e.get("mac") or self.mac(),
            "source_dest_check": e.get("source_dest_check", True),
            "name": e.get("name", ""), "description": e.get("description", ""),
        }
        return self.enis[eid]

    def mac(self):
        return "00:16:3e:%02x:%02x:%02x" % (self.rng.randrange(256), self.rng.randrange(256),
                                            self.rng.randrange(256))

    def used_ips(self):
        used = set()
        for e in self.enis.values():
            used.add(e["private_ip"])
            used.update(e["secondary_ips"])
        for lb in self.lbs.values():
            used.add(lb["Address"])
        return used

    def alloc_private_ip(self, vsw):
        """Lowest free address; the first and last three hosts are reserved."""
        net = ipaddress.ip_network(vsw["cidr"], strict=False)
        used = self.used_ips()
        hosts = list(net.hosts()) if net.num_addresses <= 65536 else None
        for ip in hosts[3:-3] if hosts else []:
            if str(ip) not in used:
                return str(ip)
        raise SimError("VSwitchAvailableIpNotExist",
                       "The specified VSwitch has no available ip address.")

    def alloc_public_ip(self):
        net = ipaddress.ip_network(self.config["public_pool_cidr"], strict=False)
        used = self.used_ips() | {i["public_ip"] for i in self.instances.values()}
        while True:
            ip = str(net[self.public_next])
            self.public_next += 1
            if ip not in used:
                return ip

    def vswitch_of_ip(self, vpc_id, ip):
        for s in self.vswitches.values():
            if s["vpc_id"] == vpc_id and host_in(s["cidr"], ip):
                return s
        return None


def parse_iso(s):
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


COMMON_PARAMS = frozenset((
    "Action", "Version", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
    "SignatureNonce", "Timestamp", "Signature", "SecurityToken", "SignatureType", "RegionId",
    "ClientToken", "OwnerId", "OwnerAccount", "ResourceOwnerAccount", "ResourceOwnerId"))


def idempotent(world, ctx, params, fn):
    """ClientToken semantics: same token + same business params -> the
    recorded answer again (no second resource); different params -> error."""
    token = params.get("ClientToken", "")
    if not token:
        return fn()
    if len(token) > 64:
        raise invalid("ClientToken", "It must be at most 64 characters.")
    key = (ctx["action"], ctx["akid"], token)
    fingerprint = sorted((k, v) for k, v in params.items() if k not in COMMON_PARAMS)
    seen = world.client_tokens.get(key)
    if seen is not None:
        if seen[0] != fingerprint:
            raise SimError("IdempotentParameterMismatch",
                           "The request uses the same client token as a previous, "
                           "but non-identical request.")
        return dict(seen[1])
    body = fn()
    world.client_tokens[key] = (fingerprint, dict(body))
    return body


def case_get(obj, name, default=None):
    """Field lookup ignoring key case (CCM sends lower-camel BackendServers)."""
    if name in obj:
        return obj[name]
    low = name.lower()
    for k, v in obj.items():
        if k.lower() == low:
            return v
    return default
