"""The OCI image (`make image`, deploy/build-image.sh) run with podman as
the seed's DaemonSet runs it: the DaemonSet's command line from
deploy/ccm.yaml, the ServiceAccount token and the API server's CA at the
in-cluster paths, the cloud-config from a directory laid out like a
ConfigMap volume, host-like directories over /etc/ssl/certs and /etc/pki,
a read-only root filesystem and user 65532.

The container uses the host network (as the DaemonSet does); only the
health and metrics bind addresses are appended to the DaemonSet's flags so
that tests running at the same time do not collide on 10258/8080.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import uuid

import pytest

import harness
from harness import REPO, free_port, wait_for

sys.path.insert(0, os.path.join(REPO, "tests", "harness"))
import seed_demo  # noqa: E402

CONTAINERS_CONF = os.path.join(REPO, "deploy", "containers.conf")
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
ENV = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)


def podman(*args, check=True, timeout=120):
    return subprocess.run(PODMAN + list(args), env=ENV, check=check,
                          timeout=timeout, capture_output=True, text=True)


def rel_bin():
    b = os.path.join(REPO, os.environ.get("BIN", "bin"),
                     "cloud-controller-manager")
    assert os.access(b, os.X_OK), f"{b} missing: make all"
    return b


def build_image(tmp, tag, ca_bundle=None):
    env = dict(ENV, BINARY=rel_bin(), VERSION=tag, IMAGE="alicloud-ccm-test",
               OUT=str(tmp))
    if ca_bundle:
        env["CA_BUNDLE"] = ca_bundle
    r = subprocess.run(["bash", os.path.join(REPO, "deploy",
                                             "build-image.sh")],
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ref = r.stdout.strip().splitlines()[-1]
    assert os.path.exists(os.path.join(str(tmp),
                                       f"alicloud-ccm-test-{tag}.tar"))
    return ref


def make_ca(d):
    """A test CA and a server certificate for 127.0.0.1 signed by it."""
    def ossl(*a):
        subprocess.run(["openssl", *a], check=True, capture_output=True,
                       cwd=d)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=alicloud-ccm test CA", "-keyout", "ca.key",
         "-out", "ca.crt")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", "srv.key", "-out", "srv.csr")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey",
         "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext",
         "-out", "srv.crt")
    return {k: os.path.join(d, k) for k in
            ("ca.crt", "srv.crt", "srv.key")}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """The image as `make image` builds it, and a variant whose bundle is
    the test CA (the TLS test)."""
    tmp = tmp_path_factory.mktemp("image")
    ca = make_ca(str(tmp))
    tag = f"t{os.getpid()}"
    refs = {"plain": build_image(tmp, tag),
            "testca": build_image(tmp, tag + "-testca", ca["ca.crt"])}
    try:
        yield refs, ca
    finally:
        for ref in refs.values():
            podman("rmi", "-f", ref, check=False)


def world_readable(path):
    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    os.chmod(path, 0o755)


def configmap_dir(d, name, content):
    """A directory as the kubelet lays out a ConfigMap volume: the key is a
    symlink through ..data to a timestamped directory."""
    ts = os.path.join(d, "..2026_01_01_00_00_00.000000001")
    os.makedirs(ts)
    with open(os.path.join(ts, name), "w") as f:
        f.write(content)
    os.symlink(os.path.basename(ts), os.path.join(d, "..data"))
    os.symlink(os.path.join("..data", name), os.path.join(d, name))


class Pod:
    """One `podman run` of the image, removed at teardown."""

    def __init__(self, tmp, cluster, sim, image, sim_env, hostdirs,
                 manifest=seed_demo.CCM_YAML, extra=()):
        self.name = "ccm-test-" + uuid.uuid4().hex[:10]
        self.health = free_port()
        self.metrics = free_port()
        sa = os.path.join(tmp, "sa")
        os.makedirs(sa)
        with open(os.path.join(sa, "token"), "w") as f:
            f.write(cluster.sa_token("kube-system",
                                     "cloud-controller-manager"))
        shutil.copy(cluster.ca_file, os.path.join(sa, "ca.crt"))
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write("kube-system")
        cfg = os.path.join(tmp, "cloud-config")
        os.makedirs(cfg)
        conf = os.path.join(tmp, "cc.json")
        sim.cloud_config(conf)
        with open(conf) as f:
            configmap_dir(cfg, "cloud-config.conf", f.read())
        for d in (sa, cfg, *hostdirs.values()):
            world_readable(d)
        port = cluster.url.rsplit(":", 1)[1]
        cmd = seed_demo.daemonset_command(manifest) + [
            f"--health-probe-bind-addr=127.0.0.1:{self.health}",
            f"--metrics-bind-addr=127.0.0.1:{self.metrics}"]
        # the host mounts first: the ConfigMap mount lands inside the
        # writable /etc/kubernetes one, as in the seed's pod
        mounts = [f"{src}:{t}" + ("" if t == "/etc/kubernetes" else ":ro")
                  for t, src in hostdirs.items()]
        mounts += [f"{cfg}:/etc/kubernetes/config:ro", f"{sa}:{SA_DIR}:ro"]
        argv = ["run", "--rm", "--name", self.name, "--network", "host",
                "--read-only", "--user", "65532",
                "-e", "KUBERNETES_SERVICE_HOST=127.0.0.1",
                "-e", f"KUBERNETES_SERVICE_PORT={port}", *extra]
        for m in mounts:
            argv += ["-v", m]
        for k, v in sim_env.items():
            argv += ["-e", f"{k}={v}"]
        argv += ["--entrypoint", json.dumps(cmd), image]
        self.proc = harness.Process(PODMAN + argv, env=ENV,
                                    log_path=os.path.join(tmp, "pod.log"))

    def log(self):
        return self.proc.log()

    def healthz(self):
        assert self.proc.alive(), "container exited:\n" + self.log()
        st, _ = seed_demo._get(f"http://127.0.0.1:{self.health}/healthz")
        return st == 200

    def stop(self):
        podman("stop", "-t", "20", self.name, check=False)
        self.proc.wait(timeout=60) if self.proc.alive() else None
        podman("rm", "-f", self.name, check=False)
        self.proc.kill()


@pytest.fixture
def test_ns(cluster):
    """A namespace holding the seed's test Service; the Service is removed
    at teardown so other tests' CCMs never reconcile it."""
    made = []

    def make(prefix, ip):
        ns = prefix + "-" + uuid.uuid4().hex[:6]
        seed_demo.apply_rbac(cluster)
        seed_demo.apply_test_service(cluster, ns, [ip])
        made.append(ns)
        return ns
    try:
        yield make
    finally:
        for ns in made:
            seed_demo.remove_test_service(cluster, ns)


