"""The blocking recorder: one background thread runs the driver (`_driver`) on an asyncio
loop of its own, so several `record_messages_batch` calls are in flight while the caller's
threads only queue turns. The calls go through an async twin of the client's transport (same
service, key, timeouts, retries and TLS; a pool of its own), or, when the client was given an
`http_client` of the caller's (which cannot be awaited), through the client itself, each call
in a short-lived thread."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import anyio

from synap._errors import SynapError
from synap.bulk._send import asend_messages, send_messages
from synap.recorder import _base
from synap.recorder._core import EXIT_TIMEOUT, Batch
from synap.recorder._driver import LoopDriver
from synap.recorder._spool import Compaction

if TYPE_CHECKING:
    from synap._transport import AsyncTransport
    from synap.conversation import Conversation

__all__ = ["Recorder"]

logger = _base.logger

T = TypeVar("T")


class Recorder(LoopDriver):
    """Records turns in the background for a blocking `Synap` client:
    `client.conversation.recorder(...)`.

    `record()` queues a turn and returns at once; one background thread sends the queued
    turns of all conversations as `record_messages_batch` calls of at most `max_batch`
    entries, at least every `flush_interval` seconds, several calls in flight. See
    `Conversation.recorder` for the guarantees.
    """

    def __init__(self, conversation: Conversation, **options: Any) -> None:
        super().__init__(**options)
        self._conversation = conversation
        self._twin: AsyncTransport | None = conversation._transport.async_twin()
        self._cond = threading.Condition(self._state.lock)
        self._loop: asyncio.AbstractEventLoop | None = None  # set once the thread's loop runs
        self._thread = threading.Thread(target=self._main, name="synap-recorder", daemon=True)
        self._running = True
        self._thread.start()
        _register_exit_flush()

    # -- the caller's side ---------------------------------------------------------------------

    def _wake(self) -> None:
        self._in_loop(self._poke)

    def _in_loop(self, callback: Callable[[], object]) -> None:
        """Run `callback` on the thread's loop (before it runs, its first look finds the work)."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the thread is done
                loop.call_soon_threadsafe(callback)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every turn recorded before this call is stored or reported failed.

        Args:
            timeout: Seconds to wait at most (None: no limit).

        Returns:
            True when everything recorded before the call is settled; False when `timeout`
            passed first, or the recorder can no longer send (closed client).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if threading.current_thread() is self._thread:  # from on_error: would wait on itself
            return False
        with self._cond:
            mark = self._state.mark()
            self._flushing += 1
        self._wake()
        with self._cond:
            try:
                while not self._state.settled_up_to(mark):
                    if self._stopped:
                        return False
                    if deadline is None:
                        self._cond.wait()
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._flushing -= 1

    def close(self, timeout: float | None = None) -> None:
        """Flush, then stop the background thread, within `timeout` seconds (None: no limit).

        Calls still in flight at the timeout are cancelled; their turns, like every turn not
        stored by then, stay in the spool (sent again under the same keys by the next recorder
        opened on it), or without a spool are counted in one WARNING line on the `synap`
        logger. Idempotent; `record()` raises once `close()` has begun.
        """
        self._shut(timeout, "closed")

    def _shut(self, timeout: float | None, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        deadline = None if timeout is None else time.monotonic() + timeout
        flushed = self.flush(timeout)
        self._stop = True
        self._in_loop(self._cancel)
        if threading.current_thread() is not self._thread:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            # A cancelled call unwinds at once; a moment more lets its batch be put back.
            self._thread.join(None if left is None else left + _UNWIND)
        if not flushed:
            reason += f" after its timeout ({timeout:.3g} s)" if timeout is not None else ""
        # Also when the thread is still in a call: the spool's lock is released now, so a new
        # recorder can open it at once. That call's batch stays open in the spool, and goes out
        # again under the same key (what was stored is not stored twice).
        self._finish(reason)

    def _cancel(self) -> None:
        """On the loop: stop the task, cancelling the calls in flight."""
        if self._scope is not None:
            self._scope.cancel()
        self._poke()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the background thread -------------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException:
            logger.exception("recorder: the background thread failed; turns stay pending")
        finally:
            with self._cond:
                self._stopped = True
                self._cond.notify_all()

    async def _serve(self) -> None:
        self._open_events()
        self._loop = asyncio.get_running_loop()  # from here on, _wake() reaches the loop
        try:
            await self._run()
        finally:
            if self._twin is not None:
                with anyio.CancelScope(shield=True):
                    await self._twin.aclose()

    # -- the driver's hooks -----------------------------------------------------------------------

    def _signal_settled(self) -> None:
        super()._signal_settled()
        with self._cond:
            self._cond.notify_all()

    async def _call(self, batch: Batch, body: bytes) -> Mapping[str, Any]:
        if self._client_closed():  # the twin's pool is the recorder's: the client decides
            raise SynapError("This Synap client is closed; create a new one.")
        if self._twin is not None:
            return await asend_messages(self._twin, body, batch.key)
        return await _in_thread(send_messages, self._conversation._transport, body, batch.key)

    async def _compact_soon(self, plan: Compaction) -> None:
        # On this thread: it is the recorder's own, and the calls in flight wait in the
        # kernel meanwhile (a compaction's cost is a small share of what was sent, see Spool).
        self._compact_now(plan)

    def _client_closed(self) -> bool:
        return bool(self._conversation._transport.conn.closed)


_UNWIND = 0.1
"""Seconds `close()` waits past its timeout for the thread to unwind its cancelled calls (they
put their batches back at once; a thread still busy after that is a daemon, and what it had
in flight stays open in the spool)."""


async def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in a daemon thread of its own, awaited: a blocking client's call,
    several at once. If the await is cancelled the call still ends in its thread (its batch is
    sent again under the same key, so it is not stored twice); a daemon thread never holds up
    the interpreter's exit (a worker pool's would, before the exit flush could run)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # cancelled
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = fn(*args, **kwargs), None
        except BaseException as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="synap-recorder-call", daemon=True).start()
    return await future


_exit_registered = False


def _register_exit_flush() -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(_flush_at_exit)


def _flush_at_exit() -> None:
    """A script that forgot `close()`: send what is queued, all recorders within
    `EXIT_TIMEOUT` seconds together, so the interpreter's exit never hangs."""
    deadline = time.monotonic() + EXIT_TIMEOUT
    for recorder in _base.live():
        if isinstance(recorder, Recorder):
            recorder._shut(max(0.0, deadline - time.monotonic()), "at interpreter exit")
