"""Everything a bulk job decides, written once for the blocking and the async runner.

A `Job` is fed the input one item at a time (`add`), validates each item, cuts the input into
chunks of `chunk_size` consecutive input positions (invalid items and items a checkpoint already
confirms are dropped from the call, never sent), derives each call's idempotency key from what
the call carries (positions and entries), maps the server's per-entry results back to input
positions, keeps the checkpoint and the summary, and reports progress. The runners in
`_runners.py` only move chunks to the network and back.

Two runs are the same job when they read the same items (after validation, as sent) at the
same positions with the same chunk size, against the same API key: every call they make then
carries the same idempotency key, so the server replays what the first run stored instead of
storing it again, with or without a checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from synap._errors import SynapValidationError, brief
from synap.bulk._checkpoint import Checkpoint, CheckpointError, to_ranges

MAX_CHUNK_SIZE = 100

Stage = Literal["invalid", "rejected", "error", "held"]
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
    or `"held"` (with `preserve_order`: an earlier turn of its conversation was not stored, so
    this one was not sent either, so that a rerun stores the conversation in order; `error` is
    the earlier turn's, if any).
    """

    position: int
    reason: str
    stage: Stage
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """A conversation one of whose turns was not stored: its later turns in this job are held
    back. `transient`: the turn's call failed (a rerun may store it), so what is held back
    depends on timing, not only on the input."""

    position: int
    why: str
    error: BaseException | None
    transient: bool


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
    # The entries as one JSON array, encoded once: the call's body is built from it, and its
    # digest (with the positions) names the call.
    encoded: bytes = b"[]"
    digest: str = ""


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
    # Bytes a one-entry call adds around its entry (for the size check of one item).
    envelope_bytes: int = 0
    # Errors that, before the server has answered any call, mean it cannot be reached at all
    # (a wrong URL, no network): the job stops rather than fail every call alike.
    unreachable_errors: tuple[type[BaseException], ...] = ()
    # entry -> whether some servers refuse it entry by entry for a reason known in advance (a
    # message without customer_id, on a B2B instance). With preserve_order and a checkpoint,
    # a conversation's turns after such an entry go in a call of their own, sent once the
    # server has judged it, until the server is seen to store one.
    risky: Callable[[dict[str, Any]], bool] | None = None


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


# As httpx writes a JSON body (compact, UTF-8, no NaN): validated entries are JSON-ready.
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def encode(entries: Sequence[Any]) -> bytes:
    """`entries` as one JSON array, in the bytes a call sends them."""
    return _JSON.encode(entries).encode()


def content_digest(positions: Sequence[int], encoded: bytes) -> str:
    """The sha256 of entries (as `encode` wrote them) with their input positions: stable
    across runs and processes for the same items at the same positions."""
    h = hashlib.sha256(b"synap-bulk/2\n")
    h.update(json.dumps(to_ranges(positions), separators=(",", ":")).encode())
    h.update(b"\n")
    h.update(encoded)
    return h.hexdigest()


def digest(pairs: Iterable[tuple[int, dict[str, Any]]]) -> str:
    """`content_digest` of (position, entry) pairs."""
    positions: list[int] = []
    entries: list[dict[str, Any]] = []
    for position, entry in pairs:
        positions.append(position)
        entries.append(entry)
    return content_digest(positions, encode(entries))


