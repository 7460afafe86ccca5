#!/usr/bin/env bash
# `make run`: the seed's deployment, locally, and what it shows.
#
# Starts etcd + kube-apiserver (tests/harness/cluster.sh) and the simulator
# (tests/sim/alisim.py, default state) in a temporary directory, applies the
# RBAC of deploy/ccm.yaml, registers one Node per simulated ECS instance as
# a kubelet with --cloud-provider=external would (uninitialized taint, no
# providerID; RUN_LOCAL_NODES=0 to skip), runs bin/cloud-controller-manager
# with the seed DaemonSet's flags plus --kubeconfig, applies the Service of
# the seed's ccm-test.yaml (deploy/ccm-test.yaml) with Endpoints standing in
# for its pods (no kubelet runs here), waits until the CCM has done its work
# and prints it: the Service with its EXTERNAL-IP, the CLB with listener
# and backends and the VPC routes as the simulator holds them, the
# initialized Nodes, /healthz and some metrics. Then it keeps running until
# Ctrl-C and stops everything it started.
#
#   RUN_ONCE=1          exit after printing (for scripts; status 1 if the
#                       CCM did not finish within RUN_LOCAL_TIMEOUT)
#   RUN_LOCAL_TIMEOUT=s how long to wait for the CCM's work (default 120)
#   CCM_BIN=path        binary to run (default bin/cloud-controller-manager)
#   CCM_HEALTH_ADDR, CCM_METRICS_ADDR  default 127.0.0.1:10258, 127.0.0.1:8080
#   RUN_LOCAL_DIR=dir   work directory (default: a new /tmp/ccm-local.*;
#                       kept after exit when given, removed otherwise)
#   extra arguments are appended to the CCM's command line (e.g. --v=4)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CCM_BIN=${CCM_BIN:-$ROOT/bin/cloud-controller-manager}
CLUSTER_CIDR=172.16.0.0/16
PY=/usr/bin/python3
HEALTH_ADDR=${CCM_HEALTH_ADDR:-127.0.0.1:10258}
METRICS_ADDR=${CCM_METRICS_ADDR:-127.0.0.1:8080}

[ -x "$CCM_BIN" ] || { echo "run-local: $CCM_BIN not built (make all)" >&2; exit 1; }

if [ -n "${RUN_LOCAL_DIR:-}" ]; then
	DIR=$RUN_LOCAL_DIR KEEP=1
	mkdir -p "$DIR"
else
	DIR=$(mktemp -d /tmp/ccm-local.XXXXXX) KEEP=0
fi
DIR=$(cd "$DIR" && pwd)
SIM_PID="" CCM_PID=""

stop_group() {
	local pid=$1 _
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	# TERM to the main process only, as a container runtime would; the
	# group (workers included) is SIGKILLed if it is not gone in 10 s
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	# a second Ctrl-C must not cut the cleanup short
	trap '' INT TERM
	trap - EXIT
	echo "run-local: stopping" >&2
	stop_group "$CCM_PID"
	stop_group "$SIM_PID"
	bash "$ROOT/tests/harness/cluster.sh" down "$DIR/cluster" || true
	if [ "$KEEP" = 0 ]; then rm -rf "$DIR"; else echo "run-local: kept $DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_sim() {
	cp "$ROOT/tests/sim/default-state.json" "$DIR/sim-state.json"
	rm -f "$DIR/sim.port"
	setsid "$PY" "$ROOT/tests/sim/alisim.py" --state "$DIR/sim-state.json" \
		--port 0 --port-file "$DIR/sim.port" </dev/null >"$DIR/sim.log" 2>&1 &
	SIM_PID=$!
	local _
	for _ in $(seq 1 100); do
		[ -s "$DIR/sim.port" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || { cat "$DIR/sim.log" >&2; exit 1; }
		sleep 0.1
	done
	[ -s "$DIR/sim.port" ] || { echo "run-local: simulator did not start" >&2; exit 1; }
	SIM_PORT=$(tr -d '[:space:]' <"$DIR/sim.port")
}

# cloud-config in the seed's format (base64 AccessKey) for the simulated
# account, and the RBAC objects and Nodes, all via the admin token.
setup_objects() {
	"$PY" - "$DIR" "$ROOT" "$CLUSTER_CIDR" "${RUN_LOCAL_NODES:-1}" <<'EOF'
import base64, json, sys
sys.path.insert(0, sys.argv[2] + "/tests/integ")
import harness
d, cidr, nodes = sys.argv[1], sys.argv[3], sys.argv[4] == "1"
st = json.load(open(d + "/sim-state.json"))
acct = st["accounts"][0]
b64 = lambda s: base64.b64encode(s.encode()).decode()
with open(d + "/cloud-config.conf", "w") as f:
    json.dump({"Global": {"accessKeyID": b64(acct["access_key_id"]),
                          "accessKeySecret": b64(acct["access_key_secret"]),
                          "region": st["region"], "vpcid": st["vpc_id"],
                          "vswitchid": st["vswitch_id"]}}, f, indent=2)

c = harness.Cluster(d + "/cluster")
c._load_env()
sys.path.insert(0, sys.argv[2] + "/tests/harness")
import seed_demo
seed_demo.apply_rbac(c)
if nodes:
    # as a kubelet with --cloud-provider=external registers itself; the
    # pod CIDR is what kube-controller-manager would allocate
    base = cidr.split("/")[0].split(".")
    for i, inst in enumerate(st.get("instances", [])):
        status, out = c.api("POST", "/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": inst["hostname"],
                         "labels": {"kubernetes.io/hostname": inst["hostname"]}},
            "spec": {"podCIDR": f"{base[0]}.{base[1]}.{i}.0/24",
                     "taints": [{"key": "node.cloudprovider.kubernetes.io/uninitialized",
                                 "value": "true", "effect": "NoSchedule"}]},
            "status": {"addresses": [{"type": "InternalIP",
                                      "address": inst["private_ip"]},
                                     {"type": "Hostname",
                                      "address": inst["hostname"]}]}})
        if status not in (201, 409):
            sys.exit(f"run-local: POST node: {status} {out}")
