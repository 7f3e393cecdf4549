#!/usr/bin/env bash
# Runs the benchmarks of load-tests/README.md and writes load-tests/results/. Not part of the test
# command: figures are read, not asserted.
#
#   load-tests/run.sh local [N...]   local run vs sequential pt-show-grants/psql vs the floor at RTT 0 and 20 ms
#                                    (default N 100 1000; --rtt-ms 0,20; --name local; --sequential-max 100)
#   load-tests/run.sh render         reporter: 200 000 rows, time and peak memory
#   load-tests/run.sh criterion      cargo bench -p dbadmin-reporter (rendering, aggregation)
#   load-tests/run.sh zips           Lambda binaries (profile dist) zipped as bootstrap, sizes (host architecture)
#   load-tests/run.sh aws [N...]     the deployed pipeline on MiniStack (starts it if needed)
#   load-tests/run.sh calls [N...]   AWS API calls of a report of N (100 1000), counted by an SDK interceptor
#   load-tests/run.sh tables         regenerate load-tests/README.md's tables and cost estimate from results/
#   load-tests/run.sh discovery [A R] discovery of A accounts x R regions (100 x 3) on MiniStack
#   load-tests/run.sh chaos [N]      one report of N (1000) on MiniStack while Lambda processes are killed,
#                                    deliveries duplicated and targets hang; asserts the invariants
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RESULTS=load-tests/results
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$RESULTS"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

# The login log every PostgreSQL row of the AWS benches names (src/lib.rs LOGIN_LOG_GROUP): in each
# load-test account, 90 days of csvlog records as RDS exports them, one login a day for each of five
# roles, plus an event older than the window (so it is covered). Written once per emulator.
login_logs() {
  "$DBADMIN_MINISTACK_VENV/bin/python" - <<'PY'
import boto3, os, time
ep = os.environ["AWS_ENDPOINT_URL"]
group = "/aws/rds/instance/bench-pg/postgresql"
now = int(time.time())
def line(t, user, message):
    ts = time.strftime("%Y-%m-%d %H:%M:%S.000 UTC", time.gmtime(t))
    record = f'{ts},"{user}","postgres",42,"10.0.0.5:40000",abc,2,"authentication",{ts},3/1,0,LOG,00000,"{message}",,,,,,,,,"","client backend",,0'
    return {"timestamp": t * 1000, "message": record}
for account in ("100000000000", "100000000001", "100000000002"):
    logs = boto3.client("logs", endpoint_url=ep, region_name="eu-west-1", aws_access_key_id=account, aws_secret_access_key="test")
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        continue
    logs.create_log_stream(logGroupName=group, logStreamName="bench-pg.0")
    events = [line(now - 100 * 86400, "", "checkpoint starting: time")]
    for day in range(90, 0, -1):
        for role in ("fx_super", "fx_createrole", "fx_file_reader", "fx_program", "fx_rds_master"):
            t = now - day * 86400
            events.append(line(t, role, f"connection authorized: user={role} database=postgres"))
    logs.put_log_events(logGroupName=group, logStreamName="bench-pg.0", logEvents=events)
PY
}

need() { # command package
  command -v "$1" >/dev/null 2>&1 && return
  echo "[load-tests] installing $2" >&2
  $SUDO apt-get install -y -q "$2" >/dev/null
}

