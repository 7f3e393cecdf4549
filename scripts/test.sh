#!/usr/bin/env bash
# The second Quick-start command: installs and starts the real test servers (if they are not up),
# then runs every test of the workspace against them. Servers this script started are stopped at
# the end unless DBADMIN_KEEP_SERVERS=1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if scripts/test-servers.sh status | grep -q ': down'; then
  if [ "${DBADMIN_KEEP_SERVERS:-0}" != 1 ]; then trap 'scripts/test-servers.sh down' EXIT; fi
fi
scripts/test-servers.sh up
eval "$(scripts/test-servers.sh env)"
# Tests that need a server fail (instead of skipping) when it is missing.
export DBADMIN_REQUIRE_SERVERS=1

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
