"""Batches: judged entry by entry, results in submission order, totals right, limits."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from synap.server import LocalServer
from tests.server._data import (
    MEMORIES_BATCH,
    MESSAGES_BATCH,
    TIMESTAMP,
    assert_valid,
    document,
    message,
    new_id,
)

DOC_ID = re.compile(r"^doc_[0-9a-f]{12}$")


def _conversation(server: LocalServer, conversation_id: str) -> dict[str, Any]:
    assert server.store is not None
    return next(
        c
        for c in server.store.snapshot()["conversations"]
        if c["conversation_id"] == conversation_id
    )


def test_messages_batch_reports_each_entry_in_order(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    conversation = new_id()
    entries = [
        message(conversation, content="first"),
        message(conversation, role="bot"),  # invalid role
        {"conversation_id": conversation, "role": "assistant", "content": "no customer"},  # B2B
        message(conversation, role="assistant", content="second", session_id="s1"),
        "not an object",
        message("conv_2026_05_16_alice"),  # not a UUID
        {"conversation_id": conversation, "role": "user"},  # no content
        message(conversation, content="third", user_id=None, timestamp="2026-05-16T09:00:00Z"),
    ]
    response = http.post(MESSAGES_BATCH, json={"messages": entries})
    assert response.status_code == 200
    body = response.json()
    assert_valid("RecordMessagesBatchResponse", body)
    assert (body["total"], body["succeeded"], body["failed"]) == (8, 3, 5)
    results = body["results"]
    assert len(results) == 8
    ok = [0, 3, 7]
    for i in ok:
        assert set(results[i]) == {"message_id", "conversation_id", "session_id", "recorded_at"}
        assert TIMESTAMP.match(results[i]["recorded_at"])
    assert results[3]["session_id"] == "s1"
    assert results[7]["session_id"] == "s1"  # joins the conversation's current session
    assert results[1] == {"error": "role: Input should be 'user' or 'assistant'"}
    assert results[2] == {"error": "customer_id is required on B2B instances"}
    assert results[4] == {"error": "entry: Input should be a valid dictionary"}
    assert results[5] == {"error": "conversation_id: Input should be a valid UUID"}
    assert results[6] == {"error": "content: Field required"}
    assert [e["index"] for e in body["errors"]] == [1, 2, 4, 5, 6]
    stored = _conversation(shared_server, conversation)
    assert [m["content"] for m in stored["messages"]] == ["first", "second", "third"]
    assert stored["messages"][2]["extra"] == {"timestamp": "2026-05-16T09:00:00Z"}
    assert stored["messages"][2]["user_id"] is None


def test_a_fully_valid_messages_batch_has_no_errors_key(http: httpx.Client) -> None:
    conversation = new_id()  # a fresh UUID, never seen by record_message: accepted (lenient)
    entries = [message(conversation, content=f"turn {i}") for i in range(50)]
    body = http.post(MESSAGES_BATCH, json={"messages": entries}).json()
    assert (body["total"], body["succeeded"], body["failed"]) == (50, 50, 0)
    assert "errors" not in body
    assert len({r["message_id"] for r in body["results"]}) == 50
    assert len({r["session_id"] for r in body["results"]}) == 1


def test_messages_batch_continues_a_conversation(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    conversation = new_id()
    http.post("/v1/conversations/messages", json=message(conversation, session_id="s"))
    http.post(MESSAGES_BATCH, json={"messages": [message(conversation), message(conversation)]})
    record = http.post("/v1/conversations/messages", json=message(conversation)).json()
    assert record["conversation_message_count"] == 4
    assert record["session_id"] == "s"
    assert [m["seq"] for m in _conversation(shared_server, conversation)["messages"]] == [
        1,
        2,
        3,
        4,
    ]


def test_messages_batch_envelope_errors_are_422(http: httpx.Client) -> None:
    for body, loc, type_ in [
        ({}, ["body", "messages"], "missing"),
        ({"messages": []}, ["body", "messages"], "too_short"),
        ({"messages": {"a": 1}}, ["body", "messages"], "list_type"),
        ([], ["body"], "dict_type"),
    ]:
        response = http.post(MESSAGES_BATCH, json=body)
        assert response.status_code == 422
        assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(loc, type_)]


def test_batch_create_queues_documents_with_the_documented_shape(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    docs = [
        document("User: My favorite color is blue."),
        {
            "document": {"subject": "Renewal", "body": "We renew in May."},
            "document_id": "email_42",
            "document_type": "email",
            "document_created_at": "2024-05-01T12:00:00+02:00",
            "scope": "user",
            "metadata": {"folder": "inbox"},
        },
    ]
    response = http.post(MEMORIES_BATCH, json={"documents": docs, "fail_fast": False})
    assert response.status_code == 200
    body = response.json()
    assert_valid("BatchCreateResponse", body)
    assert (body["total"], body["succeeded"], body["failed"]) == (2, 2, 0)
    first, second = body["results"]
    assert DOC_ID.match(first["document_id"])
    assert second["document_id"] == "email_42"
    for result in body["results"]:
        assert result["status"] == "queued"
        assert result["error_message"] is None
        assert TIMESTAMP.match(result["queued_at"])
    assert shared_server.store is not None
    stored = {d["ingestion_id"]: d for d in shared_server.store.snapshot()["documents"]}
    email = stored[second["ingestion_id"]]
    assert email["batch_id"] == body["batch_id"]
    assert email["document"] == {"subject": "Renewal", "body": "We renew in May."}
    assert email["mode"] == "long-range"  # the spec's default
    assert email["document_created_at"] == "2024-05-01T12:00:00+02:00"
    assert stored[first["ingestion_id"]]["document_type"] == "ai-chat-conversation"
    assert stored[first["ingestion_id"]]["mode"] == "fast"


def test_batch_create_reports_invalid_documents_without_fail_fast(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    assert shared_server.store is not None
    before = shared_server.store.counts()["documents"]
    docs = [
        document("ok one"),
        {"document_type": "ai-chat-conversation", "document_id": "mine"},  # no document
        document("bad mode", mode="slow"),
        document("naive time", document_created_at="2024-05-01T12:00:00"),
        document("ok two"),
    ]
    body = http.post(MEMORIES_BATCH, json={"documents": docs}).json()
    assert_valid("BatchCreateResponse", body)
    assert (body["total"], body["succeeded"], body["failed"]) == (5, 2, 3)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["queued", "failed", "failed", "failed", "queued"]
    assert body["results"][1]["error_message"] == "document: Field required"
    assert body["results"][1]["document_id"] == "mine"
    assert body["results"][2]["error_message"] == "mode: Input should be 'fast' or 'long-range'"
    assert "datetime" in body["results"][3]["error_message"]
    for failed in body["results"][1:4]:
        assert TIMESTAMP.match(failed["queued_at"])
        assert len(failed["ingestion_id"]) == 36
    assert shared_server.store.counts()["documents"] == before + 2


def test_fail_fast_rejects_the_whole_batch_naming_the_document(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    assert shared_server.store is not None
    before = shared_server.store.counts()["documents"]
    docs = [document("fine"), document("fine"), document(None)]
    response = http.post(MEMORIES_BATCH, json={"documents": docs, "fail_fast": True})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "documents", 2, "document"]]
    assert shared_server.store.counts()["documents"] == before
    ok = http.post(MEMORIES_BATCH, json={"documents": docs[:2], "fail_fast": True})
    assert ok.status_code == 200
    assert shared_server.store.counts()["documents"] == before + 2


def test_at_most_100_documents(shared_server: LocalServer, http: httpx.Client) -> None:
    assert shared_server.store is not None
    before = shared_server.store.counts()["documents"]
    too_many = http.post(MEMORIES_BATCH, json={"documents": [document()] * 101})
    assert too_many.status_code == 422
    assert too_many.json() == {
        "detail": [
            {
                "loc": ["body", "documents"],
                "msg": "List should have at most 100 items after validation, not 101",
                "type": "too_long",
            }
        ]
    }
    assert shared_server.store.counts()["documents"] == before
    exactly = http.post(MEMORIES_BATCH, json={"documents": [document()] * 100})
    assert exactly.json()["succeeded"] == 100
    empty = http.post(MEMORIES_BATCH, json={"documents": []})
    assert empty.status_code == 422
    assert (
        http.post(MEMORIES_BATCH, json={"documents": [document()], "fail_fast": "yes"}).status_code
        == 422
    )


def test_message_ids_are_version_7_uuids_stamped_when_stored(
    shared_server: LocalServer, http: httpx.Client
) -> None:
    # Time-ordered ids keep the messages index growing at its end (the server's cost per
    # message); they are UUIDs as the spec says, their first 48 bits the milliseconds stored.
    conversation = new_id()
    before = time.time_ns() // 1_000_000
    response = http.post(
        MESSAGES_BATCH, json={"messages": [message(conversation, content=str(i)) for i in range(5)]}
    )
    after = time.time_ns() // 1_000_000
    ids = [r["message_id"] for r in response.json()["results"]]
    stored = [m["message_id"] for m in _conversation(shared_server, conversation)["messages"]]
    assert stored == ids
    assert len(set(ids)) == 5
    for text in ids:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 7, uuid.RFC_4122)
        assert before <= parsed.int >> 80 <= after


def test_recorded_at_is_utc_with_microseconds_for_every_entry() -> None:
    from synap.server.operations import utc_now

    stamps = [utc_now() for _ in range(1000)]
    assert all(TIMESTAMP.match(s) and s.endswith("Z") and len(s) == 27 for s in stamps)
    stamped = datetime.fromisoformat(stamps[-1].replace("Z", "+00:00"))
    assert abs((stamped - datetime.now(UTC)).total_seconds()) < 60  # UTC, not local time
