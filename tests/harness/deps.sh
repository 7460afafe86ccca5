#!/usr/bin/env bash
# Installs, on a fresh Debian 12 machine, everything the build and the tests
# need. Idempotent: apt-get update runs once, and only when something is
# missing, so a warm machine pays nothing.
set -euo pipefail

PKGS=(build-essential pkg-config clang llvm libclang-rt-14-dev
      libcurl4-openssl-dev libyajl-dev libssl-dev libevent-dev
      libnanomsg-dev libcmocka-dev
      etcd-server etcd-client golang-1.19-go golang-github-modern-go-reflect2-dev
      dpkg-dev rsync podman runc uidmap mmdebstrap python3-yaml
      python3 python3-pytest curl ca-certificates openssl iproute2 procps socat)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done

# apt-get source kubernetes needs a deb-src entry for the release.
need_src=0
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
   ! grep -qs '^deb-src' /etc/apt/sources.list; then
    need_src=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_src -eq 0 ]; then
    exit 0
fi

if [ $need_src -eq 1 ]; then
    $SUDO tee /etc/apt/sources.list.d/alicloud-ccm-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
