# ./dev run: the demo registry on 127.0.0.1:8700 (embedded SQLite, demo data) and the app pointed
# at it. Sourced by ./dev.

DEMO_LISTEN="${DOORSTEP_DEMO_LISTEN:-127.0.0.1:8700}"
DEMO_PROVIDER_PORT="${DOORSTEP_DEMO_PROVIDER_PORT:-8701}"
DEMO_DATA="${DOORSTEP_DEMO_DATA:-$HOME/.local/share/doorstep-registry-demo}"

have_display() {
  [ -n "${DISPLAY:-}" ] && xdpyinfo >/dev/null 2>&1 && return 0
  [ -n "${WAYLAND_DISPLAY:-}" ] && return 0
  return 1
}

run_app() {
  local headless=0
  case "${1:-}" in
    --headless) headless=1 ;;
    "") ;;
    *) die "unknown option '$1' for ./dev run (only --headless)" ;;
  esac
  if [ "$headless" -eq 0 ] && ! have_display; then
    cat >&2 <<'MSG'
There is no display here ($DISPLAY and $WAYLAND_DISPLAY are unset or unreachable), so the
Doorstep window cannot open.

To run it anyway, without a screen:   ./dev run --headless
That starts the app under a virtual display (Xvfb), waits until the first screen is shown,
saves a screenshot and prints its path.
MSG
    exit 2
  fi

  setup_all
  build_registry
  build_app_debug
  mkdir -p "$ARTIFACTS/run"

  # The demo ID provider, and a registry that trusts its tokens.
  start_demo_provider "$DEMO_PROVIDER_PORT" "$ARTIFACTS/run/provider.log"
  trap 'stop_pid "${REGISTRY_PID:-}"; stop_pid "${PROVIDER_PID:-}"' EXIT
  say "demo ID provider: $PROVIDER_ISSUER (sign in as one of its demo people)"
  local config="$ARTIFACTS/run/registry.toml"
  # Liveness checks are step-up sign-ins at the same provider (it vouches for the acr asked).
  cat >"$config" <<TOML
[auth]
issuer = "$PROVIDER_ISSUER"
audience = "doorstep-registry"

[[liveness.providers]]
issuer = "$PROVIDER_ISSUER"
client_id = "doorstep-public"
code = "esignet"
acr_values = ["mosip:idp:acr:biometrics"]
TOML
  local log="$ARTIFACTS/run/registry.log"
  start_registry "$DEMO_LISTEN" "$DEMO_DATA" "$log" --config "$config"
  say "registry: $REGISTRY_URL (data in $DEMO_DATA, log in $log)"
  # The app signs in with the provider's public native client; registry-bound access tokens.
  export DOORSTEP_REGISTRY_URL="$REGISTRY_URL" DOORSTEP_OIDC_ISSUER="$PROVIDER_ISSUER" \
    DOORSTEP_OIDC_CLIENT_ID=doorstep-public DOORSTEP_OIDC_REDEEM=app \
    DOORSTEP_OIDC_RESOURCE=urn:doorstep:registry DOORSTEP_OIDC_CLAIMS_FROM=id_token

  if [ "$headless" -eq 0 ]; then
    say "opening Doorstep (close the window to stop)"
    "$APP_BIN"
    return
  fi

  local shot="$ARTIFACTS/run/doorstep.png"
  say "running Doorstep under Xvfb"
  REGISTRY_URL="$REGISTRY_URL" APP_BIN="$APP_BIN" SHOT="$shot" \
    xvfb-run -a -s "-screen 0 1280x900x24" bash -c '
      set -euo pipefail
      out=$(mktemp)
      DOORSTEP_REGISTRY_URL="$REGISTRY_URL" DOORSTEP_REPORT_READY=1 "$APP_BIN" >"$out" 2>&1 &
      app=$!
      for i in $(seq 1 600); do
        grep -q "doorstep: ui-ready" "$out" && break
        kill -0 $app 2>/dev/null || { cat "$out" >&2; echo "the app exited before showing its first screen" >&2; exit 1; }
        sleep 0.1
      done
      grep -q "doorstep: ui-ready" "$out" || { cat "$out" >&2; kill $app; echo "no screen after 60 s" >&2; exit 1; }
      sleep 1   # let the registry status settle on screen
      import -window root "$SHOT"
      kill $app; wait $app 2>/dev/null || true
      rm -f "$out"'
  say "screenshot saved: $shot"
}
