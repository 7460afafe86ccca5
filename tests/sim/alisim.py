#!/usr/bin/python3
"""Alibaba Cloud simulator: SLB 2014-05-15, VPC 2016-04-28, ECS 2014-05-26 RPC
actions, the ECS metadata service and a /_sim/ control plane on one port.

    python3 tests/sim/alisim.py --state FILE [--port 0] [--port-file PATH]
                                [--host 127.0.0.1]

Prints "PORT <n>" on stdout once listening. See README.md.
"""
import argparse
import calendar
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sim_ecs  # noqa: E402
import sim_meta  # noqa: E402
import sim_mutate  # noqa: E402
import sim_slb  # noqa: E402
import sim_vpc  # noqa: E402
from sim_control import CallLog, Faults, empty_result, redact  # noqa: E402
from sim_inflight import InFlight, lb_of  # noqa: E402
from sim_rate import RateLimits  # noqa: E402
from sim_core import PRODUCT_HOST, SimError, World, missing, request_id  # noqa: E402
from sim_sign import verify  # noqa: E402

MAX_BODY = 8 << 20
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REQUIRED = ("Action", "Version", "AccessKeyId", "Signature", "SignatureMethod",
            "SignatureVersion", "SignatureNonce", "Timestamp")
ACTIONS = {}
for _mod in (sim_slb, sim_vpc, sim_ecs):
    for _name, _fn in _mod.ACTIONS.items():
        ACTIONS[(_mod.VERSION, _name)] = _fn


