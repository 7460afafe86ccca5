#!/usr/bin/env bash
# Builds kube-apiserver from Debian's `kubernetes` source package with
# Debian's Go, and caches the binary outside the checkout under a name that
# carries both versions. Prints the binary's path on stdout.
set -euo pipefail

CACHE=${CCM_CACHE_DIR:-/var/cache/alicloud-ccm}
GO=/usr/lib/go-1.19/bin/go
mkdir -p "$CACHE"

srcver=$(apt-cache showsrc kubernetes 2>/dev/null | awk '/^Version:/{print $2; exit}')
[ -n "$srcver" ] || { echo "build-apiserver: no source package 'kubernetes' (deb-src missing? run tests/harness/deps.sh)" >&2; exit 1; }
gover=$("$GO" env GOVERSION)
# The recipe tag names the source fixes below, so a binary built without
# them is never reused.
recipe=reflect2-1.0.2
bin="$CACHE/kube-apiserver-${srcver}-${gover}-${recipe}"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

exec 9>"$CACHE/build.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

work="$CACHE/src-$srcver"
if [ ! -d "$work/go/src/k8s.io/kubernetes" ]; then
    rm -rf "$work"; mkdir -p "$work/dl" "$work/go/src/k8s.io"
    (cd "$work/dl" && apt-get source -qq --download-only kubernetes >&2 &&
        dpkg-source --no-check -x ./*.dsc tree >&2)
    ln -s "$work/dl/tree" "$work/go/src/k8s.io/kubernetes"
fi

# The vendored modern-go/reflect2 v1.0.1 breaks under Go >= 1.18: the
# server panics decoding any JSON body. Debian ships 1.0.2, which has the
# fix; put it in place of the vendored copy (idempotent).
fixed=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -f "$fixed/go_above_118.go" ] || { echo "build-apiserver: $fixed missing (golang-github-modern-go-reflect2-dev; run tests/harness/deps.sh)" >&2; exit 1; }
rsync -a --delete --exclude go.mod "$fixed/" "$work/dl/tree/vendor/github.com/modern-go/reflect2/"

cd "$work/go/src/k8s.io/kubernetes"
export GOPATH="$work/go" GO111MODULE=off GOFLAGS=-mod=vendor
export PATH="/usr/lib/go-1.19/bin:$PATH" KUBE_BUILD_PLATFORMS=linux/amd64
export GOCACHE="$CACHE/gocache"
unset GOFLAGS
make WHAT=cmd/kube-apiserver >&2
out=$(find _output -type f -name kube-apiserver -perm -u+x | head -1)
[ -n "$out" ] || { echo "build-apiserver: build produced no kube-apiserver" >&2; exit 1; }
cp "$out" "$bin.tmp" && mv "$bin.tmp" "$bin"
echo "$bin"
