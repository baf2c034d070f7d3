# ./dev bench: Doorstep beside a bare Tauri + Form.io window (bench/bare), both built in release
# mode in this run, measured the same way. Sourced by ./dev. Figures go to the terminal and to
# artifacts/bench/results.json.

# "Install" pressed on version N → version N+1 running, through the installed .deb: the package
# test (tests/packaging/run.sh, which needs root or sudo and installs, then purges, the packages)
# prints it; this runs it and repeats the figure at the end.
run_update_bench() {
  setup_all
  build_ui
  build_app_debug --ui-built
  "$root/tests/packaging/run.sh"
  say "figures"
  cat "$ARTIFACTS/packaging/update/figures.txt"
}

run_bench() {
  if [ "${1:-}" = "registry" ]; then run_registry_bench; return; fi
  if [ "${1:-}" = "screens" ]; then shift; run_screens_bench "$@"; return; fi
  if [ "${1:-}" = "update" ]; then run_update_bench; return; fi
  local runs="${1:-5}"
  [[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 1 ] && [ "$runs" -le 50 ] || die "./dev bench [RUNS] takes a run count from 1 to 50"
  setup_all

  say "building Doorstep (release + .deb)"
  build_ui
  (cd "$root" && "$TAURI_CLI" build --bundles deb --ci)
  say "building the bare baseline (release + .deb)"
  (cd "$root/ui" && npm run --silent build:bare -- --logLevel warn)
  (cd "$root/bench/bare" && "$TAURI_CLI" build --bundles deb --ci)
  # The registry only answers the app's health check here; its build profile does not matter.
  build_registry

  mkdir -p "$ARTIFACTS/bench"
  local log="$ARTIFACTS/bench/registry.log"
  BENCH_SCRATCH="$(mktemp -d)"
  start_registry 127.0.0.1:0 "$BENCH_SCRATCH/registry" "$log"
  trap 'stop_pid "${REGISTRY_PID:-}"; rm -rf "$BENCH_SCRATCH"' EXIT
  # A private session bus and runtime dir: D-Bus services WebKit starts (the document portal
  # mounts a FUSE folder in XDG_RUNTIME_DIR) live and die with this benchmark.
  mkdir -p -m 700 "$BENCH_SCRATCH/run"

  say "measuring ($runs cold starts each, under Xvfb)"
  DOORSTEP_REGISTRY_URL="$REGISTRY_URL" \
    BENCH_APP="$CARGO_TARGET_DIR/release/doorstep" \
    BENCH_BARE="$CARGO_TARGET_DIR/release/doorstep-bench-bare" \
    BENCH_APP_DEB="$(ls -t "$CARGO_TARGET_DIR"/release/bundle/deb/Doorstep_*.deb | head -n1)" \
    BENCH_BARE_DEB="$(ls -t "$CARGO_TARGET_DIR"/release/bundle/deb/doorstep-bench-bare_*.deb | head -n1)" \
    BENCH_RUNS="$runs" BENCH_OUT="$ARTIFACTS/bench/results.json" XDG_RUNTIME_DIR="$BENCH_SCRATCH/run" \
    dbus-run-session -- xvfb-run -a -s "-screen 0 1280x900x24" node "$root/bench/measure.mjs"

  say "vault benchmark (SQLCipher vs plain SQLite, 100 MB document, open times)"
  (cd "$root" && "$root/scripts/with-keyring.sh" cargo bench --quiet -p doorstep-client --bench vault)

  say "duplicate check (one new person against a caseload of 10,000)"
  (cd "$root" && cargo bench --quiet -p doorstep-domain --bench duplicates)

  say "agent's caseload (search and duplicate check among 10,000 people in the vault)"
  (cd "$root" && cargo bench --quiet -p doorstep-client --bench caseload)

  run_registry_bench
}

# The registry server alone: writes/s and latency with 16 clients, change-feed read rate, and
# document upload throughput, on SQLite and on a throwaway PostgreSQL, and the check of one
# submission of a 200-field form beside the plain write (benches/form_validation.rs, SQLite)
# (`./dev bench registry`).
run_registry_bench() {
  setup_system_packages
  say "registry benchmark (SQLite and PostgreSQL, loopback)"
  (cd "$root" && "$root/scripts/with-postgres.sh" cargo bench --quiet -p doorstep-registry)
  say "sync benchmark (initial pull, push, no-op sync, documents; SQLite and PostgreSQL)"
  (cd "$root" && "$root/scripts/with-postgres.sh" cargo bench --quiet -p doorstep-system-tests --bench sync)
}

# ./dev bench screens [RUNS]: time to interactive of the app's screens and its memory, on the
# release build, driven through WebDriver under Xvfb (bench/screens.mjs).
run_screens_bench() {
  local runs="${1:-5}"
  [[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 1 ] && [ "$runs" -le 50 ] || die "./dev bench screens [RUNS] takes a run count from 1 to 50"
  setup_all
  build_ui
  say "building Doorstep (release)"
  (cd "$root" && "$TAURI_CLI" build --no-bundle --ci)
  build_registry
  say "measuring screens ($runs visits each, under Xvfb)"
  (cd "$root/tests/e2e" &&
    DOORSTEP_APP_BIN="$CARGO_TARGET_DIR/release/doorstep" DOORSTEP_REGISTRY_BIN="$REGISTRY_BIN" \
      TAURI_DRIVER="$TAURI_DRIVER" BENCH_RUNS="$runs" DOORSTEP_ARTIFACTS="$ARTIFACTS/bench/screens" \
      xvfb-run -a -s "-screen 0 1280x1024x24" node "$root/bench/screens.mjs")
}
