"""Everything a bulk job decides, written once for the blocking and the async runner.

A `Job` is fed the input one item at a time (`add`), validates each item, cuts the input into
chunks of `chunk_size` consecutive input positions (invalid items and items a checkpoint already
confirms are dropped from the call, never sent), derives each call's idempotency key from the
job and the chunk's content, maps the server's per-entry results back to input positions, keeps
the checkpoint and the summary, and reports progress. The runners in `_runners.py` only move
chunks to the network and back.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from synap._errors import SynapValidationError, brief
from synap.bulk._checkpoint import Checkpoint, CheckpointError

MAX_CHUNK_SIZE = 100

Stage = Literal["invalid", "rejected", "error"]
ProgressCallback = Callable[[int, "int | None"], None]
ResultCallback = Callable[[int, Any], None]


@dataclass(frozen=True, slots=True)
class InvalidItem:
    """A placeholder for an input item that could not even be read (for example a line of a
    JSONL file that is not JSON): it keeps its position and is reported with `reason`."""

    reason: str


@dataclass(frozen=True, slots=True)
class BulkFailure:
    """One input item that was not stored.

    `position` is its 0-based index in the input. `stage` says why: `"invalid"` (refused by the
    SDK's validation, never sent), `"rejected"` (the server answered with an error for this
    entry) or `"error"` (its call failed after the SDK's retries; `error` is the `SynapError`;
    with `preserve_order`, the later entries of that call's conversations are not sent either
    but reported with the same error, so that a rerun stores each conversation in order).
    """

    position: int
    reason: str
    stage: Stage
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class BulkSummary:
    """The outcome of a bulk job.

    `total` items were read from the input; `succeeded` of them are stored (including
    `skipped`: those an earlier run had stored, per the checkpoint); `failed` were not, each
    listed in `failures` (sorted by position). `calls` is the number of calls this run made.
    A dry run sends nothing: `succeeded` is 0 and `failed` counts the invalid items.
    """

    total: int
    succeeded: int
    failed: int
    skipped: int
    calls: int
    failures: tuple[BulkFailure, ...] = field(repr=False)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """True when every item read is stored (or, in a dry run, valid)."""
        return self.failed == 0


@dataclass(slots=True)
class Chunk:
    """One call: the input positions it carries and the validated entries, in input order."""

    index: int
    positions: list[int]
    items: list[dict[str, Any]]
    idempotency_key: str
    ordering_keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class Kind:
    """What differs between a messages job and a documents job (no I/O)."""

    name: str
    validate: Callable[[Any, int], dict[str, Any]]
    # (response, number of entries sent) -> per entry: (error reason or None, the entry's result)
    outcomes: Callable[[Any, int], list[tuple[str | None, Any]]]
    # entry -> the key whose calls must not overlap (conversation id), or None
    ordering_key: Callable[[dict[str, Any]], str | None]
    invalid_errors: tuple[type[BaseException], ...]
    fatal_errors: tuple[type[BaseException], ...]
    call_errors: tuple[type[BaseException], ...]
    # A call refused for its size (HTTP 413) is split in halves and each half sent.
    split_errors: tuple[type[BaseException], ...] = ()


@dataclass(frozen=True, slots=True)
class Part:
    """One call made for a chunk: its answer, or the error it failed with after retries."""

    chunk: Chunk
    response: Any
    error: BaseException | None


def check_chunk_size(chunk_size: int | None) -> None:
    if chunk_size is not None and (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or not 1 <= chunk_size <= MAX_CHUNK_SIZE
    ):
        raise SynapValidationError(
            f"chunk_size must be an int from 1 to {MAX_CHUNK_SIZE} (the per-call limit), "
            f"not {brief(chunk_size)}",
            field="chunk_size",
        )


def check_concurrency(concurrency: int) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise SynapValidationError(
            f"concurrency must be an int of at least 1, not {brief(concurrency)}",
            field="concurrency",
        )


def canonical(position: int, entry: dict[str, Any]) -> bytes:
    # Stable across runs and processes: keys sorted, no whitespace, non-JSON values as str.
    return (
        json.dumps(
            [position, entry],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        + "\n"
    ).encode()


def digest(pairs: Iterable[tuple[int, dict[str, Any]]]) -> str:
    h = hashlib.sha256()
    for position, entry in pairs:
        h.update(canonical(position, entry))
    return h.hexdigest()


def idempotency_key(job_id: str, chunk: int, content_digest: str) -> str:
    """The same job, chunk and content give the same key in every run (and process)."""
    return f"bulk-{job_id}-{chunk}-{content_digest[:24]}"


@dataclass
class Job:
    """The state of one bulk job, driven by one runner (always from one thread or task)."""

    kind: Kind
    chunk_size: int | None = None
    checkpoint_path: str | os.PathLike[str] | None = None
    total: int | None = None
    on_progress: ProgressCallback | None = None
    on_result: ResultCallback | None = None
    dry_run: bool = False
    preserve_order: bool = False

    job_id: str = field(init=False, default="")
    fatal: BaseException | None = field(init=False, default=None)
    _checkpoint: Checkpoint | None = field(init=False, default=None)
    _size: int = field(init=False, default=MAX_CHUNK_SIZE)
    _next: int = field(init=False, default=0)
    _buffer: list[tuple[int, dict[str, Any] | None]] = field(init=False, default_factory=list)
    _done: int = field(init=False, default=0)
    _succeeded: int = field(init=False, default=0)
    _skipped: int = field(init=False, default=0)
    _calls: int = field(init=False, default=0)
    _failures: list[BulkFailure] = field(init=False, default_factory=list)
    # Ordering keys (conversations) a failed call left with a gap -> the error it failed with.
    _gaps: dict[str, BaseException] = field(init=False, default_factory=dict)

    def open(self) -> None:
        check_chunk_size(self.chunk_size)
        if self.checkpoint_path is not None and not self.dry_run:
            self._checkpoint = Checkpoint.open(
                self.checkpoint_path, kind=self.kind.name, chunk_size=self.chunk_size
            )
            self.job_id = self._checkpoint.job_id
            self._size = self._checkpoint.chunk_size
        else:
            self.job_id = uuid.uuid4().hex
            self._size = self.chunk_size or MAX_CHUNK_SIZE

    def close(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint.close()

    # -- reading the input -------------------------------------------------------------------

    def add(self, item: Any) -> Chunk | None:
        """Take the next input item; return a chunk when one is complete and has work to send."""
        position = self._next
        self._next += 1
        ready = None
        if self._buffer and position // self._size != self._buffer[0][0] // self._size:
            ready = self._close_chunk()
        self._buffer.append((position, self._validate(position, item)))
        return ready

    def end(self) -> Chunk | None:
        """The input is exhausted: return the last chunk, if it has work to send."""
        return self._close_chunk() if self._buffer else None

    def _validate(self, position: int, item: Any) -> dict[str, Any] | None:
        if isinstance(item, InvalidItem):
            self._failures.append(BulkFailure(position, item.reason, "invalid"))
            return None
        try:
            return self.kind.validate(item, position)
        except self.kind.invalid_errors as exc:
            # Without its traceback: a kept frame would keep the whole item alive.
            self._failures.append(
                BulkFailure(position, str(exc), "invalid", exc.with_traceback(None))
            )
            return None

    def _close_chunk(self) -> Chunk | None:
        buffer, self._buffer = self._buffer, []
        index = buffer[0][0] // self._size
        valid = {p: e for p, e in buffer if e is not None}
        confirmed = self._verified(index, valid)
        self._skipped += len(confirmed)
        self._succeeded += len(confirmed)
        to_send = [(p, e) for p, e in valid.items() if p not in confirmed]
        settled = len(buffer) - (0 if self.dry_run else len(to_send))
        if to_send and not self.dry_run:
            content = digest(to_send)
            chunk: Chunk | None = Chunk(
                index=index,
                positions=[p for p, _ in to_send],
                items=[e for _, e in to_send],
                idempotency_key=idempotency_key(self.job_id, index, content),
                ordering_keys=self._ordering_keys(e for _, e in to_send),
            )
        else:
            chunk = None
        self._advance(settled)
        return chunk

    def _verified(self, index: int, valid: dict[int, dict[str, Any]]) -> set[int]:
        """Positions of this chunk an earlier run stored; refuse a checkpoint of other data."""
        if self._checkpoint is None:
            return set()
        stored: set[int] = set()
        for entry in self._checkpoint.confirmed.get(index, ()):
            missing = [p for p in entry.positions if p not in valid]
            ok = not missing and digest((p, valid[p]) for p in sorted(entry.positions)) == (
                entry.digest
            )
            if not ok:
                first, last = min(entry.positions), max(entry.positions)
                raise CheckpointError(
                    f"{self._checkpoint.path} does not match this input: items {first}..{last} "
                    "differ from the ones it records as stored. It belongs to another job or "
                    "the input changed; use a new checkpoint file to import this input."
                )
            stored |= entry.positions
        return stored

    def _ordering_keys(self, entries: Iterable[dict[str, Any]]) -> frozenset[str]:
        if not self.preserve_order:
            return frozenset()
        keys = (self.kind.ordering_key(e) for e in entries)
        return frozenset(k for k in keys if k is not None)

    # -- scheduling ----------------------------------------------------------------------------

    @staticmethod
    def can_start(chunk: Chunk, running: Collection[Chunk], concurrency: int) -> bool:
        """A chunk waits for a free slot, and while a running call holds one of its
        conversations, so that each conversation's messages are stored in input order."""
        if len(running) >= concurrency:
            return False
        if not chunk.ordering_keys:
            return True
        return all(chunk.ordering_keys.isdisjoint(other.ordering_keys) for other in running)

    def hold_back(self, chunk: Chunk) -> Chunk | None:
        """`chunk` without the entries of conversations an earlier failed call left with a gap.

        Sending them would store a conversation's later turns before the missing ones, which a
        rerun would then append out of order; they are reported instead (stage `"error"`, with
        the earlier call's error) and sent by the rerun, in order. None: nothing left to send.
        """
        if not self._gaps or chunk.ordering_keys.isdisjoint(self._gaps):
            return chunk
        keep: list[tuple[int, dict[str, Any]]] = []
        for position, entry in zip(chunk.positions, chunk.items, strict=True):
            key = self.kind.ordering_key(entry)
            if key in self._gaps:
                error = self._gaps[key]
                reason = f"not sent: an earlier call of conversation {key} failed ({error})"
                self._failures.append(BulkFailure(position, reason, "error", error))
            else:
                keep.append((position, entry))
        self._advance(len(chunk.positions) - len(keep))
        if not keep:
            return None
        return Chunk(
            index=chunk.index,
            positions=[p for p, _ in keep],
            items=[e for _, e in keep],
            idempotency_key=idempotency_key(self.job_id, chunk.index, digest(keep)),
            ordering_keys=self._ordering_keys(e for _, e in keep),
        )

    def split(self, chunk: Chunk, error: BaseException) -> tuple[Chunk, Chunk] | None:
        """The two halves to send instead when `error` says the call was too large (the
        server stored nothing), each with its own content key; None when it cannot split."""
        if not isinstance(error, self.kind.split_errors) or len(chunk.items) < 2:
            return None
        middle = len(chunk.items) // 2
        halves = []
        for part in (slice(None, middle), slice(middle, None)):
            pairs = list(zip(chunk.positions[part], chunk.items[part], strict=True))
            halves.append(
                Chunk(
                    index=chunk.index,
                    positions=[p for p, _ in pairs],
                    items=[e for _, e in pairs],
                    idempotency_key=idempotency_key(self.job_id, chunk.index, digest(pairs)),
                    ordering_keys=chunk.ordering_keys,
                )
            )
        return halves[0], halves[1]

    # -- results -----------------------------------------------------------------------------

    def settle(self, parts: Iterable[Part], *, quiet: bool = False) -> None:
        """Take the calls made for one chunk (one, or more after a split)."""
        for part in parts:
            if part.error is None:
                self.complete(part.chunk, part.response, quiet=quiet)
            else:
                self.fail(part.chunk, part.error, quiet=quiet)

    def complete(self, chunk: Chunk, response: Any, *, quiet: bool = False) -> None:
        """A call answered: checkpoint what it stored (durably, first), then tell the caller."""
        self._calls += 1
        outcomes = self.kind.outcomes(response, len(chunk.items))
        stored = [p for p, (reason, _) in zip(chunk.positions, outcomes, strict=True) if not reason]
        if self._checkpoint is not None and stored:
            entries = dict(zip(chunk.positions, chunk.items, strict=True))
            self._checkpoint.record(chunk.index, stored, digest((p, entries[p]) for p in stored))
        self._succeeded += len(stored)
        for position, (reason, _) in zip(chunk.positions, outcomes, strict=True):
            if reason:
                self._failures.append(BulkFailure(position, reason, "rejected"))
        if quiet:
            return
        if self.on_result is not None:
            for position, (reason, result) in zip(chunk.positions, outcomes, strict=True):
                if not reason:
                    self.on_result(position, result)
        self._advance(len(chunk.positions))

    def fail(self, chunk: Chunk, error: BaseException, *, quiet: bool = False) -> None:
        """A call failed after the SDK's retries: its items are failures, not confirmed."""
        if not isinstance(error, self.kind.call_errors):
            raise error  # not an API outcome (a bug): never swallow it
        self._calls += 1
        reason = str(error) or type(error).__name__
        error = error.with_traceback(None)  # kept per failure: no frames, no stray buffers
        self._failures.extend(BulkFailure(p, reason, "error", error) for p in chunk.positions)
        if self.preserve_order:
            for entry in chunk.items:
                key = self.kind.ordering_key(entry)
                if key is not None:
                    self._gaps.setdefault(key, error)
        if isinstance(error, self.kind.fatal_errors) and self.fatal is None:
            self.fatal = error
        if not quiet:
            self._advance(len(chunk.positions))

    def _advance(self, settled: int) -> None:
        if settled:
            self._done += settled
            if self.on_progress is not None:
                self.on_progress(self._done, self.total)

    def summary(self) -> BulkSummary:
        failures = tuple(sorted(self._failures, key=lambda f: f.position))
        return BulkSummary(
            total=self._next,
            succeeded=self._succeeded,
            failed=len(failures),
            skipped=self._skipped,
            calls=self._calls,
            failures=failures,
            dry_run=self.dry_run,
        )


def known_total(items: object, total: int | None) -> int | None:
    """`total=` when given, else len() when the input has one, else unknowable."""
    if total is not None:
        return total
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        return None


def per_entry(
    results: Sequence[Any], sent: int, error_of: Callable[[Any], str | None]
) -> list[tuple[str | None, Any]]:
    """Pair each sent entry with its result; an entry the server gave no result for is failed."""
    outcomes: list[tuple[str | None, Any]] = []
    for i in range(sent):
        if i < len(results):
            outcomes.append((error_of(results[i]), results[i]))
        else:
            outcomes.append(("the server returned no result for this entry", None))
    return outcomes
