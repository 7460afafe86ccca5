"""Integration-test harness: a local control plane, the CCM process, the
cloud simulator and a fault-injecting TCP proxy.

Standard library only (run with /usr/bin/python3). conftest.py wraps these
in pytest fixtures that always tear down; tests may also use the classes
directly inside try/finally.
"""

import base64
import ctypes
import json
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER_SH = os.path.join(REPO, "tests", "harness", "cluster.sh")
SIM_DIR = os.path.join(REPO, "tests", "sim")
PYTHON = "/usr/bin/python3"

# A sanitizer report anywhere in a process's output is a test failure.
SANITIZER_RE = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)"
    r"|runtime error: ")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=30.0, interval=0.1, what=None):
    """Poll pred() until it returns something truthy; return that value.

    Raises AssertionError naming `what` (or pred) after `timeout` seconds.
    The last exception raised by pred, if any, is chained for context.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
            last_exc = None
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            name = what or getattr(pred, "__name__", repr(pred))
            raise AssertionError(
                f"timed out after {timeout}s waiting for {name}") from last_exc
        time.sleep(interval)


def _read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, sep, v = line.rstrip("\n").partition("=")
            if sep:
                env[k] = v.strip("'")
    return env


def kubeconfig_text(server, ca_file, token):
    return (
        "apiVersion: v1\nkind: Config\n"
        "clusters:\n  - name: local\n    cluster:\n"
        f"      server: {server}\n      certificate-authority: {ca_file}\n"
        "users:\n  - name: user\n    user:\n"
        f"      token: {token}\n"
        "contexts:\n  - name: local\n    context:\n"
        "      cluster: local\n      user: user\n"
        "current-context: local\n")


class Cluster:
    """etcd + kube-apiserver started by tests/harness/cluster.sh in `dir`."""

    def __init__(self, dir):
        self.dir = os.path.abspath(dir)
        self._started = False

    # -- lifecycle -----------------------------------------------------
    def start(self):
        self._started = True
        t0 = time.monotonic()
        env = dict(os.environ, CLUSTER_OWNER_PID=str(os.getpid()))
        subprocess.run(["bash", CLUSTER_SH, "up", self.dir], check=True,
                       env=env)
        self.startup_seconds = time.monotonic() - t0
        self._load_env()
        return self

    def stop(self):
        if self._started:
            subprocess.run(["bash", CLUSTER_SH, "down", self.dir], check=False)
            self._started = False

    def restart_apiserver(self):
        """Stop and start kube-apiserver on the same port; etcd keeps data."""
        subprocess.run(["bash", CLUSTER_SH, "restart-apiserver", self.dir],
                       check=True)
        self._load_env()

    def stop_apiserver(self):
        """Stop kube-apiserver (its port then refuses connections)."""
        subprocess.run(["bash", CLUSTER_SH, "stop-apiserver", self.dir],
                       check=True)

    def start_apiserver(self):
        """Start it again on the same port and wait until ready."""
        subprocess.run(["bash", CLUSTER_SH, "start-apiserver", self.dir],
                       check=True)
        self._load_env()

    def _load_env(self):
        e = _read_env(os.path.join(self.dir, "env"))
        self.env_vars = e
        self.url = e["KUBE_URL"]
        self.ca_file = e["KUBE_CA"]
        self.token = e["KUBE_TOKEN"]
        self.kubeconfig = e["KUBECONFIG"]
        self.version = e["KUBE_VERSION"]
        self.audit_log = e["AUDIT_LOG"]
        self.etcd_endpoint = e["ETCD_ENDPOINT"]
        self.apiserver_pid = int(e["APISERVER_PID"])
        self.etcd_pid = int(e["ETCD_PID"])
        self.apiserver_bin = e["KUBE_APISERVER"]
        # Authenticated users with no RBAC bindings at all.
        self.user_tokens = {"alice": e["TOKEN_ALICE"], "bob": e["TOKEN_BOB"]}
        self.port = int(self.url.rsplit(":", 1)[1])
        self._ssl = ssl.create_default_context(cafile=self.ca_file)

    # -- API access ----------------------------------------------------
    def api(self, method, path, body=None, content_type=None, token=None,
            timeout=30, url=None):
        """One request; returns (status, parsed JSON or text).

        token=None uses the admin token, token="" sends no credentials.
        A dict/list body is JSON-encoded; PATCH defaults to a merge patch.
        """
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = body
            if content_type is None:
                content_type = ("application/merge-patch+json"
                                if method.upper() == "PATCH"
                                else "application/json")
        req = urllib.request.Request((url or self.url) + path, data=data,
                                     method=method.upper())
        if content_type:
            req.add_header("Content-Type", content_type)
        req.add_header("Accept", "application/json")
        tok = self.token if token is None else token
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, context=self._ssl,
                                        timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def get(self, path, **kw):
        """GET returning the object, or None on 404; asserts other errors."""
        st, obj = self.api("GET", path, **kw)
        if st == 404:
            return None
        assert st == 200, f"GET {path}: {st} {obj}"
        return obj

    def create(self, path, obj, **kw):
        """POST asserting 201 (or 200/202); returns the created object."""
        st, out = self.api("POST", path, obj, **kw)
        assert st in (200, 201, 202), f"POST {path}: {st} {out}"
        return out

    def sa_token(self, namespace, name, expiration=3600, audiences=None):
        """A bound token for ServiceAccount namespace/name (created if
        missing) from the TokenRequest API."""
        st, out = self.api("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts", {
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace}})
        assert st in (201, 409), f"create serviceaccount: {st} {out}"
        spec = {"expirationSeconds": expiration}
        if audiences:
            spec["audiences"] = list(audiences)
        st, out = self.api(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
             "spec": spec})
        assert st == 201, f"TokenRequest: {st} {out}"
        return out["status"]["token"]

    def write_kubeconfig(self, path, token=None, server=None):
        """A kubeconfig for `token` (default admin) against `server`
        (default the apiserver; e.g. a TcpProxy URL), CA file included."""
        with open(path, "w") as f:
            f.write(kubeconfig_text(server or self.url, self.ca_file,
                                    token or self.token))
        os.chmod(path, 0o600)
        return path

    def etcdctl(self, *args, check=True):
        """Run etcdctl (v3 API) against this cluster's etcd; returns stdout."""
        env = dict(os.environ, ETCDCTL_API="3")
        p = subprocess.run(["/usr/bin/etcdctl",
                            "--endpoints=" + self.etcd_endpoint, *args],
                           env=env, capture_output=True, text=True,
                           timeout=60)
        if check and p.returncode != 0:
            raise subprocess.CalledProcessError(p.returncode, p.args,
                                                p.stdout, p.stderr)
        return p.stdout

    def audit_events(self):
        """Audit log entries (Metadata level), parsed."""
        out = []
        try:
            with open(self.audit_log) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        return out


