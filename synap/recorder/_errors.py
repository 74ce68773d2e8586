"""The recorder's own errors (both `SynapError`s, raised on the caller's side, never sent)."""

from __future__ import annotations

from synap._errors import SynapError

__all__ = ["RecorderFullError", "SpoolInUseError"]


class RecorderFullError(SynapError):
    """`record()` was called while `max_pending` turns are waiting to be stored (Synap is
    unreachable or slower than the turns arrive). The turn was not queued: nothing already
    queued is dropped to make room, and `record()` never waits. Catch it to shed load, or
    raise `max_pending`."""


class SpoolInUseError(SynapError):
    """Another recorder (in this or another process) has the spool open: one spool belongs to
    one recorder at a time. Close that recorder, or give this one its own spool file."""
