"""The checkpoint file and the job logic around it, driven directly (no I/O but the file)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from synap import SynapError, SynapValidationError
from synap.bulk import CheckpointError, _messages_kind
from synap.bulk._checkpoint import Checkpoint, from_ranges, to_ranges
from synap.bulk._engine import Chunk, Job

CID = str(uuid.UUID(int=7))


def message(i: int, role: str = "user") -> dict[str, Any]:
    return {"conversation_id": CID, "role": role, "content": f"message {i}"}


def stored_all(chunk: Chunk) -> dict[str, Any]:
    n = len(chunk.items)
    return {"total": n, "succeeded": n, "failed": 0, "results": [{"message_id": "m"}] * n}


def drive(job: Job, items: list[Any], *, stop_after: int | None = None) -> list[Chunk]:
    """Run `job` as a runner would, answering every call 'all stored'."""
    job.open()
    sent: list[Chunk] = []

    def answer(chunk: Chunk | None) -> bool:
        if chunk is not None:
            sent.append(chunk)
            job.complete(chunk, stored_all(chunk))
        return stop_after is not None and len(sent) == stop_after

    try:
        for item in items:
            if answer(job.add(item)):
                return sent
        while (chunk := job.end()) is not None:
            if answer(chunk):
                return sent
    finally:
        job.close()
    return sent


def test_ranges_round_trip() -> None:
    positions = [0, 1, 2, 5, 7, 8, 100]
    assert to_ranges(positions) == [[0, 2], [5, 5], [7, 8], [100, 100]]
    assert list(from_ranges(to_ranges(positions))) == positions


def test_resume_skips_confirmed_and_resends_the_rest_with_the_same_keys(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    items = [message(i) for i in range(250)]
    first = drive(Job(_messages_kind(), chunk_size=100, checkpoint_path=path), items)
    keys = [c.idempotency_key for c in first]

    # A crash after the first call: only chunk 0 was confirmed.
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2]) + "\n")
    job = Job(_messages_kind(), checkpoint_path=path)
    resent = drive(job, items)
    assert [c.index for c in resent] == [1, 2]
    assert [c.idempotency_key for c in resent] == keys[1:]
    summary = job.summary()
    assert (summary.total, summary.succeeded, summary.skipped, summary.calls) == (250, 250, 100, 2)


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    items = [message(i) for i in range(300)]
    drive(Job(_messages_kind(), checkpoint_path=path, chunk_size=100), items)
    text = path.read_text()
    path.write_text(text[: len(text) - 30])  # the crash happened while writing chunk 2's line
    job = Job(_messages_kind(), checkpoint_path=path)
    assert [c.index for c in drive(job, items)] == [2]
    # The repaired file reads back whole.
    cp = Checkpoint.open(path, kind="messages", chunk_size=None)
    cp.close()
    assert sorted(cp.confirmed) == [0, 1, 2]


def test_a_damaged_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    drive(Job(_messages_kind(), checkpoint_path=path), [message(i) for i in range(250)])
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:20]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CheckpointError, match="line 2 is damaged"):
        Checkpoint.open(path, kind="messages", chunk_size=None)


def test_another_inputs_checkpoint_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    drive(Job(_messages_kind(), checkpoint_path=path), [message(i) for i in range(150)])
    other = [message(i + 1) for i in range(150)]
    with pytest.raises(CheckpointError, match="does not match this input") as caught:
        drive(Job(_messages_kind(), checkpoint_path=path), other)
    assert isinstance(caught.value, SynapError)


def test_a_fixed_line_is_sent_alone_on_rerun(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    items = [message(i, role="bot" if i == 5 else "user") for i in range(120)]
    job = Job(_messages_kind(), checkpoint_path=path)
    drive(job, items)
    assert [f.position for f in job.summary().failures] == [5]

    items[5] = message(5)
    job = Job(_messages_kind(), checkpoint_path=path)
    resent = drive(job, items)
    assert [c.positions for c in resent] == [[5]]
    summary = job.summary()
    assert (summary.succeeded, summary.failed, summary.skipped) == (120, 0, 119)


def test_kind_and_chunk_size_must_match(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    Checkpoint.open(path, kind="messages", chunk_size=50).close()
    with pytest.raises(CheckpointError, match="messages job, not of a documents job"):
        Checkpoint.open(path, kind="documents", chunk_size=None)
    with pytest.raises(CheckpointError, match="chunk_size=50"):
        Checkpoint.open(path, kind="messages", chunk_size=100)
    cp = Checkpoint.open(path, kind="messages", chunk_size=None)
    cp.close()
    assert cp.chunk_size == 50
    header = json.loads(path.read_text().splitlines()[0])
    assert header["synap_bulk_checkpoint"] == 2
    assert header["kind"] == "messages"


def test_a_version_1_checkpoint_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "old.ckpt"
    header = {"synap_bulk_checkpoint": 1, "kind": "messages", "job_id": "a" * 32, "chunk_size": 100}
    path.write_text(json.dumps(header) + "\n")
    with pytest.raises(CheckpointError, match="older synap"):
        drive(Job(_messages_kind(), checkpoint_path=path), [message(0)])


def test_a_checkpoint_in_use_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    held = Checkpoint.open(path, kind="messages", chunk_size=None)
    try:
        with pytest.raises(CheckpointError, match="in use"):
            Checkpoint.open(path, kind="messages", chunk_size=None)
    finally:
        held.close()
    Checkpoint.open(path, kind="messages", chunk_size=None).close()


def test_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text('{"hello": "world"}\n')
    with pytest.raises(CheckpointError, match="not a synap bulk checkpoint"):
        Checkpoint.open(path, kind="messages", chunk_size=None)


@pytest.mark.parametrize("size", [0, 101, -1, 2.5, True])
def test_chunk_size_above_100_is_refused(size: Any) -> None:
    with pytest.raises(SynapValidationError, match="chunk_size") as caught:
        Job(_messages_kind(), chunk_size=size).open()
    assert caught.value.field == "chunk_size"


def test_keys_derive_from_the_input_alone(tmp_path: Path) -> None:
    items = [message(i) for i in range(150)]
    keys = [c.idempotency_key for c in drive(Job(_messages_kind()), items)]
    assert len(set(keys)) == 2
    # Another run of the same input is the same job: with or without a checkpoint, same keys.
    assert [c.idempotency_key for c in drive(Job(_messages_kind()), items)] == keys
    ckpt = [
        c.idempotency_key
        for c in drive(Job(_messages_kind(), checkpoint_path=tmp_path / "a"), items)
    ]
    assert ckpt == keys
    # One changed entry changes its call's key only.
    changed = [*items[:120], message(999), *items[121:]]
    other = [c.idempotency_key for c in drive(Job(_messages_kind()), changed)]
    assert other[0] == keys[0]
    assert other[1] != keys[1]
    # Two equal lines are two turns: the same content at other positions is another call.
    same = [message(0)] * 100
    shifted = [message(0)] * 101
    a = drive(Job(_messages_kind()), same)
    b = drive(Job(_messages_kind()), shifted)
    assert a[0].idempotency_key == b[0].idempotency_key
    assert b[1].idempotency_key != a[0].idempotency_key
    assert len(b[1].items) == 1


def test_a_torn_header_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    path.write_text('{"synap_bulk_checkpoint": 1, "ki')
    cp = Checkpoint.open(path, kind="messages", chunk_size=None)
    cp.close()
    assert json.loads(path.read_text())["job_id"] == cp.job_id


def test_a_whole_last_line_without_newline_counts(tmp_path: Path) -> None:
    path = tmp_path / "job.ckpt"
    items = [message(i) for i in range(200)]
    drive(Job(_messages_kind(), checkpoint_path=path), items)
    path.write_text(path.read_text().removesuffix("\n"))
    assert drive(Job(_messages_kind(), checkpoint_path=path), items) == []
    assert path.read_text().endswith("}\n")
