#!/usr/bin/env bash
# The AWS deployment on a local emulator: MiniStack (PyPI) on loopback, running our Lambda
# binaries as local processes behind real SQS event source mappings. IAM is enforced (AUTH=true):
# each function runs as its own role, people as the operator or auditor user, with the policies of
# terraform/policies/.
#
#   scripts/aws-local.sh up       install MiniStack if needed, start it, build and deploy everything
#   scripts/aws-local.sh deploy   (re)deploy onto a running MiniStack
#   scripts/aws-local.sh down     stop the MiniStack this script started
#   scripts/aws-local.sh env      print the variables tests and the CLI use: the operator's
#                                 credentials as AWS_*, the auditor's, the inventory writer's and the
#                                 account root's (for test set-up) under DBADMIN_AWS_AUDITOR_*,
#                                 DBADMIN_AWS_INVENTORY_WRITER_* / DBADMIN_AWS_ADMIN_*
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${DBADMIN_STATE_DIR:-$ROOT/.state}
PORT=${DBADMIN_MINISTACK_PORT:-14566}
VENV=${DBADMIN_VENV:-${DBADMIN_CACHE:-/var/cache/db-admin-report}/venv}
REQUIREMENTS=$ROOT/scripts/requirements-aws-local.txt
PROFILE=${DBADMIN_LAMBDA_PROFILE:-debug}

log() { printf '[aws-local] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  log "installing $*"
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# shellcheck source=scripts/pinned-venv.sh
. "$ROOT/scripts/pinned-venv.sh"
ensure_venv() {
  ensure_pinned_venv "$VENV" "$REQUIREMENTS" ministack \
    || die "installing scripts/requirements-aws-local.txt into $VENV failed (pip's message is above)"
}

alive() { [ -f "$STATE/ministack.pid" ] && kill -0 "$(cat "$STATE/ministack.pid")" 2>/dev/null; }

start() {
  if alive; then log "MiniStack already running on $PORT"; return 0; fi
  if curl -fs "http://127.0.0.1:$PORT/_ministack/health" >/dev/null 2>&1; then
    die "port $PORT already answers but not from a MiniStack this script started; stop it or set DBADMIN_MINISTACK_PORT"
  fi
  log "starting MiniStack on 127.0.0.1:$PORT"
  mkdir -p "$STATE"
  # exec: the recorded pid is MiniStack itself, so `down` stops exactly what `up` started.
  (cd "$STATE" && exec env GATEWAY_PORT="$PORT" BIND_HOST=127.0.0.1 AUTH=true AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" \
     "$VENV/bin/ministack" >"$STATE/ministack.log" 2>&1) &
  echo $! >"$STATE/ministack.pid"
  local i
  for ((i = 0; i < 300; i++)); do
    if curl -fs "http://127.0.0.1:$PORT/_ministack/health" >/dev/null 2>&1; then return 0; fi
    alive || { tail -n 20 "$STATE/ministack.log" >&2; die "MiniStack exited"; }
    sleep 0.2
  done
  die "MiniStack did not answer on $PORT"
}

build() {
  # scripts/test.sh builds them with the rest of the workspace (one feature resolution).
  if [ "${DBADMIN_LAMBDAS_BUILT:-0}" = 1 ] && [ "$PROFILE" = debug ]; then return 0; fi
  log "building the Lambda functions ($PROFILE)"
  local flag=""
  [ "$PROFILE" = release ] && flag=--release
  cargo build --quiet $flag -p dbadmin-publisher -p dbadmin-collector -p dbadmin-reporter \
    --features dbadmin-publisher/lambda,dbadmin-collector/lambda,dbadmin-reporter/lambda \
    --bin publisher-lambda --bin collector-lambda --bin reporter-lambda
}

deploy() {
  eval "$("$ROOT/scripts/test-servers.sh" env)"
  # Stripped copies: debug builds carry ~150 MB of symbols each.
  mkdir -p "$STATE/aws/bin"
  local f
  for f in publisher-lambda collector-lambda reporter-lambda; do
    strip -o "$STATE/aws/bin/$f" "${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/$f"
  done
  "$VENV/bin/python" "$ROOT/scripts/aws_local_deploy.py" \
    --endpoint "http://127.0.0.1:$PORT" --binaries "$STATE/aws/bin" --state "$STATE/aws" \
    --ca-file "$DBADMIN_TEST_CA_FILE" --inventory "$ROOT/examples/demo/inventory.csv" \
    --secrets "$ROOT/examples/demo/secrets.json" \
    --ports "$DBADMIN_TEST_MARIADB_PORT,$DBADMIN_TEST_MYSQL_PORT,$DBADMIN_TEST_PG_PORT"
}

case "${1:-}" in
  up)
    mkdir -p "$STATE"
    command -v curl >/dev/null || apt_install curl
    # A running MiniStack keeps the venv it runs from (down, then up, installs a changed one).
    alive || ensure_venv
    start; build; deploy ;;
  deploy) build; deploy ;;
  down)
    if alive; then
      pid=$(cat "$STATE/ministack.pid")
      log "stopping MiniStack (pid $pid)"
      kill "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$STATE/ministack.pid"
    fi ;;
  env)
    [ -f "$STATE/aws/outputs.json" ] || die "nothing deployed yet: run $0 up"
    echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_REGION=us-east-1"
    echo "unset AWS_SESSION_TOKEN AWS_PROFILE"
    echo "export DBADMIN_AWS_OUTPUTS=$STATE/aws/outputs.json"
    # The root key "test" acts as the account itself, which IAM does not restrict.
    echo "export DBADMIN_AWS_ADMIN_ACCESS_KEY_ID=test DBADMIN_AWS_ADMIN_SECRET_ACCESS_KEY=test"
    python3 - "$STATE/aws/outputs.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
print(f"export AWS_ACCESS_KEY_ID={o['operator']['access_key_id']} AWS_SECRET_ACCESS_KEY={o['operator']['secret_access_key']}")
print(f"export DBADMIN_AWS_AUDITOR_ACCESS_KEY_ID={o['auditor']['access_key_id']} DBADMIN_AWS_AUDITOR_SECRET_ACCESS_KEY={o['auditor']['secret_access_key']}")
print(f"export DBADMIN_AWS_INVENTORY_WRITER_ACCESS_KEY_ID={o['inventory_writer']['access_key_id']} DBADMIN_AWS_INVENTORY_WRITER_SECRET_ACCESS_KEY={o['inventory_writer']['secret_access_key']}")
PY
    # For tests that start their own instance (e.g. with IAM enforcement on).
    echo "export DBADMIN_MINISTACK_VENV=$VENV" ;;
  *) echo "usage: $0 up|deploy|down|env" >&2; exit 2 ;;
esac
