# The installed layout of facegate, shared by scripts/install.sh (copy install on other distributions) and
# scripts/build-deb.sh (the Debian package), so both put the same files in the same places.
# Sourced, not run. Functions only; each fails (non-zero) with a message on stderr.

# Parts of the build output the installed program needs (dist/test and the PAM build tools are not shipped).
FG_APP_PARTS=(package.json package-lock.json README.md dist models calibration trained native config systemd udev dbus docs node_modules)

# fg_check_prefix DIR: an install prefix we may create and later remove whole (uninstall runs rm -rf on it).
# Absolute, normalised, plain characters, at least two levels deep, and its last component is "facegate".
fg_check_prefix() {
  local p="$1"
  if [[ ! "$p" =~ ^(/[A-Za-z0-9._+-]+)+$ ]]; then
    echo "FACEGATE_PREFIX must be an absolute path of plain characters (A-Z a-z 0-9 . _ + -), without a trailing /: '$p'" >&2
    return 1
  fi
  if [[ "/$p/" == *"/./"* || "/$p/" == *"/../"* ]]; then
    echo "FACEGATE_PREFIX must not contain . or .. components: '$p'" >&2
    return 1
  fi
  if [ "$(basename "$p")" != facegate ] || [ "$(dirname "$p")" = / ]; then
    echo "FACEGATE_PREFIX must end in /facegate below a parent directory (e.g. /usr/lib/facegate, /opt/facegate): '$p'" >&2
    return 1
  fi
  if [ -L "$p" ] || { [ -e "$p" ] && [ ! -d "$p" ]; }; then
    echo "FACEGATE_PREFIX exists and is not a plain directory: '$p'" >&2
    return 1
  fi
  return 0
}

# fg_check_bin_dir DIR: where the facegate / facegated wrappers go.
fg_check_bin_dir() {
  local p="$1"
  if [[ ! "$p" =~ ^(/[A-Za-z0-9._+-]+)+$ ]] || [[ "/$p/" == *"/../"* || "/$p/" == *"/./"* ]]; then
    echo "FACEGATE_BIN_DIR must be an absolute, normalised path of plain characters: '$p'" >&2
    return 1
  fi
  return 0
}

# fg_check_node FILE: the Node binary that root's units and wrappers will run. It and every directory above it
# must be owned by root and writable by no one else, or whoever can replace it runs code as root (or as the
# daemon) at the next authentication. Prints the resolved path.
fg_check_node() {
  local node real dir
  node="$1"
  if [ -z "$node" ] || ! real="$(readlink -f -- "$node")" || [ ! -f "$real" ] || [ ! -x "$real" ]; then
    echo "Node.js binary not found or not executable: '$node'" >&2
    return 1
  fi
  dir="$real"
  while :; do
    # %u owner uid, %a octal mode; group/other write is refused except the sticky /tmp-style bit never applies
    # here because a Node binary under a sticky world-writable dir is refused as well.
    local owner mode
    owner="$(stat -c %u -- "$dir")"
    mode="$(stat -c %a -- "$dir")"
    if [ "$owner" != 0 ]; then
      echo "refusing Node.js at $real: $dir is owned by uid $owner, not root (anyone who can replace it would run code as root)" >&2
      return 1
    fi
    if (( (8#$mode & 8#022) != 0 )); then
      echo "refusing Node.js at $real: $dir is writable by group or others (mode $mode)" >&2
      return 1
    fi
    [ "$dir" = / ] && break
    dir="$(dirname -- "$dir")"
  done
  printf '%s\n' "$real"
}

# fg_stage_app SRC DEST: copies the build output of checkout SRC into DEST (to become /usr/lib/facegate), drops
# development dependencies and what this machine cannot run (ONNX Runtime's other platforms, build leftovers).
fg_stage_app() {
  local src="$1" dest="$2" p parts=()
  for p in "${FG_APP_PARTS[@]}"; do
    [ -e "$src/$p" ] && parts+=("$p")
  done
  mkdir -p "$dest"
  # -h: copy what symlinks point at (node_modules may be a link in a git worktree).
  tar -C "$src" -chf - --exclude=dist/test --exclude=dist/bench --exclude='*.log' --exclude='*.tsbuildinfo' \
    --exclude='native/*/build/Release/obj.target' --exclude='native/*/build/Release/.deps' "${parts[@]}" | tar -C "$dest" -xf -
  (cd "$dest" && npm prune --omit=dev --no-audit --no-fund --offline --loglevel=error >/dev/null)
  local ort="$dest/node_modules/onnxruntime-node/bin"
  if [ -d "$ort" ]; then
    local arch
    arch="$(node -p process.arch)"
    find "$ort" -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} +
    find "$ort" -mindepth 3 -maxdepth 3 -type d -path '*/linux/*' ! -name "$arch" -exec rm -rf {} +
  fi
  # better-sqlite3 keeps its compiled objects and the SQLite sources beside the addon.
  local bs="$dest/node_modules/better-sqlite3"
  if [ -d "$bs" ]; then
    rm -rf "$bs/deps" "$bs/src" "$bs/build/Release/obj" "$bs/build/Release/obj.target" "$bs/build/Release/.deps" \
      "$bs/build/Release/test_extension.node" "$bs/build/deps"
    find "$bs/build" -name '*.a' -delete
  fi
  # Nothing under node_modules is run as a program (its CLIs and build helpers are not ours to ship as such), and
  # native addons and libraries are loaded, never executed: no file there keeps an execute bit.
  rm -rf "$dest/node_modules/.bin"
  find "$dest" -type d -name obj.target -prune -exec rm -rf {} +
  find "$dest" \( -name '.git*' -o -name '.hg*' \) -prune -exec rm -rf {} +
  find "$dest" -name '.npmignore' -delete -o -name '.eslintrc*' -delete -o -name '*.md.orig' -delete
  find "$dest" -type f -exec chmod 0644 {} +
  find "$dest" -type d -exec chmod 0755 {} +
}

# fg_write_wrapper FILE NODE JS: a /usr/bin-style entry point running JS with NODE.
fg_write_wrapper() {
  printf '#!/bin/sh\nexec %s %s "$@"\n' "$2" "$3" > "$1"
  chmod 0755 "$1"
}

# fg_render_unit SRC NODE PREFIX: prints a systemd unit with the node binary and the prefix substituted.
fg_render_unit() {
  sed -e "s#/usr/bin/node #$2 #" -e "s#/usr/lib/facegate#$3#g" "$1"
}

# fg_multiarch: the multiarch triplet of this machine (x86_64-linux-gnu).
fg_multiarch() {
  dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch
}
