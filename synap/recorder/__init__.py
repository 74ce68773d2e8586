"""The background recorder: `client.conversation.recorder(...)`.

Turns are queued by `record()` (no network I/O on the caller's path) and stored in the
background as `record_messages_batch` calls: batched, in order per conversation, exactly once
(content-derived idempotency keys, reused on every retry and resend), optionally journaled to
a spool file so that a crash or restart loses nothing.

    _core      the decisions: queues, batches, order and hold-back, keys, retry verdicts
    _spool     the journal file: format, lock, recovery, compaction
    _base      record(), stats, failure reports, fork handling (shared by both recorders)
    _driver    the sending task both run: batches cut, up to IN_FLIGHT calls, retries, cancels
    _blocking  Recorder: the driver on an asyncio loop in one background thread
    _async     AsyncRecorder: the driver on the running loop (asyncio or trio, via anyio)
"""

from __future__ import annotations

from synap.recorder._async import AsyncRecorder
from synap.recorder._blocking import Recorder
from synap.recorder._core import RecorderStats, Turn
from synap.recorder._errors import RecorderFullError, SpoolInUseError
from synap.recorder._spool import SpoolError

__all__ = [
    "AsyncRecorder",
    "Recorder",
    "RecorderFullError",
    "RecorderStats",
    "SpoolError",
    "SpoolInUseError",
    "Turn",
]
