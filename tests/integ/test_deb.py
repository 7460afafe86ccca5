"""The Debian package (`make deb`) and `make install` in a fresh Debian 12
root made by mmdebstrap: `apt-get install ./alicloud-ccm_*.deb` sets up the
user, the configuration and a unit that `systemd-analyze verify` accepts;
`dpkg -r` and `dpkg -P` remove it cleanly.

The root filesystem (minbase + systemd + the package's dependencies) is
cached as a tarball in /var/cache/alicloud-ccm/deb-root, keyed by its
package list, and unpacked afresh for every run.
"""
import fcntl
import hashlib
import os
import re
import shutil
import stat
import subprocess

import pytest

from harness import REPO

CACHE = os.environ.get("CCM_CACHE_DIR", "/var/cache/alicloud-ccm")


def rel_bin():
    b = os.path.join(REPO, os.environ.get("BIN", "bin"),
                     "cloud-controller-manager")
    assert os.access(b, os.X_OK), f"{b} missing: make all"
    return b


def run(argv, check=True, timeout=600, **kw):
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return r


def build_deb(out):
    r = run(["bash", os.path.join(REPO, "deploy", "build-deb.sh")],
            env=dict(os.environ, BINARY=rel_bin(), OUT=str(out)))
    return r.stdout.strip().splitlines()[-1]


def deb_depends(deb):
    dep = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    return sorted({d.split()[0] for d in dep.replace(",", " ").split()
                   if re.match(r"^[a-z0-9][a-z0-9.+-]+$", d)})


