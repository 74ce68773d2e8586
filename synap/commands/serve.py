"""`synap serve`: run the local Synap server in the foreground until Ctrl+C or SIGTERM.

Prints exactly two lines to stdout, flushed, before anything else (scripts parse them):

    SYNAP_BASE_URL=http://127.0.0.1:PORT
    SYNAP_API_KEY=synap_...

Everything meant for people (startup notes, access log, fault counters) goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys

SERVER_EXTRA_HINT = "the local server needs the server extra: pip install 'synap-memory[server]'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--db", default="synap.db", help="SQLite file (default ./synap.db)")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY[=CUSTOMER]",
        help="accepted key, repeatable; KEY=CUSTOMER binds it to one customer "
        "(default: one generated key)",
    )
    parser.add_argument(
        "--tenancy",
        choices=("b2b", "b2c"),
        default="b2b",
        help="b2b: customer_id required on messages (default); b2c: resolved from user_id",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=None,
        help="larger bodies get 413 (default 4 MiB)",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject faults, e.g. '503=0.1,429=0.05,drop_after=0.05,latency=0.02,"
        "latency_seconds=2,retry_after=1' (kinds: 500 502 503 504 429 drop_before "
        "drop_after latency)",
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log each request to stderr (default on)",
    )


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is 0..65535")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive number of bytes")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        from synap.server.app import DEFAULT_MAX_BODY_BYTES, parse_api_keys
        from synap.server.faults import FaultPlan
        from synap.server.runner import LocalServer
    except ImportError as error:
        print(f"synap serve: {SERVER_EXTRA_HINT} ({error})", file=sys.stderr)
        return 1
    try:
        api_keys = parse_api_keys(args.api_key) or None
        faults = FaultPlan.parse(args.faults, seed=args.fault_seed) if args.faults else None
    except ValueError as error:
        print(f"synap serve: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    server = LocalServer(
        args.db,
        api_keys=api_keys,
        tenancy=args.tenancy,
        faults=faults,
        max_body_bytes=args.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
        host=args.host,
        port=args.port,
        access_log=args.access_log,
    )

    def ready(server: LocalServer) -> None:
        sys.stdout.write(f"SYNAP_BASE_URL={server.url}\nSYNAP_API_KEY={server.api_key}\n")
        sys.stdout.flush()
        bound = sum(1 for c in server.api_keys.values() if c is not None)
        print(
            f"synap: serving {server.url} (database {server.db_path}, tenancy {server.tenancy}, "
            f"{len(server.api_keys)} key(s), {bound} bound to a customer); Ctrl+C stops",
            file=sys.stderr,
            flush=True,
        )
        if server.host not in ("127.0.0.1", "::1", "localhost"):
            print(f"synap: warning: listening on {server.host}, beyond loopback", file=sys.stderr)
        if faults is not None:
            print(
                f"synap: fault injection on: {faults.to_spec()} seed={faults.seed}", file=sys.stderr
            )

    try:
        server.run_forever(on_ready=ready)
    except OSError as error:
        print(f"synap serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    if server.faults is not None:
        counts = " ".join(f"{k}={v}" for k, v in server.fault_counts().items())
        print(f"synap: faults: {counts}", file=sys.stderr)
    print("synap: stopped", file=sys.stderr, flush=True)
    return 0
