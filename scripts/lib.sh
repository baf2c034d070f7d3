# Shared helpers for ./dev. Sourced, not run.

# Build output lives outside the clone so fresh clones (and CI) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/doorstep/target}"
DOORSTEP_CACHE="${DOORSTEP_CACHE:-$HOME/.cache/doorstep}"
ARTIFACTS="$root/artifacts"
TAURI_DRIVER="$DOORSTEP_CACHE/bin/tauri-driver"
TAURI_CLI="$root/ui/node_modules/.bin/tauri"
# schemathesis, the OpenAPI fuzzer of the API fuzz test (scripts/fuzz-api.sh), pinned, in its own
# virtualenv.
SCHEMATHESIS_VERSION="4.32.5"
SCHEMATHESIS_VENV="$DOORSTEP_CACHE/schemathesis"
SCHEMATHESIS="$SCHEMATHESIS_VENV/bin/st"
# aiosmtpd, the real SMTP server on loopback that the registry's e-mail tests send to
# (crates/registry/tests/outbound.rs finds it at $AIOSMTPD_VENV/bin/python), pinned, in its own
# virtualenv.
AIOSMTPD_VERSION="1.4.6"
export AIOSMTPD_VENV="${AIOSMTPD_VENV:-$DOORSTEP_CACHE/aiosmtpd}"

# System packages Tauri 2 needs to build and run on Debian 12, plus what the tests use:
# Xvfb/xauth (a display without a screen), WebKitWebDriver (webkit2gtk-driver), ImageMagick
# (screenshots), D-Bus, gnome-keyring and libsecret-tools (OS keyring), dunst (notifications),
# PostgreSQL (the registry's second backend; tests start a throwaway server, never the system one),
# Python's venv (the API fuzz test's schemathesis lives in a virtualenv).
# lintian and desktop-file-validate check the packages (tests/packaging/run.sh); sudo is how the
# updater installs a .deb where no pkexec prompt can (the update test, tests/packaging/update.sh).
APT_PACKAGES=(
  libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config xvfb xauth x11-utils
  webkit2gtk-driver imagemagick dbus dbus-x11 gnome-keyring libsecret-tools dunst
  postgresql python3-venv lintian desktop-file-utils sudo
)

say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

