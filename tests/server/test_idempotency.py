"""Idempotency-Key: a repeat replays the first answer and stores nothing; a changed body is 409."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from synap.server import LocalServer
from tests.server._data import (
    MEMORIES_BATCH,
    MESSAGES,
    MESSAGES_BATCH,
    client,
    document,
    message,
    new_id,
)


def _bodies() -> list[tuple[str, dict[str, Any]]]:
    conversation = new_id()
    return [
        (MESSAGES, message(conversation)),
        (MESSAGES_BATCH, {"messages": [message(conversation), message(conversation, role="bot")]}),
        (MEMORIES_BATCH, {"documents": [document("a"), document(None)]}),
    ]


def test_a_repeat_replays_the_first_answer_and_stores_once(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    assert shared_server.store is not None
    for path, body in _bodies():
        key = new_id()
        first = http.post(path, json=body, headers={"Idempotency-Key": key})
        after_first = shared_server.store.counts()
        for _ in range(3):
            repeat = http.post(path, json=body, headers={"Idempotency-Key": key})
            assert repeat.status_code == first.status_code == 200
            assert repeat.content == first.content  # byte for byte, ids and timestamps too
            assert repeat.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert shared_server.store.counts() == after_first
        # the same body without a key (or with another key) is a new write
        assert (
            http.post(path, json=body, headers={"Idempotency-Key": new_id()}).content
            != first.content
        )


def test_key_order_in_the_body_does_not_matter(http: httpx.Client) -> None:
    body = message()
    key = new_id()
    first = http.post(MESSAGES, json=body, headers={"Idempotency-Key": key})
    reordered = dict(reversed(list(body.items())))
    repeat = http.post(MESSAGES, json=reordered, headers={"Idempotency-Key": key})
    assert repeat.content == first.content


def test_the_same_key_with_another_body_is_409(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    assert shared_server.store is not None
    key = new_id()
    body = message()
    assert http.post(MESSAGES, json=body, headers={"Idempotency-Key": key}).status_code == 200
    before = shared_server.store.counts()
    changed = http.post(
        MESSAGES, json={**body, "content": "other"}, headers={"Idempotency-Key": key}
    )
    assert changed.status_code == 409
    assert "Idempotency-Key" in changed.json()["detail"]
    # the same key on another endpoint is another request too
    other = http.post(MESSAGES_BATCH, json={"messages": [body]}, headers={"Idempotency-Key": key})
    assert other.status_code == 409
    assert shared_server.store.counts() == before


def test_only_successful_answers_are_remembered(http: httpx.Client) -> None:
    key = new_id()
    invalid = message(role="bot")
    assert http.post(MESSAGES, json=invalid, headers={"Idempotency-Key": key}).status_code == 422
    # the key was not spent on a request that wrote nothing: the corrected call goes through
    fixed = http.post(MESSAGES, json=message(), headers={"Idempotency-Key": key})
    assert fixed.status_code == 200
    assert "idempotent-replayed" not in fixed.headers


@pytest.mark.parametrize(
    ("path", "index"), [(MESSAGES, 0), (MESSAGES_BATCH, 1), (MEMORIES_BATCH, 2)]
)
def test_concurrent_duplicates_write_once(
    shared_server: LocalServer, path: str, index: int
) -> None:
    assert shared_server.store is not None
    body = _bodies()[index][1]
    key = new_id()
    before = shared_server.store.counts()
    start = threading.Barrier(12)

    def send(_: int) -> httpx.Response:
        with client(shared_server.url, shared_server.api_key) as c:
            start.wait()
            return c.post(path, json=body, headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(send, range(12)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1
    after = shared_server.store.counts()
    assert after["idempotency_keys"] == before["idempotency_keys"] + 1
    written = {
        MESSAGES: ("messages", 1),
        MESSAGES_BATCH: ("messages", 1),
        MEMORIES_BATCH: ("documents", 1),
    }
    table, count = written[path]
    assert after[table] == before[table] + count
