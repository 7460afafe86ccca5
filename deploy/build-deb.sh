#!/usr/bin/env bash
# `make deb`: a Debian package for IDC gateway hosts, with dpkg-deb from a
# staging directory (deploy/install.sh with PREFIX=/usr) and the
# maintainer scripts in deploy/debian/. Depends are the packages that own
# the shared libraries the binary loads on this (the build) release.
#
#   BINARY=path  (default bin/cloud-controller-manager)
#   OUT=dir      (default build/deb)
#   DEB_VERSION  (default 0.<commits>~g<hash>[+dirty])
# Prints the .deb path on stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=${BINARY:-$ROOT/bin/cloud-controller-manager}
OUT=${OUT:-$ROOT/build/deb}
if [ -z "${DEB_VERSION:-}" ]; then
	n=$(git -C "$ROOT" rev-list --count HEAD 2>/dev/null || echo 0)
	h=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 0)
	DEB_VERSION=0.$n~g$h
	git -C "$ROOT" diff --quiet HEAD 2>/dev/null || DEB_VERSION=$DEB_VERSION+dirty
fi
ARCH=$(dpkg --print-architecture)

die() { echo "build-deb: $*" >&2; exit 1; }
[ -x "$BINARY" ] || die "$BINARY not built (make all)"

WORK=$(mktemp -d /tmp/ccm-deb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ST=$WORK/stage
BINARY=$BINARY DESTDIR=$ST PREFIX=/usr bash "$ROOT/deploy/install.sh" 2>/dev/null

# Runtime dependencies: the packages owning the libraries the binary names
# (DT_NEEDED); theirs follow from those packages' own Depends.
needed=$(objdump -p "$BINARY" | awk '/NEEDED/ { print $2 }')
deps=$(ldd "$BINARY" | awk '/=> \// { print $1, $3 }' | while read -r so path; do
	grep -qx "$so" <<<"$needed" || continue
	dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true
done | cut -d: -f1 | sort -u | paste -sd, - | sed 's/,/, /g')
[ -n "$deps" ] || die "could not map the binary's libraries to packages"

install -d -m 0755 "$ST/DEBIAN"
cat >"$ST/DEBIAN/control" <<CTL
Package: alicloud-ccm
Version: $DEB_VERSION
Architecture: $ARCH
Maintainer: alicloud-ccm developers <root@localhost>
Depends: $deps, adduser, ca-certificates
Section: admin
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$ST" | cut -f1)
Description: Kubernetes cloud controller manager for Alibaba Cloud
 Creates CLBs for Services of type LoadBalancer, writes pod CIDR routes
 into the VPC route tables and initializes Nodes, for self-built clusters
 on ECS or in an IDC connected to a VPC. This package runs it as the
 systemd service alicloud-ccm on a gateway host outside the cluster.
CTL
echo /etc/default/alicloud-ccm >"$ST/DEBIAN/conffiles"
install -m 0755 "$ROOT/deploy/debian/postinst" "$ROOT/deploy/debian/prerm" \
	"$ROOT/deploy/debian/postrm" "$ST/DEBIAN/"

mkdir -p "$OUT"
deb=$OUT/alicloud-ccm_${DEB_VERSION}_$ARCH.deb
dpkg-deb --root-owner-group -Zxz --build "$ST" "$deb" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1)); Depends: $deps" >&2
echo "$deb"
