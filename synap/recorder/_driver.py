"""The sending side both recorders share: one task on an event loop cuts batches from the core
and keeps up to `IN_FLIGHT` `record_messages_batch` calls in flight, never two holding turns of
one conversation. The async recorder runs it on the caller's loop (asyncio or trio, through
anyio); the blocking recorder on an asyncio loop of its own, in its one background thread.

A call sends the batch's entries as they were checked by `record()`, encoded once per batch,
and parses the answer once (the bulk jobs' lean path, `synap.bulk._send`): the generated client
would build a model of every result only for the recorder to read each result's `error`.

What differs between the two is how a call goes out (`_call`), how a closed client shows
(`_client_closed`), where the spool's compaction runs (`_compact_soon`) and how waiters learn
that turns settled (`_signal_settled`)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import anyio
import anyio.abc

from synap import _retry
from synap._errors import SynapError
from synap.bulk._engine import encode
from synap.bulk._send import messages_body
from synap.recorder import _base
from synap.recorder._core import EXIT_TIMEOUT, IN_FLIGHT, Batch, Report
from synap.recorder._spool import Compaction

__all__ = ["LoopDriver"]

logger = _base.logger

# A call started just before the loop ends may be cancelled before its task ever runs (anyio
# then drops the coroutine unstarted); its batch is reclaimed and sent by the last drain, so
# Python's "never awaited" warning about it says nothing true.
warnings.filterwarnings(
    "ignore", r"coroutine 'LoopDriver\._deliver' was never awaited", RuntimeWarning
)


class LoopDriver(_base.RecorderBase):
    """`RecorderBase` plus the task that sends: `_run()`, awaited on the loop it sends from."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._flushing = 0  # flush() calls waiting: batches go out without waiting to fill
        self._sending: dict[str, Batch] = {}  # calls started (or about to start), by key
        self._stop = False
        self._stopped = False  # the task is over: nothing is sent any more
        self._scope: anyio.CancelScope | None = None
        self._wake_event: anyio.Event | None = None
        self._settled: anyio.Event | None = None
        self._done: anyio.Event | None = None

    # -- what each recorder provides ------------------------------------------------------------

    async def _call(self, batch: Batch, body: bytes) -> Mapping[str, Any]:
        """One `record_messages_batch` call of `batch`, whose request body is `body` (the
        client's own retries included)."""
        raise NotImplementedError

    def _client_closed(self) -> bool:
        raise NotImplementedError

    async def _compact_soon(self, plan: Compaction) -> None:
        """Run a due spool compaction (`spool.write(plan)` is the disk work)."""
        raise NotImplementedError

    # -- signals (called on the loop) -------------------------------------------------------------

    def _open_events(self) -> None:
        """Make the task's events: on the loop that runs it, before it starts."""
        self._wake_event = anyio.Event()
        self._settled = anyio.Event()
        self._done = anyio.Event()

    def _poke(self) -> None:
        """Wake the dispatcher: a batch's worth is queued, a flush waits, or it must stop."""
        if self._wake_event is not None:
            self._wake_event.set()

    def _signal_settled(self) -> None:
        """Turns settled (or the task stopped): waiting flushes look again."""
        event, self._settled = self._settled, anyio.Event()
        if event is not None:
            event.set()

    # -- the task ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        gone = "stopped: its client was closed"
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                await self._drive()
            if self._client_gone:
                self._finish(gone)
        except anyio.get_cancelled_exc_class():
            # The loop is ending and nobody closed the recorder: one bounded last drain.
            if not self._closed:
                self._closed = True
                if self._client_closed():
                    self._finish(gone)
                else:
                    with anyio.CancelScope(shield=True), anyio.move_on_after(EXIT_TIMEOUT):
                        await self._drive(final=True)
                    self._finish("stopped at the end of the event loop")
            raise
        except Exception:
            logger.exception("recorder: the background task failed; turns stay pending")
        finally:
            self._stopped = True
            self._signal_settled()
            if self._done is not None:
                self._done.set()

    async def _drive(self, final: bool = False) -> None:
        try:
            async with anyio.create_task_group() as tg:
                await self._dispatch(tg, final)
        finally:
            self._reclaim()

    async def _dispatch(self, tg: anyio.abc.TaskGroup, final: bool) -> None:
        """Start calls while there is room, then sleep until woken or the next tick."""
        state = self._state
        interval = self._flush_interval
        next_tick = time.monotonic() + interval
        draining = False
        while not self._stop:
            with state.lock:
                if final and not state.pending:
                    break
                now = time.monotonic()
                if now >= next_tick:
                    draining, next_tick = True, now + interval
                partial = draining or final or self._flushing > 0 or self._closed
                took = False
                while len(self._sending) < IN_FLIGHT:
                    batch = state.take(partial)
                    if batch is None:
                        break
                    took = True
                    self._sending[batch.key] = batch
                    tg.start_soon(self._deliver, batch)
                if not took:
                    draining = False
                wait = max(0.001, next_tick - now)
            event = self._wake_event
            assert event is not None
            with anyio.move_on_after(wait):
                await event.wait()
            if self._wake_event is event:
                self._wake_event = anyio.Event()

    async def _deliver(self, batch: Batch) -> None:
        state = self._state
        report: Report | None = None
        try:
            report = await self._send(batch)
        finally:
            with state.lock:
                state.release(batch)
            self._sending.pop(batch.key, None)
            if report:  # before waiters look: a flush returns with on_error already called
                self._report(report)
            self._signal_settled()
            self._poke()
        plan = self._compaction_plan()
        if plan is not None:
            await self._compact_soon(plan)

    def _reclaim(self) -> None:
        """Calls cancelled before their task ever ran: their batches go out again first."""
        with self._state.lock:
            for batch in self._sending.values():
                self._state.interrupted(batch)
        self._sending.clear()

    async def _send(self, batch: Batch) -> Report:
        """Store `batch` (retrying while the failure is transient); what failed for good. A
        cancelled call puts its batch back in front, to go out again as it was."""
        state = self._state
        body = batch_body(batch)
        retries = 0
        try:
            while True:
                try:
                    response = await self._call(batch, body)
                except anyio.get_cancelled_exc_class():
                    raise
                except Exception as exc:
                    error = exc if isinstance(exc, SynapError) else SynapError(f"{exc!r}")
                    with state.lock:
                        verdict = state.judge(batch, error, retries, self._client_closed())
                    if verdict.stop:
                        self._stop = True
                        self._client_gone = self._closed = True
                        self._poke()
                        return []
                    if verdict.split is not None:
                        return await self._send_parts(list(verdict.split))
                    if verdict.failures is not None:
                        return verdict.failures
                    assert verdict.delay is not None
                    await _retry.async_sleep(verdict.delay)
                    retries += 1
                    continue
                with state.lock:
                    return state.stored(batch, response)
        except anyio.get_cancelled_exc_class():
            with state.lock:
                if batch.key in state.in_flight:
                    state.interrupted(batch)
            raise

    async def _send_parts(self, parts: list[Batch]) -> Report:
        report: Report = []
        for i, part in enumerate(parts):
            try:
                report += await self._send(part)
            except anyio.get_cancelled_exc_class():
                with self._state.lock:  # part i is in front now; the rest go right behind it
                    for j, rest in enumerate(parts[i + 1 :], start=1):
                        self._state.interrupted(rest, position=j)
                raise
        return report


def batch_body(batch: Batch) -> bytes:
    """The `record_messages_batch` request body of `batch`: its checked entries, in order."""
    return messages_body(encode(batch.entries))
