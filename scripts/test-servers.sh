#!/usr/bin/env bash
# Starts (and stops) the real database servers the demo and the tests use, on loopback only:
#   MariaDB 10.11 and PostgreSQL 15 from Debian's packages; from Debian unstable, in debootstrap
#   chroots (Debian stable packages neither Oracle MySQL nor the newest releases): Oracle MySQL 9
#   (twice: the shared fixtures, and a second instance whose @@mandatory_roles would pollute them),
#   the newest PostgreSQL (one chroot with MySQL) and MariaDB 11 (its own chroot: mariadb-server and
#   mysql-server-core conflict), which alone holds the PUBLIC-grant fixture.
# Each gets its own data directory, a TLS certificate from a throw-away CA, and the fixture accounts
# of scripts/fixtures/. Installs whatever is missing. Stops only what it started (pid files).
#
# usage: scripts/test-servers.sh up [demo]|down|status|env
#   up demo: only the demo inventory's servers (MariaDB 10.11, Oracle MySQL, PostgreSQL 15).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${DBADMIN_STATE_DIR:-$ROOT/.state}
MARIADB_PORT=${DBADMIN_MARIADB_PORT:-13306}
MYSQL_PORT=${DBADMIN_MYSQL_PORT:-13307}
PG_PORT=${DBADMIN_PG_PORT:-15432}
MYSQL_MANDATORY_PORT=${DBADMIN_MYSQL_MANDATORY_PORT:-13308}
MARIADB_NEW_PORT=${DBADMIN_MARIADB_NEW_PORT:-13309}
PG_NEW_PORT=${DBADMIN_PG_NEW_PORT:-15433}
CACHE=${DBADMIN_CACHE:-/var/cache/db-admin-report}
CHROOT=${DBADMIN_MYSQL_CHROOT:-$CACHE/mysql-sid}
MARIADB_CHROOT=${DBADMIN_MARIADB_CHROOT:-$CACHE/mariadb-sid}
MYSQL_DIR_IN_CHROOT=/var/lib/dbadmin-$MYSQL_PORT
PG_NEW_DIR_IN_CHROOT=/var/lib/dbadmin-pg-$PG_NEW_PORT

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

