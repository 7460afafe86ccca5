"""The binary itself on bad input: exit code 2 and one clear message, with
no secret in it, before any process starts work. (The parsing is unit-tested
in tests/unit/test_cfg.c; this proves main's exit codes.)"""

import base64
import json
import os
import subprocess

SEED = ["--leader-elect=true", "--cloud-provider=alicloud",
        "--use-service-account-credentials=true",
        "--configure-cloud-routes=true", "--route-reconciliation-period=3m",
        "--leader-elect-resource-lock=endpoints",
        "--cluster-cidr=172.16.0.0/16"]
SECRET = "SecretValueNeverLogged123"


def run(ccm_bin, args, tmp_path):
    p = subprocess.run([ccm_bin, f"--run-dir={tmp_path}/run",
                        "--health-probe-bind-addr=127.0.0.1:0",
                        "--metrics-bind-addr=0", *args],
                       capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items()
                            if k not in ("KUBECONFIG", "ACCESS_KEY_ID",
                                         "ACCESS_KEY_SECRET")})
    return p.returncode, p.stdout + p.stderr


def cloud_config(tmp_path, **glob):
    p = tmp_path / "cc.json"
    p.write_text(json.dumps({"Global": glob}))
    p.chmod(0o644)
    return str(p)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def test_bad_inputs_exit_2(ccm_bin, tmp_path):
    good = cloud_config(tmp_path, region="cn-hangzhou")
    kc = tmp_path / "kc.yaml"
    kc.write_text("clusters:\n- name: c\n  cluster:\n    server: "
                  "https://127.0.0.1:1\nusers:\n- name: u\n  user:\n"
                  "    exec:\n      command: foo\ncontexts:\n- name: x\n"
                  "  context:\n    cluster: c\n    user: u\n"
                  "current-context: x\n")
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps({"Global": {
        "accessKeyID": b64("LTAI5tTestKey123"), "accessKeySecret": SECRET}}))
    raw.chmod(0o644)
    cases = [
        ([*SEED, f"--cloud-config={good}", "--bogus"], "unknown flag: --bogus"),
        ([*SEED[:-1], f"--cloud-config={good}"], "--cluster-cidr must be set"),
        ([*SEED, f"--cloud-config={good}",
          "--route-reconciliation-period=3 minutes"],
         "--route-reconciliation-period"),
        ([*SEED, f"--cloud-config={good}",
          "--leader-elect-renew-deadline=20s"],
         "--leader-elect-lease-duration"),
        ([*SEED, f"--cloud-config={raw}"], "accessKeySecret: not valid base64"),
        ([*SEED, f"--cloud-config={tmp_path}/missing.json"], "cannot open"),
        ([*SEED, f"--cloud-config={good}", f"--kubeconfig={kc}"],
         'user "u": field "exec" is not supported'),
    ]
    for args, want in cases:
        rc, out = run(ccm_bin, args, tmp_path)
        assert rc == 2, (args, out)
        assert want in out, (want, out)
        assert SECRET not in out and b64(SECRET) not in out


def test_help_and_version_exit_0(ccm_bin, tmp_path):
    rc, out = run(ccm_bin, ["--version"], tmp_path)
    assert rc == 0 and "alicloud-ccm" in out
    rc, out = run(ccm_bin, ["--help"], tmp_path)
    assert rc == 0 and "--cloud-config" in out
