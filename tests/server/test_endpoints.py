"""The three operations over real sockets: auth, shapes, validation, limits."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from synap.server import LocalServer, load_spec
from tests.server._data import (
    MEMORIES_BATCH,
    MESSAGES,
    MESSAGES_BATCH,
    TIMESTAMP,
    assert_valid,
    client,
    document,
    message,
    new_id,
)

ALL_PATHS = [
    (MESSAGES, lambda: message()),
    (MESSAGES_BATCH, lambda: {"messages": [message()]}),
    (MEMORIES_BATCH, lambda: {"documents": [document()]}),
]


@pytest.mark.parametrize(("path", "body"), ALL_PATHS)
def test_missing_key_is_401(shared_server: LocalServer, path: str, body: Any) -> None:
    with client(shared_server.url, None) as anonymous:
        response = anonymous.post(path, json=body())
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("path", "body"), ALL_PATHS)
def test_wrong_key_is_401_and_stores_nothing(
    shared_server: LocalServer, path: str, body: Any
) -> None:
    assert shared_server.store is not None
    before = shared_server.store.counts()
    for wrong in ("synap_wrong", shared_server.api_key + "x", "ключ"):
        header = f"Bearer {wrong}".encode()  # raw bytes: non-ASCII keys must not crash
        with client(shared_server.url, None) as c:
            response = c.post(path, json=body(), headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}
    basic = {"Authorization": f"Basic {shared_server.api_key}"}
    with client(shared_server.url, None) as c:
        assert c.post(path, json=body(), headers=basic).status_code == 401
    assert shared_server.store.counts() == before


def test_record_message_answers_the_documented_shape(http: httpx.Client) -> None:
    conversation = new_id()
    first = http.post(MESSAGES, json=message(conversation))
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    body = first.json()
    assert_valid("RecordMessageResponse", body)
    assert body["conversation_id"] == conversation
    assert TIMESTAMP.match(body["recorded_at"])
    assert body["conversation_message_count"] == 1
    # session generated when absent, and kept by the conversation's next turns
    assert len(body["session_id"]) == 36
    second = http.post(MESSAGES, json=message(conversation, role="assistant", content="Got it."))
    assert second.json()["conversation_message_count"] == 2
    assert second.json()["session_id"] == body["session_id"]
    assert second.json()["message_id"] != body["message_id"]
    # a given session is echoed
    third = http.post(MESSAGES, json=message(conversation, session_id="morning"))
    assert third.json()["session_id"] == "morning"
    assert third.json()["conversation_message_count"] == 3


def test_messages_are_stored_in_order_with_everything_given(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    conversation = new_id()
    turns = [
        message(conversation, content="one", metadata={"model": "small", "n": [1, 2]}),
        message(conversation, role="assistant", content="two\nlines ünïcødé"),
        message(conversation, content="three", extra_key={"kept": True}),
    ]
    for turn in turns:
        assert http.post(MESSAGES, json=turn).status_code == 200
    assert shared_server.store is not None
    stored = next(
        c
        for c in shared_server.store.snapshot()["conversations"]
        if c["conversation_id"] == conversation
    )
    assert stored["customer_id"] == "customer_acme"
    assert stored["message_count"] == 3
    assert [m["content"] for m in stored["messages"]] == ["one", "two\nlines ünïcødé", "three"]
    assert [m["seq"] for m in stored["messages"]] == [1, 2, 3]
    assert stored["messages"][0]["metadata"] == {"model": "small", "n": [1, 2]}
    assert stored["messages"][1]["role"] == "assistant"
    assert stored["messages"][2]["extra"] == {"extra_key": {"kept": True}}


@pytest.mark.parametrize(
    ("change", "loc", "type_"),
    [
        ({"role": "User"}, ["body", "role"], "enum"),
        ({"role": "system"}, ["body", "role"], "enum"),
        ({"conversation_id": "conv_2026_05_16_alice"}, ["body", "conversation_id"], "uuid_parsing"),
        ({"conversation_id": 7}, ["body", "conversation_id"], "string_type"),
        ({"content": None}, ["body", "content"], "string_type"),
        ({"user_id": None}, ["body", "user_id"], "string_type"),
        ({"session_id": None}, ["body", "session_id"], "string_type"),
        ({"metadata": []}, ["body", "metadata"], "dict_type"),
        ({"customer_id": 5}, ["body", "customer_id"], "string_type"),
    ],
)
def test_record_message_422(
    http: httpx.Client, change: dict[str, Any], loc: list[Any], type_: str
) -> None:
    response = http.post(MESSAGES, json=message(**change))
    assert response.status_code == 422
    assert_valid("HTTPError", response.json())
    assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(loc, type_)]


def test_missing_fields_are_each_named(http: httpx.Client) -> None:
    response = http.post(MESSAGES, json={"role": "user"})
    assert response.status_code == 422
    missing = {tuple(d["loc"]) for d in response.json()["detail"] if d["type"] == "missing"}
    assert missing == {("body", "conversation_id"), ("body", "content"), ("body", "user_id")}
    assert all(d["msg"] == "Field required" for d in response.json()["detail"])


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b'{"content": NaN}', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b'{"conversation_id": "', "application/json"),  # truncated
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),  # deep nesting
        (b'{"a":' * 70 + b"1" + b"}" * 70, "application/json"),
        (json.dumps(message()).encode(), "text/plain"),
        (json.dumps(message()).encode(), "application/x-www-form-urlencoded"),
        (b"[]", "application/json"),
        (b'"a string"', "application/json"),
    ],
)
def test_unparseable_bodies_are_422_never_500(
    shared_server: LocalServer, http: httpx.Client, raw: bytes, content_type: str
) -> None:
    assert shared_server.store is not None
    before = shared_server.store.counts()
    for path in (MESSAGES, MESSAGES_BATCH, MEMORIES_BATCH):
        response = http.post(path, content=raw, headers={"Content-Type": content_type})
        assert response.status_code == 422, response.text
        assert_valid("HTTPError", response.json())
    assert shared_server.store.counts() == before


def test_lone_surrogates_are_422(http: httpx.Client) -> None:
    raw = json.dumps(message(content="\ud800")).encode()
    response = http.post(MESSAGES, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "content"]


def test_json_media_type_variants_are_accepted(http: httpx.Client) -> None:
    for media in ("application/json; charset=utf-8", "application/vnd.synap+json"):
        raw = json.dumps(message()).encode()
        assert http.post(MESSAGES, content=raw, headers={"Content-Type": media}).status_code == 200


def test_header_parameters_are_checked_against_the_spec(http: httpx.Client) -> None:
    for name in ("Idempotency-Key", "X-Correlation-ID"):
        response = http.post(MESSAGES, json=message(), headers={name: "k" * 256})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["header", name]
    response = http.post(MESSAGES, json=message(), headers={"X-Correlation-ID": "corr-1"})
    assert response.status_code == 200
    assert response.headers["x-correlation-id"] == "corr-1"


def test_body_past_the_limit_is_413(tmp_path: Any) -> None:
    with LocalServer(tmp_path / "synap.db", max_body_bytes=2000) as server:
        assert server.store is not None
        with client(server.url, server.api_key) as c:
            big = {"documents": [document("x" * 3000)]}
            response = c.post(MEMORIES_BATCH, json=big)
            assert response.status_code == 413
            assert_valid("HTTPError", response.json())
            # also when the length is not announced up front (chunked upload)
            chunks = iter([b'{"documents": [{"document": "', b"y" * 3000, b'"}]}'])
            response = c.post(
                MEMORIES_BATCH, content=chunks, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 413
            assert c.post(MEMORIES_BATCH, json={"documents": [document("ok")]}).status_code == 200
        assert server.store.counts()["documents"] == 1


def test_unknown_paths_and_methods(http: httpx.Client) -> None:
    assert http.post("/v1/memories/batch", json={}).status_code == 404  # the prefixes differ
    response = http.get(MESSAGES)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def _request_examples() -> list[tuple[str, str, Any]]:
    found = []
    for path, item in load_spec()["paths"].items():
        media = item["post"]["requestBody"]["content"]["application/json"]
        for name, example in media["examples"].items():
            found.append((path, name, example["value"]))
    return found


@pytest.mark.synap_server(tenancy="b2c")
@pytest.mark.parametrize(("path", "name", "example"), _request_examples())
def test_every_request_example_of_the_spec_is_answered_200(
    synap_server: LocalServer, path: str, name: str, example: Any
) -> None:
    schema = {
        MESSAGES: "RecordMessageResponse",
        MESSAGES_BATCH: "RecordMessagesBatchResponse",
        MEMORIES_BATCH: "BatchCreateResponse",
    }[path]
    with client(synap_server.url, synap_server.api_key) as c:
        response = c.post(path, json=example)
    assert response.status_code == 200, response.text
    assert_valid(schema, response.json())
    body = response.json()
    if "failed" in body:
        assert body["failed"] == 0


def test_concurrent_writers_to_one_conversation_keep_it_consistent(
    shared_server: LocalServer,
) -> None:
    conversation = new_id()

    def send(i: int) -> int:
        with client(shared_server.url, shared_server.api_key) as c:
            if i % 2:
                entries = [message(conversation, content=f"{i}-{j}") for j in range(3)]
                return c.post(MESSAGES_BATCH, json={"messages": entries}).status_code
            response = c.post(MESSAGES, json=message(conversation, content=f"{i}"))
            return response.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(40)))
    assert set(statuses) == {200}
    assert shared_server.store is not None
    stored = next(
        c
        for c in shared_server.store.snapshot()["conversations"]
        if c["conversation_id"] == conversation
    )
    assert stored["message_count"] == 20 + 20 * 3
    assert [m["seq"] for m in stored["messages"]] == list(range(1, 81))
    contents = [m["content"] for m in stored["messages"]]
    assert len(set(contents)) == 80
    for i in range(1, 40, 2):  # each batch stored contiguously, in its order
        start = contents.index(f"{i}-0")
        assert contents[start : start + 3] == [f"{i}-0", f"{i}-1", f"{i}-2"]