# PostgreSQL runs as the postgres user, which must reach its data directory: under the checkout's
# state directory when it can (a checkout in a private folder, e.g. one from mktemp -d, it cannot),
# else under the cache.
pg_dir() {
  if id postgres >/dev/null 2>&1 && runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
    echo "$STATE/postgres"
  else
    echo "$CACHE/postgres-$PG_PORT"
  fi
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
  # The independent cross-check of MySQL/MariaDB grants (collector/tests/pt_show_grants.rs).
  command -v pt-show-grants >/dev/null || need+=(percona-toolkit libdbd-mysql-perl)
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

# sid_chroot DIR PACKAGES...: a Debian-unstable chroot at DIR holding PACKAGES (built once, cached;
# packages missing from a cached chroot are added).
sid_chroot() {
  local dir=$1; shift
  local log="$STATE/debootstrap-$(basename "$dir").log"
  local apt="apt-get -o Acquire::Check-Valid-Until=false"
  if [ ! -x "$dir/usr/bin/apt-get" ]; then
    local mirror partial="$dir.partial"
    mirror=$(debian_mirror)
    log "building a Debian unstable chroot at $dir (about a minute)"
    as_root rm -rf "$partial"
    as_root mkdir -p "$(dirname "$dir")"
    as_root debootstrap --variant=minbase sid "$partial" "$mirror" >"$log" 2>&1 \
      || die "debootstrap failed, see $log"
    as_root mv "$partial" "$dir"
  fi
  # Nothing installed in the chroot may start a service or create a cluster of its own.
  if [ ! -x "$dir/usr/sbin/policy-rc.d" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$dir/usr/sbin/policy-rc.d" >/dev/null
    as_root chmod 755 "$dir/usr/sbin/policy-rc.d"
  fi
  # debootstrap leaves no /etc/hosts; mariadb-install-db needs to resolve the host name.
  [ -f "$dir/etc/hosts" ] || printf '127.0.0.1 localhost %s\n' "$(hostname)" | as_root tee "$dir/etc/hosts" >/dev/null
  as_root mkdir -p "$dir/etc/postgresql-common"
  [ -f "$dir/etc/postgresql-common/createcluster.conf" ] \
    || echo 'create_main_cluster = false' | as_root tee "$dir/etc/postgresql-common/createcluster.conf" >/dev/null
  local missing=()
  for p in "$@"; do
    as_root chroot "$dir" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} into $dir"
  # Snapshot mirrors serve Release files past their Valid-Until date.
  # Some maintainer scripts (systemd-tmpfiles) need /proc; it is mounted for the install only.
  as_root chroot "$dir" sh -c "mount -t proc proc /proc; $apt update -qq && DEBIAN_FRONTEND=noninteractive \
      $apt install -y -qq --no-install-recommends ${missing[*]}; rc=\$?; umount /proc; exit \$rc" >>"$log" 2>&1 \
    || die "installing ${missing[*]} into $dir failed, see $log"
}

# The newest PostgreSQL in the sid chroot: its bin directory inside the chroot.
pg_new_bin() { (cd "$CHROOT" && ls -d usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 | sed 's|^|/|'); }

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
  local d bin
  d=$(pg_dir)
  bin=$(pg_bin)
  if alive "$d/postmaster.pid.copy" && runuser -u postgres -- "$bin/pg_ctl" -D "$d/data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on $PG_PORT"
  else
    postgres_start
  fi
  log "loading PostgreSQL fixtures"
  PGOPTIONS=--client-min-messages=warning psql -X -q -v ON_ERROR_STOP=1 -h "$d" -p "$PG_PORT" -U postgres -d postgres \
    -f "$ROOT/scripts/fixtures/postgres.sql" >/dev/null || die "loading PostgreSQL fixtures failed"
  # One login by a fixture admin over TLS, so the demo's Last Login Date dates it (the others have none).
  PGPASSWORD=pw PGSSLMODE=require psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U fx_super -d postgres -c 'SELECT 1' \
    >/dev/null || die "fx_super could not log in to PostgreSQL"
}

# Both PostgreSQL servers log every login, as jsonlog (escaped: a role name cannot forge a line),
# in UTC, to data/log/postgresql.json: the Last Login Date's evidence in collector/tests/postgres.rs.
PG_LOGIN_LOG="-c log_connections=on -c logging_collector=on -c log_destination=jsonlog -c log_directory=log \
-c log_filename=postgresql -c log_file_mode=0644 -c log_timezone=UTC -c log_rotation_size=0"

