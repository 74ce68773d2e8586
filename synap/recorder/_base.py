"""What the blocking and the async recorder share above the core: `record()`, `stats`,
reporting failures, the closing report, and fork handling. No I/O but the spool's."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from synap import _validation
from synap._errors import InvalidInputError, SynapError
from synap.recorder._core import RecorderStats, Report, State, Turn, check_options
from synap.recorder._spool import Compaction, Spool

__all__ = ["RecorderBase"]

logger = logging.getLogger("synap")

# Every open recorder, so that a fork can disarm the child's copies and (blocking) the
# interpreter's exit can flush them.
_LIVE: weakref.WeakSet[RecorderBase] = weakref.WeakSet()


class RecorderBase:
    """The common half of `Recorder` and `AsyncRecorder`."""

    def __init__(
        self,
        *,
        spool: str | os.PathLike[str] | None,
        max_batch: int,
        flush_interval: float,
        max_pending: int,
        on_error: Callable[[Turn, SynapError], Any] | None,
        fsync: bool,
    ) -> None:
        check_options(max_batch, flush_interval, max_pending)
        if on_error is not None and not callable(on_error):
            raise InvalidInputError("on_error must be a callable(turn, error) or None")
        if spool is not None and not isinstance(spool, str | os.PathLike):
            raise InvalidInputError("spool must be a path (str or os.PathLike) or None")
        self._flush_interval = float(flush_interval)
        self._on_error = on_error
        self._pid = os.getpid()
        self._closed = False
        self._running = False  # the driver (thread or task) has been started
        self._client_gone = False  # its client was closed: nothing can be sent any more
        self._finished = False
        self._spool_path = Path(spool) if spool is not None else None
        opened = Spool(spool, fsync=bool(fsync)) if spool is not None else None
        self._state = State(max_batch, max_pending, opened)
        if opened is not None and self._state.pending:
            logger.info(
                "recorder: %d turns not yet stored found in the spool %s; sending them first",
                self._state.pending,
                spool,
            )
        self._compact()  # what the spool holds settled, before anything is added
        _LIVE.add(self)

    def record(
        self,
        conversation_id: str | UUID,
        role: str,
        content: str,
        user_id: str,
        customer_id: str | None = None,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Queue one turn to be stored in the background; returns at once, without network
        I/O (with a spool, after the turn is written to it).

        The arguments and their checks are those of `record_message`.

        Raises:
            InvalidInputError: the turn is invalid (it is not queued).
            RecorderFullError: `max_pending` turns are waiting (the turn is not queued).
            SynapError: the recorder is closed, or was inherited through `fork()`.
        """
        entry = _validation.record_message_body(
            conversation_id, role, content, user_id, customer_id, session_id, metadata
        )
        if self._closed:  # also set in a fork's child
            raise self._unusable()
        with self._state.lock:
            full = self._state.add(entry)
        if full or not self._running:
            self._wake()

    def _wake(self) -> None:
        raise NotImplementedError

    def _unusable(self) -> SynapError:
        if self._pid != os.getpid():
            return SynapError(
                f"this recorder belongs to process {self._pid} (it was inherited through "
                "fork()); create a new recorder in this process"
            )
        if self._client_gone:
            return SynapError(
                "this recorder's client is closed, so it cannot send; close the recorder "
                "before its client (or use both as context managers, the client outside)"
            )
        return SynapError("this recorder is closed; create a new one")

    @property
    def stats(self) -> RecorderStats:
        """`recorded`, `sent`, `pending`, `failed` (and `recovered` from the spool)."""
        with self._state.lock:
            return self._state.stats()

    @property
    def spool(self) -> Path | None:
        """The spool file, or None."""
        return self._spool_path

    def _report(self, report: Report) -> None:
        """Failed turns go to the `synap` logger (one line per conversation and error) and
        to `on_error`, whose own exceptions are logged, never raised into the recorder."""
        if not report:
            return
        groups: dict[tuple[str, int], list[Turn]] = {}
        errors: dict[int, SynapError] = {}
        for turn, error in report:
            groups.setdefault((turn.conversation_id, id(error)), []).append(turn)
            errors[id(error)] = error
        for (cid, eid), turns in groups.items():
            logger.warning(
                "recorder: %d turn%s of conversation %s not stored (%s): %s",
                len(turns),
                "" if len(turns) == 1 else "s",
                cid,
                "reported to on_error" if self._on_error else "no on_error given",
                errors[eid],
            )
        if self._on_error is None:
            return
        for turn, error in report:
            try:
                self._on_error(turn, error)
            except Exception:
                logger.exception("recorder: on_error raised for turn %s", turn.id)

    def _closing_report(self, reason: str) -> None:
        """One WARNING line for what could not be stored before the recorder stopped."""
        with self._state.lock:
            left = self._state.pending
        if not left:
            return
        if self._spool_path is not None:
            logger.warning(
                "recorder: %s with %d turn%s not yet stored; they stay in the spool %s and are "
                "sent by the next recorder opened on it",
                reason,
                left,
                "" if left == 1 else "s",
                self._spool_path,
            )
        else:
            logger.warning(
                "recorder: %s with %d turn%s not sent; they are lost (pass spool= to keep "
                "turns across restarts)",
                reason,
                left,
                "" if left == 1 else "s",
            )

    def _compact(self) -> None:
        """Compact the spool if it is due: the disk work without the lock (see `Spool`)."""
        plan = self._compaction_plan()
        if plan is not None:
            self._compact_now(plan)

    def _compact_now(self, plan: Compaction) -> None:
        """Carry out a compaction planned by `_compaction_plan` (the lock is taken inside)."""
        try:
            self._state.spool.write(plan)  # type: ignore[union-attr]
        except OSError as exc:
            self._compaction_done(plan, exc)
        else:
            self._compaction_done(plan, None)

    def _compaction_plan(self) -> Compaction | None:
        with self._state.lock:
            return self._state.compaction()

    def _compaction_done(
        self, plan: Compaction, error: OSError | None, *, sync_dir: bool = True
    ) -> bool:
        """Put the compacted file in place (or drop it after `error`); True when in place."""
        spool = self._state.spool
        assert spool is not None
        try:
            with self._state.lock:
                if error is None:
                    spool.finish(plan)
                else:
                    spool.abandon(plan)
            if error is None and sync_dir:
                spool.sync_dir()
        except OSError as exc:
            error = exc
        if error is not None:  # the spool as it was stays valid: only larger
            logger.warning("recorder: could not compact the spool %s: %s", spool.path, error)
        return error is None

    def _finish(self, reason: str) -> None:
        """The recorder will send nothing more: report what is left, close the spool."""
        with self._state.lock:
            if self._finished:
                return
            self._finished = True
        self._closing_report(reason)
        if self._state.spool is not None:
            with self._state.lock:
                self._state.spool.close()
        forget(self)

    def _forked(self) -> None:
        """In a fork's child: this copy shares nothing with the parent's recorder any more."""
        self._closed = True
        spool = self._state.spool
        if spool is not None:
            spool.forget()

    def __repr__(self) -> str:
        s = self.stats
        where = f" spool={str(self._spool_path)!r}" if self._spool_path else ""
        return (
            f"<{type(self).__name__} recorded={s.recorded} sent={s.sent} pending={s.pending} "
            f"failed={s.failed}{where}{' closed' if self._closed else ''}>"
        )


def _after_fork_in_child() -> None:
    for recorder in list(_LIVE):
        recorder._forked()
    _LIVE.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def live() -> list[RecorderBase]:
    """The recorders of this process not closed yet."""
    return [r for r in list(_LIVE) if not r._closed]


def forget(recorder: RecorderBase) -> None:
    _LIVE.discard(recorder)
