"""node-init under leader election with a long run of rate-limited Node
PATCHes (issue 13: at 500 nodes its PATCHes failed with `Connection timed
out (HTTP 0)`).

The worker learns each lease renewal from its status channel. node-init
sends a batch's PATCHes one after another inside one callback, so without
reading that channel between requests the fence window it last saw
(renew + lease - 1 s - request timeout: 4 s with the defaults) closed and
every later PATCH was refused before it was sent. Here the batch is made
to take far longer than that window by the client rate alone
(--kube-api-qps), so the outcome does not depend on the machine's speed.
"""
import os
import uuid

import pytest

from harness import free_port, wait_for
from test_node_init import (UNINIT, add_instance, create_node,
                            delete_all_nodes, node_body, taint_keys)

NODES = 12
QPS = 2  # 2 PATCHes per node -> a batch of 12 takes >= 11.5 s


@pytest.fixture
def nodes_cleanup(cluster):
    delete_all_nodes(cluster)
    created = []
    yield created
    for n in created:
        cluster.api("DELETE", f"/api/v1/nodes/{n}")


def _lease_name():
    return f"ccm-fence-{uuid.uuid4().hex[:6]}"


def test_long_patch_run_stays_inside_the_fence(cluster, sim, run_ccm,
                                              tmp_path, nodes_cleanup):
    cfg = sim.cloud_config(str(tmp_path / "cloud.json"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = dict(os.environ)
    env.update(sim.env)
    insts = [add_instance(sim, vswitch_id="vsw-sim0002")
             for _ in range(NODES)]
    # Default lease timing (15 s / 10 s / 2 s, 10 s request timeout):
    # the fence window after each renewal is 4 s.
    p = run_ccm(["--configure-cloud-routes=false", f"--cloud-config={cfg}",
                 f"--kubeconfig={cluster.kubeconfig}",
                 "--leader-elect=true", "--controllers=node",
                 f"--leader-elect-resource-name={_lease_name()}",
                 f"--run-dir={run_dir}", f"--kube-api-qps={QPS}",
                 "--kube-api-burst=1",
                 "--node-event-aggregation-wait-seconds=3",
                 "--skip-disable-source-dest-check=true",
                 f"--health-probe-bind-addr=127.0.0.1:{free_port()}",
                 "--metrics-bind-addr=", "-v=2"], env=env)
    p.wait_log("node-init controller started", 90)
    names = []
    for inst in insts:
        n = f"fence-{uuid.uuid4().hex[:6]}"
        names.append(n)
        nodes_cleanup.append(n)
        create_node(cluster, node_body(n, ip=inst["private_ip"]))

    def initialized():
        st, obj = cluster.api("GET", "/api/v1/nodes")
        assert st == 200, obj
        done = {x["metadata"]["name"] for x in obj["items"]
                if UNINIT not in taint_keys(x)}
        return all(n in done for n in names)

    try:
        wait_for(initialized, 240, 0.5, what=f"{NODES} nodes initialized")
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- CCM log tail ---\n"
                             f"{p.log()[-6000:]}") from None
    log = p.log()
    # Every node was initialized by its first attempt: no PATCH was fenced
    # (a fenced attempt logs SyncNodeFailed and is retried later).
    assert "SyncNodeFailed" not in log, log[-6000:]
    assert "timed out" not in log, log[-6000:]
    # ... and with the instance it was created for.
    st, obj = cluster.api("GET", f"/api/v1/nodes/{names[0]}")
    assert st == 200 and obj["spec"]["providerID"].endswith(
        insts[0]["id"]), obj