postgres_start() {
  local d bin
  d=$(pg_dir)
  bin=$(pg_bin)
  mkdir -p "$d"
  chown postgres: "$d"
  if [ ! -f "$d/data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $d/data"
    runuser -u postgres -- "$bin/initdb" -D "$d/data" --auth-local=trust --auth-host=scram-sha-256 \
      -U postgres >"$d/initdb.log" 2>&1 || die "initdb failed, see $d/initdb.log"
  fi
  # This checkout's certificate, at every start (a data directory under the cache outlives a checkout).
  install -o postgres -m 600 "$STATE/tls/server.key" "$d/data/server.key"
  install -o postgres -m 644 "$STATE/tls/server.pem" "$d/data/server.crt"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  runuser -u postgres -- "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $d -c ssl=on $PG_LOGIN_LOG" start >/dev/null \
    || { tail -n 20 "$d/server.log" >&2; die "PostgreSQL did not start"; }
  head -n 1 "$d/data/postmaster.pid" >"$d/postmaster.pid.copy"
}

# mysql_up PORT [EXTRA_OPTION] FIXTURES...: an Oracle MySQL instance of the sid chroot on PORT.
mysql_up() {
  local port=$1 option=$2; shift 2
  local c=/var/lib/dbadmin-$port
  local host_dir="$CHROOT$c"
  if alive "$host_dir/mysqld.pid"; then
    log "MySQL already running on $port"
  else
    mysql_start "$port" "$option"
  fi
  log "loading MySQL fixtures on $port"
  (for f in "$@"; do cat "$ROOT/scripts/fixtures/$f"; done) \
    | as_root chroot "$CHROOT" mysql --no-defaults --socket="$c/mysqld.sock" -uroot \
    || die "loading MySQL fixtures on $port failed"
}

mysql_start() {
  local port=$1 option=$2
  local c=/var/lib/dbadmin-$port
  local host_dir="$CHROOT$c"
  as_root mkdir -p "$host_dir"
  as_root cp "$STATE/tls/ca.pem" "$STATE/tls/server.pem" "$STATE/tls/server.key" "$host_dir/"
  if [ ! -d "$host_dir/data/mysql" ]; then
    log "initialising Oracle MySQL in $host_dir/data"
    as_root chroot "$CHROOT" /usr/sbin/mysqld --no-defaults --initialize-insecure --datadir="$c/data" --user=root \
      >"$STATE/mysql-init-$port.log" 2>&1 || die "mysqld --initialize failed, see $STATE/mysql-init-$port.log"
  fi
  log "starting Oracle MySQL on 127.0.0.1:$port"
  as_root chroot "$CHROOT" /usr/sbin/mysqld --no-defaults --datadir="$c/data" --user=root --port="$port" \
    --bind-address=127.0.0.1 --socket="$c/mysqld.sock" --pid-file="$c/mysqld.pid" --log-error="$c/error.log" \
    --mysqlx=OFF --secure-file-priv=NULL --skip-name-resolve $option \
    --ssl-ca="$c/ca.pem" --ssl-cert="$c/server.pem" --ssl-key="$c/server.key" >/dev/null 2>&1 &
  wait_for MySQL 90 as_root chroot "$CHROOT" mysqladmin --no-defaults --socket="$c/mysqld.sock" -uroot ping \
    || { tail -n 20 "$host_dir/error.log" >&2; die "MySQL did not start on $port"; }
}

# MariaDB 11 from the second sid chroot, on its own port: the PUBLIC grant reaches every account.
mariadb_new_up() {
  local c=/var/lib/dbadmin-$MARIADB_NEW_PORT
  local host_dir="$MARIADB_CHROOT$c"
  if alive "$host_dir/mysqld.pid"; then
    log "MariaDB 11 already running on $MARIADB_NEW_PORT"
  else
    as_root mkdir -p "$host_dir"
    as_root cp "$STATE/tls/ca.pem" "$STATE/tls/server.pem" "$STATE/tls/server.key" "$host_dir/"
    if [ ! -d "$host_dir/data/mysql" ]; then
      log "initialising MariaDB 11 in $host_dir/data"
      as_root chroot "$MARIADB_CHROOT" mariadb-install-db --no-defaults --datadir="$c/data" --user=root \
        --skip-test-db --skip-name-resolve --auth-root-authentication-method=socket >"$STATE/mariadb-new-init.log" 2>&1 \
        || die "mariadb-install-db (11) failed, see $STATE/mariadb-new-init.log"
    fi
    log "starting MariaDB 11 on 127.0.0.1:$MARIADB_NEW_PORT"
    as_root chroot "$MARIADB_CHROOT" mariadbd --no-defaults --datadir="$c/data" --user=root \
      --port="$MARIADB_NEW_PORT" --bind-address=127.0.0.1 --socket="$c/mysqld.sock" --pid-file="$c/mysqld.pid" \
      --log-error="$c/error.log" --skip-name-resolve \
      --ssl-ca="$c/ca.pem" --ssl-cert="$c/server.pem" --ssl-key="$c/server.key" >/dev/null 2>&1 &
    wait_for "MariaDB 11" 60 as_root chroot "$MARIADB_CHROOT" mariadb-admin --no-defaults --socket="$c/mysqld.sock" -uroot ping \
      || { tail -n 20 "$host_dir/error.log" >&2; die "MariaDB 11 did not start"; }
  fi
  log "loading MariaDB 11 fixtures"
  cat "$ROOT/scripts/fixtures/mysql-family.sql" "$ROOT/scripts/fixtures/mariadb.sql" "$ROOT/scripts/fixtures/mariadb-public.sql" \
    | as_root chroot "$MARIADB_CHROOT" mariadb --no-defaults --socket="$c/mysqld.sock" -uroot \
    || die "loading MariaDB 11 fixtures failed"
}

# The newest PostgreSQL from the sid chroot, beside Debian stable's. It archives WAL (archive_mode on,
# a command that keeps nothing), so ALTER SYSTEM on archive_command works there: the definition's
# parameter rule is tested both ways (off on the stable PostgreSQL).
postgres_new_up() {
  local c=$PG_NEW_DIR_IN_CHROOT bin
  local host_dir="$CHROOT$c"
  bin=$(pg_new_bin)
  [ -n "$bin" ] || die "no PostgreSQL in $CHROOT"
  if [ -f "$host_dir/data/postmaster.pid" ] && alive "$host_dir/postmaster.pid.copy"; then
    log "newest PostgreSQL already running on $PG_NEW_PORT"
  else
    as_root mkdir -p "$host_dir"
    as_root chroot "$CHROOT" chown postgres: "$c"
    if [ ! -f "$host_dir/data/PG_VERSION" ]; then
      log "initialising PostgreSQL ($bin) in $host_dir/data"
      as_root chroot --userspec=postgres:postgres "$CHROOT" "$bin/initdb" -D "$c/data" --auth-local=trust \
        --auth-host=scram-sha-256 -U postgres >"$STATE/pg-new-init.log" 2>&1 \
        || die "initdb (newest) failed, see $STATE/pg-new-init.log"
    fi
    # The data directory outlives a checkout (it is in the shared chroot): its certificate is this
    # checkout's, copied at every start.
    as_root cp "$STATE/tls/server.key" "$host_dir/data/server.key"
    as_root cp "$STATE/tls/server.pem" "$host_dir/data/server.crt"
    as_root chroot "$CHROOT" sh -c "chown postgres: $c/data/server.key $c/data/server.crt && chmod 600 $c/data/server.key"
    log "starting the newest PostgreSQL on 127.0.0.1:$PG_NEW_PORT"
    as_root chroot --userspec=postgres:postgres "$CHROOT" "$bin/pg_ctl" -D "$c/data" -l "$c/server.log" -w -t 60 \
      -o "-p $PG_NEW_PORT -c listen_addresses=127.0.0.1 -k $c -c ssl=on -c archive_mode=on -c archive_command=/bin/true $PG_LOGIN_LOG" start >/dev/null \
      || { tail -n 20 "$host_dir/server.log" >&2; die "the newest PostgreSQL did not start"; }
    head -n 1 "$host_dir/data/postmaster.pid" | as_root tee "$host_dir/postmaster.pid.copy" >/dev/null
  fi
  log "loading the newest PostgreSQL's fixtures"
  cat "$ROOT/scripts/fixtures/postgres.sql" "$ROOT/scripts/fixtures/postgres-16plus.sql" \
    | as_root chroot "$CHROOT" env PGOPTIONS=--client-min-messages=warning psql -X -q -v ON_ERROR_STOP=1 \
      -h "$c" -p "$PG_NEW_PORT" -U postgres -d postgres >/dev/null \
    || die "loading the newest PostgreSQL's fixtures failed"
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
  stop_pid "MySQL (mandatory roles)" "$CHROOT/var/lib/dbadmin-$MYSQL_MANDATORY_PORT/mysqld.pid"
  stop_pid "MariaDB 11" "$MARIADB_CHROOT/var/lib/dbadmin-$MARIADB_NEW_PORT/mysqld.pid"
  if [ -f "$CHROOT$PG_NEW_DIR_IN_CHROOT/data/postmaster.pid" ] && [ -f "$CHROOT$PG_NEW_DIR_IN_CHROOT/postmaster.pid.copy" ]; then
    log "stopping the newest PostgreSQL"
    as_root chroot --userspec=postgres:postgres "$CHROOT" "$(pg_new_bin)/pg_ctl" -D "$PG_NEW_DIR_IN_CHROOT/data" -m fast -w stop \
      >/dev/null 2>&1 || true
    as_root rm -f "$CHROOT$PG_NEW_DIR_IN_CHROOT/postmaster.pid.copy"
  fi
  local pg; pg=$(pg_dir)
  if [ -f "$pg/data/postmaster.pid" ] && [ -f "$pg/postmaster.pid.copy" ]; then
    log "stopping PostgreSQL"
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -f "$pg/postmaster.pid.copy"
  fi
}

env_out() {
  cat <<ENV
export DBADMIN_STATE_DIR=$STATE
export DBADMIN_TEST_MARIADB_PORT=$MARIADB_PORT
export DBADMIN_TEST_MYSQL_PORT=$MYSQL_PORT
export DBADMIN_TEST_PG_PORT=$PG_PORT
export DBADMIN_TEST_MYSQL_MANDATORY_PORT=$MYSQL_MANDATORY_PORT
export DBADMIN_TEST_MARIADB_NEW_PORT=$MARIADB_NEW_PORT
export DBADMIN_TEST_PG_NEW_PORT=$PG_NEW_PORT
export DBADMIN_TEST_CA_FILE=$STATE/tls/ca.pem
export DBADMIN_TEST_PG_LOGIN_LOG=$(pg_dir)/data/log/postgresql.json
export DBADMIN_TEST_PG_NEW_LOGIN_LOG=$CHROOT$PG_NEW_DIR_IN_CHROOT/data/log/postgresql.json
ENV
}

case "${1:-}" in
  up)
    mkdir -p "$STATE"
    ensure_packages
    ensure_certs
    # Each server starts in its own job; the chroots build meanwhile (network, then dpkg).
    pids=()
    (mariadb_up) & pids+=($!)
    (postgres_up) & pids+=($!)
    if [ "${DBADMIN_SKIP_CHROOTS:-${DBADMIN_SKIP_MYSQL:-0}}" = 1 ]; then
      log "DBADMIN_SKIP_CHROOTS=1: not starting the servers from Debian unstable"
    elif [ "${2:-}" = demo ]; then
      # The demo needs the three servers of its inventory only.
      (sid_chroot "$CHROOT" mysql-server-core mysql-client-core \
        && mysql_up "$MYSQL_PORT" --partial-revokes=ON mysql-family.sql mysql.sql) & pids+=($!)
    else
      (
        sid_chroot "$CHROOT" mysql-server-core mysql-client-core postgresql
        sub=()
        (mysql_up "$MYSQL_PORT" --partial-revokes=ON mysql-family.sql mysql.sql) & sub+=($!)
        (mysql_up "$MYSQL_MANDATORY_PORT" "" mysql-mandatory.sql) & sub+=($!)
        (postgres_new_up) & sub+=($!)
        for p in "${sub[@]}"; do wait "$p" || exit 1; done
      ) & pids+=($!)
      (sid_chroot "$MARIADB_CHROOT" mariadb-server mariadb-client && mariadb_new_up) & pids+=($!)
    fi
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    [ "$failed" = 0 ] || die "a server did not come up (see the lines above)"
    log "servers are up"
    ;;
  down) down ;;
  status)
    alive "$STATE/mariadb/mysqld.pid" && echo "mariadb: up ($MARIADB_PORT)" || echo "mariadb: down"
    alive "$CHROOT$MYSQL_DIR_IN_CHROOT/mysqld.pid" && echo "mysql: up ($MYSQL_PORT)" || echo "mysql: down"
    alive "$CHROOT/var/lib/dbadmin-$MYSQL_MANDATORY_PORT/mysqld.pid" && echo "mysql-mandatory: up ($MYSQL_MANDATORY_PORT)" || echo "mysql-mandatory: down"
    alive "$MARIADB_CHROOT/var/lib/dbadmin-$MARIADB_NEW_PORT/mysqld.pid" && echo "mariadb-new: up ($MARIADB_NEW_PORT)" || echo "mariadb-new: down"
    [ -f "$CHROOT$PG_NEW_DIR_IN_CHROOT/data/postmaster.pid" ] && echo "postgres-new: up ($PG_NEW_PORT)" || echo "postgres-new: down"
    [ -f "$(pg_dir)/data/postmaster.pid" ] && echo "postgres: up ($PG_PORT)" || echo "postgres: down"
    ;;
  env) env_out ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
