# ./dev test: every test the project has. Sourced by ./dev. Stops at the first failing step and
# exits non-zero; prints each runner's summary line.

run_tests() {
  [ "$#" -eq 0 ] || die "./dev test takes no options"
  local started=$SECONDS
  # A test run gains nothing from incremental compilation but its cache, which grows by
  # gigabytes a day on a long-lived machine; developers iterating with cargo keep theirs.
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
  setup_all
  # The shell crate's build script checks that the UI bundle exists, so build it before any cargo step.
  build_ui

  say "Rust: formatting"
  (cd "$root" && cargo fmt --all --check)

  say "Rust: clippy (warnings are errors)"
  (cd "$root" && cargo clippy --quiet --workspace --exclude doorstep-bench-bare --all-targets -- -D warnings)

  say "Rust: unit and integration tests (includes the TypeScript bindings drift check)"
  # With a throwaway PostgreSQL server (the registry tests run on SQLite and on PostgreSQL) and
  # inside a private D-Bus session with an unlocked GNOME Keyring (the vault's keyring tests use a
  # real Secret Service). pipefail (set in ./dev) makes a failing cargo test fail this step.
  # DOORSTEP_REQUIRE_OIDC: the sign-in tests fail, rather than skip, without the test provider.
  # DOORSTEP_REQUIRE_SMTP: the registry's e-mail tests fail, rather than skip, without aiosmtpd.
  (cd "$root" && DOORSTEP_REQUIRE_OIDC=1 DOORSTEP_REQUIRE_SMTP=1 "$root/scripts/with-postgres.sh" "$root/scripts/with-keyring.sh" \
    cargo test --workspace --exclude doorstep-bench-bare 2>&1 |
    tee "$ARTIFACTS_LOG/cargo-test.log")
  summarize_cargo "$ARTIFACTS_LOG/cargo-test.log"

  say "API: the registry fuzzed against its OpenAPI document (schemathesis, as admin and as citizen)"
  build_registry
  REGISTRY_BIN="$REGISTRY_BIN" "$root/scripts/fuzz-api.sh"

  say "UI: type check and unit tests"
  (cd "$root/ui" && npm run --silent check -- --fail-on-warnings --output machine | tail -n 3)
  (cd "$root/ui" && npx vitest run)

  say "End to end: the real app under Xvfb through WebDriver"
  build_registry
  build_app_debug --ui-built
  mkdir -p "$ARTIFACTS/e2e"
  (cd "$root/tests/e2e" &&
    DOORSTEP_APP_BIN="$APP_BIN" DOORSTEP_REGISTRY_BIN="$REGISTRY_BIN" TAURI_DRIVER="$TAURI_DRIVER" \
      DOORSTEP_ARTIFACTS="$ARTIFACTS/e2e" \
      xvfb-run -a -s "-screen 0 1280x1024x24" \
      node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs)
  say "screenshots: $ARTIFACTS/e2e/"

  say "Packages: the .debs built from the debug build, linted, installed, run, purged"
  "$root/tests/packaging/run.sh"

  say "all tests passed in $((SECONDS - started)) s"
}

# One line for all Rust test binaries together (cargo prints one per binary).
summarize_cargo() {
  local log="$1"
  local passed failed
  passed=$(grep -oE '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
  failed=$(grep -oE '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
  echo "cargo: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] || die "Rust tests failed (full log: $log)"
}