@pytest.fixture
def pod(tmp_path, cluster):
    pods = []

    def start(sim, image, sim_env=None, hostdirs=None, kube=None, **kw):
        p = Pod(str(tmp_path / f"pod{len(pods)}"), kube or cluster, sim,
                image, sim_env if sim_env is not None else sim.env,
                hostdirs or {}, **kw)
        pods.append(p)
        return p
    try:
        yield start
    finally:
        for p in pods:
            p.stop()


def host_dirs(tmp):
    """The seed's host mounts: /etc/kubernetes (writable, the kubelet has
    made the ConfigMap's mount point in it), and stand-ins for a foreign
    host's /etc/ssl/certs and /etc/pki holding a self-signed CA that signed
    nothing here, at the paths libcurl would look at."""
    kube = os.path.join(tmp, "etc-kubernetes")
    os.makedirs(os.path.join(kube, "config"))
    certs = os.path.join(tmp, "host-certs")
    pki = os.path.join(tmp, "host-pki", "tls", "certs")
    os.makedirs(certs)
    os.makedirs(pki)
    other = make_ca_only(tmp)
    shutil.copy(other, os.path.join(certs, "ca-certificates.crt"))
    shutil.copy(other, os.path.join(pki, "ca-bundle.crt"))
    return {"/etc/kubernetes": kube, "/etc/ssl/certs": certs,
            "/etc/pki": os.path.join(tmp, "host-pki")}


def make_ca_only(tmp):
    d = os.path.join(tmp, "foreign-ca")
    os.makedirs(d)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=foreign host CA",
                    "-keyout", "k", "-out", "ca.crt"], check=True,
                   capture_output=True, cwd=d)
    return os.path.join(d, "ca.crt")


def wait_clb(cluster, sim, ns, pod, timeout=180):
    def got():
        assert pod.proc.alive(), "container exited:\n" + pod.log()
        return seed_demo.external_ip(cluster, ns, "nginx")
    ip = wait_for(got, timeout, 0.5, what="Service nginx EXTERNAL-IP")
    lbs = [lb for lb in sim.state()["load_balancers"]
           if lb["Address"] == ip]
    assert len(lbs) == 1, lbs
    return ip, lbs[0]["LoadBalancerId"]


def test_image_metadata(images):
    refs, _ = images
    r = podman("image", "inspect", refs["plain"])
    cfg = json.loads(r.stdout)[0]["Config"]
    assert cfg["Entrypoint"] == ["/cloud-controller-manager"]
    assert cfg["User"] == "65532:65532"
    assert cfg["Labels"]["org.opencontainers.image.version"].startswith("t")
    assert cfg["Labels"]["org.opencontainers.image.source"]
    out = podman("run", "--rm", "--read-only", "--user", "65532",
                 "--network", "host", refs["plain"], "--version")
    assert out.stdout.startswith("alicloud-ccm ")

def test_image_ships_ca_bundle(images, tmp_path):
    """The bundle sits where the seed's host mounts do not reach."""
    refs, _ = images
    name = "ccm-cp-" + uuid.uuid4().hex[:8]
    podman("create", "--name", name, refs["plain"])
    try:
        podman("cp", f"{name}:/usr/share/alicloud-ccm/ca-certificates.crt",
               str(tmp_path / "bundle.crt"))
    finally:
        podman("rm", "-f", name, check=False)
    with open(tmp_path / "bundle.crt") as a, \
            open("/etc/ssl/certs/ca-certificates.crt") as b:
        assert a.read() == b.read()


