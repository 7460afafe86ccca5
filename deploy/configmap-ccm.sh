#!/usr/bin/env bash
# Creates or updates the ConfigMap kube-system/cloud-config (key
# cloud-config.conf) that deploy/ccm.yaml and deploy/ccm-recommended.yaml
# mount, from the environment, like the seed's configmap-ccm.sh. The
# AccessKey is never printed and never written to a file other than
# CONFIGMAP_OUT.
#
#   ACCESS_KEY_ID, ACCESS_KEY_SECRET   required
#   REGION      default cn-hangzhou
#   VPC_ID, VSWITCH_ID, CLUSTER_ID     optional (needed outside ECS / for
#                                      clusters sharing a CLB)
#   CONFIGMAP_OUT=path  write the manifest there (mode 0600) instead of
#                       applying it with kubectl
#   KUBECTL     default kubectl
set -euo pipefail
set +x  # the manifest holds the secret: never trace it

die() { echo "configmap-ccm: $*" >&2; exit 2; }

[ -n "${ACCESS_KEY_ID:-}" ] || die "ACCESS_KEY_ID is not set; expected the AccessKey id"
[ -n "${ACCESS_KEY_SECRET:-}" ] || die "ACCESS_KEY_SECRET is not set; expected the AccessKey secret"
REGION=${REGION:-cn-hangzhou}

# Values go into JSON inside YAML unquoted by anything else: allow only
# the characters the ids are made of.
check_id() {
	local name=$1 value=$2
	[ -z "$value" ] && return 0
	[[ $value =~ ^[A-Za-z0-9._:,-]+$ ]] ||
		die "$name='$value' is not valid; expected letters, digits and . _ : , -"
}
check_id REGION "$REGION"
check_id VPC_ID "${VPC_ID:-}"
check_id VSWITCH_ID "${VSWITCH_ID:-}"
check_id CLUSTER_ID "${CLUSTER_ID:-}"

manifest() {
	local id secret
	id=$(printf '%s' "$ACCESS_KEY_ID" | base64 -w 0)
	secret=$(printf '%s' "$ACCESS_KEY_SECRET" | base64 -w 0)
	cat <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: cloud-config
  namespace: kube-system
data:
  cloud-config.conf: |-
    {
        "Global": {
            "accessKeyID": "$id",
            "accessKeySecret": "$secret",
YAML
	[ -n "${VPC_ID:-}" ] && printf '            "vpcid": "%s",\n' "$VPC_ID"
	[ -n "${VSWITCH_ID:-}" ] && printf '            "vswitchid": "%s",\n' "$VSWITCH_ID"
	[ -n "${CLUSTER_ID:-}" ] && printf '            "clusterID": "%s",\n' "$CLUSTER_ID"
	printf '            "region": "%s"\n        }\n    }\n' "$REGION"
}

if [ -n "${CONFIGMAP_OUT:-}" ]; then
	(umask 077 && manifest >"$CONFIGMAP_OUT")
	echo "configmap-ccm: wrote ConfigMap kube-system/cloud-config to $CONFIGMAP_OUT (mode 0600)" >&2
else
	# through a pipe, so no copy of the secret is left on disk
	manifest | "${KUBECTL:-kubectl}" apply -f - >/dev/null
	echo "configmap-ccm: applied ConfigMap kube-system/cloud-config (region $REGION)" >&2
fi
