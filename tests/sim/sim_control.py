"""Fault injection rules and the call log (the /_sim/ control plane data)."""
import threading
import time

from sim_core import SimError

FAULT_KEYS = {"action", "throttle_rate", "error_rate_5xx", "latency_ms", "fail_next",
              "code", "status", "message", "commit_then_fail", "mode",
              "commit_then_delay_ms", "count", "empty_result", "qps", "burst", "skip"}

_REDACT_EXACT = {"Signature", "SecurityToken", "AccessKeySecret"}
_KEEP = {"NextToken", "ClientToken"}


def redact(params):
    out = {}
    for k, v in params.items():
        low = k.lower()
        if k in _REDACT_EXACT or (k not in _KEEP and ("secret" in low or "password" in low
                                                     or "token" in low)):
            out[k] = "***"
        else:
            out[k] = v
    return out


class Faults:
    """Rules are matched by action name ("*" = every RPC action). A rule with
    a counter (fail_next, commit_then_fail, empty_result, count) disappears
    once the counter reaches zero."""

    def __init__(self, rng):
        self.rng = rng
        self.rules = []
        self.buckets = {}
        self.lock = threading.Lock()

    def add(self, spec):
        if not isinstance(spec, dict) or "action" not in spec:
            raise ValueError("fault needs an 'action'")
        unknown = set(spec) - FAULT_KEYS
        if unknown:
            raise ValueError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
        if spec.get("mode", "500") not in ("500", "reset"):
            raise ValueError("mode must be '500' or 'reset'")
        with self.lock:
            self.rules.append(dict(spec))

    def clear(self):
        with self.lock:
            self.rules = []
            self.buckets = {}

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def _match(self, action):
        return [r for r in self.rules if r["action"] in ("*", action)]

    def _spend(self, rule, key):
        rule[key] -= 1
        if rule[key] <= 0:
            self.rules.remove(rule)

    def _counted(self, rule):
        """Rules limited by 'count' are consumed each time they fire."""
        if "count" in rule:
            self._spend(rule, "count")

    def latency_only(self, action):
        """Seconds of latency the rules give a call that never reaches
        them (refused by the rate limit); counted rules are not consumed."""
        with self.lock:
            return sum(r["latency_ms"] for r in self._match(action)
                       if "latency_ms" in r) / 1000.0

    def before(self, action, akid):
        """-> (latency seconds, SimError or None) decided before the handler."""
        with self.lock:
            rules = self._match(action)
            latency = 0.0
            for r in rules:
                if "latency_ms" in r:
                    latency += r["latency_ms"] / 1000.0
                    if r in self.rules:
                        self._counted(r)
            for r in rules:
                if r not in self.rules:
                    continue
                err = self._decide(r, action, akid)
                if err:
                    return latency, err
            return latency, None

    def _decide(self, r, action, akid):
        if r.get("skip", 0) > 0:
            # lets this many matching calls through first: a failure half
            # way through a paged or chunked read
            r["skip"] -= 1
            return None
        if r.get("fail_next", 0) > 0:
            self._spend(r, "fail_next")
            return SimError(r.get("code", "ServiceUnavailable"),
                            r.get("message", "The request has failed due to a temporary "
                                  "failure of the server."), int(r.get("status", 503)))
        if "throttle_rate" in r and self.rng.random() < r["throttle_rate"]:
            self._counted(r)
            return SimError(r.get("code", "Throttling.User"),
                            r.get("message", "Request was denied due to user flow control."),
                            int(r.get("status", 400)))
        if "qps" in r and not self._take(r, action, akid):
            return SimError(r.get("code", "Throttling.User"),
                            "Request was denied due to user flow control.",
                            int(r.get("status", 400)))
        if "error_rate_5xx" in r and self.rng.random() < r["error_rate_5xx"]:
            self._counted(r)
            code = r.get("code", "ServiceUnavailable")
            status = int(r.get("status", 500 if code == "InternalError" else 503))
            return SimError(code, r.get("message", "The request has failed due to a "
                                        "temporary failure of the server."), status)
        return None

    def _take(self, rule, action, akid):
        """Token bucket per (AccessKeyId, action, rule)."""
        key = (id(rule), akid, action)
        now = time.monotonic()
        rate = float(rule["qps"])
        burst = float(rule.get("burst", max(1.0, rate)))
        tokens, last = self.buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1.0:
            self.buckets[key] = (tokens, now)
            return False
        self.buckets[key] = (tokens - 1.0, now)
        return True

    def after(self, action):
        """-> dict of post-commit effects: fail ('500'|'reset'), delay, empty."""
        eff = {}
        with self.lock:
            for r in self._match(action):
                if r not in self.rules:
                    continue
                if r.get("commit_then_fail", 0) > 0 and "fail" not in eff:
                    eff["fail"] = r.get("mode", "500")
                    self._spend(r, "commit_then_fail")
                elif "commit_then_delay_ms" in r and "delay" not in eff:
                    eff["delay"] = r["commit_then_delay_ms"] / 1000.0
                    self._counted(r)
                elif r.get("empty_result", 0) > 0 and "empty" not in eff:
                    eff["empty"] = True
                    self._spend(r, "empty_result")
        return eff


def empty_result(body):
    """Same response shape, no items: lists emptied, counts zeroed."""
    out = {}
    for k, v in body.items():
        if isinstance(v, list):
            out[k] = []
        elif isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), list):
            out[k] = {next(iter(v)): []}
        elif k == "TotalCount":
            out[k] = 0
        elif k == "NextToken":
            out[k] = ""
        else:
            out[k] = v
    return out


class CallLog:
    def __init__(self, limit):
        self.limit = limit
        self.items = []
        self.seq = 0
        self.lock = threading.Lock()

    def add(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.items.append(rec)
            if len(self.items) > self.limit:
                del self.items[: len(self.items) - self.limit]

    def get(self, action=None):
        with self.lock:
            if action is None:
                return list(self.items)
            return [c for c in self.items if c["action"] == action]

    def clear(self):
        with self.lock:
            self.items = []
