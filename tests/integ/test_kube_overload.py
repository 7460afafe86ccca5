"""kube/ against an overloaded API server (issue 13): a plain-HTTP proxy in
front of the real kube-apiserver answers 429 with Retry-After for chosen
requests and forwards the rest. The client must wait as asked (bounded by
its deadline), and the Event recorder must hold its sends for that long
instead of blocking the worker. Waits are checked as lower bounds from the
proxy's own request log (what the server saw), never as speed limits."""

import http.client
import json
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from harness import kubeconfig_text
from test_kube import make_node, run


class OverloadProxy:
    """reject(method, path_prefix, retry_after, count): the next `count`
    matching requests get 429 (Retry-After: retry_after); .log holds
    (monotonic time, method, path, status) of every request."""

    def __init__(self, cluster):
        self.rules = []
        self.log = []
        self.lock = threading.Lock()
        up = urlsplit(cluster.url)
        ctx = ssl.create_default_context(cafile=cluster.ca_file)
        proxy = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                ra = proxy.take(self.command, self.path)
                if ra is not None:
                    out = json.dumps({"kind": "Status", "apiVersion": "v1",
                                      "status": "Failure", "code": 429,
                                      "reason": "TooManyRequests"}).encode()
                    proxy.note(self.command, self.path, 429)
                    self.send_response(429)
                    self.send_header("Retry-After", str(ra))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                c = http.client.HTTPSConnection(up.hostname, up.port,
                                                context=ctx, timeout=30)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("authorization", "content-type",
                                         "accept", "user-agent")}
                c.request(self.command, self.path, body=body, headers=hdrs)
                r = c.getresponse()
                out = r.read()
                c.close()
                proxy.note(self.command, self.path, r.status)
                self.send_response(r.status)
                self.send_header("Content-Type",
                                 r.getheader("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def reject(self, method, prefix, retry_after, count):
        with self.lock:
            self.rules.append([method, prefix, retry_after, count])

    def take(self, method, path):
        with self.lock:
            for r in self.rules:
                if r[0] == method and path.startswith(r[1]) and r[3] > 0:
                    r[3] -= 1
                    return r[2]
        return None

    def note(self, method, path, status):
        with self.lock:
            self.log.append((time.monotonic(), method, path, status))

    def seen(self, method, prefix):
        with self.lock:
            return [e for e in self.log
                    if e[1] == method and e[2].startswith(prefix)]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def proxy(cluster):
    p = OverloadProxy(cluster)
    yield p
    p.close()


@pytest.fixture
def prog(prog_bin):
    return prog_bin("prog_kube")


@pytest.fixture
def kc(cluster, proxy, tmp_path):
    path = tmp_path / "kc-proxy"
    path.write_text(kubeconfig_text(proxy.url, cluster.ca_file, cluster.token))
    return str(path)


def test_429_retry_after_is_honoured(proxy, prog, kc):
    path = "/api/v1/namespaces/default"
    proxy.reject("GET", path, 1, 2)
    out = run(prog, "req", "GET", path, kubeconfig=kc)
    assert (out["status"], out["result"]) == ("200", "0"), out
    assert out["overloaded"] == "2"
    # prog_kube runs at 50 qps: two 429s halved it (once per second at most)
    assert float(out["qps"]) < 50
    seen = proxy.seen("GET", path)
    assert [e[3] for e in seen] == [429, 429, 200], seen
    # the server saw the retries no sooner than it asked for
    for a, b in zip(seen, seen[1:]):
        assert b[0] - a[0] >= 0.95, seen


def test_429_longer_than_the_deadline_fails_at_once(proxy, prog, kc):
    path = "/api/v1/namespaces/kube-system"
    # 3600 s is bounded to 30 s, still past prog_kube's 10 s deadline
    proxy.reject("GET", path, 3600, 5)
    out = run(prog, "req", "GET", path, kubeconfig=kc)
    assert (out["status"], out["errno"]) == ("429", "EIO"), out
    assert [e[3] for e in proxy.seen("GET", path)] == [429]


def test_event_recorder_holds_for_retry_after(cluster, proxy, prog, kc):
    name = "ko-" + uuid.uuid4().hex[:8]
    node = make_node(cluster, name)
    events = "/api/v1/namespaces/default/events"
    proxy.reject("POST", events, 2, 1)
    # three repeats at once: the create gets 429 and is queued; the
    # repeats wait with it; 3 s later a fourth repeat sends it all
    out = run(prog, "event", "Node", "", name, node["metadata"]["uid"],
              "Normal", "Overload", "same message", "3", "3000",
              kubeconfig=kc)
    assert out["result"] == "0", out
    assert (out["created"], out["queued"]) == ("1", "0"), out
    assert int(out["deferred"]) >= 1, out
    posts = proxy.seen("POST", events)
    assert [e[3] for e in posts] == [429, 201], posts
    assert posts[1][0] - posts[0][0] >= 1.95, posts
    # nothing at all went to the server during the pause
    during = [e for e in proxy.log if posts[0][0] < e[0] < posts[1][0]]
    assert during == [], during
    st, evs = cluster.api(
        "GET", f"{events}?fieldSelector=involvedObject.name%3D{name}")
    assert st == 200
    assert len(evs["items"]) == 1, evs
    # every repeat is counted, the held ones included
    assert evs["items"][0]["count"] == 4, evs["items"][0]
