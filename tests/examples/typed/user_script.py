"""A user's script with the README's calls, checked by `mypy --strict` (tests/examples/
test_readme.py) and run against a local server: what a user writes must type-check as is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import synap
from synap import (
    AsyncSynap,
    BulkFailure,
    BulkSummary,
    CheckpointError,
    CreateMemoryRequest,
    Synap,
)


def transcripts(cid: str) -> Iterator[dict[str, Any]]:
    for i in range(3):
        yield {"conversation_id": cid, "role": "user", "content": f"turn {i}", "customer_id": "c"}


def blocking(client: Synap) -> list[str]:
    cid = str(uuid.uuid4())
    one = client.conversation.record_message(cid, "user", "hi", "user_alice", "customer_acme")
    result = client.conversation.record_messages_batch(
        messages=[{"conversation_id": cid, "role": "assistant", "content": "Noted.",
                   "customer_id": "customer_acme"}]
    )  # fmt: skip
    message_id: str = result["results"][0]["message_id"]
    recorded_at: str = result["results"][0]["recorded_at"]
    rejected: str | None = result["results"][0].get("error")
    batch = client.memories.batch_create(
        [
            CreateMemoryRequest(document="User: I like blue.", document_type="document"),
            {"document": "Subject: renewal", "document_type": "email"},
        ],
        fail_fast=False,
    )
    ingestion_id: str | None = batch.results[0].ingestion_id
    summary: BulkSummary = client.conversation.record_messages_bulk(
        transcripts(cid), concurrency=2, on_progress=lambda done, total: None
    )
    failures: tuple[BulkFailure, ...] = summary.failures
    docs: list[CreateMemoryRequest | dict[str, Any]] = [
        CreateMemoryRequest(document="a"),
        {"document": "b"},
    ]
    more: BulkSummary = client.memories.bulk_create(docs)
    assert summary.ok
    assert more.ok
    assert not failures
    assert rejected is None
    return [one["message_id"], message_id, recorded_at, str(ingestion_id)]


async def async_service(client: AsyncSynap) -> int:
    cid = str(uuid.uuid4())
    await client.conversation.record_message(cid, "user", "hi", "user_alice", "customer_acme")
    batch = await client.memories.batch_create(
        [CreateMemoryRequest(document="...", document_type="email", mode="fast"),
         {"document": "a dict works too"}],
        fail_fast=False,
    )  # fmt: skip
    summary: BulkSummary = await client.conversation.record_messages_bulk(transcripts(cid))
    return batch.succeeded + summary.succeeded


def resumable(client: Synap, checkpoint: str) -> BulkSummary | None:
    try:
        return client.conversation.record_messages_bulk(
            transcripts(str(uuid.uuid4())), checkpoint=checkpoint
        )
    except CheckpointError as error:
        print(error)
    except synap.SynapError as error:
        print(error.status_code)
    return None
