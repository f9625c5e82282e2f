#!/usr/bin/env bash
# Removes what scripts/install.sh installed. First takes pam_facegate out of every /etc/pam.d file (a backup is
# kept as FILE.facegate-bak), so no PAM stack references a missing module. Enrolled faces (/var/lib/facegate)
# and the config (/etc/facegate) are kept unless --purge is given. Safe to run again.
set -euo pipefail
PREFIX="${FACEGATE_PREFIX:-/usr/lib/facegate}"
BIN_DIR="${FACEGATE_BIN_DIR:-/usr/local/bin}"
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1

if [ "$(id -u)" -ne 0 ]; then
  echo "uninstall.sh: run as root (sudo $0)" >&2
  exit 1
fi

for f in /etc/pam.d/*; do
  [ -f "$f" ] || continue
  if grep -q 'pam_facegate\.so' "$f"; then
    cp -p "$f" "$f.facegate-bak"
    sed -i '/pam_facegate\.so/d' "$f"
    echo "uninstall.sh: removed pam_facegate from $f (backup: $f.facegate-bak)"
  fi
done

if [ -d /run/systemd/system ]; then
  systemctl disable --now facegate.service facegate.socket 2>/dev/null || true
fi
rm -f /etc/systemd/system/facegate.service /etc/systemd/system/facegate.socket
[ -d /run/systemd/system ] && systemctl daemon-reload

rm -f /usr/share/dbus-1/system.d/org.facegate.Daemon.conf /usr/share/dbus-1/system-services/org.facegate.Daemon.service /usr/share/dbus-1/interfaces/org.facegate.Daemon.xml
[ -d /run/systemd/system ] && { systemctl reload dbus 2>/dev/null || true; }

rm -f /etc/udev/rules.d/70-facegate.rules
if command -v udevadm >/dev/null && [ -d /run/udev ]; then udevadm control --reload || true; fi

MULTIARCH="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
rm -f "/usr/lib/${MULTIARCH}/security/pam_facegate.so" "/lib/${MULTIARCH}/security/pam_facegate.so"
rm -f "$BIN_DIR/facegate" "$BIN_DIR/facegated"
rm -rf "$PREFIX" "${PREFIX}.new" "${PREFIX}.old" /run/facegate

if [ "$PURGE" -eq 1 ]; then
  rm -rf /var/lib/facegate /etc/facegate
  echo "uninstall.sh: removed enrolled faces and config"
else
  echo "uninstall.sh: kept /var/lib/facegate (enrolled faces) and /etc/facegate; --purge removes them"
fi
echo "uninstall.sh: facegate removed"
