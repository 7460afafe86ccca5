#!/usr/bin/env bash
# A throwaway Kubernetes control plane (etcd + kube-apiserver 1.20) on
# 127.0.0.1, for the integration tests and for running the CCM by hand.
#
#   cluster.sh up DIR                 start; writes DIR/env and DIR/kubeconfig
#   cluster.sh down DIR               stop both processes (idempotent)
#   cluster.sh restart-apiserver DIR  stop and start kube-apiserver only
#                                     (same port, same etcd: data survives)
#   cluster.sh stop-apiserver DIR     stop kube-apiserver only (port refuses)
#   cluster.sh start-apiserver DIR    start it again on the same port
#   cluster.sh status DIR             exit 0 if both processes are alive
#
# DIR/env is shell-sourceable: KUBE_URL KUBE_CA KUBE_TOKEN KUBECONFIG
# KUBE_VERSION ETCD_ENDPOINT ETCD_PID APISERVER_PID AUDIT_LOG, plus tokens of
# unprivileged users (TOKEN_ALICE, TOKEN_BOB; no RBAC bindings) and the
# service-account key pair (SA_KEY, SA_PUB). Logs: DIR/etcd.log,
# DIR/apiserver.log, audit log DIR/audit.log.
#
# Set KUBE_APISERVER to a binary to skip tests/harness/build-apiserver.sh;
# set CLUSTER_OWNER_PID to have the cluster stopped when that process exits.
# No kube-controller-manager runs: ServiceAccount admission is disabled so
# pods and service accounts can be created without a token controller, and
# the TokenRequest API issues service-account tokens.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
READY_TIMEOUT=${CLUSTER_READY_TIMEOUT:-180}

die() { echo "cluster.sh: $*" >&2; exit 1; }

usage() {
	echo "usage: cluster.sh up|down|restart-apiserver|stop-apiserver|start-apiserver|status DIR" >&2
	exit 2
}

