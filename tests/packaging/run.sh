#!/usr/bin/env bash
# The packages as an administrator installs them: build the .debs, lint them, install them with
# dpkg, check what they put where, start the installed registry as its own user on its packaged
# config, and open the installed app from its desktop entry with only /etc/doorstep/config.toml
# to configure it. Everything installed or written is purged again on exit.
#
# Why debug bundles: `./dev test` has just built the debug app (the e2e step) and the Tauri
# bundler wraps whatever binary the profile has, with the same tauri.conf.json (depends, desktop
# entry template, icons, files) and the same packaging/ files for the registry; only the
# optimisation level of the binary inside differs, and the release profile's strip. So this checks
# the release packages' contents and maintainer scripts without a 20-minute release build.
# `./dev bundle` makes the release ones from exactly these inputs.
#
# Runs as root or through sudo (dpkg). Refuses to run where Doorstep is installed for real.
# Usage: tests/packaging/run.sh   (./dev test runs it after the end-to-end tests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# shellcheck source=scripts/bundle.sh
source "$root/scripts/bundle.sh"
# shellcheck source=tests/packaging/update.sh
source "$root/tests/packaging/update.sh"

out="$ARTIFACTS/packaging"
mkdir -p "$out"
DESKTOP_FILE=/usr/share/applications/Doorstep.desktop
DEVICE_CONFIG=/etc/doorstep/config.toml

# --- never on a machine that has Doorstep installed or configured for real ---------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in doorstep doorstep-registry; do
  installed "$pkg" && die "the package $pkg is installed on this machine; this test installs and purges its own. Remove it first (apt purge $pkg) or run the test elsewhere."
done
[ ! -e "$DEVICE_CONFIG" ] || die "$DEVICE_CONFIG exists; this test writes and removes its own. Move it away first."
[ ! -e /var/lib/doorstep-registry ] || die "/var/lib/doorstep-registry exists (a registry's data?); this test would remove it. Move it away first."
user_existed=0
getent passwd doorstep-registry >/dev/null && user_existed=1

# --- build ----------------------------------------------------------------------------------------
bundle_app debug deb
APP_DEB="${APP_PACKAGES[0]}"
build_registry debug
bundle_registry_deb debug
say "packages: $APP_DEB ($(du -h "$APP_DEB" | cut -f1)), $REGISTRY_DEB ($(du -h "$REGISTRY_DEB" | cut -f1))"

# --- lintian: errors fail, warnings are listed -------------------------------------------------------
# unstripped-binary-or-object: the debug app binary keeps its symbols; the release profile strips
# them (Cargo.toml: strip = "symbols"). Nothing else is suppressed.
say "lintian"
lint_failed=0
for deb in "$APP_DEB" "$REGISTRY_DEB"; do
  log="$out/lintian-$(basename "$deb" .deb).txt"
  lintian --fail-on error --suppress-tags unstripped-binary-or-object "$deb" >"$log" 2>&1 || lint_failed=1
  printf '  %s: %s error(s), %s warning(s)\n' "$(basename "$deb")" "$(grep -c '^E:' "$log" || true)" "$(grep -c '^W:' "$log" || true)"
  grep -E '^[EW]:' "$log" | sed 's/^/    /' || true
done
[ "$lint_failed" -eq 0 ] || die "lintian found errors (above; logs in $out)"

# --- install (purged on exit, whatever happens) ----------------------------------------------------
cleanup() {
  local status=$?
  stop_pid "${INSTALLED_REGISTRY_PID:-}"
  stop_pid "${REGISTRY_PID:-}"
  stop_pid "${PROVIDER_PID:-}"
  as_root dpkg --purge doorstep doorstep-registry >/dev/null 2>&1 || warn "dpkg --purge failed"
  as_root rm -f "$DEVICE_CONFIG"
  as_root rmdir /etc/doorstep 2>/dev/null || true
  # The registry package keeps its data and user on purge, as a registry must; the test removes
  # what it made.
  as_root rm -rf /var/lib/doorstep-registry
  [ "$user_existed" -eq 1 ] || as_root userdel doorstep-registry 2>/dev/null || true
  [ -n "${demo_data:-}" ] && rm -rf "$demo_data"
  exit "$status"
}
trap cleanup EXIT
say "installing both packages with dpkg"
as_root dpkg -i "$APP_DEB" "$REGISTRY_DEB" >"$out/dpkg-install.log" 2>&1 || { cat "$out/dpkg-install.log" >&2; die "dpkg -i failed"; }
# The maintainer scripts again, as an upgrade runs them: they must not fail the second time.
as_root dpkg -i "$REGISTRY_DEB" >>"$out/dpkg-install.log" 2>&1 || { cat "$out/dpkg-install.log" >&2; die "reinstalling doorstep-registry failed"; }

