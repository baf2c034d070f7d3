# The signed update, end to end: version N (the installed .deb) finds version N+1 on an update
# server on loopback, checks its signature, installs it and starts it. Sourced by run.sh after
# the packages are installed; the node test (update.test.mjs) drives the app.
#
# Which build, and why it still proves the release path: both versions are **debug** builds.
# - A release build refuses plain-http update addresses (tauri-plugin-updater, release builds
#   only; no https server with a trusted certificate can be stood up on loopback here without
#   weakening what the app trusts), and the test serves http on 127.0.0.1.
# - A release build never trusts the test key (src-tauri/build.rs refuses to compile one that
#   does), and the test must sign N+1 with a private key it holds: the repository's test key.
# Everything else is the release path: the same plugin code checks the same minisign signature
# bound to the announced version (requireSignedVersion), the package is the Tauri bundler's .deb
# with the marker that makes the updater install it with dpkg, and the app installed from it.

# Build version $1 (N+1) of the app from the working tree with only the workspace version
# changed, bundle its .deb and sign it with the test key. The copy builds into the same target
# dir: crates of another version are other artefacts, so N's stay as they are, the dependencies
# are shared, and only Doorstep's own crates compile. Sets NEXT_DEB.
build_next_version() {
  local next="$1" copy
  copy="$(mktemp -d /tmp/doorstep-next-XXXXXX)"
  say "building version $next of the app (a copy of the sources with only the version raised)"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$copy"
  cp -a "$root/ui/dist" "$copy/ui/dist"
  sed -i "/^\[workspace\.package\]/,/^\[/ s/^version = \"[^\"]*\"/version = \"$next\"/" "$copy/Cargo.toml"
  add_schema_step "$copy"
  (
    root="$copy"
    [ "$(workspace_version)" = "$next" ] || die "could not set the version $next in $copy/Cargo.toml"
    bundle_app debug deb
    printf '%s\n' "${APP_PACKAGES[0]}" >"$copy/.next-deb"
  )
  NEXT_DEB="$(cat "$copy/.next-deb")"
  rm -rf "$copy"
  # The app binary in the target dir is now N+1's: put N's back for whatever runs next.
  (cd "$root" && "$TAURI_CLI" build --debug --no-bundle --ci >/dev/null)
}

# One more step in the device's data schema, in the copy $1, so that N+1 has to migrate the data
# N wrote (the test then finds "the data's schema was brought up to date" in N+1's log). A new
# table nobody uses: the point is the migration on a real update, not what it does.
add_schema_step() {
  local copy="$1" count next_step file
  count="$(ls "$copy"/migrations/client/*.sql | wc -l)"
  next_step=$((count + 1))
  file="$(printf '%04d_update_test.sql' "$next_step")"
  printf -- '-- Only in the update test'"'"'s version N+1 (tests/packaging/update.sh).\nCREATE TABLE update_test_step (id INTEGER PRIMARY KEY);\n' \
    >"$copy/migrations/client/$file"
  perl -0pi -e "s|\n\];|\n    ($next_step, include_str!(\"../../../../migrations/client/$file\")),\n];|" \
    "$copy/crates/client/src/vault/migrations.rs"
  grep -q "$file" "$copy/crates/client/src/vault/migrations.rs" || die "could not add a schema step to the N+1 copy"
  UPDATE_SCHEMA_FROM="$count"
  UPDATE_SCHEMA_TO="$next_step"
}

# Sign file $1 for version $2 with the minisign key $3 (no password, as ./dev bundle signs);
# prints the signature, as an update manifest carries it.
sign_update() {
  TAURI_SIGNING_PRIVATE_KEY_PASSWORD="" sign_package "$1" "$2" "$3"
  cat "$1.sig"
  rm -f "$1.sig"
}

run_update_test() {
  local current next dir
  current="$(workspace_version)"
  next="$(printf '%s' "$current" | awk -F. '{printf "%d.%d.%d", $1, $2, $3 + 1}')"
  dir="$out/update"
  rm -rf "$dir" && mkdir -p "$dir"
  build_next_version "$next"
  cp "$NEXT_DEB" "$dir/"
  local key="$root/packaging/updater/test-only.key"
  "$TAURI_CLI" signer generate --ci -p "" -w "$dir/other.key" >/dev/null
  # N+1 signed with the key N trusts; the same package signed with another key; N's own package
  # signed (with the right key) as an older version 0.0.9, for the downgrade.
  sign_update "$dir/$(basename "$NEXT_DEB")" "$next" "$key" >"$dir/next.sig"
  sign_update "$dir/$(basename "$NEXT_DEB")" "$next" "$dir/other.key" >"$dir/other-key.sig"
  cp "$APP_DEB" "$dir/older.deb"
  sign_update "$dir/older.deb" 0.0.9 "$key" >"$dir/older.sig"
  rm -f "$dir/other.key" "$dir/other.key.pub"
  say "update test: installed $current, offering $next from a server on loopback"
  local status=0
  (cd "$root/tests/packaging" &&
    DOORSTEP_APP_BIN="$(command -v doorstep)" DOORSTEP_REGISTRY_BIN="$REGISTRY_BIN" TAURI_DRIVER="$TAURI_DRIVER" \
      DOORSTEP_ARTIFACTS="$dir" UPDATE_DIR="$dir" UPDATE_DEB="$(basename "$NEXT_DEB")" \
      CURRENT_VERSION="$current" NEXT_VERSION="$next" \
      SCHEMA_FROM="$UPDATE_SCHEMA_FROM" SCHEMA_TO="$UPDATE_SCHEMA_TO" \
      xvfb-run -a -s "-screen 0 1280x1024x24" \
      node --test --test-reporter=spec ./update.test.mjs) || status=$?
  # The packages are 100 MB each (debug): not worth keeping with the screenshots.
  rm -f "$dir"/*.deb
  [ "$status" -eq 0 ] || die "the update test failed (screenshots and logs in $dir)"
  [ "$(dpkg-query -W -f='${Version}' doorstep)" = "$next" ] || die "after the update, dpkg has doorstep $(dpkg-query -W -f='${Version}' doorstep), not $next"
  grep -h '^update figure' "$dir"/figures.txt 2>/dev/null || true
}
