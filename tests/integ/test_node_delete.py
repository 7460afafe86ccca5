"""node-init deletes a Node with DeleteOptions preconditions (issue 11):
the uid (and resourceVersion) of the object it judged, against the real
kube-apiserver. The request is built by the worker's own code
(ni_delete_options + kube_delete_opts, driven by tests/integ/prog_kube.c),
so a Node deleted and re-created under the same name between judgement
and delete survives."""

import pytest

from test_kube import make_node, run


@pytest.fixture
def prog(prog_bin):
    return prog_bin("prog_kube")


def meta(cluster, name):
    st, obj = cluster.api("GET", "/api/v1/nodes/" + name)
    assert st == 200, obj
    return obj["metadata"]


def test_recreated_node_not_deleted(cluster, prog):
    name = "nd-recreated"
    make_node(cluster, name)
    judged = meta(cluster, name)
    # between judgement and delete, someone re-creates the Node
    st, obj = cluster.api("DELETE", "/api/v1/nodes/" + name)
    assert st == 200, obj
    make_node(cluster, name)
    fresh = meta(cluster, name)
    assert fresh["uid"] != judged["uid"]

    out = run(prog, "delnode", name, judged["uid"],
              judged["resourceVersion"], kubeconfig=cluster.kubeconfig)
    assert out["status"] == "409", out
    assert out["errno"] == "EAGAIN", out
    # the re-created Node is foreign to that judgement: not even written
    now = meta(cluster, name)
    assert (now["uid"], now["resourceVersion"]) == \
        (fresh["uid"], fresh["resourceVersion"])

    # the object that was judged, as judged: deleted
    out = run(prog, "delnode", name, fresh["uid"], fresh["resourceVersion"],
              kubeconfig=cluster.kubeconfig)
    assert out["status"] == "200", out
    assert out["result"] == "0", out
    st, _ = cluster.api("GET", "/api/v1/nodes/" + name)
    assert st == 404


def test_changed_node_not_deleted(cluster, prog):
    name = "nd-changed"
    make_node(cluster, name)
    judged = meta(cluster, name)
    st, obj = cluster.api("PATCH", "/api/v1/nodes/" + name,
                          {"metadata": {"labels": {"changed": "yes"}}},
                          content_type="application/merge-patch+json")
    assert st == 200, obj
    changed = obj["metadata"]["resourceVersion"]
    out = run(prog, "delnode", name, judged["uid"],
              judged["resourceVersion"], kubeconfig=cluster.kubeconfig)
    assert out["status"] == "409", out
    now = meta(cluster, name)
    assert now["labels"]["changed"] == "yes"
    assert now["resourceVersion"] == changed  # refused, and nothing written
    cluster.api("DELETE", "/api/v1/nodes/" + name)