def root_tarball(pkgs):
    """A cached mmdebstrap root with `pkgs` installed (built once)."""
    key = hashlib.sha256(" ".join(pkgs).encode()).hexdigest()[:16]
    d = os.path.join(CACHE, "deb-root")
    os.makedirs(d, exist_ok=True)
    tar = os.path.join(d, f"bookworm-minbase-{key}.tar")
    with open(os.path.join(d, "lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        if not os.path.exists(tar):
            tmp = tar[:-len(".tar")] + ".part.tar"  # the suffix picks the format
            run(["mmdebstrap", "--variant=minbase", "--quiet",
                 "--include=" + ",".join(pkgs), "bookworm", tmp],
                timeout=1200)
            os.replace(tmp, tar)
    return tar


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    return build_deb(tmp_path_factory.mktemp("deb"))


@pytest.fixture
def root(deb, tmp_path):
    pkgs = sorted(set(deb_depends(deb)) | {"systemd"})
    tar = root_tarball(pkgs)
    r = str(tmp_path / "root")
    os.makedirs(r)
    run(["tar", "-C", r, "-xf", tar])
    try:
        yield r
    finally:
        shutil.rmtree(r, ignore_errors=True)


def chroot(root, *argv, check=True):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "DEBIAN_FRONTEND": "noninteractive"}
    return run(["chroot", root, *argv], check=check, env=env)


def verify_unit(root, unit):
    r = chroot(root, "systemd-analyze", "verify", "--man=no", unit,
               check=False)
    assert r.returncode == 0 and not r.stdout.strip() and \
        not r.stderr.strip(), (r.stdout, r.stderr)


def passwd_entry(root, name):
    r = chroot(root, "getent", "passwd", name, check=False)
    return r.stdout.strip().split(":") if r.returncode == 0 else None


def test_deb_contents(deb):
    deps = deb_depends(deb)
    for p in ("libcurl4", "libyajl2", "libssl3", "libevent-2.1-7",
              "libnanomsg5", "adduser"):
        assert p in deps
    files = run(["dpkg-deb", "-c", deb]).stdout
    for f in ("./usr/bin/cloud-controller-manager",
              "./lib/systemd/system/alicloud-ccm.service",
              "./usr/share/man/man8/cloud-controller-manager.8.gz",
              "./usr/share/doc/alicloud-ccm/examples/cloud-config.json",
              "./etc/default/alicloud-ccm"):
        assert f in files
    conff = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert conff == ["/etc/default/alicloud-ccm"]


def test_man_page_renders():
    r = run(["man", "--warnings", "-l", "-Tutf8",
             os.path.join(REPO, "deploy", "cloud-controller-manager.8")])
    assert not r.stderr.strip(), r.stderr
    text = re.sub(".\b", "", r.stdout).replace("\u2010", "-")
    for flag in ("--cloud-config", "--leader-elect-resource-lock",
                 "--run-dir", "ALICLOUD_CA_FILE", "/etc/default/alicloud-ccm"):
        assert flag in text


def test_deb_install_remove_purge(deb, root):
    shutil.copy(deb, os.path.join(root, "tmp", "alicloud-ccm.deb"))
    # what a user types on a gateway host (the dependencies are present,
    # so nothing is downloaded)
    chroot(root, "apt-get", "install", "-y", "-q", "/tmp/alicloud-ccm.deb")
    st = chroot(root, "dpkg-query", "-W", "-f=${Status}", "alicloud-ccm")
    assert st.stdout == "install ok installed"

    pw = passwd_entry(root, "alicloud-ccm")
    assert pw and int(pw[2]) < 1000 and pw[6].endswith("nologin")
    cc = os.stat(os.path.join(root, "etc/alicloud-ccm/cloud-config.json"))
    assert stat.S_IMODE(cc.st_mode) == 0o600 and cc.st_uid == int(pw[2])
    assert os.path.exists(os.path.join(root, "etc/default/alicloud-ccm"))

    verify_unit(root, "alicloud-ccm.service")
    with open(os.path.join(root, "lib/systemd/system/"
                           "alicloud-ccm.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/bin/cloud-controller-manager" in unit
    # the lock that excludes the seed's Go CCM (item 3)
    assert "--leader-elect-resource-lock=endpoints" in unit
    ver = chroot(root, "cloud-controller-manager", "--version")
    assert ver.stdout.startswith("alicloud-ccm ")

    chroot(root, "dpkg", "-r", "alicloud-ccm")
    assert not os.path.exists(os.path.join(root, "usr/bin/"
                                           "cloud-controller-manager"))
    st = chroot(root, "dpkg-query", "-W", "-f=${Status}", "alicloud-ccm")
    assert st.stdout == "deinstall ok config-files"
    assert os.path.exists(os.path.join(root, "etc/default/alicloud-ccm"))

    chroot(root, "dpkg", "-P", "alicloud-ccm")
    for p in ("etc/alicloud-ccm", "etc/default/alicloud-ccm",
              "lib/systemd/system/alicloud-ccm.service"):
        assert not os.path.exists(os.path.join(root, p)), p
    assert passwd_entry(root, "alicloud-ccm") is None
    st = chroot(root, "dpkg-query", "-W", "alicloud-ccm", check=False)
    assert st.returncode != 0


def test_make_install_into_root(root):
    """`make install DESTDIR=<root>` (PREFIX=/usr/local), then the
    postinst as root inside: the same unit verifies from /usr/local."""
    run(["make", "--no-print-directory", "-C", REPO, "install",
         f"DESTDIR={root}", "PREFIX=/usr/local",
         f"BIN={os.environ.get('BIN', 'bin')}"])
    unit = "usr/local/lib/systemd/system/alicloud-ccm.service"
    with open(os.path.join(root, unit)) as f:
        assert "ExecStart=/usr/local/bin/cloud-controller-manager" in f.read()
    shutil.copy(os.path.join(REPO, "deploy", "debian", "postinst"),
                os.path.join(root, "tmp", "postinst"))
    chroot(root, "sh", "/tmp/postinst", "configure")
    assert passwd_entry(root, "alicloud-ccm")
    cc = os.stat(os.path.join(root, "etc/alicloud-ccm/cloud-config.json"))
    assert stat.S_IMODE(cc.st_mode) == 0o600
    verify_unit(root, "alicloud-ccm.service")
