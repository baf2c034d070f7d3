# ./dev bundle: the installable packages. Sourced by ./dev (and by tests/packaging/run.sh).
#
#   the app:      Doorstep_<version>_<arch>.deb and Doorstep-<version>-1.<arch>.rpm, made by the
#                 Tauri bundler from src-tauri/tauri.conf.json ("bundle")
#   the registry: doorstep-registry_<version>_<arch>.deb, made here with dpkg-deb from
#                 packaging/registry/ (binary, systemd unit, sysusers.d file, conffile)
#
# Both land in $CARGO_TARGET_DIR/<profile>/bundle/. The version is the workspace's (Cargo.toml,
# [workspace.package]); nothing else carries one (src-tauri/tests/versions.rs checks that).

run_bundle() {
  local profile=release appimage=0
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --debug) profile=debug ;;
      --appimage) appimage=1 ;;
      *) die "unknown option '$1' for ./dev bundle (--debug, --appimage)" ;;
    esac
    shift
  done
  setup_rust_deps
  setup_system_packages
  setup_npm
  build_ui
  bundle_app "$profile" deb,rpm
  [ "$appimage" -eq 0 ] || bundle_appimage "$profile"
  build_registry "$profile"
  bundle_registry_deb "$profile"
  [ -z "${DOORSTEP_UPDATE_SIGNING_KEY:-}" ] || write_update_manifest

  say "packages ($profile)"
  local f
  for f in "${APP_PACKAGES[@]}" "$REGISTRY_DEB" ${APPIMAGE:+"$APPIMAGE"}; do
    printf '  %-8s %s\n' "$(du -h "$f" | cut -f1)" "$f"
  done
  printf '  %-8s %s (the app binary inside the packages)\n' "$(du -h "$CARGO_TARGET_DIR/$profile/doorstep" | cut -f1)" \
    "$CARGO_TARGET_DIR/$profile/doorstep"
}

# Sign the app's packages for the updater and write the manifest devices read (README,
# "Releasing an update"): DOORSTEP_UPDATE_SIGNING_KEY is the private key file (its password in
# TAURI_SIGNING_PRIVATE_KEY_PASSWORD), DOORSTEP_UPDATE_BASE_URL where the packages will be
# published, DOORSTEP_RELEASE_NOTES (optional) what the update prompt shows.
write_update_manifest() {
  [ -n "${DOORSTEP_UPDATE_BASE_URL:-}" ] || die "DOORSTEP_UPDATE_SIGNING_KEY is set but DOORSTEP_UPDATE_BASE_URL is not: where will the packages be published?"
  local version dir f kind sigs=()
  version="$(workspace_version)"
  for f in "${APP_PACKAGES[@]}"; do
    sign_package "$f" "$version" "$DOORSTEP_UPDATE_SIGNING_KEY"
    kind="${f##*.}"
    sigs+=("linux-x86_64-$kind" "${DOORSTEP_UPDATE_BASE_URL%/}/$(basename "$f")" "$(cat "$f.sig")")
  done
  dir="$(dirname "$(dirname "${APP_PACKAGES[0]}")")"
  node -e '
    const [version, notes, ...rest] = process.argv.slice(1);
    const platforms = {};
    for (let i = 0; i < rest.length; i += 3) platforms[rest[i]] = { url: rest[i + 1], signature: rest[i + 2] };
    console.log(JSON.stringify({ version, notes, pub_date: new Date().toISOString(), platforms }, null, 2));
  ' "$version" "${DOORSTEP_RELEASE_NOTES:-}" "${sigs[@]}" >"$dir/update-manifest.json"
  say "update manifest: $dir/update-manifest.json (publish it at the devices' updates.url, after the packages)"
}

