#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the tests (the store and nurse-line tests run
# against it as well as SQLite).
#
#   eval "$(scripts/postgres.sh start)"   # exports IVR_TEST_POSTGRES_URL and IVR_TEST_POSTGRES_DIR
#   scripts/postgres.sh stop              # stops the server in $IVR_TEST_POSTGRES_DIR, deletes its files
#
# `start` makes a new cluster (initdb) in a temporary folder owned by the `postgres` user
# (PostgreSQL refuses to run as root, and the tests and CI run as root), on a free port,
# listening on 127.0.0.1 only, with a database `ivr_test`. Its stdout is only the export lines;
# when PostgreSQL is not installed or does not start it prints nothing there, says why on
# stderr, and exits 0: the PostgreSQL part of the tests is then skipped, visibly.
set -uo pipefail

say() { echo "postgres.sh: $*" >&2; }

unavailable() {
    say "$* -- the PostgreSQL part of the tests is SKIPPED (install Debian's postgresql: scripts/setup.sh --dev)."
    exit 0
}

bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/postgres" ]; then
        pg_config --bindir
        return
    fi
    # Debian keeps the server programs out of PATH, one folder per major version: take the newest.
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$dir" ] && [ -x "$dir/postgres" ] && echo "$dir"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bin dir port as_user=()
    bin="$(bindir)" || unavailable "PostgreSQL is not installed (no postgres program found)"
    [ -n "$bin" ] || unavailable "PostgreSQL is not installed (no postgres program found)"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/ivr-postgres.XXXXXX")" || unavailable "cannot make a temporary folder"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || unavailable "running as root and there is no 'postgres' user to run the server as"
        chown postgres: "$dir"
        as_user=(runuser -u postgres --)
    fi
    port="$(free_port)"
    # trust on 127.0.0.1 and the private socket only: a throwaway server for tests, nothing else reaches it.
    if ! "${as_user[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        unavailable "initdb failed"
    fi
    # fsync off: the server is thrown away after the run; the crash test kills the app, not PostgreSQL.
    if ! "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c max_connections=200" start >/dev/null; then
        cat "$dir/server.log" >&2
        rm -rf "$dir"
        unavailable "the server did not start"
    fi
    if ! "${as_user[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE ivr_test" >&2; then
        "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
        rm -rf "$dir"
        unavailable "could not create the test database"
    fi
    say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (files in $dir)"
    echo "export IVR_TEST_POSTGRES_URL='postgresql+psycopg://postgres@127.0.0.1:$port/ivr_test'"
    echo "export IVR_TEST_POSTGRES_DIR='$dir'"
}

stop() {
    local dir="${1:-${IVR_TEST_POSTGRES_DIR:-}}" bin as_user=()
    [ -n "$dir" ] && [ -d "$dir/data" ] || return 0
    bin="$(bindir)" || return 0
    [ "$(id -u)" -eq 0 ] && as_user=(runuser -u postgres --)
    "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: scripts/postgres.sh start|stop [DIR]" >&2; exit 2 ;;
esac
