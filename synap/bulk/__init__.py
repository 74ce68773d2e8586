"""Bulk ingestion: backfill transcripts and bootstrap documents of any size.

The helpers behind `client.conversation.record_messages_bulk(...)` and
`client.memories.bulk_create(...)` (on `Synap`, `AsyncSynap` and `MaximemSynapSDK`). They take
any iterable or generator (async iterables too, on the async facade) without materialising it,
cut it into calls of at most 100 entries, keep at most `concurrency` calls in flight, and
return a `BulkSummary`: totals, and every item not stored with its position and the reason.

- Invalid items are reported (stage `"invalid"`), never sent, and never stop the rest.
- A call that still fails after the SDK's retries has its items reported (stage `"error"`,
  with the `SynapError`), not marked done. An authentication (401/403), credits (402) or
  not-found (404) error stops the job and is raised, since every other call would fail alike.
- Each call's idempotency key is derived from what it carries: its entries as sent, with their
  input positions. Two runs are the same job when they read the same items at the same
  positions with the same chunk size (and API key): a rerun, with or without a checkpoint,
  makes the same calls under the same keys and a server that honours the key replays them,
  storing nothing twice. Equal items at two positions are two items.
- `checkpoint=PATH` makes the job resumable: each confirmed call is appended (fsynced) to the
  file; a rerun skips what was stored and sends the rest, fixed items included. A checkpoint
  of another job or input raises `CheckpointError` before anything of it is misapplied.
- With `preserve_order` (messages), once a turn is not stored (invalid, rejected, or its call
  failed) the later turns of its conversation are held back (stage `"held"`), so that a
  rerun stores the conversation in order. With a checkpoint, a conversation's turns after a
  message without customer_id go in a call of their own, sent once the server has judged that
  message (a B2B instance rejects it entry by entry), until the server stores one. A wrong
  URL (no call could reach Synap) stops the job like a refused key.
- `max_body_bytes=N`: an item larger than one call can carry is invalid, never sent.
- Progress: `on_progress(done, total)` after each call, `total` from `total=` or len(), else
  None. `on_result(position, result)` gets each stored entry's result as the server sent it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from synap import _headers
from synap._errors import (
    AuthenticationError,
    InsufficientCreditsError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    SynapError,
    SynapValidationError,
)
from synap.bulk._checkpoint import CheckpointError
from synap.bulk._engine import (
    MAX_CHUNK_SIZE,
    BulkFailure,
    BulkSummary,
    Chunk,
    InvalidItem,
    Job,
    Kind,
    known_total,
    per_entry,
)
from synap.bulk._runners import run_async, run_sync

__all__ = [
    "MAX_CHUNK_SIZE",
    "BulkFailure",
    "BulkSummary",
    "CheckpointError",
    "InvalidItem",
    "abulk_create",
    "arecord_messages",
    "bulk_create",
    "record_messages",
]

DEFAULT_CONCURRENCY = 4

ProgressCallback = Callable[[int, "int | None"], None]
ResultCallback = Callable[[int, Any], None]

_FATAL = (AuthenticationError, InsufficientCreditsError, NotFoundError)


def _message_outcomes(response: Any, sent: int) -> list[tuple[str | None, Any]]:
    results = list(response.get("results") or ())
    # Some servers also list rejected entries in a top-level `errors: [{index, error}]`.
    listed = {
        e["index"]: str(e.get("error") or "rejected")
        for e in response.get("errors") or ()
        if isinstance(e, dict) and isinstance(e.get("index"), int)
    }

    def error_of(result: Any) -> str | None:
        error = result.get("error") if isinstance(result, dict) else "malformed result"
        return None if error is None else str(error)

    if len(results) == sent:  # the usual answer: one result per entry, most of them stored
        outcomes: list[tuple[str | None, Any]] = [
            (None, r) if type(r) is dict and r.get("error") is None else (error_of(r), r)
            for r in results
        ]
    else:
        outcomes = per_entry(results, sent, error_of)
    for index, reason in listed.items():
        if 0 <= index < sent and outcomes[index][0] is None:
            outcomes[index] = (reason, outcomes[index][1])
    return outcomes


def _document_outcomes(response: Any, sent: int) -> list[tuple[str | None, Any]]:
    def error_of(result: Any) -> str | None:
        if result.error_message:
            return str(result.error_message)
        return "failed" if result.status == "failed" else None

    return per_entry(list(response.results), sent, error_of)


def _conversation_of(entry: dict[str, Any]) -> str | None:
    value = entry.get("conversation_id")
    return None if value is None else str(value)


def _without_customer(entry: dict[str, Any]) -> bool:
    # A B2B instance refuses a message without customer_id, entry by entry; a B2C one takes it.
    return entry.get("customer_id") is None


def _messages_kind() -> Kind:
    from synap import _validation

    return Kind(
        name="messages",
        validate=_validation.batch_message,
        outcomes=_message_outcomes,
        ordering_key=_conversation_of,
        invalid_errors=(SynapValidationError,),
        fatal_errors=_FATAL,
        call_errors=(SynapError,),
        split_errors=(PayloadTooLargeError,),
        envelope_bytes=len(b'{"messages":[]}'),
        unreachable_errors=(NetworkError,),
        risky=_without_customer,
    )


def _documents_kind() -> Kind:
    from synap import _validation

    return Kind(
        name="documents",
        validate=_validation.document,
        outcomes=_document_outcomes,
        ordering_key=lambda entry: None,
        invalid_errors=(SynapValidationError,),
        fatal_errors=_FATAL,
        call_errors=(SynapError,),
        split_errors=(PayloadTooLargeError,),
        envelope_bytes=len(b'{"documents":[],"fail_fast":false}'),
        unreachable_errors=(NetworkError,),
    )


def _job(
    kind: Kind,
    items: object,
    *,
    chunk_size: int | None,
    checkpoint: str | os.PathLike[str] | None,
    on_progress: ProgressCallback | None,
    total: int | None,
    on_result: ResultCallback | None,
    dry_run: bool,
    preserve_order: bool,
    max_body_bytes: int | None,
) -> Job:
    return Job(
        kind,
        chunk_size=chunk_size,
        checkpoint_path=checkpoint,
        total=known_total(items, total),
        on_progress=on_progress,
        on_result=on_result,
        dry_run=dry_run,
        preserve_order=preserve_order,
        max_body_bytes=_check_max_body_bytes(max_body_bytes),
    )


def _check_max_body_bytes(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise SynapValidationError(
            f"max_body_bytes must be a positive int or None, not {value!r}",
            field="max_body_bytes",
        )
    return value


def record_messages(
    conversation: Any,
    messages: Iterable[Any],
    *,
    chunk_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    checkpoint: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
    total: int | None = None,
    on_result: ResultCallback | None = None,
    dry_run: bool = False,
    preserve_order: bool = True,
    extra_headers: Mapping[str, str] | None = None,
    max_body_bytes: int | None = None,
) -> BulkSummary:
    """Record any number of messages through `conversation.record_messages_batch` (blocking).

    See `Conversation.record_messages_bulk` for the arguments.
    """
    _headers.call_headers(extra_headers, bulk=True)  # refused before the job starts
    job = _job(
        _messages_kind(),
        messages,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        on_progress=on_progress,
        total=total,
        on_result=on_result,
        dry_run=dry_run,
        preserve_order=preserve_order,
        max_body_bytes=max_body_bytes,
    )
    from synap.bulk._send import messages_body, send_messages

    def send(chunk: Chunk) -> Any:
        body = messages_body(chunk.encoded)
        return send_messages(conversation._transport, body, chunk.idempotency_key, extra_headers)

    return run_sync(job, messages, send, concurrency)


async def arecord_messages(
    conversation: Any,
    messages: Iterable[Any] | AsyncIterable[Any],
    *,
    chunk_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    checkpoint: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
    total: int | None = None,
    on_result: ResultCallback | None = None,
    dry_run: bool = False,
    preserve_order: bool = True,
    extra_headers: Mapping[str, str] | None = None,
    max_body_bytes: int | None = None,
) -> BulkSummary:
    """The async twin of `record_messages` (`messages` may be an async iterable)."""
    _headers.call_headers(extra_headers, bulk=True)  # refused before the job starts
    job = _job(
        _messages_kind(),
        messages,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        on_progress=on_progress,
        total=total,
        on_result=on_result,
        dry_run=dry_run,
        preserve_order=preserve_order,
        max_body_bytes=max_body_bytes,
    )
    from synap.bulk._send import asend_messages, messages_body

    def send(chunk: Chunk) -> Any:  # the call's coroutine
        body = messages_body(chunk.encoded)
        return asend_messages(conversation._transport, body, chunk.idempotency_key, extra_headers)

    return await run_async(job, messages, send, concurrency)


def bulk_create(
    memories: Any,
    documents: Iterable[Any],
    *,
    chunk_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    checkpoint: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
    total: int | None = None,
    on_result: ResultCallback | None = None,
    dry_run: bool = False,
    extra_headers: Mapping[str, str] | None = None,
    max_body_bytes: int | None = None,
) -> BulkSummary:
    """Ingest any number of documents through `memories.batch_create` (blocking).

    See `Memories.bulk_create` for the arguments.
    """
    _headers.call_headers(extra_headers, bulk=True)  # refused before the job starts
    job = _job(
        _documents_kind(),
        documents,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        on_progress=on_progress,
        total=total,
        on_result=on_result,
        dry_run=dry_run,
        preserve_order=False,
        max_body_bytes=max_body_bytes,
    )
    return run_sync(
        job,
        documents,
        lambda chunk: memories.batch_create(
            chunk.items,
            fail_fast=False,
            idempotency_key=chunk.idempotency_key,
            extra_headers=extra_headers,
        ),
        concurrency,
    )


async def abulk_create(
    memories: Any,
    documents: Iterable[Any] | AsyncIterable[Any],
    *,
    chunk_size: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    checkpoint: str | os.PathLike[str] | None = None,
    on_progress: ProgressCallback | None = None,
    total: int | None = None,
    on_result: ResultCallback | None = None,
    dry_run: bool = False,
    extra_headers: Mapping[str, str] | None = None,
    max_body_bytes: int | None = None,
) -> BulkSummary:
    """The async twin of `bulk_create` (`documents` may be an async iterable)."""
    _headers.call_headers(extra_headers, bulk=True)  # refused before the job starts
    job = _job(
        _documents_kind(),
        documents,
        chunk_size=chunk_size,
        checkpoint=checkpoint,
        on_progress=on_progress,
        total=total,
        on_result=on_result,
        dry_run=dry_run,
        preserve_order=False,
        max_body_bytes=max_body_bytes,
    )
    return await run_async(
        job,
        documents,
        lambda chunk: memories.batch_create(
            chunk.items,
            fail_fast=False,
            idempotency_key=chunk.idempotency_key,
            extra_headers=extra_headers,
        ),
        concurrency,
    )
