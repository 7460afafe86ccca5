"""The C Alibaba Cloud client (alicloud/) against tests/sim/alisim.py, driven
through tests/integ/prog_alicloud: every typed call, paging, retries,
ambiguous creates, credential refresh and error reporting."""
import json
import os
import subprocess

import pytest

import harness

SAN_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


class Ali:
    def __init__(self, sim, binary, tmp_path, extra=None):
        self.sim = sim
        self.bin = binary
        ak, sk, region, _, _ = sim.credentials()
        self.secret = sk
        self.env = dict(os.environ)
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            self.env.pop(k, None)
        self.env.update(sim.env)
        self.env.update({"ACCESS_KEY_ID": ak, "ACCESS_KEY_SECRET": sk,
                         "ALI_REGION": region, "ALI_BACKOFF_MS": "20"})
        self.env.update(extra or {})

    def run(self, *args, env=None, timeout=120):
        e = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        p = subprocess.run([self.bin] + [str(a) for a in args], env=e,
                           capture_output=True, text=True, timeout=timeout)
        for m in SAN_MARKERS:
            assert m not in p.stderr, p.stderr
        return p.returncode, p.stdout

    def ok(self, *args, **kw):
        rc, out = self.run(*args, **kw)
        assert rc == 0, out
        return out

    def objs(self, out, kind):
        """Lines 'kind k=v ...' as dicts (repeated keys become lists)."""
        res = []
        for line in out.splitlines():
            parts = line.split(" ")
            if parts[0] != kind:
                continue
            d = {}
            for p in parts[1:]:
                k, _, v = p.partition("=")
                if k in d:
                    d[k] = d[k] if isinstance(d[k], list) else [d[k]]
                    d[k].append(v)
                else:
                    d[k] = v
            res.append(d)
        return res

    def error(self, out):
        errs = self.objs(out, "error")
        assert errs, out
        return errs[-1]

    def calls(self, action):
        return [c for c in self.sim.calls(action)]


@pytest.fixture
def ali(sim, prog_bin, tmp_path):
    return Ali(sim, prog_bin("prog_alicloud"), tmp_path)


def _first_id(coll):
    if isinstance(coll, dict):
        return next(iter(coll))
    return coll[0]["id"]


def state_ids(sim):
    st = sim.initial_state
    return _first_id(st["vpcs"]), _first_id(st["vswitches"])


def new_lb(ali, name="t", *extra):
    _, vsw = state_ids(ali.sim)
    out = ali.ok("create-lb", "name=" + name, "address_type=intranet",
                 "vswitch=" + vsw, *extra)
    return ali.objs(out, "lb")[0]["id"]


# -- every typed call -------------------------------------------------------------

def test_slb_load_balancer_calls(ali):
    lb = new_lb(ali, "lb1", "token=tok-lb1", "tag=k1:v1")
    got = ali.objs(ali.ok("describe-lb", lb), "lb")[0]
    assert got["name"] == "lb1" and got["tag"] == "k1:v1"
    ali.ok("set-name", lb, "lb1-renamed")
    ali.ok("set-delete-protection", lb, "on")
    assert ali.objs(ali.ok("describe-lb", lb), "lb")[0]["delete_protection"] == "on"
    ali.ok("set-delete-protection", lb, "off")
    ali.ok("modify-spec", lb, "slb.s2.small")
    got = ali.objs(ali.ok("describe-lbs", lb), "lb")[0]
    assert got["name"] == "lb1-renamed" and got["spec"] == "slb.s2.small"
    assert ali.objs(ali.ok("describe-lbs", "name=lb1-renamed"), "lb")[0]["id"] == lb
    assert ali.objs(ali.ok("describe-lbs", "tag=k1:v1"), "lb")[0]["id"] == lb
    ali.ok("add-tags", lb, "a:1", "b:2")
    tags = {t["key"]: t["value"] for t in ali.objs(ali.ok("describe-tags", lb), "tag")}
    assert tags.get("a") == "1" and tags.get("b") == "2"
    ali.ok("remove-tags", lb, "a:1")
    tags = {t["key"] for t in ali.objs(ali.ok("describe-tags", lb), "tag")}
    assert "a" not in tags and "b" in tags
    ali.ok("delete-lb", lb)
    assert "count=0" in ali.ok("describe-lbs", lb)


