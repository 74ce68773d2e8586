"""The async recorder: the driver's task (`_driver`) on the running event loop (asyncio or
trio, through anyio) moves batches from the core to Synap through the client's own
`record_messages_batch`, with up to `IN_FLIGHT` calls at once (never two holding turns of one
conversation)."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import anyio
import anyio.to_thread

from synap.bulk._send import asend_messages
from synap.recorder import _base
from synap.recorder._core import Batch
from synap.recorder._driver import LoopDriver
from synap.recorder._spool import Compaction

if TYPE_CHECKING:
    from synap.conversation import AsyncConversation

__all__ = ["AsyncRecorder"]

logger = _base.logger


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


class AsyncRecorder(LoopDriver):
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
        self._loop_thread: int | None = None
        self._task: Any = None  # the asyncio task (a strong reference keeps it alive)
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
        self._open_events()
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
        elif self._loop_thread == threading.get_ident():
            self._poke()
        # From another thread: picked up at the next flush interval.

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
            reason += f" after its timeout ({timeout:.3g} s)"
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

    # -- the driver's hooks -----------------------------------------------------------------------

    async def _call(self, batch: Batch, body: bytes) -> Mapping[str, Any]:
        return await asend_messages(self._conversation._transport, body, batch.key)

    async def _compact_soon(self, plan: Compaction) -> None:
        """The disk work in a worker thread: the caller's loop never waits on it."""
        spool = self._state.spool
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

    def _client_closed(self) -> bool:
        return bool(self._conversation._transport.conn.closed)
