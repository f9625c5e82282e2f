#!/usr/bin/env bash
# Installs facegate on this machine and starts it. Run as root from a checkout; safe to run again (upgrades).
# - Debian and derivatives (dpkg and apt-get present): builds everything, makes the .deb (scripts/build-deb.sh)
#   and installs it with apt-get, so dpkg owns every file and `apt remove facegate` undoes it. The package's
#   pam-auth-update profile stays off until `pam-auth-update --enable facegate` (README.md says why).
# - Elsewhere, or with FACEGATE_INSTALL=copy: builds and copies the same layout (scripts/lib/layout.sh) to
#   FACEGATE_PREFIX (default /usr/lib/facegate), wrappers to FACEGATE_BIN_DIR (default /usr/local/bin), units to
#   /etc/systemd/system; it does not touch /etc/pam.d (README.md shows the line to add).
# Undo with scripts/uninstall.sh.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo $0)" >&2
  exit 1
fi
cd "$(dirname "$0")/.."
SRC="$(pwd)"
# shellcheck source=lib/layout.sh
. scripts/lib/layout.sh

# 0. Validate everything the environment can steer before anything is changed.
PREFIX="${FACEGATE_PREFIX:-/usr/lib/facegate}"
BIN_DIR="${FACEGATE_BIN_DIR:-/usr/local/bin}"
fg_check_prefix "$PREFIX" || { echo "install.sh: nothing was changed" >&2; exit 1; }
fg_check_bin_dir "$BIN_DIR" || { echo "install.sh: nothing was changed" >&2; exit 1; }
# The units and wrappers run this Node.js as root: it must be root's, in directories only root can write.
NODE="$(fg_check_node "$(command -v node || true)")" || { echo "install.sh: nothing was changed" >&2; exit 1; }
MODE="${FACEGATE_INSTALL:-auto}"
case "$MODE" in
  auto) if command -v dpkg >/dev/null && command -v apt-get >/dev/null && [ "$PREFIX" = /usr/lib/facegate ]; then MODE=deb; else MODE=copy; fi ;;
  deb|copy) ;;
  *) echo "install.sh: FACEGATE_INSTALL must be deb, copy or auto, got '$MODE'" >&2; exit 1 ;;
esac
if [ "$MODE" = deb ] && [ "$PREFIX" != /usr/lib/facegate ]; then
  echo "install.sh: the Debian package installs to /usr/lib/facegate; FACEGATE_PREFIX needs FACEGATE_INSTALL=copy" >&2
  exit 1
fi
if ! "$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>=22||(a===20&&b>=9)?0:1)'; then
  echo "install.sh: Node.js 20.9+ or 22+ is required (found: $NODE $("$NODE" --version 2>/dev/null || true)); Debian 12's own nodejs is 18" >&2
  exit 1
fi

# 1. Build dependencies (Debian names). libsystemd-dev: the PAM module's logind remote-session check.
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  APT_PACKAGES=(build-essential pkg-config python3 libpam0g-dev libsystemd-dev dpkg-dev)
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# 2. Build in this checkout (dependencies installed once).
export ONNXRUNTIME_NODE_INSTALL=skip
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run -s build
# Give what this root build made (node_modules, dist, models, native and PAM builds) back to the checkout's owner:
# left root-owned, the README's next step as that user (setup-dev.sh && npm test) fails with EACCES.
owner="$(stat -c %u:%g .)"
restore_owner() { [ "$owner" = 0:0 ] || chown -R --from=0:0 "$owner" "$SRC"; }
restore_owner

if [ "$MODE" = deb ]; then
  # 3a. The package. A copy install made by an earlier install.sh is replaced: its units in /etc/systemd/system
  #     would hide the package's, and its wrappers in /usr/local/bin come first on PATH.
  rm -f /etc/systemd/system/facegate.service /etc/systemd/system/facegate.socket /etc/udev/rules.d/70-facegate.rules
  for cmd in facegate facegated; do
    [ -f "$BIN_DIR/$cmd" ] && grep -q "$PREFIX/dist/src" "$BIN_DIR/$cmd" && rm -f "$BIN_DIR/$cmd"
  done
  OUT="$(mktemp -d)"
  trap 'rm -rf "$OUT"' EXIT
  DEB="$(FACEGATE_DEB_OUT="$OUT" FACEGATE_DEB_COMPRESS=none bash scripts/build-deb.sh | tail -n 1)"
  # --force-confold: a /etc/facegate/config.toml already here (an earlier install) is kept as it is.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold "$DEB"
  restore_owner
  BIN_DIR=/usr/bin
