#!/usr/bin/env bash
# `make image`: an OCI image of this CCM from the built binary, with no base
# image (none can be pulled here): the release binary, the shared libraries
# it loads (as ldd resolves them on this Debian host), the CA bundle, and a
# passwd/group naming the non-root user 65532. Loaded into podman's local
# storage as $IMAGE and saved as an OCI archive in $OUT.
#
#   BINARY=path     binary to package (default bin/cloud-controller-manager)
#   VERSION=v       image tag (default: git describe, as the Makefile)
#   IMAGE=name      repository name (default alicloud-ccm)
#   CA_BUNDLE=path  CA bundle to ship (default Debian's ca-certificates one)
#   OUT=dir         where the archive goes (default build/image)
#
# Prints the image reference (IMAGE:VERSION) on stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=${BINARY:-$ROOT/bin/cloud-controller-manager}
VERSION=${VERSION:-$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 0.0.0)}
IMAGE=${IMAGE:-alicloud-ccm}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
OUT=${OUT:-$ROOT/build/image}
# The OCI source label: IMAGE_SOURCE, else the checkout's origin remote.
SOURCE=${IMAGE_SOURCE:-$(git -C "$ROOT" remote get-url origin 2>/dev/null || echo unknown)}
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/containers.conf}
UID_NONROOT=65532
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)

die() { echo "build-image: $*" >&2; exit 1; }
[ -x "$BINARY" ] || die "$BINARY not built (make all)"
[ -r "$CA_BUNDLE" ] || die "CA bundle $CA_BUNDLE unreadable (apt-get install ca-certificates)"
command -v podman >/dev/null || die "podman missing (make deps)"

WORK=$(mktemp -d /tmp/ccm-image.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RFS=$WORK/rootfs
mkdir -p "$RFS/usr/share/alicloud-ccm" "$RFS/etc" "$RFS/tmp" "$RFS/run" \
	"$RFS/proc" "$RFS/sys" "$RFS/dev"
chmod 1777 "$RFS/tmp"

# Debug info stays in the build tree; the image gets a stripped copy.
strip --strip-unneeded -o "$RFS/cloud-controller-manager" "$BINARY"
chmod 0755 "$RFS/cloud-controller-manager"

# Every library at the path the dynamic loader will look for it.
libs=$(ldd "$BINARY" | awk '/=> \// { print $3 } /^\t\// { print $1 }')
[ -n "$libs" ] || die "ldd found no libraries in $BINARY"
for l in $libs; do
	mkdir -p "$RFS$(dirname "$l")"
	cp -L "$l" "$RFS$l"
done
# Debian's glibc resolves hosts with its built-in files/dns modules; the
# configuration says so explicitly.
printf 'hosts: files dns\n' >"$RFS/etc/nsswitch.conf"

cp -L "$CA_BUNDLE" "$RFS/usr/share/alicloud-ccm/ca-certificates.crt"
chmod 0644 "$RFS/usr/share/alicloud-ccm/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:alicloud-ccm:/tmp:/sbin/nologin\n' \
	$UID_NONROOT $UID_NONROOT >"$RFS/etc/passwd"
printf 'root:x:0:\nnonroot:x:%d:\n' $UID_NONROOT >"$RFS/etc/group"

tar -C "$RFS" --owner=0 --group=0 --numeric-owner --sort=name \
	--mtime=@0 -cf "$WORK/rootfs.tar" .

REF=localhost/$IMAGE:$VERSION
"${PODMAN[@]}" import --quiet \
	--change 'ENTRYPOINT ["/cloud-controller-manager"]' \
	--change "USER $UID_NONROOT:$UID_NONROOT" \
	--change 'WORKDIR /' \
	--change "LABEL org.opencontainers.image.version=$VERSION" \
	--change "LABEL org.opencontainers.image.source=$SOURCE" \
	--change "LABEL org.opencontainers.image.revision=$REVISION" \
	--change 'LABEL org.opencontainers.image.title=alicloud-ccm' \
	"$WORK/rootfs.tar" "$REF" >/dev/null
mkdir -p "$OUT"
rm -f "$OUT/$IMAGE-$VERSION.tar"
"${PODMAN[@]}" save --quiet --format oci-archive -o "$OUT/$IMAGE-$VERSION.tar" "$REF"
echo "build-image: $REF ($(du -h "$OUT/$IMAGE-$VERSION.tar" | cut -f1) archive," \
	"$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$REF") bytes unpacked) -> $OUT/$IMAGE-$VERSION.tar" >&2
echo "$REF"
