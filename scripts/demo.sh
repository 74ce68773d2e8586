#!/usr/bin/env bash
# From nothing to a stored conversation: make .venv and install synap with its local server,
# start `synap serve` on an ephemeral port with a throwaway SQLite file, run examples/demo.py
# against it (a live chat with the blocking client, a backfill with the async client, a
# document batch), show what `synap inspect` says is stored, and stop the server.
# Needs only Python 3.11+ and pip (and the package index, the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== .venv: synap with the server extra"
export SYNAP_EXTRAS=server # not the whole dev set
. scripts/_venv.sh
ensure_venv

workdir="$(mktemp -d "${TMPDIR:-/tmp}/synap-demo.XXXXXX")"
db="$workdir/synap.db"
server_pid=""

stop_server() {
    local status=$?
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true # a clean stop; it finishes what it started
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -s "$workdir/server.log" ]; then
        echo "-- the server's log:" >&2
        tail -n 20 "$workdir/server.log" >&2
    fi
    rm -rf "$workdir"
}
trap stop_server EXIT

echo "== starting the local Synap server (python -m synap serve --port 0 --db $db)"
python -m synap serve --port 0 --db "$db" >"$workdir/server.out" 2>"$workdir/server.log" &
server_pid=$!

# It prints SYNAP_BASE_URL=... and SYNAP_API_KEY=... as its first two lines once it listens.
for _ in $(seq 300); do # at most ~30 s
    [ "$(wc -l <"$workdir/server.out")" -ge 2 ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "demo: the server exited before it was ready" >&2
        exit 1
    fi
    sleep 0.1
done
if [ "$(wc -l <"$workdir/server.out")" -lt 2 ]; then
    echo "demo: the server did not print its URL and key within 30 s" >&2
    exit 1
fi
SYNAP_BASE_URL="$(sed -n 's/^SYNAP_BASE_URL=//p' "$workdir/server.out")"
SYNAP_API_KEY="$(sed -n 's/^SYNAP_API_KEY=//p' "$workdir/server.out")"
export SYNAP_BASE_URL SYNAP_API_KEY
echo "   serving at $SYNAP_BASE_URL"

echo
echo "== python examples/demo.py"
python examples/demo.py

echo
echo "== python -m synap inspect --db $db (what the server stored)"
python -m synap inspect --db "$db"
