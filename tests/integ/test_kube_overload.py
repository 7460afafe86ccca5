"""kube/ against an overloaded API server (issue 13): a plain-HTTP proxy in
front of the real kube-apiserver answers 429 with Retry-After for chosen
requests and forwards the rest (watch streams as they come). The client
must wait as asked (bounded by its deadline), the Event recorder must hold
its sends for that long instead of blocking the worker, an informer backs
off at least that long, and the supervisor's asynchronous election
requests retry within the renew deadline. Waits are checked as lower
bounds from the proxy's own request log (when each request arrived),
never as speed limits."""

import http.client
import json
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from harness import kubeconfig_text, wait_for
from test_election import cloud_config, lock_name  # noqa: F401 - fixtures
from test_election_async import LEASES, identity, is_leader, lease, metric
from test_election_async import sup  # noqa: F401 - fixture
from test_kube import Watch, make_cm, make_node, ns, run  # noqa: F401


class OverloadProxy:
    """reject(method, path_prefix, retry_after, count): the next `count`
    matching requests get 429 (Retry-After: retry_after); .log holds
    [monotonic arrival time, method, path, status] of every request, the
    status None until the upstream answered."""

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
                t0 = time.monotonic()
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                ra = proxy.take(self.command, self.path)
                entry = proxy.note(t0, self.command, self.path)
                if ra is not None:
                    out = json.dumps({"kind": "Status", "apiVersion": "v1",
                                      "status": "Failure", "code": 429,
                                      "reason": "TooManyRequests"}).encode()
                    entry[3] = 429
                    self.send_response(429)
                    self.send_header("Retry-After", str(ra))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                c = http.client.HTTPSConnection(up.hostname, up.port,
                                                context=ctx, timeout=700)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("authorization", "content-type",
                                         "accept", "user-agent")}
                try:
                    c.request(self.command, self.path, body=body,
                              headers=hdrs)
                    r = c.getresponse()
                    entry[3] = r.status
                    self.send_response(r.status)
                    self.send_header("Content-Type", r.getheader(
                        "Content-Type", "application/json"))
                    if r.getheader("Content-Length") is None:
                        self.stream(r)  # a watch
                    else:
                        out = r.read()
                        self.send_header("Content-Length", str(len(out)))
                        self.end_headers()
                        self.wfile.write(out)
                except (OSError, http.client.HTTPException):
                    self.close_connection = True
                finally:
                    c.close()

            def stream(self, r):
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    data = r.read1(65536)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                    if not data:
                        return

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

    def note(self, t0, method, path):
        entry = [t0, method, path, None]
        with self.lock:
            self.log.append(entry)
        return entry

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


def test_informer_backs_off_for_retry_after(cluster, proxy, prog, kc, ns,
                                            run_prog):
    make_cm(cluster, ns, "o1")
    base = f"/api/v1/namespaces/{ns}/configmaps"
    lists, watches = base + "?limit=", base + "?watch=1"
    # 2 s + 1 s for the retry do not fit a 1.5 s timeout: the LIST fails
    # and the informer, not the client, waits; then the WATCH
    proxy.reject("GET", lists, 2, 1)
    proxy.reject("GET", watches, 2, 1)
    w = Watch(run_prog, prog, kc, base, env={"PROG_KUBE_TIMEOUT_MS": "1500"})
    w.wait(r"^synced 1$")
    wait_for(lambda: [e[3] for e in proxy.seen("GET", watches)][:2] ==
             [429, 200], 60, what="the watch answered after its 429")
    ls, ws = proxy.seen("GET", lists), proxy.seen("GET", watches)
    assert [e[3] for e in ls] == [429, 200], ls
    # not the usual 800 ms backoff: what the server asked for
    assert ls[1][0] - ls[0][0] >= 1.95, ls
    assert ws[1][0] - ws[0][0] >= 1.95, ws
    wait_for(lambda: w.stats().get("overloaded") == "2", 30,
             what="both 429s counted")
    assert int(w.stats()["errors"]) >= 2
    # the stream it resumed on works
    make_cm(cluster, ns, "o2")
    w.wait(rf"^add {ns}/o2 ")
    w.stop()


# lease 8 s, renew deadline 6 s: a renewal round has about 5 s, room for a
# 2 s Retry-After and the retry's own second
SLOW = ["--leader-elect-lease-duration=8s",
        "--leader-elect-renew-deadline=6s",
        "--leader-elect-retry-period=1s",
        "--kube-api-timeout=1500ms", "--cloud-api-timeout=1500ms"]


def test_election_lease_writes_wait_for_retry_after(sup, cluster, proxy, kc,
                                                    lock_name):
    own = f"{LEASES}/{lock_name}"
    proxy.reject("POST", LEASES, 1, 1)  # the first acquire creates it
    a, port = sup(SLOW, kubeconfig=kc)
    wait_for(lambda: is_leader(port), 60, what="leader")
    posts = proxy.seen("POST", LEASES)
    assert [e[3] for e in posts] == [429, 201], posts
    assert posts[1][0] - posts[0][0] >= 0.95, posts
    # acquired in the round that met the 429
    assert metric(port, "ccm_leader_election_failed_rounds_total") == 0
    assert lease(cluster, lock_name)["spec"]["holderIdentity"] == identity(a)

    n = len(proxy.seen("PUT", own))
    proxy.reject("PUT", own, 2, 1)
    wait_for(lambda: [e[3] for e in proxy.seen("PUT", own)[n:]][:2] ==
             [429, 200], 60, what="a renewal retried after its 429")
    puts = proxy.seen("PUT", own)[n:]
    assert puts[1][0] - puts[0][0] >= 1.95, puts
    # the same round: no GET of the Lease between the 429 and the retry
    between = [e for e in proxy.seen("GET", own)
               if puts[0][0] < e[0] < puts[1][0]]
    assert between == [], between
    assert is_leader(port)
    assert "leader election lost" not in a.log()
    assert metric(port, "ccm_leader_election_failed_rounds_total") == 0


def test_election_retry_after_past_the_renew_deadline_is_not_waited(
        sup, cluster, proxy, kc, lock_name):
    own = f"{LEASES}/{lock_name}"
    a, port = sup(SLOW, kubeconfig=kc)
    wait_for(lambda: is_leader(port), 60, what="leader")
    n = len(proxy.seen("PUT", own))
    # 10 s is past any renewal's deadline: that round fails at once and
    # the next one renews, well inside the 6 s renew deadline
    proxy.reject("PUT", own, 10, 1)
    a.wait_log(r"Retry-After 10000 ms does not fit", timeout=30)
    a.wait_log(r"failed to renew lock", timeout=30)
    wait_for(lambda: 200 in [e[3] for e in proxy.seen("PUT", own)[n:]], 30,
             what="the next round's renewal")
    puts = proxy.seen("PUT", own)[n:]
    assert puts[0][3] == 429, puts
    # the next renewal came from a new round: the Lease was read again
    assert [e for e in proxy.seen("GET", own)
            if puts[0][0] < e[0] < puts[1][0]], puts
    assert is_leader(port)
    assert "leader election lost" not in a.log()
    assert metric(port, "ccm_leader_election_failed_rounds_total") == 1
