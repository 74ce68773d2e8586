"""Every input rule of the docs, through both facades: the error names the field (and the
entry), and not one request reaches the transport."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

import synap
from synap.memories.models import CreateMemoryRequest
from tests.sdk.conftest import CID, Facade, message, record_args

RECORD_MESSAGE_CASES: list[tuple[dict[str, Any], str]] = [
    (record_args(conversation_id="conv_2026_05_16_alice"), "conversation_id"),
    (record_args(conversation_id=42), "conversation_id"),
    (record_args(role="User"), "role"),
    (record_args(role="system"), "role"),
    (record_args(content=None), "content"),
    (record_args(user_id=None), "user_id"),
    (record_args(user_id=""), "user_id"),
    (record_args(customer_id=123), "customer_id"),
    (record_args(session_id=7), "session_id"),
    (record_args(metadata="web"), "metadata"),
    (record_args(metadata={"at": datetime.datetime(2024, 1, 1)}), "metadata"),
    (record_args(content="\ud800"), "content"),
]


@pytest.mark.parametrize(("kwargs", "field"), RECORD_MESSAGE_CASES)
async def test_record_message_rules_send_nothing(
    facade: Facade, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        await facade.call("conversation.record_message", **kwargs)
    assert caught.value.field == field
    assert caught.value.status_code is None
    assert facade.fake.requests == []


async def test_a_missing_required_argument_is_a_type_error_before_sending(facade: Facade) -> None:
    # Leaving out a positional argument is a programming error Python itself reports.
    with pytest.raises(TypeError):
        await facade.call("conversation.record_message", CID, "user", "hi")
    assert facade.fake.requests == []


BATCH_CASES: list[tuple[Any, str | None, int | None]] = [
    ([], "messages", None),
    ("not a list", "messages", None),
    ([message(), {"role": "user", "content": "hi"}], "conversation_id", 1),
    ([message(), message(conversation_id="conv_1")], "conversation_id", 1),
    ([message(), message(), {"conversation_id": CID, "content": "x"}], "role", 2),
    ([message(role="Assistant")], "role", 0),
    ([message(), {"conversation_id": CID, "role": "user"}], "content", 1),
    ([message(user_id=5)], "user_id", 0),
    ([message(metadata=[1])], "metadata", 0),
    ([message(), "entry"], None, 1),
    ([message(timestamp={1, 2})], "timestamp", 0),
]


@pytest.mark.parametrize(("messages", "field", "index"), BATCH_CASES)
async def test_record_messages_batch_rules_send_nothing(
    facade: Facade, messages: Any, field: str | None, index: int | None
) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        await facade.call("conversation.record_messages_batch", messages)
    assert (caught.value.field, caught.value.index) == (field, index)
    if index is not None:
        assert f"messages[{index}]" in str(caught.value)
    assert facade.fake.requests == []


# Refused whatever fail_fast says: the payload as a whole is malformed or too big.
CONTAINER_CASES: list[tuple[Any, str | None, int | None]] = [
    ([], "documents", None),
    (None, "documents", None),
    ([{"document": "x"}] * 101, "documents", None),
    ([CreateMemoryRequest(document="x"), "raw text"], None, 1),
    ([42], None, 0),
]


@pytest.mark.parametrize("fail_fast", [False, True])
@pytest.mark.parametrize(("documents", "field", "index"), CONTAINER_CASES)
async def test_batch_create_payload_rules_send_nothing(
    facade: Facade, documents: Any, field: str | None, index: int | None, fail_fast: bool
) -> None:
    with pytest.raises(synap.SynapValidationError) as caught:
        await facade.call("memories.batch_create", documents, fail_fast)
    assert (caught.value.field, caught.value.index) == (field, index)
    assert facade.fake.requests == []


async def test_one_hundred_documents_are_one_call(facade: Facade) -> None:
    batch = await facade.call("memories.batch_create", [{"document": f"d{i}"} for i in range(100)])
    assert len(facade.fake.requests) == 1
    assert batch.succeeded == 100


DOCUMENT_CASES: list[tuple[Any, str]] = [
    ({"document_type": "email"}, "document"),
    (CreateMemoryRequest(document=None), "document"),  # type: ignore[arg-type]
    (CreateMemoryRequest(document="x", document_type="spreadsheet"), "document_type"),
    (CreateMemoryRequest(document="x", mode="slow"), "mode"),
    ({"document": "x", "document_created_at": "2024-05-01T12:00:00"}, "document_created_at"),
    ({"document": "x", "documnet_id": "typo"}, "documnet_id"),
    ({"document": "x", "metadata": "inbox"}, "metadata"),
]


@pytest.mark.parametrize(("doc", "field"), DOCUMENT_CASES)
async def test_an_invalid_document_with_fail_fast_raises_and_sends_nothing(
    facade: Facade, doc: Any, field: str
) -> None:
    with pytest.raises(synap.SynapValidationError) as caught:
        await facade.call("memories.batch_create", [{"document": "fine"}, doc], fail_fast=True)
    assert (caught.value.field, caught.value.index) == (field, 1)
    assert facade.fake.requests == []


@pytest.mark.parametrize(("doc", "field"), DOCUMENT_CASES)
async def test_an_invalid_document_without_fail_fast_is_reported_not_sent(
    facade: Facade, doc: Any, field: str
) -> None:
    batch = await facade.call("memories.batch_create", [{"document": "fine"}, doc])
    (sent,) = facade.fake.bodies
    assert [d["document"] for d in sent["documents"]] == ["fine"]
    assert (batch.total, batch.succeeded, batch.failed) == (2, 1, 1)
    assert batch.results[1].status == "failed"
    assert f"documents[1].{field}" in (batch.results[1].error_message or "")


@pytest.mark.parametrize("fail_fast", ["yes", 1, None])
async def test_fail_fast_must_be_a_bool(facade: Facade, fail_fast: Any) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        await facade.call("memories.batch_create", [{"document": "x"}], fail_fast)
    assert caught.value.field == "fail_fast"
    assert facade.fake.requests == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "has space"}, "idempotency_key"),
        ({"idempotency_key": "x" * 256}, "idempotency_key"),
        ({"correlation_id": "line\nbreak"}, "correlation_id"),
        ({"correlation_id": 5}, "correlation_id"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "5"}, "timeout"),
    ],
)
async def test_call_options_are_checked_before_sending(
    facade: Facade, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        await facade.call("conversation.record_message", **record_args(), **kwargs)
    assert caught.value.field == field
    assert facade.fake.requests == []