else
  # 3b. Copy the layout to a staging directory and swap it in, so a failed step leaves the running install alone.
  STAGE="${PREFIX}.new"
  rm -rf "$STAGE"
  fg_stage_app "$SRC" "$STAGE"
  install -d "$STAGE/pam/build" && install -m 0644 pam/build/pam_facegate.so "$STAGE/pam/build/"
  if [ -d "$PREFIX" ]; then rm -rf "${PREFIX}.old"; mv "$PREFIX" "${PREFIX}.old"; fi
  mv "$STAGE" "$PREFIX"
  rm -rf "${PREFIX}.old"
  chown -R root:root "$PREFIX"
  chmod -R go-w "$PREFIX"

  install -d "$BIN_DIR"
  fg_write_wrapper "$BIN_DIR/facegate" "$NODE" "$PREFIX/dist/src/cli/main.js"
  fg_write_wrapper "$BIN_DIR/facegated" "$NODE" "$PREFIX/dist/src/daemon/main.js"

  MULTIARCH="$(fg_multiarch)"
  PAM_DIR="/usr/lib/${MULTIARCH}/security"
  [ -e "$PAM_DIR/pam_unix.so" ] || [ ! -e "/lib/${MULTIARCH}/security/pam_unix.so" ] || PAM_DIR="/lib/${MULTIARCH}/security"
  install -D -m 0644 -o root -g root "$PREFIX/pam/build/pam_facegate.so" "$PAM_DIR/pam_facegate.so"

  install -d -m 0755 /etc/facegate
  if [ -e /etc/facegate/config.toml ]; then
    install -m 0644 "$PREFIX/config/config.toml" /etc/facegate/config.toml.dist
  else
    install -m 0644 "$PREFIX/config/config.toml" /etc/facegate/config.toml
  fi
  # The daemon's system user and its private state directory (as the Debian package's postinst does).
  if ! getent group facegate >/dev/null; then groupadd --system facegate; fi
  if ! getent passwd facegate >/dev/null; then
    useradd --system --gid facegate --home-dir /var/lib/facegate --no-create-home --shell /usr/sbin/nologin \
      --comment "facegate face authentication daemon" facegate
  fi
  getent group video >/dev/null && usermod -aG video facegate
  install -d -m 0700 -o facegate -g facegate /var/lib/facegate

  install -D -m 0644 "$PREFIX/udev/70-facegate.rules" /etc/udev/rules.d/70-facegate.rules
  if command -v udevadm >/dev/null && [ -d /run/udev ]; then
    udevadm control --reload || true
    udevadm trigger --subsystem-match=video4linux || true
  fi
  install -D -m 0644 "$PREFIX/dbus/org.facegate.Daemon.conf" /usr/share/dbus-1/system.d/org.facegate.Daemon.conf
  install -D -m 0644 "$PREFIX/dbus/org.facegate.Daemon.service" /usr/share/dbus-1/system-services/org.facegate.Daemon.service
  # The API contract, where fprintd and others keep theirs, for client code generators.
  install -D -m 0644 "$PREFIX/dbus/org.facegate.Daemon.xml" /usr/share/dbus-1/interfaces/org.facegate.Daemon.xml
  for unit in facegate.service facegate.socket; do
    fg_render_unit "$PREFIX/systemd/$unit" "$NODE" "$PREFIX" > "/etc/systemd/system/$unit"
    chmod 0644 "/etc/systemd/system/$unit"
  done
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable facegate.socket facegate.service
    systemctl restart facegate.socket
    systemctl restart facegate.service
  fi
fi

if [ ! -d /run/systemd/system ]; then
  echo "install.sh: systemd is not running here; start the daemon with: facegated --config /etc/facegate/config.toml" >&2
fi

# 4. Report.
"$BIN_DIR/facegate" doctor || true
cat <<EOT

facegate is installed. Next:
  1. Check the camera in /etc/facegate/config.toml (camera.device; an IR camera appears as /dev/facegate-ir).
  2. Enrol:  sudo facegate enroll $(logname 2>/dev/null || echo USER)
  3. Try it: sudo facegate test $(logname 2>/dev/null || echo USER)
  4. Turn it on: $([ "$MODE" = deb ] && echo "sudo pam-auth-update --enable facegate" || echo "add the PAM line (README.md, \"Use it for sudo and the login screen\")")
Undo everything with: sudo scripts/uninstall.sh
EOT
