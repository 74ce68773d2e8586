"""What the recorder decides, written once for the blocking and the async driver (no I/O here
but the spool's appends, which `Spool` does).

`State` holds the turns not yet settled (stored, or reported failed):

- the inbox: the checked entries `record()` took in since the sender last looked. `record()`
  only appends there (it runs on a service's request path, once between two requests, out of
  the CPU's caches); the sender makes them turns, all at once, before it reads anything below;
- one FIFO queue per conversation, in `record()` order, and the conversations in the order
  they got work, so batches are cut oldest-first across conversations;
- the conversations with a call in flight (`busy`): a batch never takes turns of a busy
  conversation, so two calls holding turns of one conversation are never in flight together;
- pre-formed batches: those a spool says were formed but not settled before a crash, and those
  whose call was interrupted. They may have reached Synap, so they go out again as they were
  (same turns, same order, hence the same idempotency key), before any new batch;
- the global record order of the turns not yet settled, to answer "is every turn recorded
  before this point settled?" (`flush`) in O(1). Settled turns leave it as they settle, so a
  recorder that is never flushed holds only its pending turns.

A batch's idempotency key is derived from its turns' ids and content. Each turn's id is unique
(the recorder's random prefix and the turn's place in record order, written to the spool by
`record()`), so two identical turns never make identical batches.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from synap import _retry
from synap._errors import (
    InvalidInputError,
    PayloadTooLargeError,
    SynapError,
    SynapValidationError,
    brief,
)
from synap.recorder._errors import RecorderFullError
from synap.recorder._spool import Compaction, Spool

__all__ = ["Batch", "RecorderStats", "State", "Turn", "Verdict", "check_options"]

MAX_BATCH = 100
"""The most entries one `record_messages_batch` call may carry."""

IN_FLIGHT = 4
"""Calls a recorder keeps in flight at most (never two holding turns of one conversation)."""

EXIT_TIMEOUT = 5.0
"""Seconds the interpreter-exit flush (blocking) and the end-of-loop flush (async) may take."""

# The recorder retries transient failures for as long as the turn is pending; the wait grows
# as the SDK's own does (0.5 s x 2^n, at most 8 s), and a Retry-After of any length is obeyed.
RETRY_POLICY = _retry.RetryPolicy(max_retries=1 << 62, max_retry_after=float("inf"))


class Turn:
    """One recorded turn, as `on_error(turn, error)` receives it.

    `id` is unique per turn (given by `record()`, kept in the spool); the other attributes
    are the arguments of `record()` in the form they are sent in.
    """

    __slots__ = ("entry", "id", "line", "seq", "settled")

    def __init__(
        self, id: str, entry: dict[str, Any], line: bytes | None = None, seq: int = 0
    ) -> None:
        self.id = id
        self.entry = entry
        self.line = line  # its spool line, rewritten when the spool is compacted
        self.seq = seq  # its place in record order (recovered turns first), for flush
        self.settled = False

    @property
    def conversation_id(self) -> str:
        return str(self.entry["conversation_id"])

    @property
    def role(self) -> str:
        return str(self.entry["role"])

    @property
    def content(self) -> str:
        return str(self.entry["content"])

    @property
    def user_id(self) -> str | None:
        return self.entry.get("user_id")

    @property
    def customer_id(self) -> str | None:
        return self.entry.get("customer_id")

    @property
    def session_id(self) -> str | None:
        return self.entry.get("session_id")

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.entry.get("metadata") or {})

    def __repr__(self) -> str:
        return (
            f"<Turn {self.id} conversation={self.conversation_id} role={self.role} "
            f"content={brief(self.content, 40)}>"
        )


class Batch:
    """One `record_messages_batch` call: its turns in order, and the key every try carries."""

    __slots__ = ("conversations", "entries", "key", "turns")

    def __init__(self, turns: list[Turn], key: str | None = None) -> None:
        self.turns = turns
        self.entries = [t.entry for t in turns]
        self.key = key or batch_key(turns)
        self.conversations = frozenset(t.entry["conversation_id"] for t in turns)

    def __repr__(self) -> str:
        return f"<Batch {self.key} of {len(self.turns)} turns>"


def batch_key(turns: list[Turn]) -> str:
    """The idempotency key of a batch: the same turns in the same order give the same key, in
    any process; any other batch another key (turn ids are unique)."""
    h = hashlib.sha256()
    for t in turns:
        e = t.entry
        h.update(f"{t.id}\0{e['conversation_id']}\0{e['role']}\0".encode())
        h.update(e["content"].encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return f"rec-{h.hexdigest()[:40]}"


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counts since the recorder was opened.

    `recorded`: turns `record()` accepted; `recovered`: unsettled turns found in the spool at
    open; `sent`: turns Synap stored; `failed`: turns reported to `on_error` (rejected, failed
    for good, or held back behind one of those); `pending`: turns neither stored nor reported.
    `recorded + recovered == sent + failed + pending` at all times.
    """

    recorded: int
    sent: int
    pending: int
    failed: int
    recovered: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do after a call failed: wait `delay` and try again, send `split` instead,
    report `failures`, or give up for now (`stop`: the client is closed)."""

    delay: float | None = None
    split: tuple[Batch, Batch] | None = None
    failures: list[tuple[Turn, SynapError]] | None = None
    stop: bool = False


Report = list[tuple[Turn, SynapError]]


def check_options(max_batch: object, flush_interval: object, max_pending: object) -> None:
    """The recorder's arguments, checked before anything starts."""

    def bad(name: str, rule: str, value: object) -> InvalidInputError:
        return InvalidInputError(f"{name} must be {rule}, got {brief(value)}", field=name)

    if isinstance(max_batch, bool) or not isinstance(max_batch, int):
        raise bad("max_batch", f"an int from 1 to {MAX_BATCH}", max_batch)
    if not 1 <= max_batch <= MAX_BATCH:
        raise bad("max_batch", f"an int from 1 to {MAX_BATCH}", max_batch)
    if (
        isinstance(flush_interval, bool)
        or not isinstance(flush_interval, int | float)
        or not 0 < flush_interval < float("inf")
    ):
        raise bad("flush_interval", "a positive number of seconds", flush_interval)
    if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
        raise bad("max_pending", "an int of at least 1", max_pending)


