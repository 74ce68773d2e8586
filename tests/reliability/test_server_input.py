"""The local server fed what a hostile or broken client sends: malformed JSON, wrong content
types, truncated and huge bodies, deep nesting, broken HTTP framing. Never a 500, every answer
the spec documents for the operation (status and body), and never a partial write."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from synap.server import LocalServer, SpecValidator, load_spec

MESSAGES = "/v1/conversations/messages"
MESSAGES_BATCH = "/v1/conversations/messages/batch"
MEMORIES_BATCH = "/api/v1/memories/batch"
PATHS = (MESSAGES, MESSAGES_BATCH, MEMORIES_BATCH)
OK_SCHEMA = {
    MESSAGES: "RecordMessageResponse",
    MESSAGES_BATCH: "RecordMessagesBatchResponse",
    MEMORIES_BATCH: "BatchCreateResponse",
}
LIMIT = 64 * 1024
VALIDATOR = SpecValidator()


def conforms(path: str, response: httpx.Response) -> Any:
    """The answer is one the spec documents for this operation: a listed status, JSON, and a
    body of the status's schema. Returns the body."""
    documented = load_spec()["paths"][path]["post"]["responses"]
    assert str(response.status_code) in documented, response.status_code
    assert response.status_code != 500
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    schema = OK_SCHEMA[path] if response.status_code == 200 else "HTTPError"
    assert VALIDATOR.errors(schema, body) == [], body
    return body


def message(conversation_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id or str(uuid.uuid4()),
        "role": "user",
        "content": "hello",
        "user_id": "user_1",
        "customer_id": "customer_1",
        **fields,
    }


