#!/usr/bin/env bash
# The first Quick-start command: on a fresh machine, installs and starts the local test databases
# (MariaDB, Oracle MySQL, PostgreSQL, all with fixture accounts), builds the CLI and runs a real
# local report over them. Prints the CSV's path on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STATE=${DBADMIN_STATE_DIR:-$ROOT/.state}

# The CLI builds while the servers start (a debug build of the local-only CLI: a release build's
# link-time optimisation costs minutes and the local report waits on the databases, not the CPU).
echo "[demo] building db-admin-report (local-only: --no-default-features leaves the AWS SDK out)" >&2
cargo build --quiet -p db-admin-report --no-default-features &
build=$!
trap 'kill "$build" 2>/dev/null || true' EXIT
scripts/test-servers.sh up demo
wait "$build"
trap - EXIT
eval "$(scripts/test-servers.sh env)"

# The demo inventory names the default ports and login log; follow any override.
mkdir -p "$STATE/demo"
sed -e "s/,13306,/,$DBADMIN_TEST_MARIADB_PORT,/" -e "s/,13307,/,$DBADMIN_TEST_MYSQL_PORT,/" \
    -e "s/,15432,/,$DBADMIN_TEST_PG_PORT,/" -e "s|,file:[^,]*postgresql.json|,file:$DBADMIN_TEST_PG_LOGIN_LOG|" \
    examples/demo/inventory.csv >"$STATE/demo/inventory.csv"
install -m 600 examples/demo/secrets.json "$STATE/demo/secrets.json"

status=0
"${CARGO_TARGET_DIR:-target}/debug/db-admin-report" generate --local \
  --inventory "$STATE/demo/inventory.csv" \
  --secrets-file "$STATE/demo/secrets.json" \
  --tls-ca-file "$DBADMIN_TEST_CA_FILE" \
  --connect-timeout 5 \
  --out "$STATE/demo/output" "$@" || status=$?
# Exit code 3 means "report written, some targets are error rows": the demo's unreachable database.
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then exit "$status"; fi