EOF
}

echo "run-local: work directory $DIR" >&2
bash "$ROOT/tests/harness/cluster.sh" up "$DIR/cluster"
start_sim
setup_objects

export SLB_ENDPOINT=127.0.0.1:$SIM_PORT VPC_ENDPOINT=127.0.0.1:$SIM_PORT
export ECS_ENDPOINT=127.0.0.1:$SIM_PORT METADATA_ENDPOINT=http://127.0.0.1:$SIM_PORT
export ALICLOUD_CLIENT_SCHEME=HTTP
echo "run-local: simulator http://127.0.0.1:$SIM_PORT (log $DIR/sim.log);" \
	"cluster env: . $DIR/cluster/env" >&2

setsid "$CCM_BIN" \
	--leader-elect=true \
	--cloud-provider=alicloud \
	--use-service-account-credentials=true \
	--cloud-config="$DIR/cloud-config.conf" \
	--configure-cloud-routes=true \
	--route-reconciliation-period=3m \
	--leader-elect-resource-lock=endpoints \
	--cluster-cidr="$CLUSTER_CIDR" \
	--kubeconfig="$DIR/cluster/kubeconfig" \
	--health-probe-bind-addr="$HEALTH_ADDR" \
	--metrics-bind-addr="$METRICS_ADDR" \
	"$@" </dev/null 2>"$DIR/ccm.log" &
CCM_PID=$!
echo "run-local: cloud-controller-manager pid $CCM_PID (log $DIR/ccm.log)" >&2

set +e
"$PY" - "$DIR" "$ROOT" "$SIM_PORT" "$HEALTH_ADDR" "$METRICS_ADDR" \
	"${RUN_LOCAL_TIMEOUT:-120}" "${RUN_LOCAL_NODES:-1}" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2] + "/tests/integ")
sys.path.insert(0, sys.argv[2] + "/tests/harness")
import harness
import seed_demo
d, sim_url = sys.argv[1], f"http://127.0.0.1:{sys.argv[3]}"
health, metrics, timeout = sys.argv[4], sys.argv[5], float(sys.argv[6])
c = harness.Cluster(d + "/cluster")
c._load_env()
print("run-local: applying the seed's ccm-test.yaml Service default/nginx",
      file=sys.stderr)
seed_demo.apply_test_service(c, "default", ["172.16.0.10", "172.16.1.10"])
missing = seed_demo.wait_done(c, sim_url, "default", "nginx", timeout,
                              nodes=sys.argv[7] == "1")
print()
print(seed_demo.report(c, sim_url, "default",
                       health_url=f"http://{health}/healthz",
                       metrics_url=f"http://{metrics}/metrics"))
print()
if missing:
    print(f"run-local: after {timeout:.0f}s still missing: {missing}"
          f" (CCM log {d}/ccm.log)")
sys.exit(1 if missing else 0)
EOF
rc=$?
set -e
if [ "${RUN_ONCE:-0}" = 1 ]; then
	exit "$rc"
fi
echo "run-local: running; cluster env: . $DIR/cluster/env; CCM log $DIR/ccm.log;" \
	"Ctrl-C stops everything" >&2
set +e
wait "$CCM_PID"
rc=$?
CCM_PID=
echo "run-local: cloud-controller-manager exited with status $rc" >&2
exit "$rc"
