"""The manifests' RBAC against the controller table (workers/wk_table.c).

deploy/ccm.yaml is the seed's manifest: its ClusterRole, bound to the
cloud-controller-manager ServiceAccount the supervisor and every worker
fall back to, must grant every required rule of every controller and of
the supervisor. deploy/ccm-recommended.yaml, when present, must grant the
optional rules too (EndpointSlices, TokenRequest) and bind each
controller's own ServiceAccount to a role that grants its rules.
"""
import json
import os
import subprocess

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SEED = os.path.join(ROOT, "deploy", "ccm.yaml")
RECOMMENDED = os.path.join(ROOT, "deploy", "ccm-recommended.yaml")


@pytest.fixture(scope="module")
def table(prog_bin):
    out = subprocess.run([prog_bin("prog_wk_table")], check=True,
                         stdout=subprocess.PIPE, timeout=60).stdout
    return json.loads(out)


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def grants(role, group, resource, verb):
    for rule in role.get("rules") or []:
        if (group in rule.get("apiGroups", []) or
                "*" in rule.get("apiGroups", [])) and \
                (resource in rule.get("resources", []) or
                 "*" in rule.get("resources", [])) and \
                (verb in rule.get("verbs", []) or "*" in rule.get("verbs", [])):
            return True
    return False


def roles_of(docs, sa, ns="kube-system"):
    """Roles that apply to ServiceAccount ns/sa: ClusterRoles bound by
    ClusterRoleBindings, and Roles (or ClusterRoles) bound by RoleBindings
    in its own namespace - every namespaced object the CCM writes for
    itself (Lease, its controllers' token requests) lives there."""
    cluster = {d["metadata"]["name"]: d for d in docs
               if d.get("kind") == "ClusterRole"}
    local = {d["metadata"]["name"]: d for d in docs
             if d.get("kind") == "Role"
             and d["metadata"].get("namespace") == ns}
    out = []
    for b in docs:
        kind = b.get("kind")
        if kind == "RoleBinding" and b["metadata"].get("namespace") != ns:
            continue
        if kind not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        for s in b.get("subjects") or []:
            if s.get("kind") == "ServiceAccount" and s.get("name") == sa \
                    and s.get("namespace") == ns:
                ref = b["roleRef"]
                pool = local if ref.get("kind") == "Role" else cluster
                assert ref["name"] in pool, "binding %s names missing %s %s" % (
                    b["metadata"]["name"], ref.get("kind"), ref["name"])
                out.append(pool[ref["name"]])
    return out


def missing(entries, roles, with_optional):
    miss = []
    for e in entries:
        for rule in e["rules"]:
            if rule["optional"] and not with_optional:
                continue
            for res in rule["resources"]:
                for verb in rule["verbs"]:
                    if not any(grants(r, rule["group"], res, verb)
                               for r in roles):
                        miss.append("%s: %s %s/%s" % (
                            e["name"], verb, rule["group"] or "core", res))
    return miss


def all_entries(table):
    return table["controllers"] + [table["supervisor"]]


def test_table_is_complete(table):
    names = [c["name"] for c in table["controllers"]]
    assert names == ["service-lb", "route", "node-init"]
    by = {c["name"]: c for c in table["controllers"]}
    # the drift the table fixed: node-init deletes Nodes, every informer
    # watches, every controller records Events
    assert any("delete" in r["verbs"] and "nodes" in r["resources"]
               for r in by["node-init"]["rules"])
    for c in table["controllers"]:
        assert any("watch" in r["verbs"] for r in c["rules"]), c["name"]
        assert any("events" in r["resources"] and "create" in r["verbs"]
                   for r in c["rules"]), c["name"]
        assert c["service_account"]


def test_table_flags_exist(table, ccm_bin):
    out = subprocess.run([ccm_bin, "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=60).stdout.decode()
    for e in all_entries(table):
        for flag in e["flags"]:
            assert "--" + flag in out, (e["name"], flag)


def test_manifests_cover_the_table(table):
    docs = load(SEED)
    roles = roles_of(docs, "cloud-controller-manager")
    assert roles, "the seed binds no role to cloud-controller-manager"
    assert missing(all_entries(table), roles, False) == []
    # controller service accounts the seed binds get their required rules
    for c in table["controllers"]:
        bound = roles_of(docs, c["service_account"])
        if bound:
            assert missing([c], bound, False) == [], c["name"]
    # the seed lacks the optional rules: they are what "optional" means
    assert missing(all_entries(table), roles, True) != []

    # deploy/ccm-recommended.yaml (written with the image work) grants all
    if os.path.exists(RECOMMENDED):
        docs = load(RECOMMENDED)
        roles = roles_of(docs, "cloud-controller-manager")
        assert missing(all_entries(table), roles, True) == []
        for c in table["controllers"]:
            bound = roles_of(docs, c["service_account"])
            assert bound, "%s is not bound" % c["service_account"]
            assert missing([c], bound, True) == [], c["name"]