def test_slb_listener_and_vgroup_calls(ali):
    lb = new_lb(ali)
    backends = ["i-sim0002:80:100", "i-sim0003:80:50"]
    vg = ali.objs(ali.ok("create-vgroup", lb, "k8s/80/svc/ns/c", *backends),
                  "vgroup")[0]["id"]
    g = ali.objs(ali.ok("describe-vgroup", vg), "vgroup")[0]
    assert g["backends"] == "2"
    assert ali.objs(ali.ok("describe-vgroups", lb), "vgroup")[0]["id"] == vg
    ali.ok("add-backends", vg, "i-sim0004:80:100")
    ali.ok("set-backends", vg, "i-sim0004:80:30")
    ali.ok("modify-backends", vg, "i-sim0003:80:50", "i-sim0003:81:50")
    ali.ok("remove-backends", vg, "i-sim0002:80")
    g = ali.objs(ali.ok("describe-vgroup", vg), "vgroup")[0]
    assert sorted(g["backend"]) == ["i-sim0003:81:50", "i-sim0004:80:30"]
    specs = [("tcp", 80, ["bandwidth=-1"]), ("udp", 53, ["bandwidth=-1"]),
             ("http", 8080, ["hc=off", "sticky=off", "bandwidth=-1"]),
             ("https", 443, ["hc=off", "sticky=off", "bandwidth=-1",
                             "cert=cert-sim-1"])]
    for proto, port, extra in specs:
        ali.ok("create-listener", lb, proto, port, "vgroup=" + vg, *extra)
        ali.ok("start-listener", lb, proto, port)
        ali.ok("set-listener", lb, proto, port, "vgroup=" + vg, "scheduler=rr")
        l = ali.objs(ali.ok("describe-listener", lb, proto, port), "listener")[0]
        assert l["vgroup"] == vg and l["scheduler"] == "rr"
        assert l["status"] == "running"
    ali.ok("stop-listener", lb, "tcp", 80)
    ls = ali.objs(ali.ok("describe-listeners", lb), "listener")
    assert sorted((l["protocol"], l["port"]) for l in ls) == sorted(
        (p, str(n)) for p, n, _ in specs)
    assert [l["status"] for l in ls if l["port"] == "80"] == ["stopped"]
    for proto, port, _ in specs:
        ali.ok("delete-listener", lb, proto, port)
    ali.ok("delete-vgroup", vg)
    assert "count=0" in ali.ok("describe-vgroups", lb)


def test_vgroup_backends_are_batched(ali):
    lb = new_lb(ali)
    many = ["i-sim0002:%d:100" % p for p in range(1000, 1045)]
    vg = ali.objs(ali.ok("create-vgroup", lb, "big", *many), "vgroup")[0]["id"]
    assert ali.objs(ali.ok("describe-vgroup", vg), "vgroup")[0]["backends"] == "45"
    assert len(ali.calls("CreateVServerGroup")) == 1
    assert len(ali.calls("AddVServerGroupBackendServers")) == 2  # 20 + 5
    ali.ok("remove-backends", vg, *many)
    assert len(ali.calls("RemoveVServerGroupBackendServers")) == 3