# Prints N distinct free TCP ports on 127.0.0.1 (held open together so they
# cannot collide with each other).
free_ports() {
	/usr/bin/python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# True if PID is alive and its command line mentions this cluster's DIR, so a
# recycled PID is never signalled.
owned_alive() {
	local pid=$1 dir=$2
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir"
}

stop_pid() {
	local pid=$1 dir=$2
	owned_alive "$pid" "$dir" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		owned_alive "$pid" "$dir" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		owned_alive "$pid" "$dir" || return 0
		sleep 0.1
	done
	die "pid $pid did not exit"
}

make_pki() {
	local p=$1
	mkdir -p "$p"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
		-subj "/CN=alicloud-ccm-test-ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=kube-apiserver" \
		-keyout "$p/apiserver.key" -out "$p/apiserver.csr" 2>/dev/null
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc" \
		"extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" \
		"basicConstraints=CA:FALSE" >"$p/apiserver.ext"
	openssl x509 -req -sha256 -days 3650 -in "$p/apiserver.csr" \
		-CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
		-extfile "$p/apiserver.ext" -out "$p/apiserver.crt" 2>/dev/null
	openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
	openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
	chmod 600 "$p"/*.key
}

write_auth_files() {
	local dir=$1
	local admin alice bob
	admin=$(openssl rand -hex 24)
	alice=$(openssl rand -hex 24)
	bob=$(openssl rand -hex 24)
	# token,user,uid,"groups"
	{
		echo "$admin,admin,uid-admin,\"system:masters\""
		echo "$alice,alice,uid-alice"
		echo "$bob,bob,uid-bob,\"testers\""
	} >"$dir/tokens.csv"
	chmod 600 "$dir/tokens.csv"
	printf 'Authorization: Bearer %s\n' "$admin" >"$dir/admin.header"
	chmod 600 "$dir/admin.header"
	cat >"$dir/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # Lease writes with their bodies: the chaos checker derives who held the
  # lock when from holderIdentity (a release writes "" under the old UA).
  - level: Request
    verbs: ["create", "update", "patch"]
    resources:
      - group: coordination.k8s.io
        resources: ["leases"]
  - level: Metadata
EOF
	echo "$admin $alice $bob"
}

write_kubeconfig() {
	local dir=$1 url=$2 token=$3
	cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: $url
      certificate-authority: $dir/pki/ca.crt
users:
  - name: admin
    user:
      token: $token
contexts:
  - name: local
    context:
      cluster: local
      user: admin
current-context: local
EOF
	chmod 600 "$dir/kubeconfig"
}

start_etcd() {
	local dir=$1 cport=$2 pport=$3
	mkdir -p "$dir/etcd"
	setsid /usr/bin/etcd --name default --data-dir "$dir/etcd" \
		--listen-client-urls "http://127.0.0.1:$cport" \
		--advertise-client-urls "http://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "default=http://127.0.0.1:$pport" \
		--initial-cluster-state new \
		</dev/null >>"$dir/etcd.log" 2>&1 &
	echo $!
}

wait_etcd() {
	local dir=$1 ep=$2 pid=$3
	for _ in $(seq 1 $((READY_TIMEOUT * 5))); do
		owned_alive "$pid" "$dir" || die "etcd exited; see $dir/etcd.log"
		if ETCDCTL_API=3 /usr/bin/etcdctl --endpoints="$ep" \
			--command-timeout=2s endpoint health >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	die "etcd not healthy after ${READY_TIMEOUT}s; see $dir/etcd.log"
}

# The apiserver's argv is saved so restart-apiserver reuses it verbatim.
write_apiserver_args() {
	local dir=$1 port=$2 etcd=$3 p="$1/pki"
	printf '%s\n' \
		--advertise-address=127.0.0.1 \
		--bind-address=127.0.0.1 \
		--secure-port="$port" \
		--etcd-servers="$etcd" \
		--tls-cert-file="$p/apiserver.crt" \
		--tls-private-key-file="$p/apiserver.key" \
		--client-ca-file="$p/ca.crt" \
		--token-auth-file="$dir/tokens.csv" \
		--authorization-mode=RBAC \
		--service-account-key-file="$p/sa.pub" \
		--service-account-signing-key-file="$p/sa.key" \
		--service-account-issuer=https://kubernetes.default.svc \
		--api-audiences=https://kubernetes.default.svc \
		--service-cluster-ip-range=10.96.0.0/16 \
		--endpoint-reconciler-type=none \
		--watch-cache=false \
		--audit-log-path="$dir/audit.log" \
		--audit-policy-file="$dir/audit-policy.yaml" \
		--audit-log-mode=blocking \
		--enable-admission-plugins=NamespaceLifecycle \
		--disable-admission-plugins=ServiceAccount \
		--cert-dir="$dir/pki/generated" \
		>"$dir/apiserver.args"
}

start_apiserver() {
	local dir=$1 bin=$2
	local -a args
	mapfile -t args <"$dir/apiserver.args"
	setsid "$bin" "${args[@]}" </dev/null >>"$dir/apiserver.log" 2>&1 &
	echo $!
}

api_get() {
	local dir=$1 url=$2 path=$3
	curl -sS --max-time 5 --cacert "$dir/pki/ca.crt" -H @"$dir/admin.header" \
		"$url$path"
}

wait_apiserver() {
	local dir=$1 url=$2 pid=$3
	for _ in $(seq 1 $((READY_TIMEOUT * 5))); do
		owned_alive "$pid" "$dir" || die "kube-apiserver exited; see $dir/apiserver.log"
		if [ "$(api_get "$dir" "$url" /readyz 2>/dev/null)" = ok ]; then
			return 0
		fi
		sleep 0.2
	done
	die "kube-apiserver not ready after ${READY_TIMEOUT}s; see $dir/apiserver.log"
}

# 1.20 creates default and kube-system itself; this is a cheap safety net.
ensure_namespace() {
	local dir=$1 url=$2 ns=$3 code
	for _ in $(seq 1 50); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
			--cacert "$dir/pki/ca.crt" -H @"$dir/admin.header" \
			"$url/api/v1/namespaces/$ns")
		[ "$code" = 200 ] && return 0
		curl -s -o /dev/null --max-time 5 --cacert "$dir/pki/ca.crt" \
			-H @"$dir/admin.header" -H 'Content-Type: application/json' \
			-X POST --data "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" \
			"$url/api/v1/namespaces" || true
		sleep 0.2
	done
	die "namespace $ns could not be created"
}

env_get() {
	local dir=$1 key=$2
	[ -f "$dir/env" ] || return 0
	sed -n "s/^$key=//p" "$dir/env" | tail -1 | tr -d "'"
}

env_set() {
	local dir=$1 key=$2 val=$3
	sed -i "/^$key=/d" "$dir/env"
	printf "%s='%s'\n" "$key" "$val" >>"$dir/env"
}

cmd_up() {
	local dir=$1 bin tokens admin alice bob cport pport sport
	local etcd_pid api_pid url version
	if owned_alive "$(env_get "$dir" ETCD_PID)" "$dir" &&
		owned_alive "$(env_get "$dir" APISERVER_PID)" "$dir"; then
		echo "cluster.sh: already running in $dir" >&2
		return 0
	fi
	cmd_down "$dir"
	bin=${KUBE_APISERVER:-$(bash "$HERE/build-apiserver.sh")}
	[ -x "$bin" ] || die "no kube-apiserver binary ($bin)"
	rm -rf "$dir/etcd" "$dir/pki" "$dir/env"
	mkdir -p "$dir"
	make_pki "$dir/pki"
	tokens=$(write_auth_files "$dir")
	read -r admin alice bob <<<"$tokens"
	read -r cport pport sport <<<"$(free_ports 3)"
	url="https://127.0.0.1:$sport"
	: >"$dir/env"
	chmod 600 "$dir/env"
	env_set "$dir" CLUSTER_DIR "$dir"
	env_set "$dir" KUBE_APISERVER "$bin"

	etcd_pid=$(start_etcd "$dir" "$cport" "$pport")
	env_set "$dir" ETCD_PID "$etcd_pid"
	env_set "$dir" ETCD_ENDPOINT "http://127.0.0.1:$cport"
	wait_etcd "$dir" "http://127.0.0.1:$cport" "$etcd_pid"

	write_apiserver_args "$dir" "$sport" "http://127.0.0.1:$cport"
	api_pid=$(start_apiserver "$dir" "$bin")
	env_set "$dir" APISERVER_PID "$api_pid"
	wait_apiserver "$dir" "$url" "$api_pid"
	ensure_namespace "$dir" "$url" default
	ensure_namespace "$dir" "$url" kube-system
	version=$(api_get "$dir" "$url" /version |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])')

	write_kubeconfig "$dir" "$url" "$admin"
	env_set "$dir" KUBE_URL "$url"
	env_set "$dir" KUBE_CA "$dir/pki/ca.crt"
	env_set "$dir" KUBE_TOKEN "$admin"
	env_set "$dir" KUBECONFIG "$dir/kubeconfig"
	env_set "$dir" KUBE_VERSION "$version"
	env_set "$dir" AUDIT_LOG "$dir/audit.log"
	env_set "$dir" TOKEN_ALICE "$alice"
	env_set "$dir" TOKEN_BOB "$bob"
	env_set "$dir" SA_KEY "$dir/pki/sa.key"
	env_set "$dir" SA_PUB "$dir/pki/sa.pub"
	if [ -n "${CLUSTER_OWNER_PID:-}" ]; then
		env_set "$dir" WATCHDOG_PID "$(start_watchdog "$dir" "$CLUSTER_OWNER_PID")"
	fi
	echo "cluster.sh: kube-apiserver $version at $url (etcd http://127.0.0.1:$cport); env in $dir/env" >&2
}

cmd_down() {
	local dir=$1 wd
	[ -f "$dir/env" ] || return 0
	stop_pid "$(env_get "$dir" APISERVER_PID)" "$dir"
	stop_pid "$(env_get "$dir" ETCD_PID)" "$dir"
	wd=$(env_get "$dir" WATCHDOG_PID)
	# the watchdog runs `down` itself (exec), so never signal ourselves
	if [ -n "$wd" ] && [ "$wd" != "$$" ]; then stop_pid "$wd" "$dir"; fi
}

# With CLUSTER_OWNER_PID set, a watchdog takes the cluster down once that
# process is gone, so a test run killed with SIGKILL leaves nothing behind.
start_watchdog() {
	local dir=$1 owner=$2
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
		exec bash "$2" down "$3"' cluster-watchdog "$owner" \
		"$HERE/cluster.sh" "$dir" </dev/null >/dev/null 2>&1 &
	echo $!
}

cmd_stop_apiserver() {
	local dir=$1
	[ -f "$dir/env" ] || die "no cluster in $dir"
	stop_pid "$(env_get "$dir" APISERVER_PID)" "$dir"
}

cmd_start_apiserver() {
	local dir=$1 bin url pid
	[ -f "$dir/env" ] || die "no cluster in $dir"
	owned_alive "$(env_get "$dir" ETCD_PID)" "$dir" || die "etcd is not running"
	if owned_alive "$(env_get "$dir" APISERVER_PID)" "$dir"; then return 0; fi
	bin=$(env_get "$dir" KUBE_APISERVER)
	url=$(env_get "$dir" KUBE_URL)
	pid=$(start_apiserver "$dir" "$bin")
	env_set "$dir" APISERVER_PID "$pid"
	wait_apiserver "$dir" "$url" "$pid"
}

cmd_restart_apiserver() {
	cmd_stop_apiserver "$1"
	cmd_start_apiserver "$1"
}

cmd_status() {
	local dir=$1
	owned_alive "$(env_get "$dir" ETCD_PID)" "$dir" &&
		owned_alive "$(env_get "$dir" APISERVER_PID)" "$dir"
}

[ $# -eq 2 ] || usage
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
case $1 in
up) cmd_up "$DIR" ;;
down) cmd_down "$DIR" ;;
restart-apiserver) cmd_restart_apiserver "$DIR" ;;
stop-apiserver) cmd_stop_apiserver "$DIR" ;;
start-apiserver) cmd_start_apiserver "$DIR" ;;
status) cmd_status "$DIR" ;;
*) usage ;;
esac
