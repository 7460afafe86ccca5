#!/usr/bin/env bash
# `make install` (and the staging step of `make deb`): installs the binary,
# the systemd unit, the man page, the flags file and the examples under
# $DESTDIR$PREFIX. Existing configuration is never overwritten. With an
# empty DESTDIR, run as root, it also creates the system user and the
# configuration directory (the Debian package does that in its postinst).
#
#   BINARY=path  (default bin/cloud-controller-manager)
#   PREFIX=/usr/local  DESTDIR=  SYSCONFDIR=/etc
#   UNITDIR=$PREFIX/lib/systemd/system, /lib/systemd/system for PREFIX=/usr
#   (systemd searches /usr/local/lib/systemd/system too)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=${BINARY:-$ROOT/bin/cloud-controller-manager}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
if [ -z "${UNITDIR:-}" ]; then
	if [ "$PREFIX" = /usr ]; then UNITDIR=/lib/systemd/system
	else UNITDIR=$PREFIX/lib/systemd/system; fi
fi
D=$ROOT/deploy

die() { echo "install: $*" >&2; exit 1; }
[ -x "$BINARY" ] || die "$BINARY not built (make all)"
case $PREFIX in /*) ;; *) die "PREFIX must be absolute, got '$PREFIX'" ;; esac

install -d "$DESTDIR$PREFIX/bin" "$DESTDIR$UNITDIR" \
	"$DESTDIR$PREFIX/share/man/man8" \
	"$DESTDIR$PREFIX/share/doc/alicloud-ccm/examples" \
	"$DESTDIR$SYSCONFDIR/default"
install -m 0755 "$BINARY" "$DESTDIR$PREFIX/bin/cloud-controller-manager"
strip --strip-unneeded "$DESTDIR$PREFIX/bin/cloud-controller-manager"
sed "s|/usr/local/bin/cloud-controller-manager|$PREFIX/bin/cloud-controller-manager|" \
	"$D/alicloud-ccm.service" >"$DESTDIR$UNITDIR/alicloud-ccm.service"
chmod 0644 "$DESTDIR$UNITDIR/alicloud-ccm.service"
gzip -9n <"$D/cloud-controller-manager.8" \
	>"$DESTDIR$PREFIX/share/man/man8/cloud-controller-manager.8.gz"
install -m 0644 "$D/cloud-config.example.json" \
	"$DESTDIR$PREFIX/share/doc/alicloud-ccm/examples/cloud-config.json"
install -m 0644 "$D/alicloud-ccm.default" \
	"$DESTDIR$PREFIX/share/doc/alicloud-ccm/examples/alicloud-ccm.default"
install -m 0644 "$ROOT/README.md" "$DESTDIR$PREFIX/share/doc/alicloud-ccm/README.md"
[ -e "$DESTDIR$SYSCONFDIR/default/alicloud-ccm" ] ||
	install -m 0644 "$D/alicloud-ccm.default" "$DESTDIR$SYSCONFDIR/default/alicloud-ccm"

if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ]; then
	bash "$D/debian/postinst" configure
fi
echo "install: $PREFIX/bin/cloud-controller-manager, $UNITDIR/alicloud-ccm.service;" \
	"next: edit $SYSCONFDIR/alicloud-ccm/cloud-config.json and kubeconfig," \
	"then systemctl enable --now alicloud-ccm" >&2
