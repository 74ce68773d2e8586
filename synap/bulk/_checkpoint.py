"""The checkpoint file of a bulk job: which input positions a server has confirmed as stored.

Format (JSON Lines, append-only, one line flushed and fsynced per confirmed call):

    {"synap_bulk_checkpoint": 2, "kind": "messages", "job_id": "<32 hex>", "chunk_size": 100}
    {"chunk": 0, "stored": [[0, 99]], "digest": "<sha256 hex>"}
    {"chunk": 1, "stored": [[100, 104], [106, 199]], "digest": "<sha256 hex>"}

`stored` lists inclusive ranges of input positions the server answered as stored in one call;
`digest` is the sha256 of exactly those items as they were sent, so a rerun can tell the same
input from a different one. A torn last line (a crash mid-write) is ignored; any other damage
is refused. The file is locked (POSIX `flock`) while a job runs, so two runs never share it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from synap._errors import SynapError

# 2: digests of the entries as sent (compact JSON) with their positions; 1 hashed each entry
# with its keys sorted. A version-1 file cannot be checked against its input, so it is refused.
FORMAT_VERSION = 2


class CheckpointError(SynapError):
    """The checkpoint file cannot be used for this job: it belongs to another job or another
    input, it is damaged, or another running job holds it. Nothing was sent because of it."""


def to_ranges(positions: Iterable[int]) -> list[list[int]]:
    """Sorted positions -> inclusive [start, end] ranges (a backfill is mostly contiguous)."""
    ranges: list[list[int]] = []
    for p in positions:
        if ranges and ranges[-1][1] + 1 == p:
            ranges[-1][1] = p
        else:
            ranges.append([p, p])
    return ranges


def from_ranges(ranges: Iterable[Iterable[int]]) -> Iterator[int]:
    for start, end in ranges:
        yield from range(start, end + 1)


@dataclass(slots=True)
class Confirmed:
    """One confirmed call of an earlier run: the positions it stored and their digest."""

    positions: frozenset[int]
    digest: str


@dataclass(slots=True)
class Checkpoint:
    """An open checkpoint file: its job identity, what it confirms, and the append handle."""

    path: Path
    kind: str
    job_id: str
    chunk_size: int
    confirmed: dict[int, list[Confirmed]] = field(default_factory=dict)
    _file: IO[str] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, kind: str, chunk_size: int | None) -> Checkpoint:
        """Open (or create) the checkpoint at `path` for a job of `kind`, and lock it.

        `chunk_size` None adopts the file's; a different explicit one is refused, since the
        confirmed calls were cut with the file's.
        """
        p = Path(path)
        handle = p.open("a+", encoding="utf-8")
        try:
            _lock(handle, p)
            handle.seek(0)
            text = handle.read()
            if "\n" not in text and not _whole_json(text):
                text = ""  # the crash happened while the header was written: start afresh
            if text.strip():
                cp = cls._parse(p, text, kind=kind, chunk_size=chunk_size)
                cp._file = handle
                if not text.endswith("\n"):
                    _repair_tail(handle, text)
                return cp
            cp = cls(path=p, kind=kind, job_id=uuid.uuid4().hex, chunk_size=chunk_size or 100)
            cp._file = handle
            header = {
                "synap_bulk_checkpoint": FORMAT_VERSION,
                "kind": kind,
                "job_id": cp.job_id,
                "chunk_size": cp.chunk_size,
            }
            handle.truncate(0)
            handle.write(json.dumps(header, separators=(",", ":")) + "\n")
            _sync(handle)
            return cp
        except BaseException:
            handle.close()
            raise

    @classmethod
    def _parse(cls, p: Path, text: str, *, kind: str, chunk_size: int | None) -> Checkpoint:
        lines = text.split("\n")
        torn = lines[-1] != ""
        records: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except ValueError:
                if torn and number == len(lines):
                    break  # the crash happened while this line was written: never confirmed
                raise CheckpointError(
                    f"{p}: line {number} is damaged; this is not a synap bulk checkpoint "
                    "(or it was edited). Remove it to start the job over."
                ) from None
            records.append(record)
        header = records[0] if records else {}
        version = header.get("synap_bulk_checkpoint")
        if version == 1:
            raise CheckpointError(
                f"{p} was written by an older synap (checkpoint version 1); finish that job "
                "with the version that started it (a new checkpoint file starts it over)"
            )
        if version != FORMAT_VERSION:
            raise CheckpointError(f"{p} is not a synap bulk checkpoint (version {FORMAT_VERSION})")
        if header.get("kind") != kind:
            raise CheckpointError(
                f"{p} is the checkpoint of a {header.get('kind')} job, not of a {kind} job; "
                "use another checkpoint file"
            )
        saved_size = header.get("chunk_size")
        if not isinstance(saved_size, int) or not isinstance(header.get("job_id"), str):
            raise CheckpointError(f"{p}: damaged header")
        if chunk_size is not None and chunk_size != saved_size:
            raise CheckpointError(
                f"{p} was written with chunk_size={saved_size}; resume with the same "
                f"chunk size (or none), not {chunk_size}"
            )
        cp = cls(path=p, kind=kind, job_id=header["job_id"], chunk_size=saved_size)
        for record in records[1:]:
            try:
                chunk = int(record["chunk"])
                positions = frozenset(from_ranges(record["stored"]))
                digest = str(record["digest"])
            except (KeyError, TypeError, ValueError):
                raise CheckpointError(f"{p}: damaged record {record!r:.80}") from None
            cp.confirmed.setdefault(chunk, []).append(Confirmed(positions, digest))
        return cp

    def record(self, chunk: int, stored: list[int], digest: str) -> None:
        """Append one confirmed call, durably, before anyone is told it is done."""
        assert self._file is not None
        line = {"chunk": chunk, "stored": to_ranges(stored), "digest": digest}
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        _sync(self._file)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None


def _whole_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _repair_tail(handle: IO[str], text: str) -> None:
    """The last line lacks its newline: complete it if it is whole, else (torn by a crash
    mid-write, so never counted) cut it off, so that the next record starts a line."""
    head, _, tail = text.rpartition("\n")
    if _whole_json(tail):
        handle.write("\n")
    else:
        handle.truncate(len((head + "\n").encode()))
    _sync(handle)


def _sync(handle: IO[str]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _lock(handle: IO[str], path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock, documented
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise CheckpointError(
            f"{path} is in use by another running bulk job; wait for it to finish"
        ) from None