def test_vpc_calls(ali):
    vpc, vsw = state_ids(ali.sim)
    v = ali.objs(ali.ok("describe-vpc", vpc), "vpc")[0]
    assert v["id"] == vpc and v["cidr"]
    assert ali.objs(ali.ok("list-vpcs"), "vpc")[0]["id"] == vpc
    s = ali.objs(ali.ok("describe-vswitch", vsw), "vswitch")[0]
    assert s["vpc"] == vpc
    table = ali.objs(ali.ok("route-tables", vpc), "table")[0]["id"]
    out = ali.ok("create-route", table, "172.20.1.0/24", "i-sim0002", "tok-r1",
                 "k8s-route.c1")
    assert ali.objs(out, "route")[0]["id"]
    routes = ali.objs(ali.ok("route-entries", table, "custom"), "route")
    assert [(r["cidr"], r["hop"]) for r in routes] == [("172.20.1.0/24", "i-sim0002")]
    assert routes[0]["name"] == "k8s-route.c1" and routes[0]["hops"] == "1"
    harness.wait_for(lambda: "status=Available" in ali.ok("route-entries", table, "custom"),
                     30, 0.1, what="route available")
    ali.ok("delete-route", table, "172.20.1.0/24", "i-sim0002")
    out = ali.ok("create-routes", table, "172.20.2.0/24:i-sim0002",
                 "172.20.3.0/24:i-sim0003")
    assert "failed_count=0" in out
    harness.wait_for(lambda: "status=Pending" not in ali.ok("route-entries", table, "custom"),
                     30, 0.1, what="routes available")
    out = ali.ok("delete-routes", table, "172.20.2.0/24:i-sim0002",
                 "172.20.3.0/24:i-sim0003")
    assert "failed_count=0" in out
    assert "count=0" in ali.ok("route-entries", table, "custom")
    assert "count=" in ali.ok("eips")


def test_ecs_calls(ali):
    vpc, _ = state_ids(ali.sim)
    ins = ali.objs(ali.ok("instances-by-ids", "i-sim0001", "i-sim0002", "i-nope"),
                   "instance")
    assert sorted(i["id"] for i in ins) == ["i-sim0001", "i-sim0002"]
    ip = ins[0]["ip"]
    got = ali.objs(ali.ok("instances-by-ips", vpc, ip), "instance")
    assert [i["id"] for i in got] == [ins[0]["id"]]
    enis = ali.objs(ali.ok("enis", "vpc=" + vpc, "ip=" + ip), "eni")
    assert enis and enis[0]["ip"] == ip
    eni = enis[0]["id"]
    ali.ok("set-sdc", eni, "off")
    assert ali.objs(ali.ok("enis", "id=" + eni), "eni")[0]["sdc"] == "0"


# -- paging --------------------------------------------------------------------------

def test_paged_calls_cross_pages(ali):
    vpc, _ = state_ids(ali.sim)
    lbs = [new_lb(ali, "p%d" % i) for i in range(5)]
    for port in (81, 82, 83):
        ali.ok("create-listener", lbs[0], "tcp", port, "backend_port=80",
               "bandwidth=-1")
    ali.ok("add-tags", lbs[0], "a:1", "b:2", "c:3")
    table = ali.objs(ali.ok("route-tables", vpc), "table")[0]["id"]
    ali.sim.client.config(page_size=2)
    ali.sim.client.clear_calls()
    cases = [
        (("describe-lbs",), "DescribeLoadBalancers", "count=5"),
        (("describe-listeners", lbs[0]), "DescribeLoadBalancerListeners", "count=3"),
        (("describe-tags", lbs[0]), "DescribeTags", None),
        (("route-entries", table), "DescribeRouteEntryList", None),
        (("instances-by-ids", "i-sim0001", "i-sim0002", "i-sim0003", "i-sim0004"),
         "DescribeInstances", "count=4"),
        (("enis", "vpc=" + vpc), "DescribeNetworkInterfaces", None),
    ]
    for args, action, want in cases:
        out = ali.ok(*args)
        if want:
            assert want in out, (args, out)
        n = int(out.strip().splitlines()[-2].split("=")[1]) if "count=" in out else \
            len([l for l in out.splitlines() if l.startswith("tag ")])
        assert n >= 3, (args, out)
        assert len(ali.calls(action)) >= 2, action


