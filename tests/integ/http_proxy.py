"""A TLS-terminating HTTP/1.1 proxy in front of kube-apiserver that can
hold chosen requests back or answer them itself.

It serves with the test cluster's own apiserver certificate (so clients
keep verifying against the cluster CA) and forwards each request, with its
bearer token, over a fresh TLS connection. Standard library only.

  delay(seconds, method=None, path=None)  hold matching requests this long
                                          before forwarding (regexes; None
                                          matches all); delay(0) clears
  conflict_once(method, path)             answer the next match with 409
  seen(method, path)                      how many matches arrived
  held()                                  requests being held right now
"""

import http.client
import http.server
import json
import os
import re
import ssl
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length",
       "host", "proxy-connection", "upgrade"}


class HttpProxy:
    def __init__(self, cluster):
        self.cluster = cluster
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._delays = []      # (seconds, method_re, path_re)
        self._conflicts = []   # (method_re, path_re)
        self._log = []         # (method, path)
        self._held = 0
        self._up_ctx = ssl.create_default_context(cafile=cluster.ca_file)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        pki = os.path.join(cluster.dir, "pki")
        ctx.load_cert_chain(os.path.join(pki, "apiserver.crt"),
                            os.path.join(pki, "apiserver.key"))
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self._srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._srv.daemon_threads = True
        self._srv.socket = ctx.wrap_socket(self._srv.socket, server_side=True)
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(target=self._srv.serve_forever,
                                        daemon=True)
        self._thread.start()

    def url(self):
        return f"https://127.0.0.1:{self.port}"

    # -- control -------------------------------------------------------
    def delay(self, seconds, method=None, path=None):
        with self._lock:
            self._delays = [] if not seconds else self._delays + [
                (seconds, re.compile(method or ".*"),
                 re.compile(path or ".*"))]

    def conflict_once(self, method, path):
        with self._lock:
            self._conflicts.append((re.compile(method), re.compile(path)))

    def seen(self, method, path):
        m, p = re.compile(method), re.compile(path)
        with self._lock:
            return sum(1 for x, y in self._log if m.fullmatch(x) and
                       p.search(y))

    def held(self):
        with self._lock:
            return self._held

    def close(self):
        self._closed.set()
        self._srv.shutdown()
        self._srv.server_close()

    # -- serving -------------------------------------------------------
    def _rules(self, method, path):
        with self._lock:
            self._log.append((method, path))
            for i, (m, p) in enumerate(self._conflicts):
                if m.fullmatch(method) and p.search(path):
                    del self._conflicts[i]
                    return 0, True
            d = max([s for s, m, p in self._delays
                     if m.fullmatch(method) and p.search(path)] or [0])
            return d, False

    def _reply(self, h, status, headers, body):
        h.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP:
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else None
        delay, conflict = self._rules(h.command, h.path)
        if conflict:
            st = json.dumps({"kind": "Status", "apiVersion": "v1",
                             "status": "Failure", "reason": "Conflict",
                             "code": 409, "message": "injected conflict"})
            self._reply(h, 409, [("Content-Type", "application/json")],
                        st.encode())
            return
        if delay:
            with self._lock:
                self._held += 1
            try:
                if self._closed.wait(delay):
                    return
            finally:
                with self._lock:
                    self._held -= 1
        c = http.client.HTTPSConnection("127.0.0.1", self.cluster.port,
                                        context=self._up_ctx, timeout=60)
        try:
            hdrs = {k: v for k, v in h.headers.items()
                    if k.lower() not in HOP}
            c.request(h.command, h.path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            self._reply(h, r.status, r.getheaders(), data)
        except (OSError, http.client.HTTPException):
            h.close_connection = True
        finally:
            c.close()
