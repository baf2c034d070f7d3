#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on a free loopback port, then remove it.
# The command sees DOORSTEP_TEST_POSTGRES_URL (a superuser URL: tests create one database each)
# and DOORSTEP_REQUIRE_POSTGRES=1 (tests that need PostgreSQL must not skip).
# Nothing assumes a running service: the cluster is created, started and deleted here.
set -euo pipefail

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -x "$pg_bin/initdb" ] || { echo "with-postgres: PostgreSQL server binaries not found (apt package postgresql)" >&2; exit 1; }

# PostgreSQL refuses to run as root; run the server as the package's `postgres` user then.
if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi

scratch="$(mktemp -d)"
chmod 755 "$scratch"
data="$scratch/data"
mkdir -p "$data" "$scratch/socket"
[ "$(id -u)" -ne 0 ] || chown -R postgres: "$scratch/data" "$scratch/socket"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

cleanup() {
  as_pg "$pg_bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

as_pg "$pg_bin/initdb" -D "$data" -U doorstep --auth=trust --encoding=UTF8 --no-locale >"$scratch/initdb.log" 2>&1 ||
  { cat "$scratch/initdb.log" >&2; exit 1; }
as_pg "$pg_bin/pg_ctl" -D "$data" -l "$scratch/socket/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $scratch/socket -c fsync=off -c max_connections=200" start >/dev/null ||
  { cat "$scratch/socket/server.log" >&2; exit 1; }

export DOORSTEP_TEST_POSTGRES_URL="postgres://doorstep@127.0.0.1:$port/postgres"
export DOORSTEP_REQUIRE_POSTGRES=1
"$@"