def body_for(path: str, **fields: Any) -> dict[str, Any]:
    if path == MESSAGES:
        return message(**fields)
    if path == MESSAGES_BATCH:
        return {"messages": [message(**fields)]}
    return {"documents": [{"document": "a document", **fields}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A B2B server taking bodies up to 64 KiB."""
    with LocalServer(tmp_path_factory.mktemp("input") / "synap.db", max_body_bytes=LIMIT) as s:
        yield s


@pytest.fixture
def http(server: LocalServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def unchanged(server: LocalServer) -> Iterator[None]:
    """The test must leave the database as it found it."""
    assert server.store is not None
    before = server.store.counts()
    yield
    assert server.store.counts() == before


MALFORMED = [
    b"",
    b"{",
    b'{"messages": [',
    b'{"conversation_id": "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d", "role": "us',
    b"{'single': 'quotes'}",
    b'{"trailing": 1,}',
    b"NaN",
    b'{"metadata": {"x": NaN}}',
    b'{"metadata": {"x": -Infinity}}',
    b"nul",
    b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
    b"\xff\xfe{\x00}\x00",  # UTF-16
    b'{"content": "\xc3\x28"}',  # invalid UTF-8
    b'{"n": 1' + b"0" * 5000 + b"}",  # an integer Python will not read
    b'"a string"',
    b"[]",
    b"null",
    b"12",
    b"\x00" * 16,
]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("raw", MALFORMED, ids=lambda raw: repr(raw[:24]))
def test_malformed_json_is_a_documented_422(http: httpx.Client, raw: bytes) -> None:
    for path in PATHS:
        response = http.post(path, content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (path, response.text)
        conforms(path, response)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "text/json",
        "*/*",
    ],
)
def test_a_body_of_another_content_type_is_a_documented_422(
    http: httpx.Client, content_type: str
) -> None:
    for path in PATHS:
        raw = json.dumps(body_for(path)).encode()  # valid JSON: the type alone is wrong
        response = http.post(path, content=raw, headers={"Content-Type": content_type})
        assert response.status_code == 422, (path, content_type, response.text)
        conforms(path, response)


@pytest.mark.usefixtures("unchanged")
def test_json_cut_anywhere_is_a_documented_422(http: httpx.Client) -> None:
    """A valid body truncated at every length (with a matching Content-Length)."""
    for path in PATHS:
        raw = json.dumps(body_for(path, metadata={"k": [1, 2, {"v": "w"}]})).encode()
        for cut in range(len(raw)):
            response = http.post(
                path, content=raw[:cut], headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 422, (path, raw[:cut])
            conforms(path, response)


def _raw_exchange(server: LocalServer, request: bytes, *, half_close: bool = True) -> bytes:
    """Send bytes on a fresh connection (then, by default, end the sending side) and read the
    answer until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        try:
            sock.sendall(request)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server hung up before taking it all: read what it said
            pass
        sock.settimeout(1.0)
        answer = b""
        try:
            while not _complete(answer) and (chunk := sock.recv(65536)):
                answer += chunk
        except OSError:
            pass  # quiet (a timeout), or hung up on
    return answer


def _complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:] if sep else ():
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _head(server: LocalServer, path: str, *lines: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {server.api_key}"]
    head += ["Content-Type: application/json", *lines]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("path", PATHS)
def test_a_body_that_stops_short_stores_nothing_and_is_never_a_500(
    server: LocalServer, path: str
) -> None:
    raw = json.dumps(body_for(path)).encode()
    cases = [
        # Content-Length promises more than arrives, then the client stops sending.
        _head(server, path, f"Content-Length: {len(raw)}") + raw[: len(raw) // 2],
        # A chunked upload cut inside a chunk.
        _head(server, path, "Transfer-Encoding: chunked") + b"%x\r\n" % len(raw) + raw[:10],
        # A chunked upload whose last chunk never comes.
        _head(server, path, "Transfer-Encoding: chunked") + b"%x\r\n" % len(raw) + raw + b"\r\n",
    ]
    for request in cases:
        answer = _raw_exchange(server, request)
        assert not answer.startswith(b"HTTP/1.1 5"), answer  # nothing, or a 4xx


@pytest.mark.usefixtures("unchanged")
def test_broken_http_framing_is_refused_before_the_app_and_never_a_500(
    server: LocalServer,
) -> None:
    raw = json.dumps(message()).encode()
    requests = [
        _head(server, MESSAGES, "Content-Length: abc") + raw,
        _head(server, MESSAGES, "Content-Length: -5") + raw,
        _head(server, MESSAGES, f"Content-Length: {len(raw)}", "Transfer-Encoding: chunked") + raw,
        # A megabyte of headers (h11 takes up to about 100 KB of them).
        _head(server, MESSAGES, "X-Padding: " + "a" * 1_000_000, f"Content-Length: {len(raw)}")
        + raw,
    ]
    for request in requests:
        answer = _raw_exchange(server, request)
        # uvicorn answers these itself (a plain-text 400) or closes the connection.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:80]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("path", PATHS)
def test_a_huge_body_is_a_413_before_it_is_read(server: LocalServer, path: str) -> None:
    # Only the headers are sent: the answer comes at once, without waiting for 10 GB.
    answer = _raw_exchange(
        server, _head(server, path, "Content-Length: 10000000000"), half_close=False
    )
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert VALIDATOR.errors("HTTPError", body) == []


@pytest.mark.usefixtures("unchanged")
def test_bodies_and_string_fields_past_the_limit_are_413(http: httpx.Client) -> None:
    for path in PATHS:
        for field in (
            ("content", "user_id", "metadata") if path != MEMORIES_BATCH else ("document",)
        ):
            value: Any = "x" * (LIMIT + 1)
            if field == "metadata":
                value = {"note": value}
            if path == MEMORIES_BATCH:
                body: Any = {"documents": [{"document": value}]}
            else:
                body = body_for(path, **{field: value})
            raw = json.dumps(body).encode()
            # Announced up front, and streamed without a length (chunked).
            for content in (raw, iter([raw[:1000], raw[1000:]])):
                response = http.post(
                    path, content=content, headers={"Content-Type": "application/json"}
                )
                assert response.status_code == 413, (path, field)
                conforms(path, response)


def test_a_string_just_under_the_limit_is_stored_whole(
    server: LocalServer, http: httpx.Client
) -> None:
    overhead = len(json.dumps(message(content=""), separators=(",", ":")))
    content = "é" * ((LIMIT - overhead) // 2)  # two bytes each in UTF-8
    response = http.post(
        MESSAGES,
        content=json.dumps(
            message(content=content), separators=(",", ":"), ensure_ascii=False
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    conforms(MESSAGES, response)
    assert response.status_code == 200
    assert server.store is not None
    stored = [
        m["content"]
        for c in server.store.snapshot()["conversations"]
        for m in c["messages"]
        if m["message_id"] == response.json()["message_id"]
    ]
    assert stored == [content]


@pytest.mark.usefixtures("unchanged")
def test_deep_nesting_is_a_documented_422(tmp_path: Any) -> None:
    """100,000 nested arrays or objects, alone or inside a valid body (default 4 MiB limit)."""
    deep_arrays = b"[" * 100_000 + b"]" * 100_000
    deep_objects = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    with LocalServer(tmp_path / "synap.db") as server:
        headers = {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for path in PATHS:
                valid = json.dumps(body_for(path, metadata={"deep": "HERE"})).encode()
                for nested in (deep_arrays, deep_objects):
                    for raw in (nested, valid.replace(b'"HERE"', nested)):
                        response = client.post(path, content=raw)
                        assert response.status_code == 422, (path, raw[:40])
                        conforms(path, response)
                # Nesting well inside the limit is stored.
                response = client.post(
                    path, content=valid.replace(b'"HERE"', b"[" * 40 + b"]" * 40)
                )
                assert response.status_code == 200, response.text
        assert server.store is not None
        assert server.store.counts()["idempotency_keys"] == 0
        stored = server.store.counts()
    assert (stored["messages"], stored["documents"]) == (2, 1)


def test_a_batch_refused_for_one_entry_stores_none_of_it(tmp_path: Any) -> None:
    """A 403 decided on the last entry (another customer's conversation) rolls back the
    entries before it: the write is all or nothing."""
    keys = {"key-a": "customer_a", "key-b": "customer_b"}
    with LocalServer(tmp_path / "synap.db", api_keys=keys) as server:
        owned_by_a = str(uuid.uuid4())
        with httpx.Client(base_url=server.url, timeout=10) as client:
            first = client.post(
                MESSAGES,
                json=message(owned_by_a, customer_id=None),
                headers={"Authorization": "Bearer key-a"},
            )
            assert first.status_code == 200
            entries = [message(customer_id=None) for _ in range(5)]
            entries.append(message(owned_by_a, customer_id=None))
            response = client.post(
                MESSAGES_BATCH,
                json={"messages": entries},
                headers={"Authorization": "Bearer key-b", "Idempotency-Key": "all-or-nothing"},
            )
            assert response.status_code == 403
            conforms(MESSAGES_BATCH, response)
        assert server.store is not None
        assert server.store.counts() == {
            "conversations": 1,
            "messages": 1,
            "documents": 0,
            "idempotency_keys": 0,  # a refusal is not remembered: a corrected retry may pass
        }