step=${1:-local}; shift || true
case "$step" in
  local)
    need pt-show-grants percona-toolkit
    need psql postgresql-client
    scripts/test-servers.sh up
    eval "$(scripts/test-servers.sh env)"
    cargo build --quiet --release -p db-admin-report --no-default-features
    cargo build --quiet --release -p dbadmin-load-tests --bin local-bench
    "$TARGET/release/local-bench" "$@"
    ;;
  render)
    cargo build --quiet --release -p dbadmin-load-tests --bin render-bench
    html="$(mktemp --suffix=.html)"
    for _ in 1 2 3; do RENDER_BENCH_HTML="$html" "$TARGET/release/render-bench" 11112 20; done | tee "$RESULTS/render.jsonl"
    # How long a reviewer's browser takes to open that report.html (headless Chromium, to the DOM).
    if command -v chromium >/dev/null; then
      for _ in 1 2 3; do
        start=$(date +%s%N)
        chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$html" >/dev/null 2>&1
        echo "{\"html_bytes\": $(stat -c %s "$html"), \"chromium_load_ms\": $(( ($(date +%s%N) - start) / 1000000 ))}"
      done | tee "$RESULTS/render-html.jsonl"
    else
      echo "chromium is not installed: report.html's load time is not measured" >&2
    fi
    rm -f "$html"
    ;;
  criterion)
    cargo bench -p dbadmin-reporter --features testing --bench render -- --noplot 2>&1 | tee "$RESULTS/criterion.txt"
    ;;
  zips)
    need zip zip
    cargo build --quiet --profile dist -p dbadmin-publisher -p dbadmin-collector -p dbadmin-reporter \
      --features dbadmin-publisher/lambda,dbadmin-collector/lambda,dbadmin-reporter/lambda
    tmp=$(mktemp -d)
    : >"$RESULTS/zips.txt"
    for f in publisher collector reporter; do
      cp "$TARGET/dist/$f-lambda" "$tmp/bootstrap"
      (cd "$tmp" && rm -f "$f.zip" && zip -q -9 "$f.zip" bootstrap)
      printf '%s-lambda %s binary %s bytes, zip %s bytes\n' "$f" "$(uname -m)" \
        "$(stat -c %s "$TARGET/dist/$f-lambda")" "$(stat -c %s "$tmp/$f.zip")" | tee -a "$RESULTS/zips.txt"
    done
    rm -rf "$tmp"
    ;;
  aws)
    scripts/test-servers.sh up
    eval "$(scripts/test-servers.sh env)"
    scripts/aws-local.sh up
    eval "$(scripts/aws-local.sh env)"
    login_logs
    [ $# -gt 0 ] || set -- 10 100 1000
    cargo run --quiet --release -p dbadmin-load-tests --bin aws-bench -- "$@" | tee "$RESULTS/aws.json"
    ;;
  calls)
    scripts/test-servers.sh up
    eval "$(scripts/test-servers.sh env)"
    scripts/aws-local.sh up
    eval "$(scripts/aws-local.sh env)"
    login_logs
    [ $# -gt 0 ] || set -- 100 1000
    # The bench runs the three handlers in this process, as the account's root (IAM lets no person
    # be a function's role). The target roles trust only the deployed collector, so each load-test
    # account gets a copy of its role, same policies, that the root may assume: the calls counted
    # are the deployed collector's (AssumeRole, then GetSecretValue).
    "$DBADMIN_MINISTACK_VENV/bin/python" - <<'PY'
import boto3, json, os
o = json.load(open(os.environ["DBADMIN_AWS_OUTPUTS"]))
ep = os.environ["AWS_ENDPOINT_URL"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": "arn:aws:iam::000000000000:root"}}]}
for account in ("100000000000", "100000000001", "100000000002"):
    iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=account, aws_secret_access_key="test")
    name = o["target_role_name"]
    copy = name + "-bench"
    try:
        iam.create_role(RoleName=copy, AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        continue
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        iam.put_role_policy(RoleName=copy, PolicyName=policy, PolicyDocument=json.dumps(document))
PY
    # A debug build: calls are counted, not timed.
    cargo build --quiet -p dbadmin-load-tests --bin aws-bench
    AWS_ACCESS_KEY_ID=$DBADMIN_AWS_ADMIN_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$DBADMIN_AWS_ADMIN_SECRET_ACCESS_KEY \
      DBADMIN_BENCH_TARGET_ROLE_SUFFIX=-bench \
      "$TARGET/debug/aws-bench" calls "$@" | tee "$RESULTS/calls.json"
    ;;
  tables)
    # Rewrites load-tests/README.md's generated tables (and the cost estimate) from results/.
    python3 load-tests/tables.py
    ;;
  discovery)
    scripts/test-servers.sh up
    scripts/aws-local.sh up
    eval "$(scripts/aws-local.sh env)"
    cargo build --quiet -p dbadmin-load-tests --bin discovery-bench
    "$TARGET/debug/discovery-bench" "$@" | tee "$RESULTS/discovery.json"
    ;;
  chaos)
    scripts/test-servers.sh up
    eval "$(scripts/test-servers.sh env)"
    scripts/aws-local.sh up
    eval "$(scripts/aws-local.sh env)"
    login_logs
    # A debug build: the soak orchestrates and checks, it measures nothing that needs optimising.
    cargo build --quiet -p dbadmin-load-tests --bin chaos-bench
    "$TARGET/debug/chaos-bench" "$@" | tee "$RESULTS/chaos.json"
    ;;
  *) echo "usage: load-tests/run.sh local|render|criterion|zips|aws|calls|discovery|chaos|tables [args]" >&2; exit 2 ;;
esac
