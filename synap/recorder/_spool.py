"""The recorder's spool: an append-only journal of turns and batches, one JSON object a line.

    {"synap_recorder_spool": 1}                 header
    {"t": ID, "e": ENTRY}                       a turn, written before record() returns
    {"b": KEY, "ids": [ID, ...]}                a batch, written before it is first sent
    {"d": KEY}                                  the batch is settled (stored, or reported)
    {"f": [ID, ...]}                            turns reported without being sent (held back)

A turn is unsettled while no `d` line covers its batch and no `f` line names it. Opening a spool
yields the unsettled turns in record order and the open batches in the order they were formed;
the recorder sends those batches again as they were (same turns, same key) before anything
else. A torn last line (a crash during a write) is a turn whose `record()` never returned, and
is ignored.

Writes are plain `os.write` calls on an `O_APPEND` descriptor: they reach the OS (and survive
the process being killed) before `record()` returns; with `fsync=True` turn and batch lines are
also flushed to the disk (power loss). One recorder at a time: an exclusive `flock` on
`PATH.lock`, held while the spool is open (a second opener gets `SpoolInUseError`). Compaction
rewrites the file with only what is unsettled (to `PATH.tmp`, fsynced, renamed over `PATH`),
the disk work done without the recorder's lock (see `plan`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synap._errors import SynapError
from synap.recorder._errors import SpoolInUseError

if TYPE_CHECKING:
    from synap.recorder._core import Batch, Turn

__all__ = ["Compaction", "Spool", "SpoolError"]

logger = logging.getLogger("synap")

HEADER = b'{"synap_recorder_spool":1}\n'
COMPACT_MIN_LINES = 20_000
"""Settled lines the spool may hold before it is compacted (and at least 4x the live ones)."""

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class SpoolError(SynapError):
    """The spool file cannot be used: not a recorder spool, or unreadable."""


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Spool:
    """An open spool (see the module's docstring). Not thread-safe: the recorder's lock
    serialises every call."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._lock_fd = _lock(self.path)
        self.lines = 0  # lines in the file that a compaction could drop or keep
        self.compacting = False
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.recovered = self._read()
            self._fd = -1
            self._open_for_append()
        except BaseException:
            os.close(self._lock_fd)
            raise
        self.closed = False

    # -- reading ------------------------------------------------------------------------------

    def _read(
        self,
    ) -> tuple[list[tuple[str, dict[str, Any], bytes]], list[tuple[str, list[str]]]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        except OSError as exc:
            raise SpoolError(f"cannot read the spool {self.path}: {exc}") from exc
        if not data:
            return [], []
        lines = data.split(b"\n")
        self.lines = len(lines)
        try:
            head = json.loads(lines[0])
        except ValueError:
            head = None
        if not isinstance(head, dict) or head.get("synap_recorder_spool") != 1:
            raise SpoolError(f"{self.path} is not a synap recorder spool; give another path")
        turns: dict[str, tuple[dict[str, Any], bytes]] = {}
        batches: dict[str, list[str]] = {}
        done: set[str] = set()
        failed: set[str] = set()
        last = len(lines) - 1
        for n, raw in enumerate(lines[1:], start=1):
            if not raw:
                continue
            try:
                item = json.loads(raw)
                if "t" in item:
                    turns[item["t"]] = (item["e"], raw + b"\n")
                elif "b" in item:
                    batches[item["b"]] = list(item["ids"])
                elif "d" in item:
                    done.add(item["d"])
                elif "f" in item:
                    failed.update(item["f"])
            except (ValueError, TypeError, KeyError):
                if n == last or (n == last - 1 and not lines[last]):
                    continue  # torn by a crash mid-write: its record() never returned
                raise SpoolError(f"{self.path}: line {n + 1} is damaged") from None
        for key in done:
            failed.update(batches.pop(key, ()))
        open_batches = []
        in_batch: set[str] = set()
        for key, ids in batches.items():
            ids = [i for i in ids if i in turns and i not in failed]
            if ids:
                open_batches.append((key, ids))
                in_batch.update(ids)
        pending = [(i, e, line) for i, (e, line) in turns.items() if i not in failed]
        return pending, open_batches

    def _open_for_append(self) -> None:
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if fresh:
            _write(self._fd, HEADER)

    # -- appending ----------------------------------------------------------------------------

    def append_turn(self, turn_id: str, entry: dict[str, Any]) -> bytes:
        if self.closed:  # never write to a descriptor number that may be reused
            raise SpoolError(f"the spool {self.path} is closed")
        line = f'{{"t":"{turn_id}","e":{_encode(entry)}}}\n'.encode()
        _write(self._fd, line)
        if self.fsync:
            os.fsync(self._fd)
        self.lines += 1
        return line

    def append_batch(self, key: str, ids: list[str]) -> None:
        self._append(f'{{"b":"{key}","ids":{_encode(ids)}}}\n'.encode(), self.fsync)

    def append_done(self, key: str) -> None:
        self._append(f'{{"d":"{key}"}}\n'.encode(), False)

    def append_failed(self, ids: list[str]) -> None:
        self._append(f'{{"f":{_encode(ids)}}}\n'.encode(), False)

    def _append(self, line: bytes, sync: bool) -> None:
        if self.closed:
            return
        _write(self._fd, line)
        if sync:
            os.fsync(self._fd)
        self.lines += 1

    # -- compaction ---------------------------------------------------------------------------
    #
    # In three steps so that neither `record()` nor an event loop waits for the disk: `plan`
    # (under the recorder's lock) takes the lines to keep and the file's current size;
    # `write` (without the lock, in the sender's thread or a worker thread) writes them to
    # PATH.tmp and fsyncs it; `finish` (under the lock) appends what was written to the file
    # since the plan, renames PATH.tmp over PATH and reopens it. Then `sync_dir` (no lock).

    def wants_compaction(self, pending: int) -> bool:
        return not self.compacting and self.lines - pending > max(COMPACT_MIN_LINES, 4 * pending)

    def plan(self, unsettled: Iterable[Turn], open_batches: Iterable[Batch]) -> Compaction:
        """The lines an unsettled-only file holds: the turns (record order), then batches."""
        lines = [HEADER]
        for turn in unsettled:
            if turn.line is None:
                turn.line = f'{{"t":"{turn.id}","e":{_encode(turn.entry)}}}\n'.encode()
            lines.append(turn.line)
        for batch in open_batches:
            ids = [t.id for t in batch.turns]
            lines.append(f'{{"b":"{batch.key}","ids":{_encode(ids)}}}\n'.encode())
        self.compacting = True
        return Compaction(lines, os.fstat(self._fd).st_size)

    def write(self, plan: Compaction) -> None:
        """Write and fsync PATH.tmp (no lock held)."""
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write(fd, b"".join(plan.lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        plan.written = True

    def finish(self, plan: Compaction) -> None:
        """Put PATH.tmp in place with the lines appended since `plan` (under the lock)."""
        self.compacting = False
        if self.closed or not plan.written:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            return
        with self.path.open("rb") as current:
            current.seek(plan.size)
            tail = current.read()
        fd = os.open(self._tmp, os.O_WRONLY | os.O_APPEND)
        try:
            _write(fd, tail)
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self._tmp, self.path)
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.lines = len(plan.lines) + tail.count(b"\n")
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("recorder spool %s compacted: %d lines kept", self.path, self.lines)

    def sync_dir(self) -> None:
        """Make the rename itself durable (no lock held)."""
        _fsync_dir(self.path.parent)

    def abandon(self, plan: Compaction) -> None:
        """A failed `write`: leave the file as it is."""
        plan.written = False
        self.finish(plan)

    def close(self) -> None:
        """Close the file and release the lock (idempotent)."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            if self.fsync:
                os.fsync(self._fd)
        for fd in (self._fd, self._lock_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def forget(self) -> None:
        """In a forked child: drop the inherited descriptors. Closing the child's copies leaves
        the parent's lock and file as they are."""
        self.closed = True
        for fd in (self._fd, self._lock_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __repr__(self) -> str:
        return f"<recorder spool {str(self.path)!r}>"


class Compaction:
    """A compaction in progress: the lines to keep, and the file's size when they were taken."""

    __slots__ = ("lines", "size", "written")

    def __init__(self, lines: list[bytes], size: int) -> None:
        self.lines = lines
        self.size = size
        self.written = False


def _lock(path: Path) -> int:
    try:
        import fcntl
    except ImportError:  # Windows: a recorder without a spool works; one with a spool cannot
        raise SpoolError("a recorder spool needs POSIX file locking (fcntl)") from None
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise SpoolError(f"cannot open the spool lock {lock_path}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        finally:
            os.close(fd)
        raise SpoolInUseError(
            f"the spool {path} is in use by another recorder (process {holder}); one spool "
            "serves one recorder at a time: close that recorder, or give this one its own "
            "spool path"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