# ----------------------------------------------------------------------
# Processes under test
# ----------------------------------------------------------------------

def _pids_with_marker(marker):
    """PIDs whose environment carries marker (catches re-exec'd workers
    even if they left the process group)."""
    needle = marker.encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if needle in f.read():
                    out.append(int(d))
        except OSError:
            continue
    return out


# Resolved once here: the child after fork should not look up symbols.
_prctl = ctypes.CDLL(None, use_errno=True).prctl
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: SIGKILL it if the thread that started it
    dies, so a killed pytest leaves no CCM or simulator behind. (Start
    processes from the main test thread, not from short-lived threads.)"""
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


class Process:
    """A child started in its own session with stdout+stderr in a file."""

    MARKER_VAR = "CCM_TEST_PROCESS_ID"

    def __init__(self, argv, env=None, log_path=None, cwd=None,
                 inherit_env=True):
        self.argv = [str(a) for a in argv]
        self.marker = f"{self.MARKER_VAR}={uuid.uuid4().hex}"
        base = dict(os.environ) if inherit_env else {
            k: os.environ[k] for k in ("PATH", "HOME", "LANG")
            if k in os.environ}
        base.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        base.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        base.update({k: str(v) for k, v in (env or {}).items()})
        k, v = self.marker.split("=", 1)
        base[k] = v
        self.env = base
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="ccm-", suffix=".log")
            os.close(fd)
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=base, cwd=cwd,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     preexec_fn=_die_with_parent)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=30.0, start=0):
        """Wait until the log (from byte offset `start`) matches regex
        `pattern`; returns the match."""
        rx = re.compile(pattern)

        def found():
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return rx.search(f.read().decode("utf-8", "replace"))
        return wait_for(found, timeout, 0.1, what=f"log line /{pattern}/ in "
                        f"{self.log_path}")

    def log_size(self):
        return os.path.getsize(self.log_path)

    def send_signal(self, sig):
        """Signal the main process only."""
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout=30.0):
        """Exit status (negative = killed by signal)."""
        return self.proc.wait(timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Graceful stop of the main process; returns its exit status."""
        self.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def descendants(self):
        return [p for p in _pids_with_marker(self.marker) if p != self.pid]

    def kill(self):
        """SIGKILL the whole process group and anything else carrying this
        process's marker; reap the child."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for _ in range(3):
            pids = _pids_with_marker(self.marker)
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if not self._log.closed:
            self._log.close()

    def sanitizer_reports(self):
        return [m.group(0) for m in SANITIZER_RE.finditer(self.log())]


def run_ccm(bin, args, env=None, log_path=None, cwd=None):
    """Start the CCM binary with `args`; returns a Process. The caller (or
    the conftest `run_ccm` fixture) must kill() it."""
    return Process([bin, *args], env=env, log_path=log_path, cwd=cwd)


# ----------------------------------------------------------------------
# Cloud simulator
# ----------------------------------------------------------------------

class Sim:
    """tests/sim/alisim.py on a free port with a state file copied into
    `workdir`; control/calls/state/reset go through tests/sim/simclient.py."""

    DEFAULT_STATE = os.path.join(SIM_DIR, "default-state.json")

    def __init__(self, workdir, state_file=None, log_path=None, tls=None):
        """tls=(cert, key): also serve HTTPS; its port is self.tls_port."""
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        src = state_file or self.DEFAULT_STATE
        with open(src) as f:
            self.initial_state = json.load(f)
        self.state_file = os.path.join(workdir, "sim-state.json")
        with open(self.state_file, "w") as f:
            json.dump(self.initial_state, f)
        self.port_file = os.path.join(workdir, "sim.port")
        tls_args = []
        if tls:
            tls_args = ["--tls-cert", tls[0], "--tls-key", tls[1],
                        "--tls-port-file", self.port_file + ".tls"]
        self.proc = Process(
            [PYTHON, os.path.join(SIM_DIR, "alisim.py"), "--state",
             self.state_file, "--port", "0", "--port-file", self.port_file,
             *tls_args],
            log_path=log_path or os.path.join(workdir, "sim.log"))

        def port():
            if not self.proc.alive():
                raise RuntimeError("simulator exited:\n" + self.proc.log())
            try:
                with open(self.port_file) as f:
                    txt = f.read().strip()
                return int(txt) if txt else None
            except FileNotFoundError:
                return None
        self.port = wait_for(port, 30, 0.05, what="simulator port file")
        self.url = f"http://127.0.0.1:{self.port}"
        self.tls_port = None
        if tls:  # written before the plain port file
            with open(self.port_file + ".tls") as f:
                self.tls_port = int(f.read())
        if SIM_DIR not in sys.path:
            sys.path.insert(0, SIM_DIR)
        import simclient  # noqa: E402 - tests/sim is not a package
        self.client = simclient.SimClient(self.url)
        hostport = f"127.0.0.1:{self.port}"
        self.env = {
            "SLB_ENDPOINT": hostport,
            "VPC_ENDPOINT": hostport,
            "ECS_ENDPOINT": hostport,
            "METADATA_ENDPOINT": self.url,
            "ALICLOUD_CLIENT_SCHEME": "HTTP",
        }

    def control(self, **kw):
        return self.client.control(**kw)

    def calls(self, action=None):
        return self.client.calls(action)

    def state(self):
        return self.client.state()

    def reset(self):
        return self.client.reset()

    def credentials(self):
        """(AccessKeyId, AccessKeySecret, region, vpc, vswitch) of the
        simulated account (the state file's first account)."""
        s = self.initial_state
        acct = s["accounts"][0]
        return (acct["access_key_id"], acct["access_key_secret"],
                s["region"], s.get("vpc_id"), s.get("vswitch_id"))

    def cloud_config(self, path, **overrides):
        """Write a cloud-config JSON (seed format, base64 AccessKey) for the
        simulated account; keyword overrides replace/add Global keys
        (value None removes the key)."""
        ak, sk, region, vpc, vsw = self.credentials()
        g = {
            "accessKeyID": base64.b64encode((ak or "").encode()).decode(),
            "accessKeySecret": base64.b64encode((sk or "").encode()).decode(),
            "region": region,
            "vpcid": vpc,
            "vswitchid": vsw,
        }
        for k, v in overrides.items():
            if v is None:
                g.pop(k, None)
            else:
                g[k] = v
        g = {k: v for k, v in g.items() if v is not None}
        with open(path, "w") as f:
            json.dump({"Global": g}, f, indent=2)
        return path

    def stop(self):
        self.proc.kill()


# ----------------------------------------------------------------------
# Fault-injecting TCP proxy
# ----------------------------------------------------------------------

FORWARD, BLACKHOLE, FREEZE, REFUSE = "forward", "blackhole", "freeze", "refuse"


class _Conn:
    def __init__(self, client):
        self.client = client
        self.upstream = None
        self.blackholed = False
        self.closed = False


class TcpProxy:
    """Listens on 127.0.0.1:<.port> and forwards to (host, port).

    blackhole(): from now on, accept and read everything, forward nothing,
      never close or reset (existing connections included); like a peer
      whose packets vanish. resume() closes blackholed connections (FIN) and
      forwards new ones again.
    freeze(): stop moving bytes on every connection, without FIN (kernel
      buffers fill up; TCP keeps the peers connected). resume() continues
      where it stopped, nothing is lost.
    refuse(): reset every connection and stop listening, so connects are
      refused; resume() listens on the same port again.
    """

    def __init__(self, host, port, listen_port=0):
        self.target = (host, port)
        self._mode = FORWARD
        self._cv = threading.Condition()
        self._conns = []
        self._closing = False
        self._lsock = self._listen(listen_port)
        self.port = self._lsock.getsockname()[1]
        self.host = "127.0.0.1"
        self._threads = []
        self._spawn(self._accept_loop)

    # -- public --------------------------------------------------------
    def url(self, scheme="https"):
        return f"{scheme}://127.0.0.1:{self.port}"

    def blackhole(self):
        with self._cv:
            self._mode = BLACKHOLE
            for c in self._conns:
                c.blackholed = True
            self._cv.notify_all()

    def freeze(self):
        with self._cv:
            self._mode = FREEZE
            self._cv.notify_all()

    def refuse(self):
        with self._cv:
            self._mode = REFUSE
            lsock, self._lsock = self._lsock, None
        lsock.close()
        self.reset_all()

    def resume(self):
        with self._cv:
            if self._mode == REFUSE:
                self._lsock = self._listen(self.port)
            self._mode = FORWARD
            dead = [c for c in self._conns if c.blackholed]
            self._cv.notify_all()
        for c in dead:
            self._close_conn(c, graceful=True)

    def connections(self):
        with self._cv:
            return sum(1 for c in self._conns if not c.closed)

    def close(self):
        with self._cv:
            self._closing = True
            conns = list(self._conns)
            self._cv.notify_all()
        if self._lsock is not None:
            self._lsock.close()
        for c in conns:
            self._close_conn(c, graceful=True)
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals -----------------------------------------------------
    @staticmethod
    def _listen(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(128)
        return s

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_loop(self):
        while not self._closing:
            lsock = self._lsock
            if lsock is None:  # refusing
                time.sleep(0.05)
                continue
            try:
                r, _, _ = select.select([lsock], [], [], 0.2)
                if not r:
                    continue
                csock, _ = lsock.accept()
            except (OSError, ValueError):
                continue  # closed by refuse()/close(); loop re-checks
            conn = _Conn(csock)
            with self._cv:
                self._conns = [c for c in self._conns if not c.closed]
                self._conns.append(conn)
                conn.blackholed = self._mode == BLACKHOLE
                refused = self._mode == REFUSE
            if refused:  # raced with refuse()
                self._close_conn(conn, graceful=False)
                continue
            if not conn.blackholed:
                try:
                    conn.upstream = socket.create_connection(self.target,
                                                             timeout=10)
                    conn.upstream.settimeout(None)
                except OSError:
                    # Upstream down: the client sees a reset-free close,
                    # as with a real refused connection behind a proxy.
                    self._close_conn(conn, graceful=True)
                    continue
                self._spawn(self._pump, conn, conn.upstream, conn.client,
                            False)
            self._spawn(self._pump, conn, conn.client, conn.upstream, True)

    def _wait_not_frozen(self, conn):
        with self._cv:
            while (self._mode == FREEZE and not conn.blackholed
                   and not conn.closed and not self._closing):
                self._cv.wait(0.2)
            return not (conn.closed or self._closing)

    def _pump(self, conn, src, dst, from_client):
        while True:
            if not self._wait_not_frozen(conn):
                return
            try:
                r, _, _ = select.select([src], [], [], 0.2)
            except (OSError, ValueError):
                return
            if not r:
                continue
            if not self._wait_not_frozen(conn):
                return
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
                if conn.blackholed:
                    return
            if conn.blackholed:
                if not data and from_client:
                    self._close_conn(conn, graceful=True)
                if not data:
                    return
                continue  # discard
            if not data:
                self._half_close(conn, dst)
                return
            # A frozen proxy must not deliver a chunk read just before
            # freeze(); hold it until resume.
            if not self._wait_not_frozen(conn):
                return
            if conn.blackholed:
                continue
            try:
                dst.sendall(data)
            except OSError:
                self._close_conn(conn, graceful=True)
                return

    def _half_close(self, conn, dst):
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self._cv:
            conn.eofs = getattr(conn, "eofs", 0) + 1
            done = conn.eofs >= 2
        if done:
            self._close_conn(conn, graceful=True)

    def _close_conn(self, conn, graceful):
        with self._cv:
            if conn.closed:
                return
            conn.closed = True
        for s in (conn.client, conn.upstream):
            if s is None:
                continue
            try:
                if not graceful:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            except OSError:
                pass

    def reset_all(self):
        """Close every connection with RST (SO_LINGER 0)."""
        with self._cv:
            conns = list(self._conns)
        for c in conns:
            self._close_conn(c, graceful=False)
