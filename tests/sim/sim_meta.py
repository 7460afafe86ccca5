"""ECS instance metadata service (IMDS v1 + v2 token) for one configured
instance, including RAM role STS credentials that the RPC verifier accepts."""
import ipaddress
import json
import secrets
import time

from sim_core import now_iso

MAX_TTL = 21600


def _items(world):
    md = world.metadata
    inst = world.instances.get(md.get("instance_id", ""))
    if inst is None:
        return {"region-id": world.region}
    vsw = world.vswitches[inst["vswitch_id"]]
    eni = world.enis.get(inst["eni_id"], {})
    mac = eni.get("mac", "")
    net = ipaddress.ip_network(vsw["cidr"], strict=False)
    items = {
        "region-id": world.region, "zone-id": inst["zone"], "instance-id": inst["id"],
        "vpc-id": inst["vpc_id"], "vswitch-id": inst["vswitch_id"],
        "private-ipv4": inst["private_ip"], "vpc-cidr-block": world.vpcs[inst["vpc_id"]]["cidr"],
        "vswitch-cidr-block": vsw["cidr"], "hostname": inst["hostname"], "mac": mac,
        "network-type": "vpc", "eipv4": (inst.get("eip") or {}).get("ip", ""),
        "owner-account-id": world.owner_id, "image-id": "m-simimage0001",
        "serial-number": inst["id"][2:], "instance/instance-type": inst["type"],
        "source-address": "http://mirrors.cloud.aliyuncs.com",
        "dns-conf/nameservers": "100.100.2.136\n100.100.2.138",
        "ntp-conf/ntp-servers": "ntp.cloud.aliyuncs.com",
    }
    base = "network/interfaces/macs/%s/" % mac
    items.update({
        base + "network-interface-id": inst["eni_id"],
        base + "primary-ip-address": inst["private_ip"],
        base + "private-ipv4s": json.dumps([inst["private_ip"]]),
        base + "vswitch-id": vsw["id"], base + "vpc-id": inst["vpc_id"],
        base + "netmask": str(net.netmask), base + "gateway": str(net.network_address + 253),
        base + "vpc-cidr-block": world.vpcs[inst["vpc_id"]]["cidr"],
        base + "vswitch-cidr-block": vsw["cidr"],
    })
    role = md.get("role_name")
    if role:
        items["ram/security-credentials/"] = role
    return items


def _listing(items, prefix):
    """Directory entries under prefix ('' = meta-data root), dirs end with '/'."""
    names = []
    for k in items:
        if not k.startswith(prefix) or k == prefix:
            continue
        rest = k[len(prefix):]
        head, sep, _ = rest.partition("/")
        entry = head + ("/" if sep else "")
        if entry and entry not in names:
            names.append(entry)
    return names


def current_credentials(world):
    """Issue (and register) an STS key; rotate once the old one is half-way."""
    ttl = int(world.metadata.get("sts_ttl_s", world.config["sts_ttl_s"]))
    now = time.time()
    cred = world.meta_cred
    if cred is None or now >= cred["issued"] + ttl / 2.0:
        n = len([a for a in world.accounts if a.startswith("STS.sim")]) + 1
        cred = {"AccessKeyId": "STS.simrole%04d%s" % (n, secrets.token_hex(4)),
                "AccessKeySecret": secrets.token_urlsafe(24),
                "SecurityToken": "CAIS" + secrets.token_urlsafe(48),
                "issued": now, "expires": now + ttl}
        world.add_account({"access_key_id": cred["AccessKeyId"],
                           "access_key_secret": cred["AccessKeySecret"],
                           "security_token": cred["SecurityToken"],
                           "expiration": now_iso(cred["expires"])})
        world.meta_cred = cred
    return {"AccessKeyId": cred["AccessKeyId"], "AccessKeySecret": cred["AccessKeySecret"],
            "SecurityToken": cred["SecurityToken"], "Expiration": now_iso(cred["expires"]),
            "LastUpdated": now_iso(cred["issued"]), "Code": "Success"}


def put_token(world, headers):
    if headers.get("X-Forwarded-For"):
        return 403, "Forbidden"
    try:
        ttl = int(headers.get("X-aliyun-ecs-metadata-token-ttl-seconds", ""))
    except ValueError:
        return 400, "Bad Request: missing or invalid X-aliyun-ecs-metadata-token-ttl-seconds"
    if not 1 <= ttl <= MAX_TTL:
        return 400, "Bad Request: ttl must be between 1 and 21600"
    tok = secrets.token_urlsafe(32)
    world.meta_tokens[tok] = time.monotonic() + ttl
    return 200, tok


def handle(world, method, path, headers):
    """-> (status, content_type, body)"""
    path = path.split("?", 1)[0]
    if method == "PUT" and path == "/latest/api/token":
        st, body = put_token(world, headers)
        return st, "text/plain", body
    if method != "GET":
        return 405, "text/plain", "Method Not Allowed"
    tok = headers.get("X-aliyun-ecs-metadata-token")
    if tok is not None:
        exp = world.meta_tokens.get(tok)
        if exp is None or exp < time.monotonic():
            return 401, "text/plain", "Unauthorized"
    elif world.metadata.get("imdsv2_required"):
        return 403, "text/plain", "Forbidden: a metadata token is required"
    for ver in ("/latest/meta-data", "/2016-01-01/meta-data"):
        if path == ver or path.startswith(ver + "/"):
            return _item(world, path[len(ver) + 1:])
    return 404, "text/plain", "Not Found"


def _item(world, rel):
    items = _items(world)
    role = world.metadata.get("role_name")
    if rel.startswith("ram/security-credentials/") and rel != "ram/security-credentials/":
        if not role or rel[len("ram/security-credentials/"):] != role:
            return 404, "text/plain", "Not Found"
        return 200, "text/plain", json.dumps(current_credentials(world))
    if rel in items:
        return 200, "text/plain", items[rel]
    if rel == "" or rel.endswith("/"):
        names = _listing(items, rel)
        if names:
            return 200, "text/plain", "\n".join(names)
    return 404, "text/plain", "Not Found"
