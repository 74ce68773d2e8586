#!/usr/bin/env python
"""A fast stand-in for the Synap message endpoints, for the benchmarks that need the client,
not the server, to be measured.

`scripts/bench.py` measures the peak RSS of the bulk helper at 100,000 and 1,000,000 messages.
Through the real local server (validation, SQLite, idempotency records) a million messages
take minutes; the helper's memory does not depend on what the server does with the messages,
only on the answers it gets. This server answers `POST /v1/conversations/messages/batch` like
the real one (200, one result per entry, in order; the body is parsed, so a malformed request
still fails) and does nothing else, so the client is the bottleneck.

    python scripts/bench_stub.py      # prints SYNAP_BASE_URL=... and SYNAP_API_KEY=...
    python scripts/bench_stub.py --delay-ms 20    # every answer 20 ms late

`POST /v1/conversations/messages` is answered too (200, the documented fields, the request's
`conversation_id`), for the many-calls-in-flight rows: with `--delay-ms` every answer waits
that long (asyncio.sleep, so any number of calls wait at once), a server whose latency is
known and whose CPU cost is small.

It listens on 127.0.0.1 (an ephemeral port) and exits when its stdin closes (the parent went
away) or on SIGTERM/SIGINT. Standard library only.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import uuid

BATCH_PATH = b"/v1/conversations/messages/batch"
MESSAGE_PATH = b"/v1/conversations/messages"
DELAY = 0.0  # seconds every answer waits (--delay-ms)
API_KEY = "synap_" + "0" * 32
MAX_BODY = 8 * 1024 * 1024
# Every stored entry gets the same ids: the client only checks their shape.
_MESSAGE_ID = str(uuid.UUID(int=1))
_SESSION_ID = str(uuid.UUID(int=2))
_RECORDED_AT = "2026-01-01T00:00:00.000000Z"


def message_answer(body: bytes) -> tuple[int, bytes]:
    """(status, JSON body) for a single-message request body."""
    try:
        conversation_id = str(json.loads(body)["conversation_id"])
    except (ValueError, KeyError, TypeError):
        return 422, b'{"detail":"malformed message"}'
    answer = {
        "message_id": _MESSAGE_ID,
        "conversation_id": conversation_id,
        "session_id": _SESSION_ID,
        "recorded_at": _RECORDED_AT,
        "conversation_message_count": 1,
    }
    return 200, json.dumps(answer, separators=(",", ":")).encode()


def batch_answer(body: bytes) -> tuple[int, bytes]:
    """(status, JSON body) for a batch request body."""
    try:
        results = [
            {
                "message_id": _MESSAGE_ID,
                "conversation_id": str(m["conversation_id"]),
                "session_id": _SESSION_ID,
                "recorded_at": _RECORDED_AT,
            }
            for m in json.loads(body)["messages"]
        ]
    except (ValueError, KeyError, TypeError):
        return 422, b'{"detail":"malformed batch"}'
    n = len(results)
    answer = {"total": n, "succeeded": n, "failed": 0, "results": results}
    return 200, json.dumps(answer, separators=(",", ":")).encode()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:  # keep-alive: one request after another on this connection
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.split(b"\r\n")
            method, path, _ = request_line.split(b" ", 2)
            length = 0
            for line in header_lines:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length > MAX_BODY:
                break
            body = await reader.readexactly(length)
            if DELAY:
                await asyncio.sleep(DELAY)
            if method == b"POST" and path == BATCH_PATH:
                status, payload = batch_answer(body)
            elif method == b"POST" and path == MESSAGE_PATH:
                status, payload = message_answer(body)
            else:
                status, payload = 404, b'{"detail":"Not Found"}'
            reason = {200: b"OK", 404: b"Not Found", 422: b"Unprocessable Entity"}[status]
            writer.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                % (status, reason, len(payload))
                + payload
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    except asyncio.CancelledError:  # shutting down with the connection still open
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=MAX_BODY)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"SYNAP_BASE_URL=http://127.0.0.1:{port}\nSYNAP_API_KEY={API_KEY}\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The parent holds our stdin: EOF means it is gone, so we never outlive it. (A daemon
    # thread: a blocked read must not hold up the exit.)

    def watch_stdin() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await stop.wait()
    server.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--delay-ms"]:
        DELAY = float(sys.argv[2]) / 1000
    asyncio.run(main())