def idempotency_key(kind: str, content_digest: str) -> str:
    """The same entries at the same positions give the same key in every run and process, with
    or without a checkpoint (the digest covers each entry with its input position, so two
    equal lines of one input are two turns)."""
    return f"synap-bulk-{kind}-{content_digest[:40]}"


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
    # An item whose one-entry call would be larger than this is invalid (never sent).
    max_body_bytes: int | None = None

    fatal: BaseException | None = field(init=False, default=None)
    _checkpoint: Checkpoint | None = field(init=False, default=None)
    _size: int = field(init=False, default=MAX_CHUNK_SIZE)
    _next: int = field(init=False, default=0)
    _buffer: list[tuple[int, dict[str, Any] | None]] = field(init=False, default_factory=list)
    _done: int = field(init=False, default=0)
    _succeeded: int = field(init=False, default=0)
    _skipped: int = field(init=False, default=0)
    _calls: int = field(init=False, default=0)
    _answered: bool = field(init=False, default=False)
    # Chunks cut and not yet handed out (the runner takes one per add(), the rest from end()).
    _ready: deque[Chunk] = field(init=False, default_factory=deque)
    # The server stores `risky` entries (e.g. a B2C instance): no more splitting for them.
    _risky_ok: bool = field(init=False, default=False)
    _failures: list[BulkFailure] = field(init=False, default_factory=list)
    # Ordering keys (conversations) with a turn not stored -> the first such turn.
    _gaps: dict[str, Gap] = field(init=False, default_factory=dict)

    def open(self) -> None:
        check_chunk_size(self.chunk_size)
        if self.checkpoint_path is not None and not self.dry_run:
            self._checkpoint = Checkpoint.open(
                self.checkpoint_path, kind=self.kind.name, chunk_size=self.chunk_size
            )
            self._size = self._checkpoint.chunk_size
        else:
            self._size = self.chunk_size or MAX_CHUNK_SIZE

    def close(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint.close()

    # -- reading the input -------------------------------------------------------------------

    def add(self, item: Any) -> Chunk | None:
        """Take the next input item; return a chunk when one is complete and has work to send."""
        position = self._next
        self._next += 1
        if position % self._size == 0 and self._buffer:  # a chunk boundary
            self._close_chunk()
        self._buffer.append((position, self._validate(position, item)))
        return self._ready.popleft() if self._ready else None

    def end(self) -> Chunk | None:
        """The input is exhausted: the next chunk still to send (call until None)."""
        if self._buffer:
            self._close_chunk()
        return self._ready.popleft() if self._ready else None

    def _validate(self, position: int, item: Any) -> dict[str, Any] | None:
        if type(item) is InvalidItem:
            self._failures.append(BulkFailure(position, item.reason, "invalid"))
            return None
        try:
            entry = self.kind.validate(item, position)
            if self.max_body_bytes is not None:
                self._check_size(entry, position)
            return entry
        except self.kind.invalid_errors as exc:
            # Without its traceback: a kept frame would keep the whole item alive.
            self._failures.append(
                BulkFailure(position, str(exc), "invalid", exc.with_traceback(None))
            )
            if self.preserve_order and isinstance(item, dict):
                key = self.kind.ordering_key(item)
                if key is not None:
                    self._gap(key, Gap(position, "is invalid", None, transient=False))
            return None

    def _check_size(self, entry: dict[str, Any], position: int) -> None:
        assert self.max_body_bytes is not None
        size = len(encode([entry])) - 2 + self.kind.envelope_bytes
        if size > self.max_body_bytes:
            noun = "document" if self.kind.name == "documents" else "message"
            raise SynapValidationError(
                f"{self.kind.name}[{position}] is {size:,} bytes as JSON, more than one call "
                f"may carry ({self.max_body_bytes:,} bytes): split it into smaller {noun}s",
                field=None,
                index=position,
            )

    def _gap(self, key: str, gap: Gap) -> None:
        self._gaps.setdefault(key, gap)

    def _close_chunk(self) -> None:
        buffer, self._buffer = self._buffer, []
        index = buffer[0][0] // self._size
        if self._checkpoint is None:  # the common case: nothing to look up
            to_send = [(p, e) for p, e in buffer if e is not None]
        else:
            valid = {p: e for p, e in buffer if e is not None}
            confirmed = self._verified(index, valid)
            self._skipped += len(confirmed)
            self._succeeded += len(confirmed)
            to_send = [(p, e) for p, e in valid.items() if p not in confirmed]
        if self._gaps:
            to_send = self._without_gaps(to_send)
        settled = len(buffer) - (0 if self.dry_run else len(to_send))
        if to_send and not self.dry_run:
            first, later = self._split_after_risky(to_send)
            self._ready.append(self._chunk(index, first))
            if later:
                self._ready.append(self._chunk(index, later))
        self._advance(settled)

    def _split_after_risky(
        self, pairs: list[tuple[int, dict[str, Any]]]
    ) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, dict[str, Any]]]]:
        """The chunk's entries, less the turns of each conversation after its first entry the
        server may refuse (see `Kind.risky`): those go in a second call, which shares their
        conversation and so starts only once the first has answered; if the server refused
        that entry, `hold_back` then holds its conversation's later turns."""
        risky = self.kind.risky
        if risky is None or self._risky_ok or not self.preserve_order or self._checkpoint is None:
            return pairs, []
        key_of = self.kind.ordering_key
        first: list[tuple[int, dict[str, Any]]] = []
        later: list[tuple[int, dict[str, Any]]] = []
        split: set[str] = set()
        for pair in pairs:
            key = key_of(pair[1])
            if key is not None and key in split:
                later.append(pair)
                continue
            first.append(pair)
            if key is not None and risky(pair[1]):
                split.add(key)
        return first, later

    def _chunk(self, index: int, pairs: list[tuple[int, dict[str, Any]]]) -> Chunk:
        positions = [p for p, _ in pairs]
        items = [e for _, e in pairs]
        encoded = encode(items)
        content = content_digest(positions, encoded)
        return Chunk(
            index=index,
            positions=positions,
            items=items,
            idempotency_key=idempotency_key(self.kind.name, content),
            ordering_keys=self._ordering_keys(items),
            encoded=encoded,
            digest=content,
        )

    def _without_gaps(
        self, pairs: list[tuple[int, dict[str, Any]]]
    ) -> list[tuple[int, dict[str, Any]]]:
        """`pairs` less the later turns of conversations with a turn not stored (reported).

        Without a checkpoint, a gap left by a failed call holds back all of `pairs`: what such
        a gap holds depends on timing, and a rerun without a checkpoint must send this call
        unchanged (same entries, same key) for the server to replay it.
        """
        keys = [self.kind.ordering_key(entry) for _, entry in pairs]
        gaps = [self._gaps.get(k) if k is not None else None for k in keys]
        if self._checkpoint is None:
            found = next(
                ((k, g) for k, g in zip(keys, gaps, strict=True) if g is not None and g.transient),
                None,
            )
            if found is not None:
                gap_key, transient = found
                assert transient is not None
                for (position, _), key in zip(pairs, keys, strict=True):
                    self._hold(position, gap_key, transient, whole_call=key != gap_key)
                    if key is not None and key != gap_key:
                        # Not stored either: its own conversation's later turns wait too.
                        why = "was held back with its call"
                        self._gap(key, Gap(position, why, transient.error, transient=True))
                return []
        keep: list[tuple[int, dict[str, Any]]] = []
        for (position, entry), key, gap in zip(pairs, keys, gaps, strict=True):
            if gap is not None and gap.position < position:
                self._hold(position, key, gap)
            else:
                keep.append((position, entry))
        return keep

    def _hold(self, position: int, key: str | None, gap: Gap, *, whole_call: bool = False) -> None:
        if whole_call:
            reason = (
                f"held back with its call: a turn of conversation {key} (item {gap.position}) "
                f"{gap.why}, and without a checkpoint a rerun must send this call unchanged"
            )
        else:
            reason = (
                f"held back: an earlier turn of conversation {key} (item {gap.position}) "
                f"{gap.why}; a rerun sends it, in order, once that turn is stored"
            )
        self._failures.append(BulkFailure(position, reason, "held", gap.error))

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
        risky = self.kind.risky
        if risky is not None and any(risky(valid[p]) for p in stored):
            self._risky_ok = True  # an earlier run saw the server store one
        return stored

    def _ordering_keys(self, entries: Iterable[dict[str, Any]]) -> frozenset[str]:
        if not self.preserve_order:
            return frozenset()
        key = self.kind.ordering_key
        keys = {key(e) for e in entries}
        keys.discard(None)
        return frozenset(keys)  # type: ignore[arg-type]  # None was discarded

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
        """`chunk` without the entries of conversations an earlier turn of which was not stored
        (a failed call, or an entry the server rejected) since the chunk was cut.

        Sending them would store a conversation's later turns before the missing ones, which a
        rerun would then append out of order; they are reported instead (stage `"held"`) and
        sent by the rerun, in order. None: nothing left to send.
        """
        if not self._gaps or chunk.ordering_keys.isdisjoint(self._gaps):
            return chunk
        pairs = list(zip(chunk.positions, chunk.items, strict=True))
        keep = self._without_gaps(pairs)
        self._advance(len(pairs) - len(keep))
        if not keep:
            return None
        return chunk if len(keep) == len(pairs) else self._chunk(chunk.index, keep)

    def split(self, chunk: Chunk, error: BaseException) -> tuple[Chunk, Chunk] | None:
        """The two halves to send instead when `error` says the call was too large (the
        server stored nothing), each with its own content key; None when it cannot split."""
        if not isinstance(error, self.kind.split_errors) or len(chunk.items) < 2:
            return None
        middle = len(chunk.items) // 2
        halves = []
        for part in (slice(None, middle), slice(middle, None)):
            pairs = list(zip(chunk.positions[part], chunk.items[part], strict=True))
            halves.append(self._chunk(chunk.index, pairs))
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
        self._answered = True
        outcomes = self.kind.outcomes(response, len(chunk.items))
        stored = [p for p, (reason, _) in zip(chunk.positions, outcomes, strict=True) if not reason]
        if self._checkpoint is not None and stored:
            if len(stored) == len(chunk.positions):
                content = chunk.digest
            else:
                entries = dict(zip(chunk.positions, chunk.items, strict=True))
                content = digest((p, entries[p]) for p in stored)
            self._checkpoint.record(chunk.index, stored, content)
        self._succeeded += len(stored)
        judged = zip(chunk.positions, chunk.items, outcomes, strict=True)
        risky = self.kind.risky
        for position, entry, (reason, _) in judged:
            if not reason:
                if risky is not None and not self._risky_ok and risky(entry):
                    self._risky_ok = True
                continue
            self._failures.append(BulkFailure(position, reason, "rejected"))
            key = self.kind.ordering_key(entry) if self.preserve_order else None
            if key is not None:
                self._gap(key, Gap(position, f"was rejected ({reason})", None, False))
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
            why = f"failed ({reason})"
            for position, entry in zip(chunk.positions, chunk.items, strict=True):
                key = self.kind.ordering_key(entry)
                if key is not None:
                    self._gap(key, Gap(position, why, error, transient=True))
        if getattr(error, "status_code", None) is not None:
            self._answered = True
        unreachable = not self._answered and isinstance(error, self.kind.unreachable_errors)
        if (unreachable or isinstance(error, self.kind.fatal_errors)) and self.fatal is None:
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
