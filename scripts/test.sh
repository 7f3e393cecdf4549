#!/usr/bin/env bash
# The second Quick-start command: installs and starts the real test servers (if they are not up),
# then runs every test of the workspace against them. Servers this script started are stopped at
# the end unless DBADMIN_KEEP_SERVERS=1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [ "${DBADMIN_KEEP_SERVERS:-0}" != 1 ]; then
  stop=()
  # Read the whole status first: `grep -q` under pipefail would close the pipe early and fail.
  case "$(scripts/test-servers.sh status)" in *': down'*) stop+=('scripts/test-servers.sh down') ;; esac
  [ -f "${DBADMIN_STATE_DIR:-.state}/ministack.pid" ] && kill -0 "$(cat "${DBADMIN_STATE_DIR:-.state}/ministack.pid")" 2>/dev/null \
    || stop+=('scripts/aws-local.sh down')
  if [ ${#stop[@]} -gt 0 ]; then trap "$(IFS=';'; echo "${stop[*]}")" EXIT; fi
fi
# terraform/: formatting, checkov and policy tests (no terraform binary can be had here).
terraform/check.sh
# One build for everything below: the tests, the emulator's Lambda binaries and the clippy-clean
# feature set are the same feature resolution (--all-features --all-targets), so no crate is
# compiled twice with different features. It runs while the servers start.
echo "[test] building the workspace (all targets, all features)" >&2
cargo build --quiet --workspace --all-targets --all-features &
build=$!
scripts/test-servers.sh up
wait "$build"
eval "$(scripts/test-servers.sh env)"
# The AWS deployment on MiniStack (Lambda binaries already built above).
DBADMIN_LAMBDAS_BUILT=1 scripts/aws-local.sh up
eval "$(scripts/aws-local.sh env)"
# report.html is checked in a real browser (Debian's Chromium, headless).
if ! command -v chromium >/dev/null 2>&1; then
  echo "[test] installing chromium (Debian package) for the report.html browser test" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
fi
# Tests that need a server, the deployment or the browser are #[ignore = "needs …"] for a plain
# `cargo test`; here they all run, and each fails naming what it needs when that is missing.
# The one exception is SQL Server, which no package provides here: its real-server test runs only
# when MSSQL_TEST_URL names one (docs/sqlserver.md).
if [ -z "${MSSQL_TEST_URL:-}" ]; then
  echo "[test] not run: collector/tests/sqlserver_real.rs (no SQL Server here; set MSSQL_TEST_URL to run it)" >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
  filter=()
  [ -n "${MSSQL_TEST_URL:-}" ] || filter=(-E 'not binary(sqlserver_real)')
  cargo nextest run --workspace --all-features --no-fail-fast --run-ignored all "${filter[@]}" "$@"
else
  # cargo test runs a binary's tests on threads: the deployed-stack tests (modules deployed_pipeline
  # and deployed_cli of the CLI's integration binary) share one deployment, so they run after the rest,
  # one at a time (what .config/nextest.toml does for nextest).
  skip=()
  [ -n "${MSSQL_TEST_URL:-}" ] || skip=(--skip real_sql_server_admin_definition)
  status=0
  cargo test --workspace --all-features --no-fail-fast "$@" -- --include-ignored --skip deployed_cli:: --skip deployed_pipeline:: "${skip[@]}" || status=$?
  cargo test -p db-admin-report --all-features --test integration "$@" -- --include-ignored --test-threads=1 deployed_cli:: deployed_pipeline:: \
    || status=$?
  exit "$status"
fi
