#!/usr/bin/env bash
# Installs facegate on this machine and starts it: builds everything from this checkout, installs the daemon and
# CLI to /usr/lib/facegate, the PAM module to the multiarch security directory, the systemd units, the udev rules
# and a default /etc/facegate/config.toml (kept if present). Run as root; safe to run again (upgrades in place).
# It does not touch /etc/pam.d: README.md shows the line to add for sudo and for the login/lock screen.
# Undo with scripts/uninstall.sh.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo $0)" >&2
  exit 1
fi
cd "$(dirname "$0")/.."
SRC="$(pwd)"
PREFIX="${FACEGATE_PREFIX:-/usr/lib/facegate}"
BIN_DIR="${FACEGATE_BIN_DIR:-/usr/local/bin}"

# 1. Build dependencies (Debian 12). Node 20+ must already be installed: Debian 12's own nodejs is 18.
APT_PACKAGES=(build-essential pkg-config python3 libpam0g-dev libsystemd-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
NODE="$(command -v node || true)"
if [ -z "$NODE" ] || ! "$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "install.sh: Node.js 20 or newer is required (found: ${NODE:-none} $("${NODE:-true}" --version 2>/dev/null || true))" >&2
  exit 1
fi

# 2. Build in this checkout (dependencies installed once), then copy the result to a staging directory, drop the
#    development dependencies there, and swap it in, so a failed build leaves the running install untouched.
export ONNXRUNTIME_NODE_INSTALL=skip
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run -s build
# Give what this root build made (node_modules, dist, models, native and PAM builds) back to the checkout's owner:
# left root-owned, the README's next step as that user (setup-dev.sh && npm test) fails with EACCES.
owner="$(stat -c %u:%g .)"
[ "$owner" = 0:0 ] || chown -R --from=0:0 "$owner" .
STAGE="${PREFIX}.new"
rm -rf "$STAGE"
mkdir -p "$STAGE"
# -h: copy what symlinks point at (node_modules may be a link in a git worktree).
parts=()
for p in package.json package-lock.json README.md dist models calibration trained native pam config systemd udev dbus docs node_modules; do
  [ -e "$SRC/$p" ] && parts+=("$p")
done
tar -C "$SRC" -chf - --exclude=dist/test --exclude='*.log' "${parts[@]}" | tar -C "$STAGE" -xf -
(cd "$STAGE" && npm prune --omit=dev --no-audit --no-fund --loglevel=error)
if [ -d "$PREFIX" ]; then rm -rf "${PREFIX}.old"; mv "$PREFIX" "${PREFIX}.old"; fi
mv "$STAGE" "$PREFIX"
rm -rf "${PREFIX}.old"
chown -R root:root "$PREFIX"
chmod -R go-w "$PREFIX"

# 3. Command-line entry points.
install -d "$BIN_DIR"
for cmd in facegate facegated; do
  js=$([ "$cmd" = facegate ] && echo cli || echo daemon)
  printf '#!/bin/sh\nexec %s %s/dist/src/%s/main.js "$@"\n' "$NODE" "$PREFIX" "$js" > "$BIN_DIR/$cmd"
  chmod 0755 "$BIN_DIR/$cmd"
done

# 4. PAM module into the multiarch security directory (where pam_unix.so lives).
MULTIARCH="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
PAM_DIR="/usr/lib/${MULTIARCH}/security"
[ -e "$PAM_DIR/pam_unix.so" ] || [ ! -e "/lib/${MULTIARCH}/security/pam_unix.so" ] || PAM_DIR="/lib/${MULTIARCH}/security"
install -D -m 0644 -o root -g root "$PREFIX/pam/build/pam_facegate.so" "$PAM_DIR/pam_facegate.so"

# 5. Config (never overwritten), state directory.
install -d -m 0755 /etc/facegate
if [ -e /etc/facegate/config.toml ]; then
  install -m 0644 "$PREFIX/config/config.toml" /etc/facegate/config.toml.dist
else
  install -m 0644 "$PREFIX/config/config.toml" /etc/facegate/config.toml
fi
install -d -m 0700 -o root -g root /var/lib/facegate

# 6. udev rules: camera access and the /dev/facegate-ir name for IR cameras.
install -D -m 0644 "$PREFIX/udev/70-facegate.rules" /etc/udev/rules.d/70-facegate.rules
if command -v udevadm >/dev/null && [ -d /run/udev ]; then
  udevadm control --reload || true
  udevadm trigger --subsystem-match=video4linux || true
fi

# 6b. D-Bus policy (only root owns org.facegate.Daemon) and bus activation through systemd (docs/dbus.md).
install -D -m 0644 "$PREFIX/dbus/org.facegate.Daemon.conf" /usr/share/dbus-1/system.d/org.facegate.Daemon.conf
install -D -m 0644 "$PREFIX/dbus/org.facegate.Daemon.service" /usr/share/dbus-1/system-services/org.facegate.Daemon.service
# The API contract, where fprintd and others keep theirs, for client code generators.
install -D -m 0644 "$PREFIX/dbus/org.facegate.Daemon.xml" /usr/share/dbus-1/interfaces/org.facegate.Daemon.xml
if [ -d /run/systemd/system ]; then systemctl reload dbus 2>/dev/null || true; fi

# 7. systemd units (node's real path substituted), enabled and (re)started.
install -d /etc/systemd/system
for unit in facegate.service facegate.socket; do
  sed -e "s#/usr/bin/node #${NODE} #" -e "s#/usr/lib/facegate#${PREFIX}#g" "$PREFIX/systemd/$unit" > "/etc/systemd/system/$unit"
  chmod 0644 "/etc/systemd/system/$unit"
done
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable facegate.socket facegate.service
  systemctl restart facegate.socket
  systemctl restart facegate.service
else
  echo "install.sh: systemd is not running here; start the daemon with: facegated --config /etc/facegate/config.toml" >&2
fi

# 8. Report.
"$BIN_DIR/facegate" doctor || true
cat <<EOT

facegate is installed. Next:
  1. Check the camera in /etc/facegate/config.toml (camera.device; an IR camera appears as /dev/facegate-ir).
  2. Enrol:  sudo facegate enroll $(logname 2>/dev/null || echo USER)
  3. Try it: sudo facegate test $(logname 2>/dev/null || echo USER)
  4. Add the PAM line (README.md, "Use it for sudo and the login screen").
Undo everything with: sudo scripts/uninstall.sh
EOT
