"""Python client for the simulator: control plane helpers plus a small,
independent RPC signer used by the simulator's own tests (not the C client).

    from simclient import SimClient, start_sim
    sim = start_sim()               # spawns alisim.py on a free port
    sim.rpc("DescribeVpcs", "2016-04-28", {"RegionId": "cn-hangzhou"})
    sim.stop()
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_STATE = os.path.join(HERE, "default-state.json")
TEST_AK_ID = "LTAI5tSimTestAccessKey1"
TEST_AK_SECRET = "SimTestSecret0123456789abcdefXYZ"
SLB, VPC, ECS = "2014-05-15", "2016-04-28", "2014-05-26"


def _enc(s):
    return urllib.parse.quote(str(s), safe="-_.~")


def sign_params(method, params, secret):
    """RPC V1 signature over every parameter (see alicloud-openapi.md 1.3)."""
    canon = "&".join("%s=%s" % (_enc(k), _enc(params[k])) for k in sorted(params))
    sts = "%s&%s&%s" % (method, _enc("/"), _enc(canon))
    mac = hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class RpcError(Exception):
    def __init__(self, status, body):
        super().__init__("%s %s" % (status, body.get("Code") if isinstance(body, dict) else body))
        self.status = status
        self.body = body
        self.code = body.get("Code") if isinstance(body, dict) else None


class SimClient:
    def __init__(self, url, proc=None):
        self.url = url.rstrip("/")
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port
        self.proc = proc
        self._conn = None

    # -- transport (one keep-alive connection, reopened on failure) ---------
    def _request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                hdrs = {"User-Agent": "simclient/1.0 Python"}
                hdrs.update(headers or {})
                self._conn.request(method, path, body=body, headers=hdrs)
                resp = self._conn.getresponse()
                data = resp.read()
                return resp.status, dict(resp.getheaders()), data
            except (http.client.HTTPException, ConnectionError, OSError):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise

    def _json(self, method, path, obj=None):
        body = json.dumps(obj).encode() if obj is not None else None
        status, _, data = self._request(method, path, body,
                                        {"Content-Type": "application/json"})
        out = json.loads(data) if data else {}
        if status != 200:
            raise RuntimeError("control %s %s -> %d %s" % (method, path, status, out))
        return out

    # -- control plane --------------------------------------------------------------
    def control(self, **fault):
        """Add one fault rule, e.g. control(action="X", fail_next=2)."""
        return self._json("POST", "/_sim/faults", fault)

    def faults(self):
        return self._json("GET", "/_sim/faults")["faults"]

    def clear_faults(self):
        return self._json("DELETE", "/_sim/faults")

    def config(self, **kw):
        return self._json("POST", "/_sim/config", kw)

    def ratelimit(self, **doc):
        """Per-(AccessKeyId, Action) limits, e.g. ratelimit(default={"qps": 20},
        actions={"CreateLoadBalancer": {"qps": 1, "burst": 1}}); returns the
        configuration and the per-action allowed/throttled counts."""
        return self._json("POST", "/_sim/ratelimit", doc)

    def ratelimit_view(self):
        return self._json("GET", "/_sim/ratelimit")

    def clear_ratelimit(self):
        return self._json("DELETE", "/_sim/ratelimit")

    def inflight(self):
        """RPC requests being handled now and the most at once since the
        last reset_inflight(): {"now", "max", "max_per_lb", "now_per_lb",
        "counted"}."""
        return self._json("GET", "/_sim/inflight")

    def reset_inflight(self):
        """Maxima back to what is in flight now; returns the new view."""
        return self._json("DELETE", "/_sim/inflight")

    def calls(self, action=None, since=0):
        """Call-log records (optionally one action's, or those after seq `since`)."""
        q = {k: v for k, v in (("action", action), ("since", since)) if v}
        return self._json("GET", "/_sim/calls" + ("?" + urllib.parse.urlencode(q)
                                                  if q else ""))["calls"]

    def clear_calls(self):
        return self._json("DELETE", "/_sim/calls")

    def state(self):
        return self._json("GET", "/_sim/state")

    def reset(self):
        return self._json("POST", "/_sim/reset")

    def mutate(self, op, **args):
        return self._json("POST", "/_sim/state/" + op, args)

    # -- RPC -------------------------------------------------------------------------------
    def signed(self, action, version, params, ak_id=TEST_AK_ID, ak_secret=TEST_AK_SECRET,
               method="GET", token=None, timestamp=None, nonce=None):
        p = {"Action": action, "Version": version, "Format": "JSON", "AccessKeyId": ak_id,
             "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
             "SignatureNonce": nonce or uuid.uuid4().hex,
             "Timestamp": timestamp or datetime.datetime.now(datetime.timezone.utc)
             .strftime("%Y-%m-%dT%H:%M:%SZ")}
        if token:
            p["SecurityToken"] = token
        p.update({k: str(v) for k, v in params.items()})
        p["Signature"] = sign_params(method, p, ak_secret)
        return p

    def send(self, params, method="GET", style="query"):
        """style: 'query' (GET/POST ?query) or 'form' (POST body)."""
        qs = "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in params.items())
        if style == "form":
            status, hdrs, data = self._request(
                method, "/", qs.encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})
        else:
            hdrs = {"Content-Type": "application/x-www-form-urlencoded"} \
                if method == "POST" else {}
            status, hdrs, data = self._request(method, "/?" + qs, b"" if method == "POST"
                                               else None, hdrs)
        return status, json.loads(data) if data else {}

    def rpc(self, action, version, params=None, ak_id=TEST_AK_ID, ak_secret=TEST_AK_SECRET,
            method="GET", style="query", token=None, raise_error=True):
        params = dict(params or {})
        params.setdefault("RegionId", "cn-hangzhou")
        p = self.signed(action, version, params, ak_id, ak_secret, method, token)
        status, body = self.send(p, method, style)
        if raise_error and status != 200:
            raise RpcError(status, body)
        return body if raise_error else (status, body)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def stop(self):
        self.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def start_sim(state=DEFAULT_STATE, host="127.0.0.1"):
    """Spawn alisim.py on a free port; returns a SimClient owning the process."""
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "alisim.py"), "--state", state,
                             "--port", "0", "--host", host],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        proc.wait()
        raise RuntimeError("simulator did not start: %r" % line)
    return SimClient("http://%s:%d" % (host, int(line.split()[1])), proc)
