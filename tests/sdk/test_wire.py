"""What goes out and what comes back, on both facades: wire.md to the byte."""

from __future__ import annotations

import datetime
import uuid

import httpx
import pytest

import synap
from synap.memories.models import CreateMemoryRequest, CreateMemoryResponse, DocumentType
from tests.sdk.conftest import BASE, CID, KEY, Facade, message, record_args


async def test_record_message_defaults_on_the_wire(facade: Facade) -> None:
    await facade.call("conversation.record_message", CID, "user", "hi", "u1")
    request = facade.fake.last
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/v1/conversations/messages"
    # customer_id null when not given, metadata {} when not given, session_id only when given.
    assert request.content == (
        b'{"conversation_id":"%s","role":"user","content":"hi","user_id":"u1",'
        b'"customer_id":null,"metadata":{}}' % CID.encode()
    )
    headers = request.headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["content-type"] == "application/json"
    assert "x-api-key" not in headers
    assert uuid.UUID(headers["idempotency-key"])
    assert uuid.UUID(headers["x-correlation-id"])
    assert "x-instance-id" not in headers


async def test_record_message_all_arguments_positionally(facade: Facade) -> None:
    await facade.call(
        "conversation.record_message",
        uuid.UUID(CID),
        "assistant",
        "Got it — dark mode.",
        "user_alice",
        "customer_acme",
        "sess-1",
        {"model": "small", "latency_ms": 12},
    )
    assert facade.fake.bodies[-1] == {
        "conversation_id": CID,
        "role": "assistant",
        "content": "Got it — dark mode.",
        "user_id": "user_alice",
        "customer_id": "customer_acme",
        "session_id": "sess-1",
        "metadata": {"model": "small", "latency_ms": 12},
    }
    assert "Got it — dark mode.".encode() in facade.fake.last.content  # UTF-8, not \\u escapes


async def test_caller_ids_and_instance_id_are_sent(facade: Facade) -> None:
    client = facade.build(instance_id="inst_0123456789abcdef")
    await facade.call(
        "conversation.record_message",
        client=client,
        idempotency_key="my-write-1",
        correlation_id="trace-42",
        **record_args(),
    )
    headers = facade.fake.last.headers
    assert headers["idempotency-key"] == "my-write-1"
    assert headers["x-correlation-id"] == "trace-42"
    assert headers["x-instance-id"] == "inst_0123456789abcdef"


