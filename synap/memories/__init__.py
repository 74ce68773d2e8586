"""`client.memories`: bootstrap ingestion of documents with `batch_create`.

`Memories` (blocking, on `Synap`) and `AsyncMemories` (on `AsyncSynap` and `MaximemSynapSDK`)
take the same arguments and return the same `BatchCreateResponse`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from synap import _headers, _wire
from synap._config import NOT_GIVEN, NotGiven, TimeoutTypes
from synap._response import async_raw_response_wrapper, raw_response_wrapper
from synap.memories.models import (
    BatchCreateResponse,
    CreateMemoryRequest,
    CreateMemoryResponse,
    DocumentType,
    IngestionStatus,
    MemoryMode,
)

if TYPE_CHECKING:
    from synap._transport import AsyncTransport, SyncTransport
    from synap.bulk import BulkSummary

__all__ = [
    "AsyncMemories",
    "AsyncMemoriesWithRawResponse",
    "BatchCreateResponse",
    "CreateMemoryRequest",
    "CreateMemoryResponse",
    "DocumentType",
    "IngestionStatus",
    "Memories",
    "MemoriesWithRawResponse",
    "MemoryMode",
]


class Memories:
    """Ingesting documents into long-term memory (blocking): `client.memories`."""

    __slots__ = ("__dict__", "_transport")  # __dict__: for with_raw_response, made once

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    @cached_property
    def with_raw_response(self) -> MemoriesWithRawResponse:
        """The same calls, each returning a `synap.RawResponse`: the answer's `status_code`
        and `headers` (e.g. `Idempotent-Replayed`), the call's `idempotency_key` and
        `correlation_id`, and the result via `.parse()`."""
        return MemoriesWithRawResponse(self)

    def batch_create(
        self,
        documents: Sequence[CreateMemoryRequest | dict[str, Any]],
        fail_fast: bool = False,
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
    ) -> BatchCreateResponse:
        """Ingest multiple documents in a single call.

        The primary method for bootstrap ingestion: loading historical conversations,
        backfilling knowledge bases, and migrating data from other systems. Each document is
        processed independently through the ingestion pipeline. At most 100 documents per
        call; for more, see `synap.bulk`.

        Args:
            documents: A list of `CreateMemoryRequest` objects or dicts with the same keys (mixed):
                `document`, `document_type`, `document_id`, `document_created_at`, `user_id`,
                `customer_id`, `scope`, `mode`, `metadata`.
            fail_fast: If True, the entire batch is rejected as soon as any single document
                fails validation (an invalid document raises here and nothing is sent). If
                False (default), valid documents are accepted and invalid ones are returned
                with `error_message` populated in their result, in submission order.
            idempotency_key: Names this write; the same on every retry. Pass your own to make
                a repeat of the call (e.g. after a crash) safe.
            correlation_id: Sent as `X-Correlation-ID`, the same on every retry.
            timeout: Seconds (or an `httpx.Timeout`) for this call instead of the client's.
            extra_headers: More headers for this call, set over the SDK's own: an
                `Authorization` here replaces the client's key for this call; an
                `Idempotency-Key` or `X-Correlation-ID` here is the argument above under its
                header name. Printable ASCII only; framing headers (`Content-Length`, `Host`)
                are refused.

        Returns:
            `BatchCreateResponse` with `batch_id`, `total`, `succeeded`, `failed` and
            `results` (one `CreateMemoryResponse` per document: `ingestion_id`,
            `document_id`, `status`, `queued_at`, `error_message`).

        Raises:
            SynapValidationError: when the batch payload is malformed (not a list, empty,
                entries that are not `CreateMemoryRequest` or dict) or exceeds the maximum
                size of 100; nothing is sent.
            SynapAuthError: when the API key is missing or invalid.
            NetworkError: when the SDK cannot reach Synap (after retries).
        """
        plan = _wire.plan_batch_create(documents, fail_fast)
        if plan.request is None:  # nothing to send; the call's options are still checked
            _headers.call_headers(extra_headers, idempotency_key, correlation_id)
            return plan.unsent()
        return self._transport.send(
            _wire.BATCH_CREATE,
            plan.request,
            plan.result,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    def bulk_create(
        self,
        documents: Iterable[CreateMemoryRequest | dict[str, Any]],
        *,
        chunk_size: int | None = None,
        concurrency: int = 4,
        checkpoint: str | os.PathLike[str] | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        total: int | None = None,
        on_result: Callable[[int, Any], None] | None = None,
        dry_run: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        max_body_bytes: int | None = None,
    ) -> BulkSummary:
        """Ingest any number of documents: `batch_create` calls of at most `chunk_size`
        (default 100) documents with `fail_fast=False`, at most `concurrency` at a time.

        `documents` may be any iterable or generator; it is read lazily. Invalid
        documents are reported, never sent, and do not stop the rest. Each call's
        idempotency key is derived from the documents it carries and their positions, so a
        rerun of the same input stores nothing twice, with or without a checkpoint; with
        `checkpoint=PATH` it also skips what was stored.

        Args:
            documents: `CreateMemoryRequest` objects or dicts, as for `batch_create`.
            chunk_size: Documents per call (1-100; default 100).
            concurrency: Calls in flight at once.
            checkpoint: A file recording confirmed calls, to resume after a crash.
            on_progress: Called as `on_progress(done, total)` after each call.
            total: The number of documents, for progress when `documents` has no len().
            on_result: Called as `on_result(position, result)` for each stored document.
            dry_run: Validate and count only; send nothing.
            extra_headers: More headers for every call of the job (as for
                `batch_create`; not `Idempotency-Key`: each call has its own).
            max_body_bytes: The largest body a call may have: an item larger than one call
                can carry is reported as invalid instead of sent (None: no check).

        Returns:
            A `synap.bulk.BulkSummary`: `total`, `succeeded`, `failed`, `skipped`, `calls`
            and `failures` (position, reason, stage of every document not stored).

        Raises:
            AuthenticationError, InsufficientCreditsError, NotFoundError: which would fail
                every call alike; the job stops.
            synap.bulk.CheckpointError: the checkpoint belongs to another job or input.
        """
        from synap import bulk

        return bulk.bulk_create(
            self,
            documents,
            chunk_size=chunk_size,
            concurrency=concurrency,
            checkpoint=checkpoint,
            on_progress=on_progress,
            total=total,
            on_result=on_result,
            dry_run=dry_run,
            extra_headers=extra_headers,
            max_body_bytes=max_body_bytes,
        )

    def __repr__(self) -> str:
        return f"<synap Memories {self._transport.conn.base_url}>"


class AsyncMemories:
    """Ingesting documents into long-term memory (async): `client.memories`."""

    __slots__ = ("__dict__", "_transport")  # __dict__: for with_raw_response, made once

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    @cached_property
    def with_raw_response(self) -> AsyncMemoriesWithRawResponse:
        """The same calls, each returning a `synap.RawResponse` (see `Memories`)."""
        return AsyncMemoriesWithRawResponse(self)

    async def batch_create(
        self,
        documents: Sequence[CreateMemoryRequest | dict[str, Any]],
        fail_fast: bool = False,
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,  # noqa: ASYNC109 - HTTP timeout
        extra_headers: Mapping[str, str] | None = None,
    ) -> BatchCreateResponse:
        """Ingest multiple documents in a single call.

        The primary method for bootstrap ingestion: loading historical conversations,
        backfilling knowledge bases, and migrating data from other systems. Each document is
        processed independently through the ingestion pipeline. At most 100 documents per
        call; for more, see `synap.bulk`.

        Args:
            documents: A list of `CreateMemoryRequest` objects or dicts with the same keys (mixed):
                `document`, `document_type`, `document_id`, `document_created_at`, `user_id`,
                `customer_id`, `scope`, `mode`, `metadata`.
            fail_fast: If True, the entire batch is rejected as soon as any single document
                fails validation (an invalid document raises here and nothing is sent). If
                False (default), valid documents are accepted and invalid ones are returned
                with `error_message` populated in their result, in submission order.
            idempotency_key: Names this write; the same on every retry. Pass your own to make
                a repeat of the call (e.g. after a crash) safe.
            correlation_id: Sent as `X-Correlation-ID`, the same on every retry.
            timeout: Seconds (or an `httpx.Timeout`) for this call instead of the client's.
            extra_headers: More headers for this call, set over the SDK's own: an
                `Authorization` here replaces the client's key for this call; an
                `Idempotency-Key` or `X-Correlation-ID` here is the argument above under its
                header name. Printable ASCII only; framing headers (`Content-Length`, `Host`)
                are refused.

        Returns:
            `BatchCreateResponse` with `batch_id`, `total`, `succeeded`, `failed` and
            `results` (one `CreateMemoryResponse` per document: `ingestion_id`,
            `document_id`, `status`, `queued_at`, `error_message`).

        Raises:
            SynapValidationError: when the batch payload is malformed (not a list, empty,
                entries that are not `CreateMemoryRequest` or dict) or exceeds the maximum
                size of 100; nothing is sent.
            SynapAuthError: when the API key is missing or invalid.
            NetworkError: when the SDK cannot reach Synap (after retries).
        """
        plan = _wire.plan_batch_create(documents, fail_fast)
        if plan.request is None:  # nothing to send; the call's options are still checked
            _headers.call_headers(extra_headers, idempotency_key, correlation_id)
            return plan.unsent()
        return await self._transport.send(
            _wire.BATCH_CREATE,
            plan.request,
            plan.result,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def bulk_create(
        self,
        documents: Iterable[CreateMemoryRequest | dict[str, Any]]
        | AsyncIterable[CreateMemoryRequest | dict[str, Any]],
        *,
        chunk_size: int | None = None,
        concurrency: int = 4,
        checkpoint: str | os.PathLike[str] | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        total: int | None = None,
        on_result: Callable[[int, Any], None] | None = None,
        dry_run: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        max_body_bytes: int | None = None,
    ) -> BulkSummary:
        """Ingest any number of documents: `batch_create` calls of at most `chunk_size`
        (default 100) documents with `fail_fast=False`, at most `concurrency` at a time.

        `documents` may be any iterable or generator (or async iterable); it is read lazily. Invalid
        documents are reported, never sent, and do not stop the rest. Each call's
        idempotency key is derived from the documents it carries and their positions, so a
        rerun of the same input stores nothing twice, with or without a checkpoint; with
        `checkpoint=PATH` it also skips what was stored.

        Args:
            documents: `CreateMemoryRequest` objects or dicts, as for `batch_create`.
            chunk_size: Documents per call (1-100; default 100).
            concurrency: Calls in flight at once.
            checkpoint: A file recording confirmed calls, to resume after a crash.
            on_progress: Called as `on_progress(done, total)` after each call.
            total: The number of documents, for progress when `documents` has no len().
            on_result: Called as `on_result(position, result)` for each stored document.
            dry_run: Validate and count only; send nothing.
            extra_headers: More headers for every call of the job (as for
                `batch_create`; not `Idempotency-Key`: each call has its own).
            max_body_bytes: The largest body a call may have: an item larger than one call
                can carry is reported as invalid instead of sent (None: no check).

        Returns:
            A `synap.bulk.BulkSummary`: `total`, `succeeded`, `failed`, `skipped`, `calls`
            and `failures` (position, reason, stage of every document not stored).

        Raises:
            AuthenticationError, InsufficientCreditsError, NotFoundError: which would fail
                every call alike; the job stops.
            synap.bulk.CheckpointError: the checkpoint belongs to another job or input.
        """
        from synap import bulk

        return await bulk.abulk_create(
            self,
            documents,
            chunk_size=chunk_size,
            concurrency=concurrency,
            checkpoint=checkpoint,
            on_progress=on_progress,
            total=total,
            on_result=on_result,
            dry_run=dry_run,
            extra_headers=extra_headers,
            max_body_bytes=max_body_bytes,
        )

    def __repr__(self) -> str:
        return f"<synap AsyncMemories {self._transport.conn.base_url}>"


class MemoriesWithRawResponse:
    """`client.memories.with_raw_response` (blocking): each call returns a `RawResponse`."""

    __slots__ = ("batch_create",)

    def __init__(self, memories: Memories) -> None:
        self.batch_create = raw_response_wrapper(memories.batch_create)


class AsyncMemoriesWithRawResponse:
    """`client.memories.with_raw_response` (async): each call returns a `RawResponse`."""

    __slots__ = ("batch_create",)

    def __init__(self, memories: AsyncMemories) -> None:
        self.batch_create = async_raw_response_wrapper(memories.batch_create)
