"""The async recorder: one task on the running event loop (asyncio or trio, through anyio)
moves batches from the core to Synap through the client's own `record_messages_batch`, with up
to `IN_FLIGHT` calls at once (never two holding turns of one conversation)."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio
import anyio.abc
import anyio.to_thread

from synap import _retry
from synap._errors import SynapError
from synap.recorder import _base
from synap.recorder._core import EXIT_TIMEOUT, IN_FLIGHT, Batch, Report

if TYPE_CHECKING:
    from synap.conversation import AsyncConversation

__all__ = ["AsyncRecorder"]

logger = _base.logger

# A call started just before the loop ends may be cancelled before its task ever runs (anyio
# then drops the coroutine unstarted); its batch is reclaimed and sent by the last drain, so
# Python's "never awaited" warning about it says nothing true.
warnings.filterwarnings(
    "ignore", r"coroutine 'AsyncRecorder\._deliver' was never awaited", RuntimeWarning
)


def _backend() -> str | None:
    """The event loop running in this thread: "trio", "asyncio", or None."""
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
            return "trio"
        except RuntimeError:
            pass
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    return "asyncio"


class AsyncRecorder(_base.RecorderBase):
    """Records turns in the background for `AsyncSynap` / `MaximemSynapSDK`:
    `client.conversation.recorder(...)`.

    `record()` is a plain method (not a coroutine): it queues a turn and returns at once. A
    task on the running event loop (asyncio or trio), started by the first `record()`,
    `async with` or `flush()` inside the loop, sends the queued turns. `flush()` and
    `aclose()` are awaited. See `AsyncConversation.recorder` for the guarantees.
    """

    def __init__(self, conversation: AsyncConversation, **options: Any) -> None:
        super().__init__(**options)
        self._conversation = conversation
        self._flushing = 0
        self._sending: dict[str, Batch] = {}  # calls started (or about to start), by key
        self._stop = False
        self._stopped = False
        self._loop_thread: int | None = None
        self._task: Any = None  # the asyncio task (a strong reference keeps it alive)
        self._scope: anyio.CancelScope | None = None
        self._wake_event: anyio.Event | None = None
        self._settled: anyio.Event | None = None
        self._done: anyio.Event | None = None
        self._start()

    # -- starting -------------------------------------------------------------------------------

    def _start(self) -> bool:
        """Start the task on the loop running in this thread; False when there is none."""
        if self._running:
            return True
        backend = _backend()
        if backend is None:
            return False
        self._loop_thread = threading.get_ident()
        self._wake_event = anyio.Event()
        self._settled = anyio.Event()
        self._done = anyio.Event()
        self._running = True
        if backend == "trio":
            import trio

            # A system task: it outlives the caller's nurseries and is cancelled (then drains,
            # bounded) when the run's main task returns.
            trio.lowlevel.spawn_system_task(self._run, name="synap-recorder")
        else:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="synap-recorder")
        return True

    def _wake(self) -> None:
        if not self._running:
            self._start()
        elif self._loop_thread == threading.get_ident() and self._wake_event is not None:
            self._wake_event.set()
        # From another thread: picked up at the next flush interval.

    def _signal_settled(self) -> None:
        event, self._settled = self._settled, anyio.Event()
        if event is not None:
            event.set()

    # -- the caller's side ---------------------------------------------------------------------

    async def flush(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - as the API names it
        """Wait until every turn recorded before this call is stored or reported failed.

        Args:
            timeout: Seconds to wait at most (None: no limit).

        Returns:
            True when everything recorded before the call is settled; False when `timeout`
            passed first, or the recorder can no longer send (closed client).
        """
        self._start()
        state = self._state
        with state.lock:
            mark = state.mark()
        self._flushing += 1
        self._wake()
        try:
            with anyio.move_on_after(timeout):
                while True:
                    with state.lock:
                        if state.settled_up_to(mark):
                            return True
                    if self._stopped or self._settled is None:
                        return False
                    await self._settled.wait()
            return False
        finally:
            self._flushing -= 1

    async def aclose(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - as the API names it
        """Flush, then stop the task, within `timeout` seconds (None: no limit).

        Calls still in flight at the timeout are cancelled; their turns, like every turn not
        stored by then, stay in the spool (sent by the next recorder opened on it), or
        without a spool are counted in one WARNING line on the `synap` logger. Idempotent;
        `record()` raises once `aclose()` has begun.
        """
        if self._closed:
            return
        self._closed = True
        started = self._start()
        flushed = await self.flush(timeout) if started else False
        self._stop = True
        if self._scope is not None:
            self._scope.cancel()
        if started and self._done is not None:
            with anyio.CancelScope(shield=True):
                await self._done.wait()
        reason = "closed"
        if not flushed and timeout is not None:
            reason += f" after its timeout ({timeout} s)"
        self._finish(reason)

    async def __aenter__(self) -> Self:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

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
        try:
            report = await self._send(batch)
        finally:
            with state.lock:
                state.release(batch)
            self._sending.pop(batch.key, None)
            self._signal_settled()
            if self._wake_event is not None:
                self._wake_event.set()
        self._report(report)
        plan = self._compaction_plan()
        if plan is not None:  # the disk work in a worker thread: the loop never waits on it
            spool = state.spool
            assert spool is not None
            error: OSError | None = None
            try:
                await anyio.to_thread.run_sync(spool.write, plan)
            except OSError as exc:
                error = exc
            finally:
                placed = self._compaction_done(plan, error, sync_dir=False)
            if placed:
                await anyio.to_thread.run_sync(spool.sync_dir)

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
        retries = 0
        try:
            while True:
                try:
                    response = await self._conversation.record_messages_batch(
                        batch.entries, idempotency_key=batch.key
                    )
                except anyio.get_cancelled_exc_class():
                    raise
                except Exception as exc:
                    error = exc if isinstance(exc, SynapError) else SynapError(f"{exc!r}")
                    with state.lock:
                        verdict = state.judge(batch, error, retries, self._client_closed())
                    if verdict.stop:
                        self._stop = True
                        self._client_gone = self._closed = True
                        if self._wake_event is not None:
                            self._wake_event.set()
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

    def _client_closed(self) -> bool:
        return bool(self._conversation._transport.conn.closed)