async def test_instance_id_from_the_environment(
    facade: Facade, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNAP_INSTANCE_ID", "inst_fedcba9876543210")
    client = facade.build()
    await facade.call("conversation.record_message", client=client, **record_args())
    assert facade.fake.last.headers["x-instance-id"] == "inst_fedcba9876543210"


async def test_record_message_returns_the_servers_strings_and_unknown_keys(facade: Facade) -> None:
    answer = {
        "message_id": "c834503f-8065-4532-b91f-e3071b1e5c3b",
        "conversation_id": CID,
        "session_id": "5894ee7b-9a5c-4ba6-a2c2-584c4e6f98ad",
        "recorded_at": "2026-11-21T23:32:19.719140+00:00",  # not re-serialised to "Z"
        "conversation_message_count": 3,
        "shard": "eu-1",
    }
    facade.fake.then(httpx.Response(200, json=answer))
    result = await facade.call("conversation.record_message", **record_args())
    assert result == answer
    assert type(result) is dict


async def test_batch_entries_pass_unknown_keys_through(facade: Facade) -> None:
    entries = [
        message(timestamp="2026-05-16T09:00:00Z"),
        message(role="assistant", content="I will.", user_id=None, customer_id=None,
                session_id="morning", metadata={"model": "small"}),
    ]  # fmt: skip
    result = await facade.call("conversation.record_messages_batch", entries)
    assert facade.fake.bodies[-1] == {"messages": entries}
    assert str(facade.fake.last.url) == f"{BASE}/v1/conversations/messages/batch"
    assert (result["total"], result["succeeded"], result["failed"]) == (2, 2, 0)


async def test_batch_result_keeps_errors_and_rejected_entries(facade: Facade) -> None:
    answer = {
        "total": 2,
        "succeeded": 1,
        "failed": 1,
        "results": [
            {
                "message_id": "0b6f8f0e-3d7a-4f7e-9a43-2f8e1c6d9b10",
                "recorded_at": "2026-11-21T23:32:19Z",
            },
            {"error": "customer_id is required on B2B instances"},
        ],
        "errors": [{"index": 1, "error": "customer_id is required on B2B instances"}],
    }  # fmt: skip
    facade.fake.then(httpx.Response(200, json=answer))
    result = await facade.call("conversation.record_messages_batch", [message(), message()])
    assert result == answer


async def test_documents_go_out_with_all_nine_keys(facade: Facade) -> None:
    when = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
    await facade.call(
        "memories.batch_create",
        [
            CreateMemoryRequest(document="plain"),
            CreateMemoryRequest(
                document={"subject": "Renewal", "body": "We renew in May."},
                document_type=DocumentType.EMAIL,
                document_id="email_2024_0042",
                document_created_at=when,
                user_id="user_789",
                customer_id="cust_456",
                scope="user",
                mode="long-range",
                metadata={"folder": "inbox"},
            ),
            {"document": "a dict entry", "mode": "fast"},
        ],
        fail_fast=True,
    )
    request = facade.fake.last
    assert str(request.url) == f"{BASE}/api/v1/memories/batch"
    assert request.content == (
        b'{"documents":[{"document":"plain","document_type":"ai-chat-conversation",'
        b'"document_id":null,"document_created_at":null,"user_id":null,"customer_id":null,'
        b'"scope":null,"mode":"long-range","metadata":{}},'
        b'{"document":{"subject":"Renewal","body":"We renew in May."},"document_type":"email",'
        b'"document_id":"email_2024_0042","document_created_at":"2024-05-01T12:00:00Z",'
        b'"user_id":"user_789","customer_id":"cust_456","scope":"user","mode":"long-range",'
        b'"metadata":{"folder":"inbox"}},'
        b'{"document":"a dict entry","document_type":"ai-chat-conversation","document_id":null,'
        b'"document_created_at":null,"user_id":null,"customer_id":null,"scope":null,'
        b'"mode":"fast","metadata":{}}],"fail_fast":true}'
    )


async def test_batch_create_returns_attributes_with_the_servers_strings(facade: Facade) -> None:
    answer = {
        "batch_id": "c5e139dc-6f0a-4b8e-9d3c-2a1b0e9f8d7c",
        "total": 1,
        "succeeded": 1,
        "failed": 0,
        "results": [
            {
                "ingestion_id": "16a161ba-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
                "document_id": "doc_ad7b21d8d096",
                "status": "processing",
                "queued_at": "2026-11-21T23:32:19.874191+00:00",
                "error_message": None,
                "priority": 5,
            }
        ],
        "region": "eu",
    }
    facade.fake.then(httpx.Response(200, json=answer))
    batch = await facade.call("memories.batch_create", [{"document": "x"}])
    assert isinstance(batch, synap.BatchCreateResponse)
    assert (batch.batch_id, batch.total, batch.succeeded, batch.failed) == (
        "c5e139dc-6f0a-4b8e-9d3c-2a1b0e9f8d7c", 1, 1, 0,
    )  # fmt: skip
    (result,) = batch.results
    assert result.ingestion_id == "16a161ba-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
    assert result.status is synap.IngestionStatus.PROCESSING
    assert result.status == "processing"
    assert result.queued_at == "2026-11-21T23:32:19.874191+00:00"
    assert result.extra == {"priority": 5}
    assert batch.extra == {"region": "eu"}
    assert batch.to_dict() == answer


async def test_a_status_newer_than_the_sdk_is_kept_not_raised(facade: Facade) -> None:
    # The document was stored: a status this version does not know must not become an error
    # (the caller would retry a write that succeeded).
    result = {
        "ingestion_id": "16a161ba-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "document_id": "doc_ad7b21d8d096",
        "status": "deduplicated",
        "queued_at": "2026-11-21T23:32:19.874191Z",
        "error_message": None,
    }
    answer = {
        "batch_id": "c5e139dc-6f0a-4b8e-9d3c-2a1b0e9f8d7c",
        "total": 1,
        "succeeded": 1,
        "failed": 0,
        "results": [result],
    }
    facade.fake.then(httpx.Response(200, json=answer))
    batch = await facade.call("memories.batch_create", [{"document": "x"}])
    assert batch.results[0].status == "deduplicated"
    assert not isinstance(batch.results[0].status, synap.IngestionStatus)
    assert batch.to_dict() == answer


async def test_a_status_that_is_not_text_is_a_malformed_answer(facade: Facade) -> None:
    answer = {
        "batch_id": "c5e139dc-6f0a-4b8e-9d3c-2a1b0e9f8d7c",
        "total": 1,
        "succeeded": 1,
        "failed": 0,
        "results": [
            {
                "ingestion_id": "16a161ba-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
                "document_id": "doc_ad7b21d8d096",
                "status": 3,
                "queued_at": "2026-11-21T23:32:19.874191Z",
            }
        ],
    }
    facade.fake.then(httpx.Response(200, json=answer))
    with pytest.raises(synap.UnexpectedResponseError):
        await facade.call("memories.batch_create", [{"document": "x"}])


async def test_invalid_documents_are_merged_into_results_in_order(facade: Facade) -> None:
    docs = [
        {"document": "ok 0"},
        {"document": "bad 1", "document_type": "spreadsheet", "document_id": "mine-1"},
        CreateMemoryRequest(document="ok 2", document_id="mine-2"),
        {"document_type": "email"},  # no document
    ]
    batch = await facade.call("memories.batch_create", docs, fail_fast=False)
    (sent,) = facade.fake.bodies
    assert [d["document"] for d in sent["documents"]] == ["ok 0", "ok 2"]
    assert sent["fail_fast"] is False
    assert (batch.total, batch.succeeded, batch.failed) == (4, 2, 2)
    assert [r.status for r in batch.results] == ["queued", "failed", "queued", "failed"]
    assert batch.results[2].document_id == "mine-2"
    bad = batch.results[1]
    assert bad == CreateMemoryResponse(
        ingestion_id=None,
        document_id="mine-1",
        status=synap.IngestionStatus.FAILED,
        queued_at=None,
        error_message=bad.error_message,
    )
    assert "documents[1].document_type" in (bad.error_message or "")
    assert "documents[3].document is required" in (batch.results[3].error_message or "")
    assert batch.batch_id is not None


async def test_no_valid_document_sends_nothing(facade: Facade) -> None:
    batch = await facade.call("memories.batch_create", [{"document": 1}, {"mode": "fast"}])
    assert facade.fake.requests == []
    assert batch.batch_id is None
    assert (batch.total, batch.succeeded, batch.failed) == (2, 0, 2)
    assert all(r.status == "failed" and r.error_message for r in batch.results)


async def test_merging_needs_one_result_per_sent_document(facade: Facade) -> None:
    short = {"batch_id": str(uuid.uuid4()), "total": 1, "succeeded": 0, "failed": 0, "results": []}
    facade.fake.then(httpx.Response(200, json=short))
    with pytest.raises(synap.UnexpectedResponseError) as caught:
        await facade.call("memories.batch_create", [{"document": "ok"}, {"document": None}])
    assert caught.value.status_code == 200
    assert caught.value.body == short  # what the server said stays available


async def test_a_base_url_path_prefix_is_kept(facade: Facade) -> None:
    client = facade.build(base_url="https://gateway.test/synap/")
    await facade.call("conversation.record_message", client=client, **record_args())
    assert str(facade.fake.last.url) == "https://gateway.test/synap/v1/conversations/messages"
    await facade.call("memories.batch_create", [{"document": "x"}], client=client)
    assert str(facade.fake.last.url) == "https://gateway.test/synap/api/v1/memories/batch"