class Sim:
    """Process-wide simulator state: world, faults, call log, nonces."""

    def __init__(self, state_path):
        self.state_path = state_path
        self.reset()

    def reset(self):
        with open(self.state_path) as f:
            doc = json.load(f)
        self.world = World(doc)
        self.faults = Faults(random.Random(self.world.config.get("seed", 1)))
        self.calls = CallLog(self.world.config["calls_max"])
        self.rates = RateLimits()
        self.inflight = InFlight()
        self.nonces = {}
        self.nonce_lock = threading.Lock()
        self.nonce_purge = time.time() + 60

    # -- verification ---------------------------------------------------------
    def check_common(self, params):
        for name in REQUIRED:
            if not params.get(name):
                raise missing(name)
        if params.get("Format", "JSON").upper() != "JSON":
            raise SimError("InvalidParameter.Format",
                           "The simulator answers Format=JSON only.")
        if params["SignatureMethod"] != "HMAC-SHA1":
            raise SimError("InvalidSignatureMethod",
                           "Specified signature method is not valid (HMAC-SHA1 expected).")
        if params["SignatureVersion"] != "1.0":
            raise SimError("InvalidSignatureVersion",
                           "Specified signature version is not valid (1.0 expected).")
        self.check_timestamp(params["Timestamp"])

    def check_timestamp(self, ts):
        if not TS_RE.match(ts):
            raise SimError("InvalidTimeStamp.Format",
                           "Specified time stamp or date value is not well formatted.")
        try:
            when = calendar.timegm((int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]),
                                    int(ts[14:16]), int(ts[17:19]), 0, 0, 0))
            if not (1 <= int(ts[5:7]) <= 12 and 1 <= int(ts[8:10]) <= 31
                    and int(ts[11:13]) < 24 and int(ts[14:16]) < 60 and int(ts[17:19]) < 61):
                raise ValueError(ts)
        except ValueError:
            raise SimError("InvalidTimeStamp.Format",
                           "Specified time stamp or date value is not well formatted.")
        # clock_offset_s plays a server whose clock differs from the
        # client's (an IDC host without NTP, seen from the other side)
        now = time.time() + self.world.config.get("clock_offset_s", 0)
        if abs(now - when) > self.world.config["max_skew_s"]:
            raise SimError("InvalidTimeStamp.Expired",
                           "Specified time stamp or date value is expired. Server time is %s, "
                           "request time is %s." % (time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                  time.gmtime(now)), ts))

    def check_credentials(self, method, params):
        acct = self.world.accounts.get(params["AccessKeyId"])
        if acct is None:
            raise SimError("InvalidAccessKeyId.NotFound", "Specified access key is not found.",
                           404)
        if acct["disabled"]:
            raise SimError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
        ok, sts = verify(method, params, acct["secret"])
        if not ok:
            raise SimError("SignatureDoesNotMatch",
                           "Specified signature is not matched with our calculation. "
                           "server string to sign is:" + sts)
        if acct["token"] is not None:
            self.check_token(acct, params.get("SecurityToken"))
        self.check_nonce(params["AccessKeyId"], params["SignatureNonce"])

    @staticmethod
    def check_token(acct, token):
        if not token:
            raise SimError("MissingSecurityToken", "SecurityToken is mandatory for this "
                           "access key.")
        if token != acct["token"]:
            raise SimError("InvalidSecurityToken.MismatchWithAccessKey",
                           "The security token you provided does not match the access key.")
        if acct["expiration"] is not None and acct["expiration"] < time.time():
            raise SimError("InvalidSecurityToken.Expired",
                           "The security token you provided has expired.")

    def check_nonce(self, akid, nonce):
        now = time.time()
        window = self.world.config["nonce_window_s"]
        with self.nonce_lock:
            if now > self.nonce_purge:
                self.nonces = {k: t for k, t in self.nonces.items() if t > now}
                self.nonce_purge = now + 60
            key = (akid, nonce)
            if self.nonces.get(key, 0) > now:
                raise SimError("SignatureNonceUsed",
                               "Specified signature nonce was used already.")
            self.nonces[key] = now + window

    # -- dispatch -------------------------------------------------------------
    def run_action(self, params):
        version, action = params["Version"], params["Action"]
        if version not in PRODUCT_HOST:
            raise SimError("InvalidVersion", "Specified parameter Version is not valid.")
        fn = ACTIONS.get((version, action))
        if fn is None:
            raise SimError("InvalidAction.NotFound", "Specified api is not found, please "
                           "check your url and method.", 404)
        region = params.get("RegionId")
        if not region:
            raise missing("RegionId")
        if region not in self.world.regions:
            raise SimError("InvalidRegionId", "The specified RegionId does not exist.")
        ctx = {"action": action, "akid": params["AccessKeyId"]}
        with self.world.lock:
            return fn(self.world, params, ctx)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AliSim/1.0"
    disable_nagle_algorithm = True
    sim = None  # set by main()

    def log_message(self, fmt, *args):  # keep the hot path quiet
        pass

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    # -- plumbing ---------------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self.read_chunked()
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise SimError("InvalidParameter", "Request body too large.", 413)
        return self.rfile.read(n) if n > 0 else b""

    def read_chunked(self):
        out = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return out
            out += self.rfile.read(size)
            self.rfile.readline()
            if len(out) > MAX_BODY:
                raise SimError("InvalidParameter", "Request body too large.", 413)

    def date_time_string(self, timestamp=None):
        if timestamp is None:
            timestamp = time.time() + self.sim.world.config.get("clock_offset_s", 0)
        return super().date_time_string(timestamp)

    def reply(self, status, body, ctype="application/json;charset=utf-8", rid=None):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if rid:
            self.send_header("x-acs-request-id", rid)
        # the request stops counting as in flight once its answer is
        # ready: after the write, the client may already have sent its
        # next request on that CLB while this thread is still here
        self.leave_inflight()
        # headers and body in one write: no Nagle/delayed-ACK stall
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(data)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []

    def leave_inflight(self):
        """Once per RPC request: it no longer counts as in flight."""
        leave, self.inflight_exit = getattr(self, "inflight_exit", None), None
        if leave:
            leave()

    def reply_json(self, status, obj, rid=None):
        self.reply(status, json.dumps(obj, separators=(",", ":")), rid=rid)

    def reset_connection(self):
        """Abort with RST (SO_LINGER 0) and no response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        os.close(self.connection.detach())

    def route(self, method):
        # Arrival: the headers are in, nothing of the request has run yet.
        arrival = time.time()
        url = urlsplit(self.path)
        try:
            body = self.read_body()
        except (SimError, ValueError):
            self.close_connection = True
            if not url.path.startswith("/_sim/"):
                self.log_bad_body(method, url, arrival)
            self.reply_json(400, {"Code": "InvalidParameter", "Message": "bad body"})
            return
        if url.path.startswith("/_sim/"):
            self.control(method, url, body)
        elif url.path.startswith(("/latest/", "/2016-01-01/")):
            self.metadata(method, url, arrival)
        else:
            self.rpc(method, url, body, arrival)

    def base_record(self, method, arrival):
        """The fields every call-log record has, whatever became of the call."""
        return {"time": arrival, "arrival_ms": int(arrival * 1000), "method": method,
                "user_agent": self.headers.get("User-Agent", ""), "fault": None}

    def log_bad_body(self, method, url, arrival):
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        rec = self.base_record(method, arrival)
        rec.update(access_key_id=params.get("AccessKeyId", ""), action=params.get("Action", ""),
                   version=params.get("Version", ""), params=redact(params), request_id=None,
                   status=400, code="InvalidParameter")
        self.sim.calls.add(rec)

    # -- RPC ----------------------------------------------------------------------
    def rpc_params(self, url, body):
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "")
        if body and "application/x-www-form-urlencoded" in ctype:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return params

    def rpc(self, method, url, body, arrival):
        """Every call that arrives is logged once, with its arrival time and
        sender, also when it was refused, faulted or its client went away
        before the answer (the change may have been applied all the same)."""
        params = self.rpc_params(url, body)
        rid = request_id()
        rec = self.base_record(method, arrival)
        rec.update(access_key_id=params.get("AccessKeyId", ""), action=params.get("Action", ""),
                   version=params.get("Version", ""), params=redact(params), request_id=rid,
                   status=0, code=None)
        self.logged = False
        # the tracker and world of this request: a /_sim/reset meanwhile
        # replaces both, and the request must leave the one it entered
        tracker, world = self.sim.inflight, self.sim.world
        with world.lock:
            lb = lb_of(world, params)
        tracker.enter(lb)
        self.inflight_exit = lambda: tracker.leave(lb)
        try:
            self.rpc_answer(method, params, rec, rid)
        except OSError:
            rec["reply_failed"] = True
            self.close_connection = True
        finally:
            self.leave_inflight()
            if not self.logged:
                self.sim.calls.add(rec)

    def rpc_answer(self, method, params, rec, rid):
        sim = self.sim
        try:
            if method not in ("GET", "POST"):
                raise SimError("UnsupportedHTTPMethod", "GET or POST expected.", 405)
            sim.check_common(params)
            sim.check_credentials(method, params)
            self.execute(params, rec, rid)
        except SimError as e:
            rec["status"], rec["code"] = e.status, e.code
            self.reply_error(e, params, rid)
        except OSError:
            raise
        except Exception as e:  # a simulator bug must still look like a 500
            import traceback
            traceback.print_exc(file=sys.stderr)
            err = SimError("InternalError", "simulator bug: %s" % e, 500)
            rec["status"], rec["code"] = 500, err.code
            self.reply_error(err, params, rid)

    def execute(self, params, rec, rid):
        sim = self.sim
        action = params["Action"]
        try:
            sim.rates.check(params["AccessKeyId"], action)
        except SimError:
            # a refused call takes its round trip too
            time.sleep(sim.faults.latency_only(action))
            raise
        latency, err = sim.faults.before(action, params["AccessKeyId"])
        if latency:
            time.sleep(latency)
        if err is not None:
            rec["fault"] = "injected"
            raise err
        body = sim.run_action(params)
        eff = sim.faults.after(action)
        if eff.get("fail") == "reset":
            rec.update(fault="commit_then_reset", status=0, code="ConnectionReset")
            sim.calls.add(rec)  # before the RST, so the log is complete when it is seen
            self.logged = True
            self.reset_connection()
            return None, 0, "ConnectionReset"
        if eff.get("fail") == "500":
            rec["fault"] = "commit_then_fail"
            raise SimError("InternalError", "The request processing has failed due to some "
                           "unknown error, exception or failure.", 500)
        if eff.get("delay"):
            rec["fault"] = "commit_then_delay"
            time.sleep(eff["delay"])
        if eff.get("empty"):
            rec["fault"] = "empty_result"
            body = empty_result(body)
        out = {"RequestId": rid}
        out.update(body)
        rec["status"], rec["code"] = 200, None
        self.reply_json(200, out, rid)
        return out, 200, None

    def reply_error(self, e, params, rid):
        host = PRODUCT_HOST.get(params.get("Version", ""),
                                self.headers.get("Host", "").split(":")[0])
        self.reply_json(e.status, {
            "RequestId": rid, "HostId": host, "Code": e.code, "Message": e.message,
            "Recommend": "https://next.api.aliyun.com/troubleshoot?q=%s&product=%s" % (
                e.code, host.split(".")[0])}, rid)

    # -- metadata ---------------------------------------------------------------------
    def metadata(self, method, url, arrival):
        # a stalled metadata service: hold the request, then answer it
        stall = self.sim.world.config.get("metadata_stall_until", 0) - time.time()
        if stall > 0:
            time.sleep(stall)
        with self.sim.world.lock:
            status, ctype, body = sim_meta.handle(self.sim.world, method, url.path, self.headers)
        rec = self.base_record(method, arrival)
        rec.update(action="Metadata", path=url.path, status=status, code=None,
                   access_key_id="", params={}, answered=time.time())
        self.sim.calls.add(rec)
        self.reply(status, body, ctype)

    # -- control ----------------------------------------------------------------------
    def control(self, method, url, body):
        try:
            args = json.loads(body) if body else {}
            status, out = self.control_op(method, url, args)
        except (KeyError, ValueError, TypeError) as e:
            status, out = 400, {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        except SimError as e:
            status, out = 400, {"ok": False, "error": e.code, "message": e.message}
        self.reply_json(status, out)

    def control_op(self, method, url, args):
        sim, path = self.sim, url.path
        query = dict(parse_qsl(url.query))
        if path == "/_sim/health":
            return 200, {"ok": True}
        if path == "/_sim/faults":
            return self.control_faults(method, args)
        if path == "/_sim/ratelimit":
            return self.control_rates(method, args)
        if path == "/_sim/inflight" and method in ("GET", "DELETE"):
            if method == "DELETE":
                sim.inflight.reset()
            return 200, dict(sim.inflight.view(), ok=True)
        if path == "/_sim/config" and method == "POST":
            return 200, self.control_config(args)
        if path == "/_sim/config" and method == "GET":
            return 200, sim.world.config
        if path == "/_sim/reset" and method == "POST":
            sim.reset()
            return 200, {"ok": True}
        if path == "/_sim/calls" and method == "GET":
            since = int(query.get("since", 0))
            return 200, {"calls": [c for c in sim.calls.get(query.get("action"))
                                   if c["seq"] > since]}
        if path == "/_sim/calls" and method == "DELETE":
            sim.calls.clear()
            return 200, {"ok": True}
        if path == "/_sim/state" and method == "GET":
            with sim.world.lock:
                return 200, sim_mutate.dump(sim.world)
        if path.startswith("/_sim/state/") and method == "POST":
            op = sim_mutate.OPS.get(path[len("/_sim/state/"):])
            if op is None:
                return 404, {"ok": False, "error": "unknown op"}
            with sim.world.lock:
                res = op(sim.world, args)
            return 200, dict(res, ok=True)
        return 404, {"ok": False, "error": "unknown control path"}

    def control_faults(self, method, args):
        faults = self.sim.faults
        if method == "GET":
            return 200, {"faults": faults.list()}
        if method == "DELETE":
            faults.clear()
            return 200, {"ok": True}
        for spec in args if isinstance(args, list) else [args]:
            faults.add(spec)
        return 200, {"ok": True, "faults": faults.list()}

    def control_rates(self, method, args):
        rates = self.sim.rates
        if method == "DELETE":
            rates.clear()
        elif method == "POST":
            args = dict(args) if isinstance(args, dict) else args
            reset = isinstance(args, dict) and args.pop("reset_counts", False)
            rates.configure(args)
            if reset:
                rates.reset_counts()
        return 200, dict(rates.view(), ok=True)

    def control_config(self, args):
        cfg = self.sim.world.config
        with self.sim.world.lock:
            for k, v in args.items():
                if k == "quotas":
                    unknown = set(v) - set(cfg["quotas"])
                    if unknown:
                        raise ValueError("unknown quotas: %s" % sorted(unknown))
                    cfg["quotas"].update(v)
                elif k in cfg:
                    cfg[k] = v
                else:
                    raise ValueError("unknown config key %r" % k)
            if "seed" in args:  # fault decisions follow the new seed from now on
                self.sim.faults.rng.seed(args["seed"])
        return dict(cfg, ok=True)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        """Clients that hang up (or resets we caused) are not errors."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, OSError)):
            return
        super().handle_error(request, client_address)


def _write_port(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def _serve_tls(opts):
    """A second listener on a free port speaking HTTPS to the same state,
    for clients that must verify the simulator's certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
    tls = Server((opts.host, 0), Handler)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    if opts.tls_port_file:
        _write_port(opts.tls_port_file, tls.server_address[1])
    threading.Thread(target=tls.serve_forever, args=(0.2,),
                     daemon=True).start()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--tls-cert", help="also serve HTTPS with this PEM chain")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-port-file", help="where the HTTPS port is written")
    opts = ap.parse_args(argv)
    Handler.sim = Sim(opts.state)
    srv = Server((opts.host, opts.port), Handler)
    if opts.tls_cert:
        _serve_tls(opts)
    port = srv.server_address[1]
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, opts.port_file)
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