# -- retries -----------------------------------------------------------------------

def test_throttling_and_5xx_are_retried(ali):
    ali.sim.control(action="DescribeVpcs", fail_next=2, code="Throttling.User",
                    status=400)
    assert "count=1" in ali.ok("list-vpcs")
    assert len(ali.calls("DescribeVpcs")) == 3
    ali.sim.control(action="DescribeRouteTableList", fail_next=2,
                    code="InternalError", status=500)
    vpc, _ = state_ids(ali.sim)
    assert "count=1" in ali.ok("route-tables", vpc)
    calls = ali.calls("DescribeRouteTableList")
    assert [c["status"] for c in calls] == [500, 500, 200]
    nonces = {c["params"].get("SignatureNonce") for c in calls}
    assert len(nonces) == 3 or None in nonces


def test_error_rate_5xx_recovered(ali):
    ali.sim.control(action="*", error_rate_5xx=0.2)
    vpc, _ = state_ids(ali.sim)
    for _ in range(5):
        ali.ok("instances-by-ids", "i-sim0001")
        ali.ok("route-tables", vpc)


def test_non_retryable_error_surfaces_once(ali):
    rc, out = ali.run("delete-lb", "lb-doesnotexist")
    assert rc == 1
    e = ali.error(out)
    assert e["code"].startswith("InvalidLoadBalancerId")
    assert e["request_id"] != "-"
    assert len(ali.calls("DeleteLoadBalancer")) == 1


def count_lbs(ali, name):
    return len(ali.objs(ali.ok("describe-lbs", "name=" + name), "lb"))


@pytest.mark.parametrize("fault", [
    {"commit_then_fail": 1, "mode": "500"},
    {"commit_then_fail": 1, "mode": "reset"},
    {"commit_then_delay_ms": 4000, "count": 1},
])
def test_creates_after_ambiguous_failure(ali, fault):
    env = {"ALI_TIMEOUT_MS": "1500"}
    vpc, vsw = state_ids(ali.sim)
    # ClientToken creates are retried with the same token: one resource.
    ali.sim.control(action="CreateLoadBalancer", **fault)
    out = ali.ok("create-lb", "name=amb", "token=tok-amb", "address_type=intranet",
                 "vswitch=" + vsw, env=env)
    # A delayed request is logged once the simulator finishes it.
    calls = harness.wait_for(lambda: (lambda c: c if len(c) >= 2 else None)(
        ali.calls("CreateLoadBalancer")), 30, 0.1, what="both attempts logged")
    assert {c["params"].get("ClientToken") for c in calls} == {"tok-amb"}
    assert count_lbs(ali, "amb") == 1
    lb = ali.objs(out, "lb")[0]["id"]
    table = ali.objs(ali.ok("route-tables", vpc), "table")[0]["id"]
    ali.sim.control(action="CreateRouteEntry", **fault)
    ali.ok("create-route", table, "172.21.0.0/24", "i-sim0002", "tok-route", env=env)
    assert len([r for r in ali.objs(ali.ok("route-entries", table, "custom"), "route")
                if r["cidr"] == "172.21.0.0/24"]) == 1
    # Creates without a token are not re-sent: the caller must look.
    no_token = [
        ("CreateVServerGroup", ("create-vgroup", lb, "g-amb"),
         lambda: len([g for g in ali.objs(ali.ok("describe-vgroups", lb), "vgroup")
                      if g["name"] == "g-amb"])),
        ("CreateLoadBalancerTCPListener",
         ("create-listener", lb, "tcp", 99, "backend_port=80", "bandwidth=-1"),
         lambda: len([l for l in ali.objs(ali.ok("describe-listeners", lb), "listener")
                      if l["port"] == "99"])),
        ("CreateLoadBalancerHTTPListener",
         ("create-listener", lb, "http", 98, "backend_port=80", "hc=off", "sticky=off",
          "bandwidth=-1"),
         lambda: len([l for l in ali.objs(ali.ok("describe-listeners", lb), "listener")
                      if l["port"] == "98"])),
        ("CreateRouteEntries", ("create-routes", table, "172.22.0.0/24:i-sim0003"),
         lambda: len([r for r in ali.objs(ali.ok("route-entries", table, "custom"),
                                          "route") if r["cidr"] == "172.22.0.0/24"])),
    ]
    for action, args, count in no_token:
        ali.sim.control(action=action, **fault)
        rc, out = ali.run(*args, env=env)
        assert rc == 3, (action, out)
        assert ali.error(out)["ambiguous"] == "1"
        harness.wait_for(lambda: count() == 1, 30, 0.2, what=action + " exists once")
        harness.wait_for(lambda: len(ali.calls(action)) == 1, 30, 0.1,
                         what=action + " sent once")


