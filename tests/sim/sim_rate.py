"""Per-(AccessKeyId, Action) API rate limits, as Alibaba Cloud enforces them.

Configured through /_sim/ratelimit: a default bucket for every action and
per-action overrides (an override replaces the default for that action; it
does not stack). A call finding its bucket empty gets the real answer:
HTTP 400 Throttling.User "Request was denied due to user flow control."
Counters per action (allowed / throttled) let tests and the benchmark
measure how many calls the client wasted.
"""
import threading
import time

from sim_core import SimError

_LIMIT_KEYS = {"qps", "burst"}


def _limit(spec, where):
    if not isinstance(spec, dict) or set(spec) - _LIMIT_KEYS or "qps" not in spec:
        raise ValueError("%s: expected {\"qps\": N, \"burst\": M} (burst optional)" % where)
    qps = float(spec["qps"])
    burst = float(spec.get("burst", max(1.0, qps)))
    if qps <= 0 or burst < 1:
        raise ValueError("%s: qps must be > 0 and burst >= 1" % where)
    return {"qps": qps, "burst": burst}


class RateLimits:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.default = None
        self.actions = {}
        self.buckets = {}
        self.counts = {}

    def configure(self, doc):
        """{"default": {...}|null, "actions": {"X": {...}|null}} merged in."""
        if not isinstance(doc, dict) or set(doc) - {"default", "actions"}:
            raise ValueError("ratelimit: expected keys 'default' and/or 'actions'")
        default = self.default
        actions = dict(self.actions)
        if "default" in doc:
            default = None if doc["default"] is None else _limit(doc["default"], "default")
        for name, spec in (doc.get("actions") or {}).items():
            if spec is None:
                actions.pop(name, None)
            else:
                actions[name] = _limit(spec, "actions.%s" % name)
        with self.lock:
            self.default, self.actions = default, actions
            self.buckets = {}

    def reset_counts(self):
        with self.lock:
            self.counts = {}

    def view(self):
        with self.lock:
            return {"default": self.default, "actions": dict(self.actions),
                    "counts": {a: dict(c) for a, c in self.counts.items()}}

    def check(self, akid, action):
        """Raises the throttling error when (akid, action) is over its rate."""
        with self.lock:
            lim = self.actions.get(action, self.default)
            if lim is None:
                return
            c = self.counts.setdefault(action, {"allowed": 0, "throttled": 0})
            now = self.clock()
            tokens, last = self.buckets.get((akid, action), (lim["burst"], now))
            tokens = min(lim["burst"], tokens + (now - last) * lim["qps"])
            if tokens < 1.0:
                self.buckets[(akid, action)] = (tokens, now)
                c["throttled"] += 1
                raise SimError("Throttling.User",
                               "Request was denied due to user flow control.", 400)
            self.buckets[(akid, action)] = (tokens - 1.0, now)
            c["allowed"] += 1
