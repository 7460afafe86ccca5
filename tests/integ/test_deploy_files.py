"""deploy/: the manifests and the ConfigMap script.

ccm.yaml is the seed's manifest with only the image changed;
ccm-recommended.yaml keeps the seed's command line and adds only settings
this CCM understands; configmap-ccm.sh writes the seed's ConfigMap without
ever printing the AccessKey.
"""
import base64
import copy
import json
import os
import subprocess

import yaml

from harness import REPO

SEED = "/work/shared/seed/yaml"  # as tests/integ/test_service.py
DEPLOY = os.path.join(REPO, "deploy")


def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def container(ds_docs):
    ds = next(d for d in ds_docs if d["kind"] == "DaemonSet")
    return ds["spec"]["template"]["spec"]["containers"][0]


def test_ccm_yaml_is_seed_with_our_image():
    ours = docs(os.path.join(DEPLOY, "ccm.yaml"))
    seed = docs(os.path.join(SEED, "ccm.yaml"))
    assert container(ours)["image"] == "${Registry}/alicloud-ccm:${ImageVersion}"
    assert "cloud-controller-manager-amd64" in container(seed)["image"]
    a, b = copy.deepcopy(ours), copy.deepcopy(seed)
    container(a)["image"] = container(b)["image"] = "x"
    assert a == b


def test_recommended_keeps_seed_command_and_hardens():
    rec = docs(os.path.join(DEPLOY, "ccm-recommended.yaml"))
    seed_cmd = container(docs(os.path.join(SEED, "ccm.yaml")))["command"]
    c = container(rec)
    assert c["command"][0] == "/cloud-controller-manager"
    for flag in seed_cmd:
        assert flag in c["command"], flag
    assert any(f.startswith("--controllers=") for f in c["command"])
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    ds = next(d for d in rec if d["kind"] == "DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert "emptyDir" in vols[mounts["/tmp"]]
    assert c["resources"]["requests"]["memory"]
    rules = next(d for d in rec if d["kind"] == "ClusterRole")["rules"]
    granted = {(g, r, v) for rule in rules for g in rule["apiGroups"]
               for r in rule["resources"] for v in rule["verbs"]}
    for want in [("discovery.k8s.io", "endpointslices", "list"),
                 ("discovery.k8s.io", "endpointslices", "watch"),
                 ("", "nodes", "delete"), ("", "events", "create"),
                 ("authorization.k8s.io", "selfsubjectaccessreviews",
                  "create")]:
        assert want in granted, want
    # the seed's unused grants are gone
    assert not any(r in ("secrets", "persistentvolumes")
                   for _, r, _ in granted)
    role = next(d for d in rec if d["kind"] == "Role")
    assert role["rules"][0]["resources"] == ["serviceaccounts/token"]


def run_script(env):
    full = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(["bash", os.path.join(DEPLOY, "configmap-ccm.sh")],
                          env=full, capture_output=True, text=True,
                          timeout=30)


def test_configmap_script_writes_seed_format(tmp_path, cluster):
    out = str(tmp_path / "cm.yaml")
    secret = "S3cr3tValue/With+Chars=="
    r = run_script({"ACCESS_KEY_ID": "LTAI5tExampleKeyId",
                    "ACCESS_KEY_SECRET": secret, "REGION": "cn-beijing",
                    "VPC_ID": "vpc-abc", "CONFIGMAP_OUT": out})
    assert r.returncode == 0, r.stderr
    b64 = base64.b64encode(secret.encode()).decode()
    for text in (r.stdout, r.stderr):
        assert secret not in text and b64 not in text
    assert os.stat(out).st_mode & 0o777 == 0o600
    (cm,) = docs(out)
    assert cm["metadata"] == {"name": "cloud-config",
                              "namespace": "kube-system"}
    g = json.loads(cm["data"]["cloud-config.conf"])["Global"]
    assert base64.b64decode(g["accessKeySecret"]).decode() == secret
    assert base64.b64decode(g["accessKeyID"]).decode() == "LTAI5tExampleKeyId"
    assert g["region"] == "cn-beijing" and g["vpcid"] == "vpc-abc"
    # the API server takes it as it is
    cm["metadata"]["name"] = "cloud-config-test-script"
    st, _ = cluster.api("POST", "/api/v1/namespaces/kube-system/configmaps",
                        cm)
    assert st in (201, 409)


def test_configmap_script_refuses_bad_input(tmp_path):
    out = str(tmp_path / "cm.yaml")
    r = run_script({"ACCESS_KEY_ID": "LTAI5tExampleKeyId",
                    "CONFIGMAP_OUT": out})
    assert r.returncode == 2 and "ACCESS_KEY_SECRET is not set" in r.stderr
    r = run_script({"ACCESS_KEY_ID": "LTAI5tExampleKeyId",
                    "ACCESS_KEY_SECRET": "x", "REGION": 'cn"; evil',
                    "CONFIGMAP_OUT": out})
    assert r.returncode == 2 and "REGION=" in r.stderr
    assert not os.path.exists(out)
