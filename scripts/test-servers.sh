#!/usr/bin/env bash
# Starts (and stops) the real database servers the demo and the tests use, on loopback only:
#   MariaDB 10.11 and PostgreSQL 15 from Debian's packages, and Oracle MySQL 9 from Debian unstable
#   in a debootstrap chroot (Debian stable packages no Oracle MySQL).
# Each gets its own data directory, a TLS certificate from a throw-away CA, and the fixture accounts
# of scripts/fixtures/. Installs whatever is missing. Stops only what it started (pid files).
#
# usage: scripts/test-servers.sh up|down|status|env
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${DBADMIN_STATE_DIR:-$ROOT/.state}
MARIADB_PORT=${DBADMIN_MARIADB_PORT:-13306}
MYSQL_PORT=${DBADMIN_MYSQL_PORT:-13307}
PG_PORT=${DBADMIN_PG_PORT:-15432}
CHROOT=${DBADMIN_MYSQL_CHROOT:-${DBADMIN_CACHE:-/var/cache/db-admin-report}/mysql-sid}
MYSQL_DIR_IN_CHROOT=/var/lib/dbadmin-$MYSQL_PORT

log() { printf '[test-servers] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { log "apt-get update"; as_root apt-get update -qq >/dev/null; apt_updated=1; }
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

ensure_packages() {
  local need=()
  command -v mariadbd >/dev/null || need+=(mariadb-server mariadb-client)
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || need+=(postgresql)
  command -v psql >/dev/null || need+=(postgresql-client)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v openssl >/dev/null || need+=(openssl)
  command -v runuser >/dev/null || need+=(util-linux)
  if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
  id postgres >/dev/null 2>&1 || die "the postgresql package did not create the postgres user"
}

# The Debian mirror this machine's apt already uses, so the chroot comes from the same place.
debian_mirror() {
  local uri
  uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -v security | head -n 1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}')
  [ -n "$uri" ] || die "cannot find a Debian mirror in /etc/apt/sources.list*"
  echo "$uri"
}

ensure_mysql_chroot() {
  [ -x "$CHROOT/usr/sbin/mysqld" ] && return 0
  local mirror partial="$CHROOT.partial"
  mirror=$(debian_mirror)
  log "building the Oracle MySQL chroot at $CHROOT from Debian unstable (about a minute)"
  as_root rm -rf "$partial"
  as_root mkdir -p "$(dirname "$CHROOT")"
  as_root debootstrap --variant=minbase sid "$partial" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
    || die "debootstrap failed, see $STATE/debootstrap.log"
  # Snapshot mirrors serve Release files past their Valid-Until date.
  as_root chroot "$partial" sh -c "apt-get -o Acquire::Check-Valid-Until=false update -qq && \
      DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false install -y -qq \
      --no-install-recommends mysql-server-core mysql-client-core" >>"$STATE/debootstrap.log" 2>&1 \
    || die "installing MySQL into the chroot failed, see $STATE/debootstrap.log"
  as_root mv "$partial" "$CHROOT"
}