def test_wrong_secret_reports_signature_mismatch(ali):
    rc, out = ali.run("list-vpcs", env={"ACCESS_KEY_SECRET": "WrongSecretValue42",
                                        "ALI_V": "9"})
    assert rc == 1
    e = ali.error(out)
    assert e["code"] == "SignatureDoesNotMatch"
    assert "signature" in out.lower()
    assert "WrongSecretValue42" not in out
    assert len(ali.calls("DescribeVpcs")) == 1


def test_wrong_secret_not_in_logs(ali):
    p = subprocess.run([ali.bin, "list-vpcs"], capture_output=True, text=True,
                       env=dict(ali.env, ACCESS_KEY_SECRET="WrongSecretValue42",
                                ALI_V="9"), timeout=60)
    assert "WrongSecretValue42" not in p.stdout + p.stderr
    assert "AccessKeyId=LTAI***" in p.stderr


# -- credentials ------------------------------------------------------------------

def test_ram_role_credentials_refresh(prog_bin, tmp_path):
    with open(harness.Sim.DEFAULT_STATE) as f:
        st = json.load(f)
    st["metadata"]["sts_ttl_s"] = 6
    path = tmp_path / "state.json"
    path.write_text(json.dumps(st))
    sim = harness.Sim(str(tmp_path / "sim"), state_file=str(path))
    try:
        ali = Ali(sim, prog_bin("prog_alicloud"), tmp_path)
        del ali.env["ACCESS_KEY_ID"]
        del ali.env["ACCESS_KEY_SECRET"]
        del ali.env["ALI_REGION"]  # region from metadata too
        rc, out = ali.run("loop", 12, 1000, "list-vpcs", timeout=120)
        assert rc == 0, out
        assert out.count("ok") == 12 and "error" not in out
        calls = sim.calls("DescribeVpcs")
        assert all(c["status"] == 200 for c in calls)
        keys = [c["access_key_id"] for c in calls]
        assert all(k.startswith("STS.") for k in keys)
        assert len(set(keys)) >= 2, keys
        meta = sim.calls("Metadata")
        assert any(c["method"] == "PUT" for c in meta)
    finally:
        sim.stop()


def test_clock_skew_corrected_from_date_header(ali):
    """An IDC host an hour behind the cloud: the first call gets
    InvalidTimeStamp.Expired, the client learns the offset from the Date
    header and the retry (and every later call) is signed with it."""
    ali.sim.client.config(clock_offset_s=3600)
    assert "count=1" in ali.ok("list-vpcs")
    codes = [c.get("code") for c in ali.calls("DescribeVpcs")]
    assert codes[0] == "InvalidTimeStamp.Expired", codes
    assert [c["status"] for c in ali.calls("DescribeVpcs")][-1] == 200
    ali.sim.client.config(clock_offset_s=-3600)
    assert "count=1" in ali.ok("list-vpcs")
