#!/usr/bin/env bash
# Installs everything the build and the test suite need on Debian 12: system packages (as root, or via sudo),
# then the pinned npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config python3
  libpam0g-dev libpam-wrapper libpamtest0-dev pamtester
  dbus valgrind clang clang-format
  libsystemd-dev libclang-rt-14-dev
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# onnxruntime-node's install script would try to download CUDA parts; its CPU binaries are in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
