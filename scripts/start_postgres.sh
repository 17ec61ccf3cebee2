#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the `postgres` dbt target (profiles.yml), idempotently.
#
#   scripts/start_postgres.sh          start (or confirm running) and create the role and database
#   scripts/start_postgres.sh stop     stop it (the data directory is kept until removed by hand)
#   scripts/start_postgres.sh status   exit 0 when it answers
#
# - the server is Debian's `postgresql` package (apt-get install when missing and running as root);
# - PostgreSQL refuses to run as root: as root the server runs as the system user $PG_OS_USER (created here,
#   no login shell, no home); as any other user it runs as that user;
# - data directory: $PG_DATA_DIR (default: a folder under ${TMPDIR:-/tmp}), initialised on first start;
# - it listens on 127.0.0.1 only (no TCP on other interfaces), port $PGPORT (55432), its Unix socket in the
#   data directory; password authentication (scram-sha-256) for the role $PGUSER / $PGPASSWORD;
# - the role owns the database $PGDATABASE. The connection settings are the libpq variables that
#   profiles.yml and scripts/load_raw.py read, with the same defaults:
#     PGHOST=127.0.0.1 PGPORT=55432 PGUSER=dbt PGPASSWORD=dbt PGDATABASE=customer_segmentation
set -euo pipefail

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-55432}"
PGUSER="${PGUSER:-dbt}"
PGPASSWORD="${PGPASSWORD:-dbt}"
PGDATABASE="${PGDATABASE:-customer_segmentation}"
PG_OS_USER="${PG_OS_USER:-dbt_postgres}"
PG_DATA_DIR="${PG_DATA_DIR:-${TMPDIR:-/tmp}/customer_segmentation_pg_${PGPORT}}"
ACTION="${1:-start}"

say() { echo "start_postgres: $*" >&2; }

if [ "$PGHOST" != "127.0.0.1" ] && [ "$PGHOST" != "localhost" ]; then
    say "PGHOST=$PGHOST is not this machine: this script only starts a local server (127.0.0.1)"
    exit 2
fi

# --- the server binaries (Debian keeps them under /usr/lib/postgresql/<major>/bin, off the PATH) ---------------
find_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then echo "$dir"; fi
}
BINDIR="$(find_bindir)"
if [ -z "$BINDIR" ]; then
    if [ "$ACTION" != "start" ]; then say "PostgreSQL is not installed"; exit 1; fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian's postgresql package"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        BINDIR="$(find_bindir)"
    fi
    if [ -z "$BINDIR" ]; then
        say "no PostgreSQL server found under /usr/lib/postgresql/*/bin: install Debian's postgresql package"
        exit 1
    fi
fi

# --- who runs it -------------------------------------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        say "creating the system user $PG_OS_USER (PostgreSQL does not run as root)"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
    fi
    as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
    as_pg() { "$@"; }
fi

pg_ctl_() { as_pg "$BINDIR/pg_ctl" -D "$PG_DATA_DIR" "$@"; }
answers() { "$BINDIR/pg_isready" -q -h "$PGHOST" -p "$PGPORT" >/dev/null 2>&1; }
running_here() { [ -f "$PG_DATA_DIR/postmaster.pid" ] && pg_ctl_ status >/dev/null 2>&1; }

case "$ACTION" in
    stop)
        if running_here; then pg_ctl_ stop -m fast -w >/dev/null; say "stopped ($PG_DATA_DIR)"; else say "not running"; fi
        exit 0 ;;
    status)
        if answers; then say "answering on $PGHOST:$PGPORT"; exit 0; else say "not answering on $PGHOST:$PGPORT"; exit 1; fi ;;
    start) ;;
    *) say "usage: $0 [start|stop|status]"; exit 2 ;;
esac

# --- initialise the data directory once --------------------------------------------------------------------------
if [ ! -f "$PG_DATA_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_DATA_DIR"
    [ "$(id -u)" = 0 ] && chown "$PG_OS_USER" "$PG_DATA_DIR"
    chmod 700 "$PG_DATA_DIR"
    pwfile="$(mktemp)"
    printf '%s\n' "$PGPASSWORD" > "$pwfile"
    [ "$(id -u)" = 0 ] && chown "$PG_OS_USER" "$pwfile"
    say "initdb $PG_DATA_DIR (superuser $PGUSER)"
    as_pg "$BINDIR/initdb" -D "$PG_DATA_DIR" --username="$PGUSER" --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    # a throw-away development server: no fsync, small memory, one machine's loopback only
    cat >> "$PG_DATA_DIR/postgresql.conf" <<EOF

# scripts/start_postgres.sh
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PG_DATA_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
work_mem = 64MB
max_connections = 20
timezone = 'UTC'
EOF
fi

# --- start unless this data directory's server already runs -------------------------------------------------------
if running_here; then
    say "already running ($PG_DATA_DIR)"
else
    if answers; then
        say "another server already answers on $PGHOST:$PGPORT: set PGPORT to a free port"
        exit 1
    fi
    say "starting on $PGHOST:$PGPORT ($PG_DATA_DIR, log $PG_DATA_DIR/server.log)"
    pg_ctl_ start -w -t 60 -l "$PG_DATA_DIR/server.log" >/dev/null
fi

# --- the database (the role is the superuser created by initdb) ---------------------------------------------------
export PGPASSWORD
exists="$("$BINDIR/psql" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -tAc \
    "select 1 from pg_database where datname = '$PGDATABASE'")"
if [ "$exists" != "1" ]; then
    "$BINDIR/psql" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc "create database \"$PGDATABASE\"" >/dev/null
    say "created database $PGDATABASE"
fi
say "ready: postgresql://$PGUSER@$PGHOST:$PGPORT/$PGDATABASE"