# --- the installed files ----------------------------------------------------------------------------
say "checking the installed files"
check() { "$@" || die "check failed: $*"; }
[ -f "$DESKTOP_FILE" ] || die "no desktop entry at $DESKTOP_FILE"
desktop-file-validate "$DESKTOP_FILE" || die "$DESKTOP_FILE is not a valid desktop entry (above)"
exec_bin="$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$DESKTOP_FILE")"
check command -v "$exec_bin" >/dev/null
icon="$(sed -n 's/^Icon=//p' "$DESKTOP_FILE")"
ls /usr/share/icons/hicolor/*/apps/"$icon".png >/dev/null 2>&1 || die "the desktop entry's icon $icon is not installed"
check test -f /usr/share/icons/hicolor/scalable/apps/"$icon".svg
check grep -q '^Keywords=' "$DESKTOP_FILE"
for f in copyright config.example.toml kiosk.md; do check test -f "/usr/share/doc/doorstep/$f"; done
# Every library the installed binary links is a dependency of the package (tauri.conf.json's
# deb.depends is written by hand: this is what keeps it true).
shlibs="$(mktemp -d)"
mkdir "$shlibs/debian" && touch "$shlibs/debian/control"
needed="$(cd "$shlibs" && dpkg-shlibdeps -O "$(command -v "$exec_bin")" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
rm -rf "$shlibs"
depends="$(dpkg-query -W -f='${Depends}' doorstep)"
for lib in $(echo "$needed" | tr ',' '\n' | sed 's/(.*//; s/ //g'); do
  grep -qE "(^|, )$lib( |,|$)" <<<"$depends" || die "the app links a library of $lib, which is not in tauri.conf.json's deb depends ($depends)"
done

check test -f /lib/systemd/system/doorstep-registry.service
check test -f /usr/lib/sysusers.d/doorstep-registry.conf
dpkg-query -W -f='${Conffiles}\n' doorstep-registry | grep -q '/etc/doorstep-registry/registry.toml' ||
  die "/etc/doorstep-registry/registry.toml is not a conffile"
check getent passwd doorstep-registry >/dev/null
[ "$(getent passwd doorstep-registry | cut -d: -f7)" = /usr/sbin/nologin ] || die "doorstep-registry has a login shell"
[ "$(stat -c '%U %a' /var/lib/doorstep-registry)" = "doorstep-registry 700" ] ||
  die "/var/lib/doorstep-registry is $(stat -c '%U %a' /var/lib/doorstep-registry), not doorstep-registry 700"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/doorstep-registry.service || die "systemd-analyze verify failed (above)"
fi

# --- the installed registry, as its unit runs it (systemd is not PID 1 here) ------------------------
say "starting the installed registry as doorstep-registry with its packaged config"
exec_start="$(sed -n 's/^ExecStart=//p' /lib/systemd/system/doorstep-registry.service)"
log="$out/installed-registry.log"
# Port 0 instead of the config's 8700 (a developer's registry may hold it); the environment
# outranks the file, which is otherwise read as installed.
# Not through as_root: a shell function run in the background is a subshell, whose pid is not the
# server's. setpriv and env exec, so $! is the server itself (or sudo, which passes signals on).
as_root_direct=()
[ "$(id -u)" -eq 0 ] || as_root_direct=(sudo)
# shellcheck disable=SC2086 # the unit's command line, split into words as systemd does
"${as_root_direct[@]}" setpriv --reuid=doorstep-registry --regid=doorstep-registry --init-groups \
  env DOORSTEP_REGISTRY_LISTEN=127.0.0.1:0 $exec_start >"$log" 2>&1 &
INSTALLED_REGISTRY_PID=$!
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^doorstep-registry listening on //p' "$log" | head -n1)"
  [ -n "$url" ] && break
  kill -0 "$INSTALLED_REGISTRY_PID" 2>/dev/null || { cat "$log" >&2; die "the installed registry did not start"; }
  sleep 0.1
done
[ -n "$url" ] || die "the installed registry did not report its address within 10 s ($log)"
health="$(curl -fsS --max-time 10 "$url/health")" || die "GET $url/health failed"
grep -q '"status":"ok"' <<<"$health" || die "GET /health: $health"
check test -f /var/lib/doorstep-registry/registry.sqlite3
[ "$(stat -c %U /var/lib/doorstep-registry/registry.sqlite3)" = doorstep-registry ] || die "the database is not the service user's"
say "installed registry: $url/health → $health"
stop_pid "$INSTALLED_REGISTRY_PID"
INSTALLED_REGISTRY_PID=""
if pgrep -u doorstep-registry >/dev/null; then die "the installed registry outlived SIGTERM"; fi

# --- the installed app, configured by /etc/doorstep/config.toml only ---------------------------------
say "starting the demo registry and identity provider for the installed app"
demo_data="$(mktemp -d)"
start_demo_provider 0 "$out/provider.log"
cat >"$demo_data/registry.toml" <<TOML
[auth]
issuer = "$PROVIDER_ISSUER"
audience = "doorstep-registry"
TOML
start_registry 127.0.0.1:0 "$demo_data/data" "$out/demo-registry.log" --config "$demo_data/registry.toml"
as_root install -d -m 0755 /etc/doorstep
as_root tee "$DEVICE_CONFIG" >/dev/null <<TOML
# Written by tests/packaging/run.sh: the demo registry and provider, as ./dev run sets them.
[registry]
url = "$REGISTRY_URL"

[signin]
issuer = "$PROVIDER_ISSUER"
client_id = "doorstep-public"
redeem = "app"
resource = "urn:doorstep:registry"
claims_from = "id_token"
TOML
as_root chmod 0644 "$DEVICE_CONFIG"
say "opening the installed app from $DESKTOP_FILE under Xvfb"
(cd "$root/tests/packaging" &&
  DOORSTEP_DESKTOP_FILE="$DESKTOP_FILE" TAURI_DRIVER="$TAURI_DRIVER" DOORSTEP_ARTIFACTS="$out" \
    xvfb-run -a -s "-screen 0 1280x1024x24" \
    node --test --test-reporter=spec ./installed.test.mjs)

# --- signed updates: the installed N finds, refuses or installs N+1 (see update.sh) -------------------
run_update_test
say "packaging tests passed (screenshots: $out/installed-app.png, $out/update/)"
