#!/usr/bin/env bash
# The API fuzz test of `./dev test`: schemathesis reads the registry's /openapi.json, sends every
# operation generated requests (valid ones and broken ones) and checks every answer against the
# document: no 5xx, only documented status codes and content types, bodies that match their
# schemas. It runs against a throwaway registry (demo data, --dev-auth, on 127.0.0.1 only, in a
# temporary data folder deleted afterwards), once with an administrator's token and once with the
# token of a citizen signed in as a demo person, and fails when schemathesis reports a failure or
# an error. Each collection's `{id}` operations are pointed at a record that role may see
# (scripts/fuzz-api-setup.py), so real records are read, changed and deleted too.
#
#   scripts/fuzz-api.sh                 build the registry if needed, then fuzz it
#   DOORSTEP_FUZZ_EXAMPLES=N            test cases per operation and phase (default 20)
#   DOORSTEP_FUZZ_SEED=N                the generator's seed (fixed by default, so a run repeats)
#   REGISTRY_BIN=PATH                   fuzz this doorstep-registry binary instead
#
# Logs, the server's log and JUnit reports go to artifacts/fuzz/.
#
# Left out, on purpose: POST /v1/auth/token-exchange and /v1/auth/userinfo. They answer 503 on a
# registry without a [signin] provider, which this one is; the sign-in tests cover them against a
# real OpenID provider (crates/registry/tests/auth.rs, crates/system-tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
cd "$root"

examples="${DOORSTEP_FUZZ_EXAMPLES:-20}"
seed="${DOORSTEP_FUZZ_SEED:-14016}"
# Each role's run stops by itself well within this; the bound only guards against a hang.
run_limit_seconds=300

[ -x "$SCHEMATHESIS" ] || setup_schemathesis
if [ -z "${REGISTRY_BIN:-}" ]; then
  build_registry
fi

out="$ARTIFACTS/fuzz"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/doorstep-fuzz.XXXXXX")"
REGISTRY_PID=""
cleanup() {
  stop_pid "$REGISTRY_PID"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The fuzzer writes and deletes: nothing from the environment may point the registry at another
# database or data folder, so the registry's settings are all given here.
while IFS= read -r name; do
  unset "$name"
done < <(compgen -e | grep '^DOORSTEP_REGISTRY_' || true)
# One identity sends thousands of requests a minute here: no per-caller rate limit.
# Liveness step-ups get a provider on a loopback port nothing listens on: challenges are given
# (and fuzzed), and a proof could only be refused, without anything leaving the machine.
cat >"$work/registry.toml" <<'TOML'
[limits]
requests_per_minute = 0

[[auth.issuers]]
issuer = "http://127.0.0.1:9"
audience = "doorstep-registry"
jwks_url = "http://127.0.0.1:9/jwks"

[[liveness.providers]]
issuer = "http://127.0.0.1:9"
client_id = "doorstep"
TOML
start_registry 127.0.0.1:0 "$work/data" "$out/registry.log" \
  --database sqlite --dev-auth --config "$work/registry.toml"
case "$REGISTRY_URL" in
  http://127.0.0.1:*) ;;
  *) die "the fuzzed registry must listen on 127.0.0.1, not $REGISTRY_URL" ;;
esac

python="$SCHEMATHESIS_VENV/bin/python"
dev_token() {
  "$REGISTRY_BIN" dev-token --data "$work/data" --ttl-minutes 30 "$@"
}
admin_token="$(dev_token --role admin --subject fuzz-admin)"
person="$("$python" "$root/scripts/fuzz-api-setup.py" person "$REGISTRY_URL" "$admin_token")"
citizen_token="$(dev_token --role citizen --subject fuzz-citizen --individual-id "$person")"

# "Test cases: N generated, N passed" → "N generated, N passed".
summary_of() {
  sed -n '/^Test cases:/{n;s/^ *//;p;q}' "$1"
}

failed=()
for role in admin citizen; do
  log="$out/$role.log"
  token_var="${role}_token"
  token="${!token_var}"
  "$python" "$root/scripts/fuzz-api-setup.py" config "$REGISTRY_URL" "$token" "$work/$role.toml"
  say "API fuzz as $role: $examples examples per operation, seed $seed"
  status=0
  (cd "$work" && SCHEMATHESIS_HOOKS="$root/scripts/fuzz-api-hooks.py" \
    timeout "$run_limit_seconds" "$SCHEMATHESIS" --config-file "$work/$role.toml" \
    run "$REGISTRY_URL/openapi.json" \
    --url "$REGISTRY_URL" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path-regex '^/v1/auth/' \
    --max-examples "$examples" \
    --seed "$seed" \
    --generation-database none \
    --request-timeout 20 \
    --no-color \
    --report junit --report-junit-path "$out/$role.junit.xml" \
    >"$log" 2>&1) || status=$?
  if ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
    tail -n 30 "$out/registry.log" >&2
    die "the registry died while being fuzzed as $role (log above: $out/registry.log)"
  fi
  if [ "$status" -eq 124 ]; then
    warn "schemathesis did not finish within $run_limit_seconds s as $role"
    failed+=("$role")
  elif [ "$status" -ne 0 ]; then
    # The failures and errors sections, each with a curl command that reproduces it.
    sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,/^=* \(WARNINGS\|SUMMARY\) =*$/p' "$log"
    failed+=("$role")
  fi
  echo "schemathesis as $role: $(summary_of "$log" || true) (log: ${log#"$root"/})"
done

[ "${#failed[@]}" -eq 0 ] || die "the API does not match its OpenAPI document when fuzzed as ${failed[*]} (logs: ${out#"$root"/}/)"
