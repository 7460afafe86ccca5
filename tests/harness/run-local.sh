#!/usr/bin/env bash
# `make run`: the CCM against a local control plane and the cloud simulator.
#
# Starts etcd + kube-apiserver (tests/harness/cluster.sh) and the simulator
# (tests/sim/alisim.py, default state) in a temporary directory, applies the
# seed's RBAC (ServiceAccounts, ClusterRole, bindings), registers one Node
# per simulated ECS instance (RUN_LOCAL_NODES=0 to skip), then runs
# bin/cloud-controller-manager in the foreground with the seed DaemonSet's
# flags plus --kubeconfig. Ctrl-C stops everything.
#
#   CCM_BIN=path        binary to run (default bin/cloud-controller-manager)
#   RUN_LOCAL_DIR=dir   work directory (default: a new /tmp/ccm-local.*;
#                       kept after exit when given, removed otherwise)
#   extra arguments are appended to the CCM's command line (e.g. --v=4)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CCM_BIN=${CCM_BIN:-$ROOT/bin/cloud-controller-manager}
CLUSTER_CIDR=172.16.0.0/16
PY=/usr/bin/python3

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
	trap - INT TERM EXIT
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
def post(path, obj):
    status, out = c.api("POST", path, obj)
    if status not in (201, 409):
        sys.exit(f"run-local: POST {path}: {status} {out}")
rbac = "/apis/rbac.authorization.k8s.io/v1"
post(rbac + "/clusterroles", {
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
    "metadata": {"name": "system:cloud-controller-manager"},
    "rules": [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "verbs": ["get", "list", "update", "create"]},
        {"apiGroups": [""], "resources": ["persistentvolumes", "services",
         "secrets", "endpoints", "serviceaccounts"],
         "verbs": ["get", "list", "watch", "create", "update", "patch"]},
        {"apiGroups": [""], "resources": ["nodes"],
         "verbs": ["get", "list", "watch", "delete", "patch", "update"]},
        {"apiGroups": [""], "resources": ["services/status"],
         "verbs": ["update", "patch"]},
        {"apiGroups": [""], "resources": ["nodes/status"],
         "verbs": ["patch", "update"]},
        {"apiGroups": [""], "resources": ["events", "endpoints"],
         "verbs": ["create", "patch", "update"]}]})
post("/api/v1/namespaces/kube-system/serviceaccounts", {
    "apiVersion": "v1", "kind": "ServiceAccount",
    "metadata": {"name": "cloud-controller-manager"}})
bindings = {"system:cloud-controller-manager": "cloud-controller-manager",
            "system:shared-informers": "shared-informers",
            "system:cloud-node-controller": "cloud-node-controller",
            "system:pvl-controller": "pvl-controller",
            "system:route-controller": "route-controller"}
for name, sa in bindings.items():
    post(rbac + "/clusterrolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "system:cloud-controller-manager"},
        "subjects": [{"kind": "ServiceAccount", "name": sa,
                      "namespace": "kube-system"}]})
if nodes:
    base = cidr.split("/")[0].split(".")
    for i, inst in enumerate(st.get("instances", [])):
        post("/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": inst["hostname"],
                         "labels": {"kubernetes.io/hostname": inst["hostname"]}},
            "spec": {"providerID": f"{st['region']}.{inst['id']}",
                     "podCIDR": f"{base[0]}.{base[1]}.{i}.0/24"},
            "status": {"addresses": [{"type": "InternalIP",
                                      "address": inst["private_ip"]}]}})
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
	"$@" </dev/null &
CCM_PID=$!
set +e
wait "$CCM_PID"
rc=$?
CCM_PID=
echo "run-local: cloud-controller-manager exited with status $rc" >&2
exit "$rc"
