"""`client.conversation`: recording conversation turns, one at a time or in batches.

`Conversation` (blocking, on `Synap`) and `AsyncConversation` (on `AsyncSynap` and
`MaximemSynapSDK`) have the same methods with the same arguments and return the same dicts.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import UUID

# The answers' TypedDicts are generated from the spec's response schemas.
from synap_spec.responses import (
    BatchMessageError,
    BatchMessageResult,
    RecordMessageResponse,
    RecordMessagesBatchResponse,
)

from synap import _validation, _wire
from synap._config import NOT_GIVEN, NotGiven, TimeoutTypes
from synap._response import async_raw_response_wrapper, raw_response_wrapper

if TYPE_CHECKING:
    from synap._errors import SynapError
    from synap._transport import AsyncTransport, SyncTransport
    from synap.bulk import BulkSummary
    from synap.recorder import AsyncRecorder, Recorder, Turn

__all__ = [
    "AsyncConversation",
    "AsyncConversationWithRawResponse",
    "BatchMessageError",
    "BatchMessageResult",
    "Conversation",
    "ConversationWithRawResponse",
    "RecordMessageResponse",
    "RecordMessagesBatchResponse",
]


class Conversation:
    """Recording conversation turns (blocking): `client.conversation`."""

    __slots__ = ("__dict__", "_transport")  # __dict__: for with_raw_response, made once

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    @cached_property
    def with_raw_response(self) -> ConversationWithRawResponse:
        """The same calls, each returning a `synap.RawResponse`: the answer's `status_code`
        and `headers` (e.g. `Idempotent-Replayed`), the call's `idempotency_key` and
        `correlation_id`, and the result via `.parse()`."""
        return ConversationWithRawResponse(self)

    def record_message(
        self,
        conversation_id: str | UUID,
        role: str,
        content: str,
        user_id: str,
        customer_id: str | None = None,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RecordMessageResponse:
        """Records a single message turn against a conversation.

        Synap uses recorded messages to build conversation-scoped context (facts, preferences,
        episodes) and as input for compaction. Both `user` and `assistant` turns should be
        recorded so the system has the full transcript.

        Args:
            conversation_id: Stable identifier for the conversation; all messages sharing it
                form one transcript. Must be a valid UUID (a string or `uuid.UUID`): generate
                one with `str(uuid.uuid4())` and reuse it for every turn. This call is what
                registers a conversation.
            role: Message role. Must be `"user"` or `"assistant"`.
            content: The message text.
            user_id: External user identifier (your application's user ID). Required so the
                message is scoped to the right end user.
            customer_id: External customer/tenant identifier. Required for B2B instances;
                optional for B2C instances, where Synap derives it from the user.
            session_id: Optional session identifier. Auto-generated if not provided.
            metadata: Free-form metadata to attach to the message (e.g. model name, latency,
                custom tags).
            idempotency_key: Names this write; every retry of the call sends the same one. A
                fresh one is generated when not given; pass your own to make a repeat of the
                call (e.g. after a crash) safe.
            correlation_id: Sent as `X-Correlation-ID` (generated when not given), the same on
                every retry; errors carry it.
            timeout: Seconds (or an `httpx.Timeout`) for this call instead of the client's.
            extra_headers: More headers for this call, set over the SDK's own: an
                `Authorization` here replaces the client's key for this call; an
                `Idempotency-Key` or `X-Correlation-ID` here is the argument above under its
                header name. Printable ASCII only; framing headers (`Content-Length`, `Host`)
                are refused.

        Returns:
            A dict with `message_id`, `conversation_id`, `session_id` and `recorded_at`.

        Raises:
            InvalidInputError: when `role` is not `"user"` or `"assistant"`, when required
                identifiers are missing, or when `conversation_id` is not a UUID (nothing is
                sent).
            AuthenticationError: when the API key is missing or invalid.
            NetworkError: when the SDK cannot reach Synap (after retries).
        """
        body = _wire.record_message_request(
            _validation.record_message_body(
                conversation_id=conversation_id,
                role=role,
                content=content,
                user_id=user_id,
                customer_id=customer_id,
                session_id=session_id,
                metadata=metadata,
            )
        )
        return self._transport.send(
            _wire.RECORD_MESSAGE,
            body,
            _wire.record_message_result,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    def record_messages_batch(
        self,
        messages: list[dict[str, Any]],
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RecordMessagesBatchResponse:
        """Records many messages in one call.

        Use this when backfilling an existing transcript, syncing a buffered queue, or
        recording a multi-turn exchange after it completes.

        Args:
            messages: List of message dicts, each with the keys of `record_message`:
                `conversation_id` (required, a UUID), `role` (required, `"user"` or
                `"assistant"`), `content` (required), and optional `user_id`, `customer_id`,
                `session_id`, `metadata`. Unlike `record_message`, `user_id` and `customer_id`
                are optional in batch mode. Other keys are passed through unchanged.
            idempotency_key: Names this write; the same on every retry (see `record_message`).
            correlation_id: Sent as `X-Correlation-ID`, the same on every retry.
            timeout: Seconds (or an `httpx.Timeout`) for this call instead of the client's.
            extra_headers: More headers for this call, set over the SDK's own: an
                `Authorization` here replaces the client's key for this call; an
                `Idempotency-Key` or `X-Correlation-ID` here is the argument above under its
                header name. Printable ASCII only; framing headers (`Content-Length`, `Host`)
                are refused.

        Returns:
            A dict with `total`, `succeeded`, `failed` and `results` (per-message results in
            submission order: `message_id` and `recorded_at` for stored entries, `error` for
            rejected ones).

        Raises:
            InvalidInputError: when the list is empty, or an entry is missing required keys or
                its `role` is invalid (`.index` names the entry; nothing is sent).
            AuthenticationError: when the API key is missing or invalid.
            NetworkError: when the SDK cannot reach Synap (after retries).
        """
        body = _wire.record_messages_batch_request(_validation.batch_messages(messages))
        return self._transport.send(
            _wire.RECORD_MESSAGES_BATCH,
            body,
            _wire.record_messages_batch_result,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    def record_messages_bulk(
        self,
        messages: Iterable[dict[str, Any]],
        *,
        chunk_size: int | None = None,
        concurrency: int = 4,
        checkpoint: str | os.PathLike[str] | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        total: int | None = None,
        on_result: Callable[[int, Any], None] | None = None,
        dry_run: bool = False,
        preserve_order: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        max_body_bytes: int | None = None,
    ) -> BulkSummary:
        """Record any number of messages: `record_messages_batch` calls of at most
        `chunk_size` (default 100) entries, at most `concurrency` at a time.

        `messages` may be any iterable or generator; it is read lazily. Invalid entries
        are reported, never sent, and do not stop the rest. Each call's idempotency key
        is derived from the entries it carries and their positions, so a rerun of the same
        input stores nothing twice (the server replays each call), with or without a
        checkpoint; with `checkpoint=PATH` it also skips what was stored and sends the rest
        (fixed entries included) in order.

        Args:
            messages: Message dicts, as for `record_messages_batch`.
            chunk_size: Entries per call (1-100; default 100).
            concurrency: Calls in flight at once.
            checkpoint: A file recording confirmed calls, to resume after a crash.
            on_progress: Called as `on_progress(done, total)` after each call.
            total: The number of messages, for progress when `messages` has no len().
            on_result: Called as `on_result(position, result)` for each stored entry.
            dry_run: Validate and count only; send nothing.
            max_body_bytes: The largest body a call may have: an item larger than one call
                can carry is reported as invalid instead of sent (None: no check).
            preserve_order: Keep the turns of one conversation in order across calls.
            extra_headers: More headers for every call of the job (as for
                `record_messages_batch`; not `Idempotency-Key`: each call has its own).

        Returns:
            A `synap.bulk.BulkSummary`: `total`, `succeeded`, `failed`, `skipped`, `calls`
            and `failures` (position, reason, stage of every entry not stored).

        Raises:
            AuthenticationError, InsufficientCreditsError, NotFoundError: which would fail
                every call alike; the job stops.
            synap.bulk.CheckpointError: the checkpoint belongs to another job or input.
        """
        from synap import bulk

        return bulk.record_messages(
            self,
            messages,
            chunk_size=chunk_size,
            concurrency=concurrency,
            checkpoint=checkpoint,
            on_progress=on_progress,
            total=total,
            on_result=on_result,
            dry_run=dry_run,
            preserve_order=preserve_order,
            extra_headers=extra_headers,
            max_body_bytes=max_body_bytes,
        )

    def recorder(
        self,
        spool: str | os.PathLike[str] | None = None,
        max_batch: int = 100,
        flush_interval: float = 0.2,
        max_pending: int = 100_000,
        on_error: Callable[[Turn, SynapError], Any] | None = None,
        *,
        fsync: bool = False,
    ) -> Recorder:
        """A background recorder: `rec.record(...)` queues a turn and returns at once; one
        background thread stores the queued turns, in order and exactly once, with a few
        calls in flight.

            with client.conversation.recorder(spool="turns.spool") as rec:
                rec.record(conversation_id, "user", "I prefer dark mode.", "user_alice")

        `record()` checks a turn exactly as `record_message` does (an invalid turn raises
        `InvalidInputError` at once and is not queued), queues it and returns None without
        network I/O. In the background, queued turns of any conversations go out as
        `record_messages_batch` calls of at most `max_batch` entries, at least every
        `flush_interval` seconds.

        Guarantees:
            - Order: the turns of one conversation are stored in `record()` order; two calls
              holding turns of one conversation are never in flight together. After a turn is
              rejected (400/422, or an error entry in the batch result) or fails for good
              (401, 402, 403, ...), the turns of its conversation queued behind it are not
              sent but reported with it.
            - Exactly once: every call carries an idempotency key derived from its turns (each
              turn has a unique id), reused on every retry and every resend after a crash.
            - Failures never reach `record()`: network errors, 429 and 5xx are retried with
              backoff (honouring `Retry-After`) while the turn stays pending; failed turns go
              to `on_error(turn, error)` and a WARNING on the `synap` logger.
            - Backpressure: with `max_pending` turns waiting, `record()` raises
              `RecorderFullError`; it never drops a turn and never blocks.
            - Durability: with `spool=PATH` each turn is written to the file (an OS write;
              `fsync=True` also flushes it to disk) before `record()` returns, and marked when
              settled. A recorder opened on a spool first sends what it holds unsettled, as
              the same batches under the same keys. One recorder per spool
              (`SpoolInUseError` for a second); settled entries are compacted away.

        Args:
            spool: A file journaling the turns until they are stored (None: memory only).
            max_batch: Turns per call, 1 to 100.
            flush_interval: Seconds a queued turn waits at most for a batch to fill.
            max_pending: Turns queued or in flight at most; past it `record()` raises.
            on_error: Called as `on_error(turn, error)` for each turn not stored (from the
                recorder's thread or task; its exceptions are logged, not raised).
            fsync: With a spool, flush each turn to disk before `record()` returns.

        Returns:
            A `synap.recorder.Recorder`: `record()`, `flush(timeout=None)`,
            `close(timeout=None)`, `stats` (`recorded`, `sent`, `pending`, `failed`), and a
            context manager that closes it. A script that forgets `close()` is flushed at
            interpreter exit (for at most 5 seconds).

        Raises:
            InvalidInputError: an invalid argument.
            SpoolInUseError: another recorder has this spool open.
        """
        from synap.recorder import Recorder

        return Recorder(
            self,
            spool=spool,
            max_batch=max_batch,
            flush_interval=flush_interval,
            max_pending=max_pending,
            on_error=on_error,
            fsync=fsync,
        )

    def __repr__(self) -> str:
        return f"<synap Conversation {self._transport.conn.base_url}>"


class AsyncConversation:
    """Recording conversation turns (async): `client.conversation`."""

    __slots__ = ("__dict__", "_transport")  # __dict__: for with_raw_response, made once

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    @cached_property
    def with_raw_response(self) -> AsyncConversationWithRawResponse:
        """The same calls, each returning a `synap.RawResponse` (see `Conversation`)."""
        return AsyncConversationWithRawResponse(self)

    async def record_message(
        self,
        conversation_id: str | UUID,
        role: str,
        content: str,
        user_id: str,
        customer_id: str | None = None,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,  # noqa: ASYNC109 - HTTP timeout
        extra_headers: Mapping[str, str] | None = None,
    ) -> RecordMessageResponse:
        """Records a single message turn against a conversation.

        Synap uses recorded messages to build conversation-scoped context (facts, preferences,
        episodes) and as input for compaction. Both `user` and `assistant` turns should be
        recorded so the system has the full transcript.

        Args:
            conversation_id: Stable identifier for the conversation; all messages sharing it
                form one transcript. Must be a valid UUID (a string or `uuid.UUID`): generate
                one with `str(uuid.uuid4())` and reuse it for every turn. This call is what
                registers a conversation.
            role: Message role. Must be `"user"` or `"assistant"`.
            content: The message text.
            user_id: External user identifier (your application's user ID). Required so the
                message is scoped to the right end user.
            customer_id: External customer/tenant identifier. Required for B2B instances;
                optional for B2C instances, where Synap derives it from the user.
            session_id: Optional session identifier. Auto-generated if not provided.
            metadata: Free-form metadata to attach to the message (e.g. model name, latency,
                custom tags).
            idempotency_key: Names this write; every retry of the call sends the same one. A
                fresh one is generated when not given; pass your own to make a repeat of the
                call (e.g. after a crash) safe.
            correlation_id: Sent as `X-Correlation-ID` (generated when not given), the same on
                every retry; errors carry it.
            timeout: Seconds (or an `httpx.Timeout`) for this call instead of the client's.
            extra_headers: More headers for this call, set over the SDK's own: an
                `Authorization` here replaces the client's key for this call; an
                `Idempotency-Key` or `X-Correlation-ID` here is the argument above under its
                header name. Printable ASCII only; framing headers (`Content-Length`, `Host`)
                are refused.

        Returns:
            A dict with `message_id`, `conversation_id`, `session_id` and `recorded_at`.

        Raises:
            InvalidInputError: when `role` is not `"user"` or `"assistant"`, when required
                identifiers are missing, or when `conversation_id` is not a UUID (nothing is
                sent).
            AuthenticationError: when the API key is missing or invalid.
            NetworkError: when the SDK cannot reach Synap (after retries).
        """
        body = _wire.record_message_request(
            _validation.record_message_body(
                conversation_id=conversation_id,
                role=role,
                content=content,
                user_id=user_id,
                customer_id=customer_id,
                session_id=session_id,
                metadata=metadata,
            )
        )
        return await self._transport.send(
            _wire.RECORD_MESSAGE,
            body,
            _wire.record_message_result,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def record_messages_batch(
        self,
        messages: list[dict[str, Any]],
        *,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,  # noqa: ASYNC109 - HTTP timeout
        extra_headers: Mapping[str, str] | None = None,
    ) -> RecordMessagesBatchResponse:
        """Records many messages in one call.

        Use this when backfilling an existing transcript, syncing a buffered queue, or
        recording a multi-turn exchange after it completes.

        Args:
            messages: List of message dicts, each with the keys of `record_message`:
                `conversation_id` (required, a UUID), `role` (required, `"user"` or
                `"assistant"`), `content` (required), and optional `user_id`, `customer_id`,
                `session_id`, `metadata`. Unlike `record_message`, `user_id` and `customer_id`
                are optional in batch mode. Other keys are passed through unchanged.
            idempotency_key: Names this write; the same on every retry (see `record_message`).
            correlation_id: Sent as `X-Correlation-ID`, the same on every retry.
            timeout: Seconds (or an `httpx.Timeout`) for this call instead of the client's.
            extra_headers: More headers for this call, set over the SDK's own: an
                `Authorization` here replaces the client's key for this call; an
                `Idempotency-Key` or `X-Correlation-ID` here is the argument above under its
                header name. Printable ASCII only; framing headers (`Content-Length`, `Host`)
                are refused.

        Returns:
            A dict with `total`, `succeeded`, `failed` and `results` (per-message results in
            submission order: `message_id` and `recorded_at` for stored entries, `error` for
            rejected ones).

        Raises:
            InvalidInputError: when the list is empty, or an entry is missing required keys or
                its `role` is invalid (`.index` names the entry; nothing is sent).
            AuthenticationError: when the API key is missing or invalid.
            NetworkError: when the SDK cannot reach Synap (after retries).
        """
        body = _wire.record_messages_batch_request(_validation.batch_messages(messages))
        return await self._transport.send(
            _wire.RECORD_MESSAGES_BATCH,
            body,
            _wire.record_messages_batch_result,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def record_messages_bulk(
        self,
        messages: Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]],
        *,
        chunk_size: int | None = None,
        concurrency: int = 4,
        checkpoint: str | os.PathLike[str] | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        total: int | None = None,
        on_result: Callable[[int, Any], None] | None = None,
        dry_run: bool = False,
        preserve_order: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        max_body_bytes: int | None = None,
    ) -> BulkSummary:
        """Record any number of messages: `record_messages_batch` calls of at most
        `chunk_size` (default 100) entries, at most `concurrency` at a time.

        `messages` may be any iterable or generator (or async iterable); it is read lazily.
        Invalid entries are reported, never sent, and do not stop the rest. Each call's
        idempotency key is derived from the entries it carries and their positions, so a
        rerun of the same input stores nothing twice, with or without a checkpoint; with
        `checkpoint=PATH` it also skips what was stored and sends the rest in order.

        Args:
            messages: Message dicts, as for `record_messages_batch`.
            chunk_size: Entries per call (1-100; default 100).
            concurrency: Calls in flight at once.
            checkpoint: A file recording confirmed calls, to resume after a crash.
            on_progress: Called as `on_progress(done, total)` after each call.
            total: The number of messages, for progress when `messages` has no len().
            on_result: Called as `on_result(position, result)` for each stored entry.
            dry_run: Validate and count only; send nothing.
            max_body_bytes: The largest body a call may have: an item larger than one call
                can carry is reported as invalid instead of sent (None: no check).
            preserve_order: Keep the turns of one conversation in order across calls.
            extra_headers: More headers for every call of the job (as for
                `record_messages_batch`; not `Idempotency-Key`: each call has its own).

        Returns:
            A `synap.bulk.BulkSummary`: `total`, `succeeded`, `failed`, `skipped`, `calls`
            and `failures` (position, reason, stage of every entry not stored).

        Raises:
            AuthenticationError, InsufficientCreditsError, NotFoundError: which would fail
                every call alike; the job stops.
            synap.bulk.CheckpointError: the checkpoint belongs to another job or input.
        """
        from synap import bulk

        return await bulk.arecord_messages(
            self,
            messages,
            chunk_size=chunk_size,
            concurrency=concurrency,
            checkpoint=checkpoint,
            on_progress=on_progress,
            total=total,
            on_result=on_result,
            dry_run=dry_run,
            preserve_order=preserve_order,
            extra_headers=extra_headers,
            max_body_bytes=max_body_bytes,
        )

    def recorder(
        self,
        spool: str | os.PathLike[str] | None = None,
        max_batch: int = 100,
        flush_interval: float = 0.2,
        max_pending: int = 100_000,
        on_error: Callable[[Turn, SynapError], Any] | None = None,
        *,
        fsync: bool = False,
    ) -> AsyncRecorder:
        """A background recorder: `rec.record(...)` (a plain method, not a coroutine) queues
        a turn and returns at once; a task on the running event loop (asyncio or trio) stores
        the queued turns, in order and exactly once, with a few calls in flight.

            async with client.conversation.recorder() as rec:
                rec.record(conversation_id, "user", "I prefer dark mode.", "user_alice")

        `record()` checks a turn exactly as `record_message` does (an invalid turn raises
        `InvalidInputError` at once and is not queued), queues it and returns None without
        network I/O. In the background, queued turns of any conversations go out as
        `record_messages_batch` calls of at most `max_batch` entries, at least every
        `flush_interval` seconds.

        Guarantees:
            - Order: the turns of one conversation are stored in `record()` order; two calls
              holding turns of one conversation are never in flight together. After a turn is
              rejected (400/422, or an error entry in the batch result) or fails for good
              (401, 402, 403, ...), the turns of its conversation queued behind it are not
              sent but reported with it.
            - Exactly once: every call carries an idempotency key derived from its turns (each
              turn has a unique id), reused on every retry and every resend after a crash.
            - Failures never reach `record()`: network errors, 429 and 5xx are retried with
              backoff (honouring `Retry-After`) while the turn stays pending; failed turns go
              to `on_error(turn, error)` and a WARNING on the `synap` logger.
            - Backpressure: with `max_pending` turns waiting, `record()` raises
              `RecorderFullError`; it never drops a turn and never blocks.
            - Durability: with `spool=PATH` each turn is written to the file (an OS write;
              `fsync=True` also flushes it to disk) before `record()` returns, and marked when
              settled. A recorder opened on a spool first sends what it holds unsettled, as
              the same batches under the same keys. One recorder per spool
              (`SpoolInUseError` for a second); settled entries are compacted away.

        Args:
            spool: A file journaling the turns until they are stored (None: memory only).
            max_batch: Turns per call, 1 to 100.
            flush_interval: Seconds a queued turn waits at most for a batch to fill.
            max_pending: Turns queued or in flight at most; past it `record()` raises.
            on_error: Called as `on_error(turn, error)` for each turn not stored (from the
                recorder's thread or task; its exceptions are logged, not raised).
            fsync: With a spool, flush each turn to disk before `record()` returns.

        Returns:
            A `synap.recorder.AsyncRecorder`: `record()`, `await flush(timeout=None)`,
            `await aclose(timeout=None)`, `stats`, and an async context manager that closes
            it. Its task starts with the first `record()`, `flush()` or `async with` inside
            the event loop. If the loop ends without `aclose()`, the task sends what it can
            for at most 5 seconds (while the client is open) and logs what is left.

        Raises:
            InvalidInputError: an invalid argument.
            SpoolInUseError: another recorder has this spool open.
        """
        from synap.recorder import AsyncRecorder

        return AsyncRecorder(
            self,
            spool=spool,
            max_batch=max_batch,
            flush_interval=flush_interval,
            max_pending=max_pending,
            on_error=on_error,
            fsync=fsync,
        )

    def __repr__(self) -> str:
        return f"<synap AsyncConversation {self._transport.conn.base_url}>"


class ConversationWithRawResponse:
    """`client.conversation.with_raw_response` (blocking): each call returns a `RawResponse`."""

    __slots__ = ("record_message", "record_messages_batch")

    def __init__(self, conversation: Conversation) -> None:
        self.record_message = raw_response_wrapper(conversation.record_message)
        self.record_messages_batch = raw_response_wrapper(conversation.record_messages_batch)


class AsyncConversationWithRawResponse:
    """`client.conversation.with_raw_response` (async): each call returns a `RawResponse`."""

    __slots__ = ("record_message", "record_messages_batch")

    def __init__(self, conversation: AsyncConversation) -> None:
        self.record_message = async_raw_response_wrapper(conversation.record_message)
        self.record_messages_batch = async_raw_response_wrapper(conversation.record_messages_batch)
