#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for podium's durable tests and benchmarks.
#
#   scripts/postgres.sh            start it if needed; print its database URL
#   scripts/postgres.sh --export   print `export PODIUM_POSTGRES_URL=...`, for eval
#   scripts/postgres.sh stop       stop it
#
# Installs Debian's PostgreSQL when it is missing, keeps the cluster in $PODIUM_PG_DIR (default
# /tmp/podium-pg), listens on 127.0.0.1 only, on a free port chosen once. Idempotent: a running cluster
# is reused. Under root the server runs as the `postgres` user, as initdb refuses root. Durability is
# switched off (fsync, synchronous_commit): the cluster holds test data only.
set -euo pipefail
# runuser, and Debian's PostgreSQL tools, live in sbin, which a non-login shell's PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin

PGDIR=${PODIUM_PG_DIR:-/tmp/podium-pg}
DATA=$PGDIR/data
DBNAME=podium
DBUSER=podium

find_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $dir && -x $dir/initdb ]]; then
        echo "$dir"
    fi
}

BIN=$(find_bin)
if [[ -z $BIN ]]; then
    echo 'postgres.sh: installing PostgreSQL from Debian' >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    BIN=$(find_bin)
    [[ -n $BIN ]] || { echo 'postgres.sh: PostgreSQL installed but initdb not found' >&2; exit 1; }
fi

# Run a PostgreSQL program as the cluster's owner: `postgres` under root, the caller otherwise.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    echo "postgresql://$DBUSER@127.0.0.1:$(cat "$PGDIR/port")/$DBNAME"
}

if [[ ${1:-} == stop ]]; then
    if [[ -f $DATA/PG_VERSION ]]; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m immediate stop >&2 || true
    fi
    exit 0
fi

if [[ ! -f $DATA/PG_VERSION ]]; then
    mkdir -p "$PGDIR"
    rm -rf "$DATA"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$PGDIR"
    fi
    as_owner "$BIN/initdb" -D "$DATA" -U "$DBUSER" -A trust -E UTF8 --no-sync >/dev/null
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$PGDIR/port.tmp"
    mv "$PGDIR/port.tmp" "$PGDIR/port"
    cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $(cat "$PGDIR/port")
unix_socket_directories = '$DATA'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
fi

if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >/dev/null
fi

for _ in $(seq 1 60); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$PGDIR/port")"; then
        break
    fi
    sleep 0.5
done
if ! "$BIN/psql" -h 127.0.0.1 -p "$(cat "$PGDIR/port")" -U "$DBUSER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'" | grep -q 1; then
    "$BIN/createdb" -h 127.0.0.1 -p "$(cat "$PGDIR/port")" -U "$DBUSER" "$DBNAME"
fi

if [[ ${1:-} == --export ]]; then
    echo "export PODIUM_POSTGRES_URL=$(url)"
else
    url
fi