# Sign $1 for the updater, bound to version $2, with the minisign private key in file $3:
# writes $1.sig. The password comes from TAURI_SIGNING_PRIVATE_KEY_PASSWORD (none: no password).
sign_package() {
  local file="$1" version="$2" key="$3" password=()
  [ -n "${TAURI_SIGNING_PRIVATE_KEY_PASSWORD:-}" ] || password=(-p "")
  "$TAURI_CLI" signer sign -f "$key" "${password[@]}" --app-version "$version" "$file" >/dev/null ||
    die "could not sign $file with $key"
  [ -s "$file.sig" ] || die "signing $file made no $file.sig"
}

# The workspace's version: the one place it is written.
workspace_version() {
  sed -n '/^\[workspace\.package\]/,/^\[/ s/^version = "\([^"]*\)"/\1/p' "$root/Cargo.toml"
}

# The app's packages through the repository's Tauri CLI. $1: release|debug, $2: Tauri's
# --bundles list. A debug bundle is the same bundler with the same configuration and files, only
# around the unoptimised binary `./dev test` already built (see tests/packaging/run.sh).
# Sets APP_PACKAGES.
bundle_app() {
  local profile="$1" bundles="$2"
  local debug=()
  [ "$profile" = debug ] && debug=(--debug)
  # Built as build_app_debug and ./dev bench build it (same features, same configuration), so an
  # existing build is reused; then bundled with what tauri.conf.json cannot hold (below). Passing
  # that to `tauri build` would change the configuration the binary is compiled with, and
  # recompile it.
  say "building the app ($profile, UI embedded)"
  (cd "$root" && "$TAURI_CLI" build "${debug[@]}" --no-bundle --ci)
  # What a Debian package must carry besides: its maintainer, and a changelog of this version
  # (Tauri's own `changelog` would land in /usr/share/doc/Doorstep, not the package's name).
  local extra config
  extra="$(mktemp -d)"
  write_changelog doorstep "$extra/changelog.gz"
  config="$(printf '{"bundle":{"publisher":"%s","linux":{"deb":{"files":{"/usr/share/doc/doorstep/changelog.gz":"%s"}}}}}' \
    "$PACKAGE_MAINTAINER" "$extra/changelog.gz")"
  say "bundling the app ($profile: $bundles)"
  (cd "$root" && "$TAURI_CLI" bundle "${debug[@]}" --bundles "$bundles" --config "$config" --ci) ||
    { rm -rf "$extra"; return 1; }
  rm -rf "$extra"
  local version dir kind found
  version="$(workspace_version)"
  dir="$CARGO_TARGET_DIR/$profile/bundle"
  APP_PACKAGES=()
  for kind in ${bundles//,/ }; do
    found="$(ls -t "$dir/$kind/"*"$version"*."$kind" 2>/dev/null | head -n1)"
    [ -n "$found" ] || die "the Tauri bundler made no .$kind in $dir/$kind"
    APP_PACKAGES+=("$found")
  done
}

# The AppImage: Tauri's bundler downloads linuxdeploy (and its GTK plugin) from GitHub the first
# time, so it works only where github.com is reachable. Sets APPIMAGE.
bundle_appimage() {
  local profile="$1" log="$ARTIFACTS_LOG/bundle-appimage.log"
  local flags=(--bundles appimage --ci)
  [ "$profile" = debug ] && flags=(--debug "${flags[@]}")
  say "bundling the AppImage ($profile; downloads linuxdeploy from github.com)"
  if ! (cd "$root" && "$TAURI_CLI" bundle "${flags[@]}") >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    if grep -qiE 'linuxdeploy|download|github|network|dns|connect' "$log"; then
      die "the AppImage could not be made: Tauri's bundler downloads linuxdeploy from github.com and that failed (no network access to GitHub here?). The .deb and .rpm are made without it: run ./dev bundle without --appimage. Full log: $log"
    fi
    die "the AppImage bundler failed (full log: $log)"
  fi
  APPIMAGE="$(ls -t "$CARGO_TARGET_DIR/$profile/bundle/appimage/"*.AppImage | head -n1)"
}

# The registry's .deb, with dpkg-deb from packaging/registry/: no cargo-deb, nothing installed
# beyond dpkg-dev (part of build-essential). $1: release|debug (the binary build_registry made).
# Sets REGISTRY_DEB.
bundle_registry_deb() {
  local profile="$1"
  local bin="$CARGO_TARGET_DIR/$profile/doorstep-registry"
  local src="$root/packaging/registry"
  local version arch out stage
  version="$(workspace_version)"
  arch="$(dpkg --print-architecture)"
  out="$CARGO_TARGET_DIR/$profile/bundle/deb"
  REGISTRY_DEB="$out/doorstep-registry_${version}_${arch}.deb"
  say "packaging doorstep-registry $version ($profile) with dpkg-deb"
  stage="$(mktemp -d)"
  (
    set -euo pipefail
    trap 'rm -rf "$stage"' EXIT
    umask 022
    chmod 0755 "$stage"
    # As dh_strip does; the release profile strips symbols already, a debug build is stripped
    # here so that the package is the size it will be.
    install -D -m 0755 "$bin" "$stage/usr/bin/doorstep-registry"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/doorstep-registry"
    install -D -m 0644 "$src/doorstep-registry.service" "$stage/lib/systemd/system/doorstep-registry.service"
    install -D -m 0644 "$src/doorstep-registry.sysusers" "$stage/usr/lib/sysusers.d/doorstep-registry.conf"
    install -D -m 0644 "$src/registry.toml" "$stage/etc/doorstep-registry/registry.toml"
    install -D -m 0644 "$src/debian/copyright" "$stage/usr/share/doc/doorstep-registry/copyright"
    write_changelog doorstep-registry "$stage/usr/share/doc/doorstep-registry/changelog.gz"
    local date
    date="$(build_date)"

    # The shared libraries the binary links, as Debian package names with minimum versions.
    local shlibs depends
    shlibs="$(mktemp -d)"
    mkdir "$shlibs/debian" && touch "$shlibs/debian/control"
    depends="$(cd "$shlibs" && dpkg-shlibdeps -O "$stage/usr/bin/doorstep-registry" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
    rm -rf "$shlibs"
    [ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies for doorstep-registry"

    # Every file dated by the commit too, so that the same commit makes the same package.
    find "$stage" -exec touch -h -d "$date" {} +
    install -d -m 0755 "$stage/DEBIAN"
    sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$PACKAGE_MAINTAINER|" \
      -e "s|@DEPENDS@|$depends|" -e "s|@INSTALLED_SIZE@|$(du -sk --exclude=DEBIAN "$stage" | cut -f1)|" \
      "$src/debian/control.in" >"$stage/DEBIAN/control"
    install -m 0644 "$src/debian/conffiles" "$stage/DEBIAN/conffiles"
    install -m 0755 "$src/debian/postinst" "$src/debian/prerm" "$src/debian/postrm" "$stage/DEBIAN/"
    (cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
      sort -z | xargs -0 md5sum >DEBIAN/md5sums)
    chmod 0644 "$stage/DEBIAN/md5sums"
    mkdir -p "$out"
    dpkg-deb --root-owner-group -Zxz --build "$stage" "$REGISTRY_DEB" >/dev/null
  )
}

# The date of the commit being packaged (so the same commit makes the same package), else now.
build_date() {
  git -C "$root" log -1 --format=%cD 2>/dev/null || date -R
}

# A native Debian package's changelog.gz for package $1 at the workspace's version, into $2.
write_changelog() {
  local package="$1" dest="$2" commit
  commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  install -d "$(dirname "$dest")"
  printf '%s (%s) unstable; urgency=medium\n\n  * Built from the Doorstep repository at commit %s.\n\n -- %s  %s\n' \
    "$package" "$(workspace_version)" "$commit" "$PACKAGE_MAINTAINER" "$(build_date)" |
    gzip -9n >"$dest"
}

# Who the packages name as their maintainer (Debian requires one; Tauri's bundler takes it as the
# publisher). Set it when building packages to publish.
PACKAGE_MAINTAINER="${DOORSTEP_PACKAGE_MAINTAINER:-Doorstep maintainers <maintainers@doorstep.invalid>}"
