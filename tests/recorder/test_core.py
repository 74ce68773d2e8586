"""The recorder's decisions without I/O: batches never share a busy conversation, pre-formed
batches keep their order, keys follow content and ids, hold-back, retry verdicts, flush marks,
and what a spool file yields when reopened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synap import (
    AuthenticationError,
    InvalidInputError,
    PayloadTooLargeError,
    RateLimitError,
    ServiceUnavailableError,
    SynapError,
)
from synap.recorder import RecorderFullError, SpoolError
from synap.recorder._core import Batch, State, Turn, batch_key
from synap.recorder._spool import Spool
from tests.recorder._support import cid

A, B, C = cid(0, "core"), cid(1, "core"), cid(2, "core")


def entry(conversation: str, content: str) -> dict[str, Any]:
    return {"conversation_id": conversation, "role": "user", "content": content, "user_id": "u"}


def state(max_batch: int = 3, max_pending: int = 100, spool: Spool | None = None) -> State:
    return State(max_batch, max_pending, spool)


def contents(batch: Batch | None) -> list[str]:
    assert batch is not None
    return [t.entry["content"] for t in batch.turns]


def test_batches_are_full_unless_partial_and_skip_busy_conversations() -> None:
    s = state(max_batch=3)
    for conversation, content in [(A, "a0"), (A, "a1"), (B, "b0")]:
        s.add(entry(conversation, content))
    first = s.take(partial=False)
    assert contents(first) == ["a0", "a1", "b0"]
    s.add(entry(A, "a2"))
    s.add(entry(C, "c0"))
    s.add(entry(A, "a3"))
    assert s.take(partial=False) is None  # A and B are busy: only c0 could go, not a full batch
    assert contents(s.take(partial=True)) == ["c0"]
    assert first is not None
    s.stored(first, {"results": [{}, {}, {}]})
    s.release(first)
    assert contents(s.take(partial=True)) == ["a2", "a3"]


def test_preformed_batches_go_first_and_never_overtake_each_other() -> None:
    s = state()
    turns = [Turn(f"t{i}", entry(c, f"x{i}")) for i, c in enumerate([B, A, B, A])]
    r1, r2, r3 = Batch([turns[0]]), Batch([turns[1], turns[2]]), Batch([turns[3]])
    s.preformed.extend([r1, r2, r3])
    s.add(entry(C, "new"))
    assert s.take(partial=True) is r1  # B busy now
    # r2 holds A and B (B busy); r3 holds only A, but must wait behind r2.
    assert s.take(partial=True) is None
    s.release(r1)
    assert s.take(partial=True) is r2
    assert s.take(partial=True) is None  # r3 waits for r2 (A); "new" waits for r3
    s.release(r2)
    assert s.take(partial=True) is r3
    assert contents(s.take(partial=True)) == ["new"]


def test_keys_follow_turn_ids_and_content() -> None:
    one, two = Turn("id1", entry(A, "same")), Turn("id2", entry(A, "same"))
    assert batch_key([one]) == batch_key([Turn("id1", entry(A, "same"))])
    assert batch_key([one]) != batch_key([two])  # identical turns are two turns
    assert batch_key([one, two]) != batch_key([two, one])
    assert batch_key([one]) != batch_key([Turn("id1", entry(A, "other"))])
    assert batch_key([one]).startswith("rec-")


def test_a_rejected_entry_settles_its_batch_and_holds_back_its_conversation() -> None:
    s = state(max_batch=2)
    s.add(entry(A, "a0"))
    s.add(entry(B, "b0"))
    batch = s.take(partial=False)
    s.add(entry(A, "a1"))
    s.add(entry(B, "b1"))
    assert batch is not None
    report = s.stored(batch, {"results": [{"error": "bad"}, {"message_id": "m"}]})
    assert [t.entry["content"] for t, _ in report] == ["a0", "a1"]
    assert isinstance(report[0][1], InvalidInputError)
    assert report[0][1] is report[1][1]
    stats = s.stats()
    assert (stats.sent, stats.failed, stats.pending) == (1, 2, 1)
    s.release(batch)
    assert contents(s.take(partial=True)) == ["b1"]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ServiceUnavailableError("503", status_code=503), "delay"),
        (RateLimitError("429", status_code=429, retry_after=300.0), "delay"),
        (PayloadTooLargeError("413", status_code=413), "split"),
        (AuthenticationError("401", status_code=401), "failures"),
        (SynapError("closed"), "stop"),
    ],
)
def test_verdicts(error: SynapError, kind: str) -> None:
    s = state(max_batch=4)
    for i in range(4):
        s.add(entry(A if i < 2 else B, f"t{i}"))
    batch = s.take(partial=False)
    s.add(entry(A, "queued behind"))
    assert batch is not None
    verdict = s.judge(batch, error, retries=40, closed=kind == "stop")
    if kind == "delay":
        assert verdict.delay is not None
        assert verdict.delay == (300.0 if error.retry_after else pytest.approx(8.0, rel=0.25))
        assert s.stats().pending == 5
    elif kind == "split":
        assert verdict.split is not None
        assert [contents(b) for b in verdict.split] == [["t0", "t1"], ["t2", "t3"]]
    elif kind == "failures":
        assert verdict.failures is not None
        assert [t.entry["content"] for t, _ in verdict.failures] == [
            "t0", "t1", "t2", "t3", "queued behind",
        ]  # fmt: skip
        assert s.stats().pending == 0
    else:
        assert verdict.stop


def test_flush_marks_and_backpressure() -> None:
    s = state(max_batch=2, max_pending=3)
    s.add(entry(A, "a0"))
    mark = s.mark()
    s.add(entry(B, "b0"))
    s.add(entry(C, "c0"))
    with pytest.raises(RecorderFullError):
        s.add(entry(C, "c1"))
    assert not s.settled_up_to(mark)
    batch = s.take(partial=False)
    assert batch is not None
    s.stored(batch, {"results": [{}, {}]})
    assert s.settled_up_to(mark)
    assert not s.settled_up_to(s.mark())
    s.add(entry(C, "c1"))  # room again


def test_a_recorder_never_flushed_holds_only_its_pending_turns() -> None:
    # A service records for hours and never flushes: settled turns must not pile up.
    s = state(max_batch=2, max_pending=10_000)
    for i in range(3000):
        s.add(entry(cid(i % 50, "mem"), f"t{i}"))
        batch = s.take(partial=False)
        if batch is not None:
            s.stored(batch, {"results": [{}] * len(batch.turns)})
            s.release(batch)
    assert s.stats().pending <= 1
    assert len(s.order) == s.stats().pending
    assert s.stats().sent + s.stats().pending == 3000


def test_settled_turns_behind_a_pending_one_are_dropped_and_flush_marks_still_hold() -> None:
    s = state(max_batch=1, max_pending=10_000)
    s.add(entry(A, "stuck"))  # its call keeps failing: it stays pending
    stuck = s.take(partial=False)
    assert stuck is not None
    marks = []
    for i in range(3000):
        s.add(entry(B, f"b{i}"))
        marks.append(s.mark())
        batch = s.take(partial=False)
        assert batch is not None
        s.stored(batch, {"results": [{}]})
        s.release(batch)
    assert len(s.order) <= 2 * s.stats().pending + 1024  # not 3001
    assert not s.settled_up_to(marks[-1])  # the stuck turn came first
    s.stored(stuck, {"results": [{}]})
    assert s.settled_up_to(marks[-1])
    assert len(s.order) == 0


def test_a_spool_reopened_yields_unsettled_turns_and_open_batches(tmp_path: Path) -> None:
    path = tmp_path / "s.spool"
    spool = Spool(path)
    s = state(max_batch=2, spool=spool)
    for i in range(5):
        s.add(entry(A if i % 2 else B, f"t{i}"))
    first = s.take(partial=False)  # t0, t2: the oldest conversation (B) first
    second_turns = s.queued
    assert first is not None
    s.stored(first, {"results": [{}, {}]})
    s.release(first)
    open_batch = s.take(partial=False)
    assert open_batch is not None
    spool.close()
    again = Spool(path)
    turns, batches = again.recovered
    settled = {t.id for t in first.turns}
    assert [t for t, _, _ in turns] == [t.id for t in s.unsettled()]
    assert not settled & {t for t, _, _ in turns}
    assert batches == [(open_batch.key, [t.id for t in open_batch.turns])]
    assert len(turns) == second_turns
    again.close()


def test_spool_refuses_other_files_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "s.spool"
    path.write_bytes(b'{"synap_recorder_spool":1}\n{"t":"a","e":{}}\nnot json\n{"d":"k"}\n')
    with pytest.raises(SpoolError, match="line 3 is damaged"):
        Spool(path)
    other = tmp_path / "other"
    other.write_bytes(b"hello\n")
    with pytest.raises(SpoolError, match="not a synap recorder spool"):
        Spool(other)
