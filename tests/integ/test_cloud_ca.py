"""The cloud client's CA bundle (alicloud/ali_http.c): ALICLOUD_CA_FILE
names the only bundle it trusts for the cloud APIs (the image ships one at
/usr/share/alicloud-ccm/ca-certificates.crt, see test_image.py). Run with
the sanitizer build against the simulator serving HTTPS under a test CA.
"""
import os
import uuid

import pytest

import harness
from harness import free_port, wait_for
from test_image import make_ca, make_ca_only

import seed_demo  # noqa: E402 - tests/harness is on sys.path via test_image


@pytest.fixture
def tls_sim(tmp_path):
    ca = make_ca(str(tmp_path))
    s = harness.Sim(str(tmp_path / "sim"), tls=(ca["srv.crt"], ca["srv.key"]))
    try:
        yield s, ca
    finally:
        s.stop()


@pytest.fixture
def service_ns(cluster):
    ns = "ca-" + uuid.uuid4().hex[:6]
    seed_demo.apply_test_service(cluster, ns, ["172.16.0.9"])
    try:
        yield ns
    finally:
        seed_demo.remove_test_service(cluster, ns)


def start(run_ccm, tmp_kubeconfig, tmp_path, s, ca_file):
    conf = s.cloud_config(str(tmp_path / "cc.json"))
    os.chmod(conf, 0o600)
    hp = f"127.0.0.1:{s.tls_port}"
    env = dict(os.environ, SLB_ENDPOINT=hp, VPC_ENDPOINT=hp, ECS_ENDPOINT=hp,
               METADATA_ENDPOINT=s.url, ALICLOUD_CLIENT_SCHEME="HTTPS",
               ALICLOUD_CA_FILE=ca_file)
    return run_ccm(["--cloud-config=" + conf,
                    "--kubeconfig=" + tmp_kubeconfig(),
                    "--leader-elect=false", "--controllers=service",
                    "--configure-cloud-routes=false",
                    f"--health-probe-bind-addr=127.0.0.1:{free_port()}",
                    "--metrics-bind-addr=0"], env=env)


def test_ca_file_is_trusted(run_ccm, tmp_kubeconfig, tmp_path, tls_sim,
                            cluster, service_ns):
    s, ca = tls_sim
    p = start(run_ccm, tmp_kubeconfig, tmp_path, s, ca["ca.crt"])
    wait_for(lambda: seed_demo.external_ip(cluster, service_ns, "nginx"),
             120, 0.5, what="EXTERNAL-IP over HTTPS")
    assert s.calls("CreateLoadBalancer")
    assert p.alive()


def test_other_ca_is_refused(run_ccm, tmp_kubeconfig, tmp_path, tls_sim,
                             cluster, service_ns):
    s, _ = tls_sim
    other = make_ca_only(str(tmp_path))
    p = start(run_ccm, tmp_kubeconfig, tmp_path, s, other)
    wait_for(lambda: "SSL certificate problem" in p.log(), 120, 0.5,
             what="a certificate verification error")
    assert not s.calls()
    assert not s.state()["load_balancers"]


def test_missing_ca_file_is_named(run_ccm, tmp_kubeconfig, tmp_path, tls_sim,
                                  cluster, service_ns):
    s, _ = tls_sim
    missing = str(tmp_path / "no-such-bundle.crt")
    p = start(run_ccm, tmp_kubeconfig, tmp_path, s, missing)
    wait_for(lambda: missing in p.log(), 120, 0.5,
             what="the missing CA file named in the log")
    assert not s.calls()