class State:
    """The recorder's queues and counters. Every method is called with `lock` held (the
    drivers share it with their condition variable), except where noted."""

    def __init__(self, max_batch: int, max_pending: int, spool: Spool | None) -> None:
        self.lock = threading.Lock()
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.spool = spool
        self.queues: dict[str, deque[Turn]] = {}
        self.busy: set[str] = set()
        self.preformed: deque[Batch] = deque()
        self.in_flight: dict[str, Batch] = {}  # by key: open batches, for compaction
        self.order: deque[Turn] = deque()  # unsettled turns (and some settled), record order
        self.recorded = 0
        self.recovered = 0
        self.sent = 0
        self.failed = 0
        self.pending = 0
        self.queued = 0  # turns in `inbox` or `queues` (not in a batch)
        # What `record()` took in since the sender last looked: entries, and with a spool
        # their spool lines. The sender makes them turns and queues them (`_drain`), in a
        # loop over many at once: the request path does the least it can.
        self.inbox: list[dict[str, Any]] = []
        self.inbox_lines: list[bytes] = []
        # Turn ids: unique per recorder (random prefix) and cheap (the record count).
        self._prefix = os.urandom(6).hex()
        if spool is not None:
            self._recover(spool)

    # -- taking turns in ------------------------------------------------------------------

    def add(self, entry: dict[str, Any]) -> bool:
        """Queue a checked entry; True when another batch's worth is waiting (worth a wake-up)."""
        if self.pending >= self.max_pending:
            raise RecorderFullError(
                f"the recorder holds max_pending={self.max_pending} turns not yet stored "
                "(Synap is unreachable or slower than turns arrive); this turn was not queued"
            )
        if self.spool is not None:
            self.inbox_lines.append(self.spool.append_turn(self._turn_id(self.recorded), entry))
        self.inbox.append(entry)
        self.recorded += 1
        self.pending += 1
        self.queued += 1
        # Once per max_batch turns: when busy conversations hold the queue back, waking the
        # sender at every turn would only spin it.
        return self.queued % self.max_batch == 0

    def _turn_id(self, index: int) -> str:
        """The id of the turn `record()` took in `index`-th (from 0)."""
        return f"{self._prefix}{index + 1:x}"

    def _drain(self) -> None:
        """Make the inbox's entries turns, in record order, each in its conversation's queue.
        Called first by whatever reads the queues or the record order."""
        inbox = self.inbox
        if not inbox:
            return
        lines = self.inbox_lines
        first = self.recorded - len(inbox)  # the index of the inbox's first turn
        order, queues = self.order, self.queues
        for i, entry in enumerate(inbox, first):
            line = lines[i - first] if lines else None
            turn = Turn(self._turn_id(i), entry, line, self.recovered + i)
            order.append(turn)
            queue = queues.get(entry["conversation_id"])
            if queue is None:
                queues[entry["conversation_id"]] = deque((turn,))
            else:
                queue.append(turn)
        self.inbox = []
        self.inbox_lines = []

    def _recover(self, spool: Spool) -> None:
        """Queue what the spool holds unsettled: its open batches first, as they were."""
        turns, batches = spool.recovered
        by_id: dict[str, Turn] = {}
        for seq, (turn_id, entry, line) in enumerate(turns):
            turn = Turn(turn_id, entry, line, seq)
            by_id[turn_id] = turn
            self.order.append(turn)
        in_batch: set[str] = set()
        for key, ids in batches:
            batch = Batch([by_id[i] for i in ids], key)
            self.preformed.append(batch)
            self.in_flight[batch.key] = batch
            in_batch.update(ids)
        for turn in by_id.values():
            if turn.id not in in_batch:
                queue = self.queues.setdefault(turn.entry["conversation_id"], deque())
                queue.append(turn)
                self.queued += 1
        self.recovered = self.pending = len(by_id)

    # -- cutting batches ------------------------------------------------------------------

    def take(self, partial: bool) -> Batch | None:
        """The next batch to send, or None. Pre-formed batches go first, each once none of its
        conversations is busy or waiting behind an earlier pre-formed batch; then new batches
        of up to `max_batch` turns, oldest conversations first, skipping busy ones. A batch
        of fewer than `max_batch` turns only when `partial` (the flush interval is up, or a
        flush or close is waiting)."""
        self._drain()
        if self.preformed:
            blocked = set(self.busy)
            for i, batch in enumerate(self.preformed):
                if blocked.isdisjoint(batch.conversations):
                    del self.preformed[i]
                    self.busy |= batch.conversations
                    return batch
                blocked |= batch.conversations
            return None  # new batches wait until the pre-formed ones are out
        if not self.queued or (not partial and self.queued < self.max_batch):
            return None
        room = self.max_batch
        turns: list[Turn] = []
        emptied: list[str] = []
        for cid, queue in self.queues.items():
            if cid in self.busy:
                continue
            while queue and room:
                turns.append(queue.popleft())
                room -= 1
            if not queue:
                emptied.append(cid)
            if not room:
                break
        for cid in emptied:
            del self.queues[cid]
        if not turns or (not partial and room):
            # Busy conversations hold the rest: send what there is only when due.
            if turns:
                self._unshift(turns)
            return None
        self.queued -= len(turns)
        batch = Batch(turns)
        self.busy |= batch.conversations
        self.in_flight[batch.key] = batch
        if self.spool is not None:
            # Before it is sent: after a crash, the same batch goes out under the same key.
            self.spool.append_batch(batch.key, [t.id for t in turns])
        return batch

    def _unshift(self, turns: list[Turn]) -> None:
        """Put turns taken from the queues back in front, in their order."""
        for turn in reversed(turns):
            cid = turn.entry["conversation_id"]
            queue = self.queues.get(cid)
            if queue is None:
                self.queues[cid] = queue = deque()
            queue.appendleft(turn)

    def interrupted(self, batch: Batch, position: int = 0) -> None:
        """A call was cancelled mid-way: it may have reached Synap, so the batch goes out
        again as it is, before any new batch."""
        self.busy -= batch.conversations
        self.preformed.insert(position, batch)

    # -- outcomes --------------------------------------------------------------------------

    def stored(self, batch: Batch, response: Mapping[str, Any]) -> Report:
        """Synap answered the batch: settle its turns; the rejected ones (and the queued
        turns of their conversations, held back behind them) are returned to report."""
        results = response.get("results")
        results = results if isinstance(results, list) else []
        report: Report = []
        for i, turn in enumerate(batch.turns):
            result = results[i] if i < len(results) else None
            reason = result.get("error") if isinstance(result, dict) else None
            if reason:
                error = SynapValidationError(
                    f"Synap rejected turn {turn.id} of conversation "
                    f"{turn.entry['conversation_id']}: {reason}",
                    index=i,
                )
                report.append((turn, error))
        self._close_batch(batch)
        self.sent += len(batch.turns) - len(report)
        for turn in batch.turns:
            turn.settled = True
        self.pending -= len(batch.turns)
        self.failed += len(report)
        report += self._hold_back(report)
        self._trim()
        return report

    def judge(self, batch: Batch, error: SynapError, retries: int, closed: bool) -> Verdict:
        """A call of `batch` failed with `error` (after the client's own retries)."""
        if closed:
            return Verdict(stop=True)
        if _retry.is_retryable(error):
            delay = _retry.retry_delay(RETRY_POLICY, min(retries, 16), error)
            return Verdict(delay=delay if delay is not None else RETRY_POLICY.max_delay)
        if isinstance(error, PayloadTooLargeError) and len(batch.turns) > 1:
            # 413 stores nothing: the halves are new batches with their own keys.
            half = len(batch.turns) // 2
            first, second = Batch(batch.turns[:half]), Batch(batch.turns[half:])
            self._close_batch(batch)
            for part in (first, second):
                self.in_flight[part.key] = part
                if self.spool is not None:
                    self.spool.append_batch(part.key, [t.id for t in part.turns])
            return Verdict(split=(first, second))
        self._close_batch(batch)
        for turn in batch.turns:
            turn.settled = True
        self.pending -= len(batch.turns)
        self.failed += len(batch.turns)
        report: Report = [(turn, error) for turn in batch.turns]
        report += self._hold_back(report)
        self._trim()
        return Verdict(failures=report)

    def release(self, batch: Batch) -> None:
        """The call of `batch` is over (settled, split or interrupted): free its conversations."""
        self.busy -= batch.conversations

    def _close_batch(self, batch: Batch) -> None:
        self.in_flight.pop(batch.key, None)
        if self.spool is not None:
            self.spool.append_done(batch.key)

    def _hold_back(self, report: Report) -> Report:
        """The queued turns of conversations that just lost a turn: reported with its error
        rather than stored after the gap."""
        self._drain()
        held: Report = []
        for cid, error in {t.entry["conversation_id"]: e for t, e in report}.items():
            queue = self.queues.pop(cid, None)
            if not queue:
                continue
            self.queued -= len(queue)
            for turn in queue:
                turn.settled = True
                held.append((turn, error))
        if held:
            self.pending -= len(held)
            self.failed += len(held)
            if self.spool is not None:
                self.spool.append_failed([t.id for t, _ in held])
        return held

    # -- flush, stats, compaction -----------------------------------------------------------

    def mark(self) -> int:
        """A point in record order (for `flush`): turns recorded so far."""
        return self.recovered + self.recorded

    def settled_up_to(self, mark: int) -> bool:
        """Whether every turn recorded before `mark` is settled."""
        self._drain()
        self._trim()
        # Turns leave `order` only when settled, and it is in record order: every turn
        # before its first is settled.
        return not self.order or self.order[0].seq >= mark

    def _trim(self) -> None:
        """Drop settled turns from `order`: those in front at once; when a turn still pending
        (a conversation retrying) keeps settled ones behind it, all of them once they
        outnumber the pending ones (each turn is dropped once: O(1) a turn, amortised).
        Before this, `order` kept every turn of a recorder never flushed: a service's
        memory grew by each turn's content, for good."""
        order = self.order
        while order and order[0].settled:
            order.popleft()
        if len(order) > 2 * self.pending + 1024:
            self.order = deque(t for t in order if not t.settled)

    def stats(self) -> RecorderStats:
        return RecorderStats(self.recorded, self.sent, self.pending, self.failed, self.recovered)

    def unsettled(self) -> Iterator[Turn]:
        self._drain()
        return (t for t in self.order if not t.settled)

    def compaction(self) -> Compaction | None:
        """A spool compaction to run, once settled entries outweigh the rest (its cost is in
        proportion to what is pending, so it stays a small share). The driver runs
        `spool.write(plan)` without the lock, then `spool.finish(plan)` with it."""
        spool = self.spool
        if spool is None or spool.closed or not spool.wants_compaction(self.pending):
            return None
        return spool.plan(self.unsettled(), self.in_flight.values())