ensure_certs() {
  local d="$STATE/tls"
  [ -f "$d/server.pem" ] && return 0
  mkdir -p "$d"
  log "creating a throw-away CA and a server certificate for 127.0.0.1 and localhost"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=db-admin-report test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
  chmod 644 "$d/ca.pem" "$d/server.pem"
  chmod 600 "$d/ca.key" "$d/server.key"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls a readiness check, fails with the log when it never passes.
wait_for() {
  local what=$1 limit=$2; shift 2
  local i
  for ((i = 0; i < limit * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

mariadb_up() {
  local d="$STATE/mariadb"
  if alive "$d/mysqld.pid"; then
    log "MariaDB already running on $MARIADB_PORT"
  else
    mariadb_start
  fi
  log "loading MariaDB fixtures"
  cat "$ROOT/scripts/fixtures/mysql-family.sql" "$ROOT/scripts/fixtures/mariadb.sql" \
    | mariadb --no-defaults --socket="$d/mysqld.sock" -uroot \
    || die "loading MariaDB fixtures failed"
}

mariadb_start() {
  local d="$STATE/mariadb"
  mkdir -p "$d"
  if [ ! -d "$d/data/mysql" ]; then
    log "initialising MariaDB in $d/data"
    mariadb-install-db --no-defaults --datadir="$d/data" --user=root --skip-test-db \
      --auth-root-authentication-method=socket >"$d/install.log" 2>&1 || die "mariadb-install-db failed, see $d/install.log"
  fi
  log "starting MariaDB on 127.0.0.1:$MARIADB_PORT"
  mariadbd --no-defaults --datadir="$d/data" --user=root --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
    --socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --log-error="$d/error.log" --skip-name-resolve \
    --ssl-ca="$STATE/tls/ca.pem" --ssl-cert="$STATE/tls/server.pem" --ssl-key="$STATE/tls/server.key" \
    >/dev/null 2>&1 &
  wait_for MariaDB 60 mariadb-admin --no-defaults --socket="$d/mysqld.sock" -uroot ping \
    || { tail -n 20 "$d/error.log" >&2; die "MariaDB did not start"; }
}

postgres_up() {
  local d="$STATE/postgres" bin
  bin=$(pg_bin)
  if alive "$d/postmaster.pid.copy" && runuser -u postgres -- "$bin/pg_ctl" -D "$d/data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on $PG_PORT"
  else
    postgres_start
  fi
  log "loading PostgreSQL fixtures"
  PGOPTIONS=--client-min-messages=warning psql -X -q -v ON_ERROR_STOP=1 -h "$d" -p "$PG_PORT" -U postgres -d postgres \
    -f "$ROOT/scripts/fixtures/postgres.sql" >/dev/null || die "loading PostgreSQL fixtures failed"
}

postgres_start() {
  local d="$STATE/postgres" bin
  bin=$(pg_bin)
  mkdir -p "$d"
  chown postgres: "$d"
  if [ ! -f "$d/data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $d/data"
    runuser -u postgres -- "$bin/initdb" -D "$d/data" --auth-local=trust --auth-host=scram-sha-256 \
      -U postgres >"$d/initdb.log" 2>&1 || die "initdb failed, see $d/initdb.log"
    install -o postgres -m 600 "$STATE/tls/server.key" "$d/data/server.key"
    install -o postgres -m 644 "$STATE/tls/server.pem" "$d/data/server.crt"
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  runuser -u postgres -- "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $d -c ssl=on" start >/dev/null \
    || { tail -n 20 "$d/server.log" >&2; die "PostgreSQL did not start"; }
  head -n 1 "$d/data/postmaster.pid" >"$d/postmaster.pid.copy"
}

mysql_up() {
  local host_dir="$CHROOT$MYSQL_DIR_IN_CHROOT" c=$MYSQL_DIR_IN_CHROOT
  ensure_mysql_chroot
  if alive "$host_dir/mysqld.pid"; then
    log "MySQL already running on $MYSQL_PORT"
  else
    mysql_start
  fi
  log "loading MySQL fixtures"
  cat "$ROOT/scripts/fixtures/mysql-family.sql" "$ROOT/scripts/fixtures/mysql.sql" \
    | as_root chroot "$CHROOT" mysql --no-defaults --socket="$c/mysqld.sock" -uroot \
    || die "loading MySQL fixtures failed"
}

mysql_start() {
  local host_dir="$CHROOT$MYSQL_DIR_IN_CHROOT" c=$MYSQL_DIR_IN_CHROOT
  as_root mkdir -p "$host_dir"
  as_root cp "$STATE/tls/ca.pem" "$STATE/tls/server.pem" "$STATE/tls/server.key" "$host_dir/"
  if [ ! -d "$host_dir/data/mysql" ]; then
    log "initialising Oracle MySQL in $host_dir/data"
    as_root chroot "$CHROOT" /usr/sbin/mysqld --no-defaults --initialize-insecure --datadir="$c/data" --user=root \
      >"$STATE/mysql-init.log" 2>&1 || die "mysqld --initialize failed, see $STATE/mysql-init.log"
  fi
  log "starting Oracle MySQL on 127.0.0.1:$MYSQL_PORT"
  as_root chroot "$CHROOT" /usr/sbin/mysqld --no-defaults --datadir="$c/data" --user=root --port="$MYSQL_PORT" \
    --bind-address=127.0.0.1 --socket="$c/mysqld.sock" --pid-file="$c/mysqld.pid" --log-error="$c/error.log" \
    --mysqlx=OFF --secure-file-priv=NULL --skip-name-resolve --partial-revokes=ON \
    --ssl-ca="$c/ca.pem" --ssl-cert="$c/server.pem" --ssl-key="$c/server.key" >/dev/null 2>&1 &
  wait_for MySQL 90 as_root chroot "$CHROOT" mysqladmin --no-defaults --socket="$c/mysqld.sock" -uroot ping \
    || { tail -n 20 "$host_dir/error.log" >&2; die "MySQL did not start"; }
}

stop_pid() {
  local name=$1 pidfile=$2
  alive "$pidfile" || return 0
  local pid; pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null || true
  wait_for "$name to stop" 60 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
}

down() {
  stop_pid MariaDB "$STATE/mariadb/mysqld.pid"
  stop_pid MySQL "$CHROOT$MYSQL_DIR_IN_CHROOT/mysqld.pid"
  if [ -f "$STATE/postgres/data/postmaster.pid" ] && [ -f "$STATE/postgres/postmaster.pid.copy" ]; then
    log "stopping PostgreSQL"
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$STATE/postgres/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -f "$STATE/postgres/postmaster.pid.copy"
  fi
}

env_out() {
  cat <<ENV
export DBADMIN_STATE_DIR=$STATE
export DBADMIN_TEST_MARIADB_PORT=$MARIADB_PORT
export DBADMIN_TEST_MYSQL_PORT=$MYSQL_PORT
export DBADMIN_TEST_PG_PORT=$PG_PORT
export DBADMIN_TEST_CA_FILE=$STATE/tls/ca.pem
ENV
}

case "${1:-}" in
  up)
    mkdir -p "$STATE"
    ensure_packages
    ensure_certs
    mariadb_up
    postgres_up
    if [ "${DBADMIN_SKIP_MYSQL:-0}" = 1 ]; then log "DBADMIN_SKIP_MYSQL=1: not starting Oracle MySQL"; else mysql_up; fi
    log "servers are up"
    ;;
  down) down ;;
  status)
    alive "$STATE/mariadb/mysqld.pid" && echo "mariadb: up ($MARIADB_PORT)" || echo "mariadb: down"
    alive "$CHROOT$MYSQL_DIR_IN_CHROOT/mysqld.pid" && echo "mysql: up ($MYSQL_PORT)" || echo "mysql: down"
    [ -f "$STATE/postgres/data/postmaster.pid" ] && echo "postgres: up ($PG_PORT)" || echo "postgres: down"
    ;;
  env) env_out ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
