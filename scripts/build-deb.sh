#!/usr/bin/env bash
# npm run package:deb: builds facegate_<version>_<arch>.deb from this checkout's build output (npm run build
# first) with dpkg-deb. Nothing is fetched, now or at install time: the package carries the compiled program,
# the converted models, the native addons and the Node.js runtime they were built against (docs/packaging.md).
#   FACEGATE_DEB_OUT=DIR       where the .deb goes (default: this checkout)
#   FACEGATE_DEB_COMPRESS=xz|gzip|none   dpkg-deb compression (default xz; tests use none, it is 20x faster)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$(pwd)"
# shellcheck source=lib/layout.sh
. scripts/lib/layout.sh

OUT="${FACEGATE_DEB_OUT:-$SRC}"
COMPRESS="${FACEGATE_DEB_COMPRESS:-xz}"
case "$COMPRESS" in xz|gzip|none) ;; *) echo "build-deb: FACEGATE_DEB_COMPRESS must be xz, gzip or none" >&2; exit 2 ;; esac

die() { echo "build-deb: $*" >&2; exit 1; }
for f in dist/src/cli/main.js dist/src/daemon/main.js models/manifest.json pam/build/pam_facegate.so \
  native/peercred/build/Release/peercred.node native/v4l2/build/Release/v4l2.node man/pam_facegate.8; do
  [ -e "$f" ] || die "$f is missing: run \"npm run build\" first"
done
for t in dpkg-deb dpkg-architecture dpkg-shlibdeps; do
  command -v "$t" >/dev/null || die "$t not found (apt-get install dpkg-dev)"
done

NODE="$(readlink -f "$(command -v node)")"
VERSION="$(node -p 'require("./package.json").version')-1"
ARCH="$(dpkg --print-architecture)"
NODE_ARCH="$(node -p process.arch)"
MULTIARCH="$(fg_multiarch)"
PREFIX=/usr/lib/facegate
RUNTIME="$PREFIX/node/bin/node"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/root"