setup_system_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    say "system packages: all present"
    return
  fi
  command -v apt-get >/dev/null || die "missing system packages (${missing[*]}) and no apt-get: install them by hand"
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# `npm ci` only when package-lock.json changed since the last install in that folder.
npm_ci_if_needed() {
  local dir="$1"
  local stamp="$dir/node_modules/.doorstep-lock-hash"
  local hash
  hash="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    say "npm packages in ${dir#"$root"/}: up to date"
    return
  fi
  say "npm ci in ${dir#"$root"/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$hash" >"$stamp"
}

setup_npm() {
  command -v node >/dev/null || die "Node.js is required (20 or newer)"
  npm_ci_if_needed "$root/ui"
  npm_ci_if_needed "$root/tests/e2e"
  # The OpenID provider (oidc-provider) the sign-in system tests run against.
  npm_ci_if_needed "$root/tests/oidc-provider"
}

# tauri-driver 2.x (without a version cargo picks a 3.0 alpha), into the project cache.
setup_tauri_driver() {
  if [ -x "$TAURI_DRIVER" ] && "$TAURI_DRIVER" --help >/dev/null 2>&1; then
    say "tauri-driver: present"
    return
  fi
  say "installing tauri-driver 2 (cargo install, about a minute)"
  CARGO_TARGET_DIR="$DOORSTEP_CACHE/tauri-driver-build" \
    cargo install tauri-driver --version "^2" --locked --root "$DOORSTEP_CACHE" --quiet
}

# schemathesis from PyPI into $SCHEMATHESIS_VENV, unless that exact version is there already.
setup_schemathesis() {
  if [ -x "$SCHEMATHESIS" ] && [ "$("$SCHEMATHESIS" --version 2>/dev/null)" = "st, version $SCHEMATHESIS_VERSION" ]; then
    say "schemathesis $SCHEMATHESIS_VERSION: present"
    return
  fi
  command -v python3 >/dev/null || die "Python 3.11 or newer is required (the API fuzz test runs schemathesis)"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "schemathesis needs Python 3.11 or newer, python3 is $(python3 --version 2>&1)"
  say "installing schemathesis $SCHEMATHESIS_VERSION from PyPI into $SCHEMATHESIS_VENV"
  # --clear: a virtualenv left half-made or whose Python went away is made again.
  if ! "$SCHEMATHESIS_VENV/bin/python" -c '' 2>/dev/null; then
    python3 -m venv --clear "$SCHEMATHESIS_VENV" || die "python3 -m venv failed: install python3-venv"
  fi
  "$SCHEMATHESIS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
}

setup_aiosmtpd() {
  if "$AIOSMTPD_VENV/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    say "aiosmtpd $AIOSMTPD_VERSION: present"
    return
  fi
  command -v python3 >/dev/null || die "Python 3 is required (the registry's e-mail tests run aiosmtpd)"
  say "installing aiosmtpd $AIOSMTPD_VERSION from PyPI into $AIOSMTPD_VENV"
  if ! "$AIOSMTPD_VENV/bin/python" -c '' 2>/dev/null; then
    python3 -m venv --clear "$AIOSMTPD_VENV" || die "python3 -m venv failed: install python3-venv"
  fi
  "$AIOSMTPD_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "aiosmtpd==$AIOSMTPD_VERSION"
}

setup_rust_deps() {
  command -v cargo >/dev/null || die "Rust (cargo) is required: https://rustup.rs"
}

setup_all() {
  setup_rust_deps
  setup_system_packages
  setup_npm
  setup_tauri_driver
  setup_schemathesis
  setup_aiosmtpd
}

build_ui() {
  say "building the UI (ui/dist)"
  (cd "$root/ui" && npm run --silent build -- --logLevel warn)
}

# The app binary with the UI embedded (custom-protocol), as shipped but unoptimised.
build_app_debug() {
  [ "${1:-}" = --ui-built ] || build_ui
  say "building the app (debug, UI embedded)"
  (cd "$root" && "$TAURI_CLI" build --debug --no-bundle --ci)
  APP_BIN="$CARGO_TARGET_DIR/debug/doorstep"
}

build_registry() {
  local profile="${1:-debug}"
  say "building doorstep-registry ($profile)"
  if [ "$profile" = release ]; then
    cargo build --quiet --release -p doorstep-registry
  else
    cargo build --quiet -p doorstep-registry
  fi
  REGISTRY_BIN="$CARGO_TARGET_DIR/$profile/doorstep-registry"
}

run_registry_alone() {
  build_registry
  if [ "$#" -eq 0 ]; then
    set -- serve --listen 127.0.0.1:8700 --data "$HOME/.local/share/doorstep-registry-demo" --demo --dev-auth
  fi
  exec "$REGISTRY_BIN" "$@"
}

regenerate_bindings() {
  say "regenerating ui/src/lib/bindings.ts"
  (cd "$root" && DOORSTEP_WRITE_BINDINGS=1 cargo test --quiet -p doorstep bindings_are_up_to_date)
}

# Start the registry on $1 (address) with data in $2, logging to $3; further arguments go to
# `serve`. Sets REGISTRY_PID and REGISTRY_URL.
start_registry() {
  local listen="$1" data="$2" log="$3"
  shift 3
  "$REGISTRY_BIN" serve --listen "$listen" --data "$data" --demo "$@" >"$log" 2>&1 &
  REGISTRY_PID=$!
  local i
  for i in $(seq 1 100); do
    REGISTRY_URL="$(sed -n 's/^doorstep-registry listening on //p' "$log" | head -n1)"
    [ -n "$REGISTRY_URL" ] && return 0
    kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$log" >&2; die "the registry server did not start (log above)"; }
    sleep 0.1
  done
  die "the registry server did not report its address within 10 s (see $log)"
}

# Start the demo identity provider (tests/oidc-provider: a certified OpenID provider with a
# one-button login page per demo person) on $1 (port), logging to $2. Sets PROVIDER_PID and
# PROVIDER_ISSUER.
start_demo_provider() {
  local port="$1" log="$2"
  (cd "$root/tests/oidc-provider" && exec node server.mjs --port "$port" --keep-running </dev/null) >"$log" 2>&1 &
  PROVIDER_PID=$!
  local i
  for i in $(seq 1 100); do
    PROVIDER_ISSUER="$(sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p' "$log" | head -n1)"
    [ -n "$PROVIDER_ISSUER" ] && return 0
    kill -0 "$PROVIDER_PID" 2>/dev/null || { cat "$log" >&2; die "the demo identity provider did not start (log above)"; }
    sleep 0.1
  done
  die "the demo identity provider did not report its address within 10 s (see $log)"
}

stop_pid() {
  local pid="${1:-}"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  local i
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
ARTIFACTS_LOG="$ARTIFACTS/logs"; mkdir -p "$ARTIFACTS_LOG"