def test_daemonset_in_image_gets_clb(images, cluster, sim, pod, tmp_path,
                                     test_ns):
    refs, _ = images
    ns = test_ns("image", "172.16.0.5")
    p = pod(sim, refs["plain"],
            hostdirs=host_dirs(str(tmp_path / "hostdirs")))
    wait_for(p.healthz, 120, 0.5, what="/healthz in the container")
    ip, lb_id = wait_clb(cluster, sim, ns, p)
    assert lb_id.startswith("lb-")
    _, sk, *_ = sim.credentials()
    assert sk not in p.log()


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory):
    """A cluster holding only deploy/ccm-recommended.yaml's RBAC, so no
    grant of the seed's manifest (applied to the shared cluster by other
    tests) can make up for a missing one."""
    c = harness.Cluster(str(tmp_path_factory.mktemp("rec-cluster")))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def test_recommended_manifest(images, own_cluster, sim, pod):
    """ccm-recommended.yaml's RBAC and container settings (non-root,
    read-only, no privilege escalation, all capabilities dropped, the run
    directory on an emptyDir at /tmp) are enough: every worker gets its own
    ServiceAccount token and the Service its CLB, with no 403 anywhere."""
    refs, _ = images
    c = own_cluster
    seed_demo.apply_rbac(c, seed_demo.REC_YAML)
    ns = "rec-" + uuid.uuid4().hex[:6]
    seed_demo.apply_test_service(c, ns, ["172.16.0.8"])
    try:
        p = pod(sim, refs["plain"], kube=c, manifest=seed_demo.REC_YAML,
                extra=["--cap-drop=ALL", "--security-opt=no-new-privileges",
                       "--tmpfs", "/tmp:rw,size=16m,mode=1777"])
        wait_clb(c, sim, ns, p)
        log = p.log()
        for w in ("service-lb", "route", "node-init"):
            assert f"started worker {w}" in log
        # "403" alone also matches timestamps (07:57:54.840323)
        assert "unavailable" not in log, log
        assert not re.search(r"HTTP 403\b|forbidden", log, re.I), log
        assert "run dir /tmp/alicloud-ccm" in log
        # each worker acted as its own ServiceAccount (the audit log)
        users = {e.get("user", {}).get("username")
                 for e in c.audit_events()}
        for sa in ("service-controller", "route-controller",
                   "cloud-node-controller"):
            assert f"system:serviceaccount:kube-system:{sa}" in users, users
    finally:
        seed_demo.remove_test_service(c, ns)


def test_cloud_tls_uses_image_bundle(images, cluster, tmp_path, pod,
                                     test_ns):
    """The simulator serves HTTPS under a test CA that only the image's
    bundle contains; foreign CAs are mounted over /etc/ssl/certs and
    /etc/pki, as on a host of another distribution."""
    refs, ca = images
    s = harness.Sim(str(tmp_path / "tls-sim"),
                    tls=(ca["srv.crt"], ca["srv.key"]))
    try:
        ns = test_ns("tls", "172.16.0.6")
        hp = f"127.0.0.1:{s.tls_port}"
        env = {"SLB_ENDPOINT": hp, "VPC_ENDPOINT": hp, "ECS_ENDPOINT": hp,
               "METADATA_ENDPOINT": s.url,
               "ALICLOUD_CLIENT_SCHEME": "HTTPS"}
        hd = host_dirs(str(tmp_path / "hostdirs"))
        p = pod(s, refs["testca"], sim_env=env, hostdirs=hd)
        wait_clb(cluster, s, ns, p)
        assert s.calls("CreateLoadBalancer")
    finally:
        s.stop()


def test_cloud_tls_refuses_foreign_ca(images, cluster, tmp_path, pod,
                                      test_ns):
    """The same HTTPS simulator with the plain image: its bundle lacks the
    test CA, so no cloud call is accepted (the host mounts widen nothing)."""
    refs, ca = images
    s = harness.Sim(str(tmp_path / "tls-sim"),
                    tls=(ca["srv.crt"], ca["srv.key"]))
    try:
        test_ns("tlsno", "172.16.0.7")
        hp = f"127.0.0.1:{s.tls_port}"
        env = {"SLB_ENDPOINT": hp, "VPC_ENDPOINT": hp, "ECS_ENDPOINT": hp,
               "METADATA_ENDPOINT": s.url,
               "ALICLOUD_CLIENT_SCHEME": "HTTPS"}
        hd = host_dirs(str(tmp_path / "hostdirs"))
        # the foreign "host" bundle holds the test CA: trusting it would
        # make the calls succeed
        shutil.copy(ca["ca.crt"], os.path.join(hd["/etc/ssl/certs"],
                                               "ca-certificates.crt"))
        world_readable(hd["/etc/ssl/certs"])
        p = pod(s, refs["plain"], sim_env=env, hostdirs=hd)
        wait_for(lambda: "certificate" in p.log().lower(), 120, 0.5,
                 what="a TLS verification error in the log")
        assert not s.calls()
        assert not s.state()["load_balancers"]
    finally:
        s.stop()
