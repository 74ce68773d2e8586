"""What goes on the wire is the same on every send path: the exact body bytes and the SDK's
headers; a gzip-encoded answer is decoded; a redirect is not followed (the key goes nowhere
else). Against a loopback HTTP server that records each request."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import synap
from tests.sdk.conftest import KINDS, async_synap

CID = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"
ANSWER = {
    "message_id": "0b6e2d4a-54f5-4a55-a1c4-9c7c1b9f6c11",
    "conversation_id": CID,
    "session_id": "5f0c0f3e-8f1e-4a77-9a31-6d1b2d0b7e21",
    "recorded_at": "2026-11-21T23:32:19.719140Z",
    "conversation_message_count": 1,
}
SENT = ("authorization", "idempotency-key", "x-correlation-id", "user-agent", "x-instance-id",
        "content-type", "content-length")  # fmt: skip


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, dict[str, str], bytes]]
    mode: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        payload = json.dumps(ANSWER).encode()
        if self.mode[0] == "redirect":
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            payload = b'{"detail":"moved"}'
        else:
            self.send_response(200)
            if self.mode[0] == "gzip":
                payload = gzip.compress(payload)
                self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"seen": [], "mode": ["plain"]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()
    thread.join(5)


async def record(kind: str, url: str) -> Any:
    options = {"api_key": "synap_k", "base_url": url, "instance_id": "inst_1", "max_retries": 0}
    args: tuple[Any, ...] = (CID, "user", "Zoë prefers dark mode ✓", "u", "c")
    extra = {"metadata": {"n": 1.5, "nested": {"ok": True}}, "idempotency_key": "key-1",
             "correlation_id": "cid-1"}  # fmt: skip
    if kind == "sync":
        with synap.Synap(**options) as blocking:
            return blocking.conversation.record_message(*args, **extra)
    client = async_synap(kind, **options)
    async with client:
        result = await client.conversation.record_message(*args, **extra)
    if kind == "async-own":
        await client._transport.conn.http.aclose()
    return result


async def test_every_path_sends_the_same_bytes_and_headers(
    recorder: tuple[str, type[Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from synap._transport import AsyncConnection

    url, handler = recorder
    for kind in KINDS:
        monkeypatch.setattr(AsyncConnection, "use_aiohttp", kind != "async-httpx")
        assert await record(kind, url) == ANSWER
    assert len(handler.seen) == len(KINDS)
    paths = {path for path, _, _ in handler.seen}
    bodies = {body for _, _, body in handler.seen}
    assert paths == {"/v1/conversations/messages"}
    assert len(bodies) == 1  # byte for byte, compact JSON, UTF-8 as is
    (body,) = bodies
    assert body.startswith(b'{"conversation_id":"' + CID.encode())
    assert "Zoë prefers dark mode ✓".encode() in body
    headers = [{k: h.get(k) for k in SENT} for _, h, _ in handler.seen]
    assert all(h == headers[0] for h in headers), headers
    assert headers[0]["authorization"] == "Bearer synap_k"
    assert headers[0]["idempotency-key"] == "key-1"
    assert headers[0]["x-correlation-id"] == "cid-1"
    assert headers[0]["x-instance-id"] == "inst_1"
    assert headers[0]["user-agent"] == f"synap-python/{synap.__version__}"
    assert headers[0]["content-type"] == "application/json"


@pytest.mark.parametrize("send_path", KINDS, indirect=True)
async def test_a_gzip_answer_is_decoded(
    send_path: str, recorder: tuple[str, type[Recorder]]
) -> None:
    url, handler = recorder
    handler.mode[0] = "gzip"
    assert await record(send_path, url) == ANSWER


@pytest.mark.parametrize("send_path", KINDS, indirect=True)
async def test_a_redirect_is_not_followed(
    send_path: str, recorder: tuple[str, type[Recorder]]
) -> None:
    url, handler = recorder
    handler.mode[0] = "redirect"
    with pytest.raises(synap.UnexpectedResponseError) as caught:
        await record(send_path, url)
    assert caught.value.status_code == 307
    assert len(handler.seen) == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "AiohttpRoute"),
        ({"HTTP_PROXY": "http://127.0.0.1:9"}, "_HttpxRoute"),  # httpx honours it; so do we
        ({"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "synap.test"}, "AiohttpRoute"),
    ],
)
async def test_a_proxy_from_the_environment_is_honoured_through_httpx(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synap import _pool

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = synap.AsyncSynap(
        api_key="synap_k", base_url="http://synap.test", allow_insecure_http=True
    )
    route = client._transport.conn._new_route(_pool.running_loop())
    assert type(route).__name__ == expected
    await route.aclose()
