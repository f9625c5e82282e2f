#!/usr/bin/env bash
# Removes what scripts/install.sh installed: the Debian package (apt-get remove, or purge with --purge), or a
# copy install. First takes pam_facegate out of every /etc/pam.d file that names it by hand, keeping a backup
# under /var/backups/facegate (never in /etc/pam.d, where PAM would read a backup as a service file), so no PAM
# stack references a missing module. Enrolled faces (/var/lib/facegate) and the config (/etc/facegate) are kept
# unless --purge is given. Safe to run again.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "uninstall.sh: run as root (sudo $0)" >&2
  exit 1
fi
cd "$(dirname "$0")/.."
# shellcheck source=lib/layout.sh
. scripts/lib/layout.sh
PREFIX="${FACEGATE_PREFIX:-/usr/lib/facegate}"
BIN_DIR="${FACEGATE_BIN_DIR:-/usr/local/bin}"
fg_check_prefix "$PREFIX" || { echo "uninstall.sh: nothing was changed" >&2; exit 1; }
fg_check_bin_dir "$BIN_DIR" || { echo "uninstall.sh: nothing was changed" >&2; exit 1; }
PURGE=0
case "${1:-}" in
  --purge) PURGE=1 ;;
  "") ;;
  *) echo "usage: uninstall.sh [--purge]" >&2; exit 2 ;;
esac

BACKUP_DIR=/var/backups/facegate
STAMP="$(date +%Y%m%d-%H%M%S)"
backup() { # backup FILE: a copy in BACKUP_DIR, named after the file and the time
  install -d -m 0700 "$BACKUP_DIR"
  cp -p -- "$1" "$BACKUP_DIR/$(basename -- "$1").$STAMP"
  echo "$BACKUP_DIR/$(basename -- "$1").$STAMP"
}

# Backups an older uninstall.sh left in /etc/pam.d are moved out of it.
for f in /etc/pam.d/*.facegate-bak; do
  [ -e "$f" ] || continue
  install -d -m 0700 "$BACKUP_DIR"
  mv -- "$f" "$BACKUP_DIR/$(basename -- "$f").$STAMP"
  echo "uninstall.sh: moved $f to $BACKUP_DIR"
done
# pam-auth-update's common-* files are its own: the package's prerm takes the profile out of them.
for f in /etc/pam.d/*; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  if grep -q 'pam_facegate\.so' "$f" && ! grep -q '^# here are the per-package modules' "$f"; then
    b="$(backup "$f")"
    sed -i '/pam_facegate\.so/d' "$f"
    echo "uninstall.sh: removed pam_facegate from $f (backup: $b)"
  fi
done

if dpkg-query -W -f='${Status}' facegate 2>/dev/null | grep -q 'install ok installed\|deinstall ok config-files'; then
  if [ "$PURGE" -eq 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq facegate
  else
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq facegate
  fi
else
  if [ -d /run/systemd/system ]; then
    systemctl disable --now facegate.service facegate.socket 2>/dev/null || true
  fi
  rm -f /etc/systemd/system/facegate.service /etc/systemd/system/facegate.socket
  [ -d /run/systemd/system ] && systemctl daemon-reload

  rm -f /usr/share/dbus-1/system.d/org.facegate.Daemon.conf /usr/share/dbus-1/system-services/org.facegate.Daemon.service /usr/share/dbus-1/interfaces/org.facegate.Daemon.xml
  [ -d /run/systemd/system ] && { systemctl reload dbus 2>/dev/null || true; }

  rm -f /etc/udev/rules.d/70-facegate.rules
  if command -v udevadm >/dev/null && [ -d /run/udev ]; then udevadm control --reload || true; fi

  MULTIARCH="$(fg_multiarch 2>/dev/null || echo x86_64-linux-gnu)"
  rm -f "/usr/lib/${MULTIARCH}/security/pam_facegate.so" "/lib/${MULTIARCH}/security/pam_facegate.so"
  for cmd in facegate facegated; do
    [ -f "$BIN_DIR/$cmd" ] && grep -q "$PREFIX/dist/src" "$BIN_DIR/$cmd" && rm -f "$BIN_DIR/$cmd"
  done
  rm -rf "$PREFIX" "${PREFIX}.new" "${PREFIX}.old" /run/facegate
  if [ "$PURGE" -eq 1 ]; then
    rm -rf /var/lib/facegate /etc/facegate
  fi
fi

if [ "$PURGE" -eq 1 ]; then
  echo "uninstall.sh: removed enrolled faces and config"
else
  echo "uninstall.sh: kept /var/lib/facegate (enrolled faces) and /etc/facegate; --purge removes them"
fi
echo "uninstall.sh: facegate removed"