# 1. The program: build output, production node_modules, and the Node.js runtime the addons were built for.
fg_stage_app "$SRC" "$ROOT$PREFIX"
rm -rf "$ROOT$PREFIX/systemd" "$ROOT$PREFIX/udev" "$ROOT$PREFIX/config" # installed below
# The bus policy and activation file are installed below; the interface XML stays in the prefix too, because
# facegated reads its D-Bus contract from there at start (src/dbus/contract.ts).
rm -f "$ROOT$PREFIX"/dbus/*.conf "$ROOT$PREFIX"/dbus/*.service
find "$ROOT$PREFIX" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \) -exec strip --strip-unneeded {} +
install -D -m 0755 "$NODE" "$ROOT$RUNTIME"
strip --strip-unneeded "$ROOT$RUNTIME" 2>/dev/null || true
node_license="$(dirname "$NODE")/../share/doc/nodejs/LICENSE"
[ -f "$node_license" ] || node_license="/usr/share/doc/nodejs/LICENSE"
[ -f "$node_license" ] && install -m 0644 "$node_license" "$ROOT$PREFIX/node/LICENSE"
# The staged tree must run on the staged runtime: every native addon loads (a wrong ABI fails here, not on a user's
# machine at the first sudo).
(cd "$ROOT$PREFIX" && "$ROOT$RUNTIME" -e '
  const { createRequire } = require("node:module");
  const r = createRequire(process.cwd() + "/");
  for (const m of ["better-sqlite3", "onnxruntime-node", "sharp"]) r(m);
  for (const a of ["peercred", "v4l2"]) r("./native/" + a + "/build/Release/" + a + ".node");
  new (r("better-sqlite3"))(":memory:").close();
') || die "the staged tree does not load on $NODE"
"$ROOT$RUNTIME" "$ROOT$PREFIX/dist/src/cli/main.js" --version >/dev/null || die "the staged CLI does not start"

install -d "$ROOT/usr/bin"
fg_write_wrapper "$ROOT/usr/bin/facegate" "$RUNTIME" "$PREFIX/dist/src/cli/main.js"
fg_write_wrapper "$ROOT/usr/bin/facegated" "$RUNTIME" "$PREFIX/dist/src/daemon/main.js"

# 2. PAM module and its pam-auth-update profile.
install -D -m 0644 pam/build/pam_facegate.so "$ROOT/usr/lib/$MULTIARCH/security/pam_facegate.so"
strip --strip-unneeded "$ROOT/usr/lib/$MULTIARCH/security/pam_facegate.so"
install -D -m 0644 packaging/debian/pam-config "$ROOT/usr/share/pam-configs/facegate"

# 3. systemd units, udev rules, D-Bus policy and activation file, the config as a conffile.
for unit in facegate.service facegate.socket; do
  install -d "$ROOT/usr/lib/systemd/system"
  fg_render_unit "systemd/$unit" "$RUNTIME" "$PREFIX" > "$ROOT/usr/lib/systemd/system/$unit"
  chmod 0644 "$ROOT/usr/lib/systemd/system/$unit"
done
install -D -m 0644 udev/70-facegate.rules "$ROOT/usr/lib/udev/rules.d/70-facegate.rules"
install -D -m 0644 dbus/org.facegate.Daemon.conf "$ROOT/usr/share/dbus-1/system.d/org.facegate.Daemon.conf"
install -D -m 0644 dbus/org.facegate.Daemon.service "$ROOT/usr/share/dbus-1/system-services/org.facegate.Daemon.service"
install -D -m 0644 dbus/org.facegate.Daemon.xml "$ROOT/usr/share/dbus-1/interfaces/org.facegate.Daemon.xml"
install -D -m 0644 config/config.toml "$ROOT/etc/facegate/config.toml"

# 4. Man pages and documentation.
for page in man/*.[1-8]; do
  sec="${page##*.}"
  install -d "$ROOT/usr/share/man/man$sec"
  gzip -9n < "$page" > "$ROOT/usr/share/man/man$sec/$(basename "$page").gz"
done
DOC="$ROOT/usr/share/doc/facegate"
install -d "$DOC"
install -m 0644 packaging/debian/copyright "$DOC/copyright"
DATE="$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$DATE/" packaging/debian/changelog | gzip -9n > "$DOC/changelog.Debian.gz"
install -D -m 0644 packaging/debian/lintian-overrides "$ROOT/usr/share/lintian/overrides/facegate"

# 5. Control area: dependencies from the ELF files' libraries (dpkg-shlibdeps), conffiles, maintainer scripts.
mkdir -p "$WORK/shlibs/debian" "$ROOT/DEBIAN"
printf 'Source: facegate\n\nPackage: facegate\nArchitecture: any\n' > "$WORK/shlibs/debian/control"
mapfile -t elfs < <(find "$ROOT" -type f \( -name '*.so' -o -name '*.so.*' -o -name '*.node' -o -path "*$RUNTIME" \) -print)
shlibs="$(cd "$WORK/shlibs" && dpkg-shlibdeps -O -l"$ROOT$PREFIX/node_modules/@img/sharp-libvips-linux-$NODE_ARCH/lib" \
  -l"$ROOT$PREFIX/node_modules/onnxruntime-node/bin/napi-v6/linux/$NODE_ARCH" "${elfs[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no library dependencies"
DEPENDS="$shlibs, adduser, libpam-runtime (>= 1.0.1-6)"
SIZE="$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" -e "s/@DEPENDS@/$DEPENDS/" \
  packaging/debian/control.in > "$ROOT/DEBIAN/control"
echo /etc/facegate/config.toml > "$ROOT/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "packaging/debian/$s" "$ROOT/DEBIAN/$s"; done
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"

DEB="$OUT/facegate_${VERSION}_${ARCH}.deb"
mkdir -p "$OUT"
# --root-owner-group: every file in the archive is root:root whoever builds it.
dpkg-deb --root-owner-group -Z"$COMPRESS" --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
