"""The blocking recorder: one background thread moves batches from the core to Synap through
the client's own `record_messages_batch` (its connection pool, retries and options)."""

from __future__ import annotations

import atexit
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from synap._errors import SynapError
from synap.recorder import _base
from synap.recorder._core import EXIT_TIMEOUT, Batch, Report

if TYPE_CHECKING:
    from synap.conversation import Conversation

__all__ = ["Recorder"]

logger = _base.logger


class Recorder(_base.RecorderBase):
    """Records turns in the background for a blocking `Synap` client:
    `client.conversation.recorder(...)`.

    `record()` queues a turn and returns at once; a background thread sends the queued turns
    of all conversations as `record_messages_batch` calls of at most `max_batch` entries, at
    least every `flush_interval` seconds, one call at a time. See
    `Conversation.recorder` for the guarantees.
    """

    def __init__(self, conversation: Conversation, **options: Any) -> None:
        super().__init__(**options)
        self._conversation = conversation
        self._cond = threading.Condition(self._state.lock)
        self._flushing = 0
        self._stop = False
        self._stopped = False  # the thread is gone (or never sends again)
        self._thread = threading.Thread(target=self._run, name="synap-recorder", daemon=True)
        self._thread.start()
        self._running = True
        _register_exit_flush()

    # -- the caller's side ---------------------------------------------------------------------

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

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
            self._cond.notify_all()
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

        What is not stored by then stays in the spool (sent by the next recorder opened on
        it), or without a spool is counted in one WARNING line on the `synap` logger.
        Idempotent; `record()` raises once `close()` has begun.
        """
        self._shut(timeout, "closed")

    def _shut(self, timeout: float | None, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        deadline = None if timeout is None else time.monotonic() + timeout
        flushed = self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if not flushed:
            reason += f" after its timeout ({timeout} s)" if timeout is not None else ""
        # Also when the thread is still in a call: the spool's lock is released now, so a new
        # recorder can open it at once. That call's batch stays open in the spool, and goes out
        # again under the same key (what was stored is not stored twice).
        self._finish(reason)

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

    def _run(self) -> None:
        state, cond = self._state, self._cond
        interval = self._flush_interval
        next_tick = time.monotonic() + interval
        draining = False
        try:
            while True:
                with cond:
                    while True:
                        if self._stop:
                            return
                        now = time.monotonic()
                        if now >= next_tick:
                            draining, next_tick = True, now + interval
                        batch = state.take(draining or self._flushing > 0 or self._closed)
                        if batch is not None:
                            break
                        draining = False
                        cond.wait(max(0.001, next_tick - now))
                report = self._send(batch)
                with cond:
                    state.release(batch)
                    cond.notify_all()
                self._report(report)
                self._compact()
        except BaseException:
            logger.exception("recorder: the background thread failed; turns stay pending")
        finally:
            # Reported before waiters learn the thread stopped, so they see the report.
            if self._client_gone:
                self._finish("stopped: its client was closed")
            elif self._stop and state.spool is not None:
                with cond:
                    state.spool.close()
            with cond:
                self._stopped = True
                cond.notify_all()

    def _send(self, batch: Batch) -> Report:
        """Store `batch` (retrying while the failure is transient); what failed for good."""
        state, cond = self._state, self._cond
        retries = 0
        while True:
            try:
                response = self._conversation.record_messages_batch(
                    batch.entries, idempotency_key=batch.key
                )
            except Exception as exc:
                error = exc if isinstance(exc, SynapError) else SynapError(f"{exc!r}")
                with cond:
                    verdict = state.judge(batch, error, retries, self._client_closed())
                if verdict.stop:
                    with cond:
                        self._stop = True  # the client is closed: nothing can go out any more
                        self._client_gone = self._closed = True
                    return []
                if verdict.split is not None:
                    first, second = verdict.split
                    return self._send(first) + self._send(second)
                if verdict.failures is not None:
                    return verdict.failures
                assert verdict.delay is not None
                until = time.monotonic() + verdict.delay
                with cond:
                    while not self._stop and (left := until - time.monotonic()) > 0:
                        cond.wait(left)
                    if self._stop:
                        return []  # abandoned at close: the turns stay pending (and spooled)
                retries += 1
                continue
            with cond:
                return state.stored(batch, response)

    def _client_closed(self) -> bool:
        return bool(self._conversation._transport.conn.closed)


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
