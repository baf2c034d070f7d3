#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked GNOME Keyring (the Secret Service),
# so keyring tests use a real keyring without touching the user's own: the keyring files live in a
# throwaway XDG_DATA_HOME that is deleted afterwards.
set -euo pipefail
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/share" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
dbus-run-session -- bash -c '
  set -euo pipefail
  # The keyring password only protects this throwaway keyring.
  eval "$(printf "%s" "doorstep-test-keyring" | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL DOORSTEP_REQUIRE_KEYRING=1
  exec "$@"' bash "$@"
