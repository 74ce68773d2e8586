"""The background recorder against the local server: what `record()` does and does not do,
order and hold-back, failures, backpressure, flush and close bounds, the spool (recovery with
the same keys, one opener, compaction), fork, interpreter exit, asyncio and trio."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import synap
from synap import AuthenticationError, InvalidInputError, SynapError
from synap.recorder import (
    AsyncRecorder,
    Recorder,
    RecorderFullError,
    RecorderStats,
    SpoolInUseError,
    Turn,
    _spool,
)
from synap.server import LocalServer
from tests.recorder._support import Gate, GatedTransport, check_exactly_once, cid, stored

ROOT = Path(__file__).resolve().parents[2]


def client_for(server: LocalServer, **options: Any) -> synap.Synap:
    return synap.Synap(api_key=server.api_key, base_url=server.url, **options)


def turns(n: int, conversations: int, tag: str = "rec") -> list[tuple[str, str]]:
    """(conversation id, content) in record order; contents unique, numbered per conversation."""
    return [(cid(i % conversations, tag), f"{tag}{i % conversations} {i}") for i in range(n)]


def expected(recorded: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for conversation, content in recorded:
        out.setdefault(conversation, []).append(content)
    return out


# -- record() ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("not-a-uuid", "user", "hi", "u1"),
        (cid(0), "system", "hi", "u1"),
        (cid(0), "user", 42, "u1"),
        (cid(0), "user", "hi", ""),
        (cid(0), "user", "hi", "u1", 7),
        (cid(0), "user", "hi", "u1", None, None, {"x": float("nan")}),
    ],
)
def test_record_refuses_what_record_message_refuses_with_the_same_error(
    server: LocalServer, args: tuple[Any, ...]
) -> None:
    with client_for(server) as client, client.conversation.recorder() as rec:
        with pytest.raises(InvalidInputError) as direct:
            client.conversation.record_message(*args)
        with pytest.raises(InvalidInputError) as queued:
            rec.record(*args)
        assert str(queued.value) == str(direct.value)
        assert queued.value.field == direct.value.field
        assert rec.stats == RecorderStats(recorded=0, sent=0, pending=0, failed=0)
    assert stored(server.db_path) == {}


def test_record_returns_none_and_sends_nothing_until_a_batch_is_due(server: LocalServer) -> None:
    gate = Gate()
    gate.open()
    http = httpx.Client(transport=GatedTransport(gate))
    client = synap.Synap(api_key=server.api_key, base_url=server.url, http_client=http)
    rec = client.conversation.recorder(flush_interval=3600)
    try:
        for conversation, content in turns(10, 3):
            assert rec.record(conversation, "user", content, "u1", "c1") is None
        assert gate.requests == 0
        assert rec.stats == RecorderStats(recorded=10, sent=0, pending=10, failed=0)
        assert rec.flush() is True
        assert gate.requests == 1  # ten turns, one call
        assert rec.stats == RecorderStats(recorded=10, sent=10, pending=0, failed=0)
    finally:
        rec.close()
        client.close()
        http.close()


def test_a_full_batch_goes_out_without_waiting_for_the_interval(server: LocalServer) -> None:
    with client_for(server) as client:
        rec = client.conversation.recorder(max_batch=5, flush_interval=3600)
        recorded = turns(5, 2)
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        # No flush: the full batch is sent by itself.
        for _ in range(2000):
            if rec.stats.sent == 5:
                break
            import time

            time.sleep(0.005)
        assert rec.stats.sent == 5
        rec.close()
    assert check_exactly_once(server.db_path, expected(recorded))["stored"] == 5


def test_two_identical_turns_are_both_stored(server: LocalServer) -> None:
    with client_for(server) as client, client.conversation.recorder() as rec:
        for _ in range(2):
            rec.record(cid(0), "user", "yes", "u1", "c1")
        rec.flush()
        rec.record(cid(0), "user", "yes", "u1", "c1")
    assert stored(server.db_path) == {cid(0): ["yes", "yes", "yes"]}


def test_turn_attributes_are_the_sent_entry(server: LocalServer) -> None:
    seen: list[Turn] = []
    # B2B server: a turn without customer_id is rejected by the server, entry by entry.
    with (
        client_for(server) as client,
        client.conversation.recorder(on_error=lambda t, e: seen.append(t)) as rec,
    ):
        rec.record(cid(1), "assistant", "hello", "u9", None, "s1", {"k": [1]})
    (turn,) = seen
    assert (turn.conversation_id, turn.role, turn.content, turn.user_id) == (
        cid(1),
        "assistant",
        "hello",
        "u9",
    )
    assert (turn.customer_id, turn.session_id, turn.metadata) == (None, "s1", {"k": [1]})
    assert turn.id
    assert "hello" in repr(turn)


# -- order, rejection, hold-back ----------------------------------------------------------------


def test_a_rejected_turn_holds_back_the_later_turns_of_its_conversation_only(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate()
    http = httpx.Client(transport=GatedTransport(gate))
    client = synap.Synap(api_key=server.api_key, base_url=server.url, http_client=http)
    errors: list[tuple[Turn, SynapError]] = []
    rec = client.conversation.recorder(max_batch=2, on_error=lambda t, e: errors.append((t, e)))
    a, b = cid(0, "hold"), cid(1, "hold")
    with caplog.at_level(logging.WARNING, logger="synap"):
        rec.record(a, "user", "a0", "u1", "c1")
        rec.record(a, "user", "a1 without customer", "u1")  # B2B: the server rejects it
        assert gate.arrived.wait(10)  # [a0, a1] is in flight, held at the gate
        rec.record(a, "user", "a2", "u1", "c1")
        rec.record(a, "user", "a3", "u1", "c1")
        rec.record(b, "user", "b0", "u1", "c1")
        gate.open()
        assert rec.flush(30)
        rec.record(a, "user", "a4 after the report", "u1", "c1")
        rec.close()
    client.close()
    http.close()
    assert [t.content for t, _ in errors] == ["a1 without customer", "a2", "a3"]
    assert all(isinstance(e, InvalidInputError) for _, e in errors)
    assert len({id(e) for _, e in errors}) == 1  # held back with the rejected turn's error
    assert "customer_id" in str(errors[0][1])
    assert stored(server.db_path) == {a: ["a0", "a4 after the report"], b: ["b0"]}
    assert rec.stats == RecorderStats(recorded=6, sent=3, pending=0, failed=3)
    assert any("3 turns of conversation" in r.getMessage() for r in caplog.records)


def test_a_permanent_failure_is_reported_for_every_turn(server: LocalServer) -> None:
    errors: list[tuple[Turn, SynapError]] = []
    with (
        synap.Synap(api_key="synap_wrong", base_url=server.url) as client,
        client.conversation.recorder(on_error=lambda t, e: errors.append((t, e))) as rec,
    ):
        for conversation, content in turns(7, 3):
            rec.record(conversation, "user", content, "u1", "c1")
        assert rec.flush(30)
    assert len(errors) == 7
    assert all(isinstance(e, AuthenticationError) and e.status_code == 401 for _, e in errors)
    assert rec.stats == RecorderStats(recorded=7, sent=0, pending=0, failed=7)


def test_on_error_raising_is_logged_not_fatal(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(turn: Turn, error: SynapError) -> None:
        raise RuntimeError("callback bug")

    with (
        synap.Synap(api_key="synap_wrong", base_url=server.url) as client,
        client.conversation.recorder(on_error=boom) as rec,
    ):
        rec.record(cid(0), "user", "x", "u1", "c1")
        assert rec.flush(30)
        rec.record(cid(0), "user", "y", "u1", "c1")
        assert rec.flush(30)
    assert rec.stats.failed == 2
    assert sum("on_error raised" in r.getMessage() for r in caplog.records) == 2


# -- outages, backpressure, bounded flush and close -------------------------------------------


def test_an_outage_keeps_turns_pending_then_they_are_stored(
    server: LocalServer, fast_retries: list[float]
) -> None:
    server.stop()
    with client_for(server, max_retries=0) as client:
        rec = client.conversation.recorder(flush_interval=0.05)
        recorded = turns(30, 4)
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        assert rec.flush(timeout=0.3) is False  # bounded: returns although nothing went out
        assert rec.stats == RecorderStats(recorded=30, sent=0, pending=30, failed=0)
        server.start()
        assert rec.flush(timeout=60) is True
        rec.close()
    assert check_exactly_once(server.db_path, expected(recorded))["stored"] == 30


def test_backpressure_raises_and_drops_nothing(server: LocalServer) -> None:
    server.stop()
    with client_for(server, max_retries=0) as client:
        rec = client.conversation.recorder(max_pending=10)
        recorded = turns(10, 2)
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        with pytest.raises(RecorderFullError) as full:
            rec.record(cid(0), "user", "one too many", "u1", "c1")
        assert isinstance(full.value, SynapError)
        assert "max_pending=10" in str(full.value)
        assert rec.stats.pending == 10
        assert rec.stats.recorded == 10
        server.start()
        assert rec.flush(timeout=60)
        rec.record(cid(0), "user", "room again", "u1", "c1")
        rec.close()
    held = stored(server.db_path)
    assert sum(len(v) for v in held.values()) == 11
    assert "one too many" not in held[cid(0)]


async def test_async_backpressure_raises_without_awaiting(server: LocalServer) -> None:
    server.stop()
    async with synap.AsyncSynap(api_key=server.api_key, base_url=server.url) as client:
        rec = client.conversation.recorder(max_pending=3)
        for i in range(3):
            rec.record(cid(0), "user", f"t {i}", "u1", "c1")
        with pytest.raises(RecorderFullError):
            rec.record(cid(0), "user", "t 3", "u1", "c1")
        await rec.aclose(timeout=0.2)
        assert rec.stats.pending == 3


def test_close_without_a_spool_is_bounded_and_counts_the_unsent_in_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with synap.Synap(api_key="synap_x", base_url="http://127.0.0.1:9") as client:
        rec = client.conversation.recorder()
        for i in range(5):
            rec.record(cid(0), "user", f"t {i}", "u1", "c1")
        with caplog.at_level(logging.WARNING, logger="synap"):
            rec.close(timeout=0.3)
    lines = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert len(lines) == 1
    assert "5 turns not sent" in lines[0]
    with pytest.raises(SynapError, match="closed"):
        rec.record(cid(0), "user", "late", "u1", "c1")


# -- the spool --------------------------------------------------------------------------------


def test_a_spool_keeps_unsent_turns_for_the_next_recorder(
    server: LocalServer, tmp_path: Path
) -> None:
    spool = tmp_path / "turns.spool"
    server.stop()
    recorded = turns(40, 5)
    with client_for(server, max_retries=0) as client:
        rec = client.conversation.recorder(spool=spool)
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        rec.close(timeout=0.2)
    server.start()
    with client_for(server) as client:
        with client.conversation.recorder(spool=spool) as rec:
            assert rec.stats.recovered == 40
            rec.record(cid(0, "rec"), "user", "after restart", "u1", "c1")
        assert rec.stats == RecorderStats(recorded=1, sent=41, pending=0, failed=0, recovered=40)
    want = expected(recorded)
    want[cid(0, "rec")].append("after restart")
    figures = check_exactly_once(server.db_path, want)
    assert figures["lost"] == figures["duplicated"] == 0
    assert figures["conversations_out_of_order"] == 0


def test_batches_unconfirmed_in_the_spool_are_resent_as_they_were(
    server: LocalServer, tmp_path: Path
) -> None:
    """A crash after a batch reached Synap but before it was marked: the new recorder sends
    the same batches under the same keys, and Synap answers them without storing again."""
    spool = tmp_path / "turns.spool"
    recorded = turns(250, 7)
    with client_for(server) as client, client.conversation.recorder(spool=spool) as rec:
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
    lines = spool.read_bytes().splitlines(keepends=True)
    batches = [json.loads(x) for x in lines if x.startswith(b'{"b"')]
    assert len(batches) >= 3
    spool.write_bytes(b"".join(x for x in lines if not x.startswith(b'{"d"')))
    replayed: list[httpx.Response] = []
    http = httpx.Client(event_hooks={"response": [replayed.append]})
    with (
        synap.Synap(api_key=server.api_key, base_url=server.url, http_client=http) as client,
        client.conversation.recorder(spool=spool) as rec,
    ):
        assert rec.stats.recovered == 250
    http.close()
    assert len(replayed) == len(batches)
    assert all(r.headers.get("idempotent-replayed") == "true" for r in replayed)
    # Several calls in flight: the answers come in any order, each batch under its old key.
    keys = [r.request.headers["idempotency-key"] for r in replayed]
    assert sorted(keys) == sorted(b["b"] for b in batches)
    figures = check_exactly_once(server.db_path, expected(recorded))
    assert (figures["stored"], figures["duplicated"]) == (250, 0)
    assert figures["conversations_out_of_order"] == 0


def test_a_second_opener_of_a_spool_gets_a_clear_error(server: LocalServer, tmp_path: Path) -> None:
    spool = tmp_path / "turns.spool"
    with client_for(server) as client:
        rec = client.conversation.recorder(spool=spool)
        with pytest.raises(
            SpoolInUseError, match=f"in use by another recorder \\(process {os.getpid()}"
        ):
            client.conversation.recorder(spool=spool)
        code = (
            "import synap, sys\n"
            f"c = synap.Synap(api_key='synap_x', base_url={server.url!r})\n"
            "try:\n"
            f"    c.conversation.recorder(spool={str(spool)!r})\n"
            "except synap.recorder.SpoolInUseError as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        other = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
        assert other.returncode == 3, other.stderr
        assert "in use by another recorder" in other.stdout
        rec.close()
        client.conversation.recorder(spool=spool).close()  # free again once closed


def test_not_a_spool_is_refused(server: LocalServer, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    with client_for(server) as client, pytest.raises(synap.recorder.SpoolError, match="not a"):
        client.conversation.recorder(spool=path)
    assert path.read_text() == "my notes\n"


def test_the_spool_is_compacted(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_spool, "COMPACT_MIN_LINES", 200)
    spool = tmp_path / "turns.spool"
    recorded = turns(3000, 10)
    with client_for(server) as client, client.conversation.recorder(spool=spool) as rec:
        sizes = []
        for i, (conversation, content) in enumerate(recorded):
            rec.record(conversation, "user", content, "u1", "c1")
            if i % 500 == 499:
                rec.flush()
                sizes.append(len(spool.read_bytes().splitlines()))
    # 3,000 turns and their batch lines went through; the file never held more than the
    # threshold's worth plus what was pending.
    assert max(sizes) < 800, sizes
    assert len(spool.read_bytes().splitlines()) < 800
    assert check_exactly_once(server.db_path, expected(recorded))["stored"] == 3000
    with client_for(server) as client, client.conversation.recorder(spool=spool) as rec:
        assert rec.stats.recovered == 0


async def test_the_async_recorder_compacts_its_spool_off_the_loop(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_spool, "COMPACT_MIN_LINES", 200)
    spool = tmp_path / "turns.spool"
    recorded = turns(2000, 10, "acompact")
    async with (
        synap.AsyncSynap(api_key=server.api_key, base_url=server.url) as client,
        client.conversation.recorder(spool=spool, max_batch=50) as rec,
    ):
        for i, (conversation, content) in enumerate(recorded):
            rec.record(conversation, "user", content, "u1", "c1")
            if i % 400 == 399:
                await rec.flush()
    assert len(spool.read_bytes().splitlines()) < 800
    assert not spool.with_name("turns.spool.tmp").exists()
    assert check_exactly_once(server.db_path, expected(recorded))["stored"] == 2000


def test_a_torn_last_line_is_ignored(server: LocalServer, tmp_path: Path) -> None:
    spool = tmp_path / "turns.spool"
    server.stop()
    with client_for(server, max_retries=0) as client:
        rec = client.conversation.recorder(spool=spool)
        rec.record(cid(0), "user", "kept", "u1", "c1")
        rec.close(timeout=0.1)
    with spool.open("ab") as f:
        f.write(b'{"t":"abc","e":{"conversation_id"')  # a crash mid-write
    server.start()
    with client_for(server) as client, client.conversation.recorder(spool=spool) as rec:
        assert rec.stats.recovered == 1
    assert stored(server.db_path) == {cid(0): ["kept"]}


# -- fork, interpreter exit ---------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_recorder_is_not_carried_into_a_forked_child(server: LocalServer, tmp_path: Path) -> None:
    spool = tmp_path / "turns.spool"
    with client_for(server) as client, client.conversation.recorder(spool=spool) as rec:
        rec.record(cid(0), "user", "parent 0", "u1", "c1")
        pid = os.fork()
        if pid == 0:  # the child: its copy refuses, and leaves the parent's spool alone
            code = 1
            try:
                rec.record(cid(0), "user", "child", "u1", "c1")
            except SynapError as exc:
                code = 0 if "fork()" in str(exc) else 2
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        rec.record(cid(0), "user", "parent 1", "u1", "c1")
    assert stored(server.db_path) == {cid(0): ["parent 0", "parent 1"]}


_FORGETFUL_SCRIPT = """
import sys, synap
client = synap.Synap(api_key=sys.argv[1], base_url=sys.argv[2], max_retries=0)
rec = client.conversation.recorder(flush_interval=3600)
for i in range(int(sys.argv[3])):
    rec.record("{cid}", "user", f"exit {{i}}", "u1", "c1")
print("recorded", flush=True)
# no close(): the interpreter's exit flushes
"""


def test_a_script_that_forgets_close_is_flushed_at_exit(server: LocalServer) -> None:
    script = _FORGETFUL_SCRIPT.format(cid=cid(0))
    done = subprocess.run(
        [sys.executable, "-c", script, server.api_key, server.url, "250"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert stored(server.db_path) == {cid(0): [f"exit {i}" for i in range(250)]}
    assert "not sent" not in done.stderr


def test_exit_flush_is_bounded_and_counts_what_could_not_go() -> None:
    script = _FORGETFUL_SCRIPT.format(cid=cid(0))
    done = subprocess.run(  # nothing listens on port 9: every call fails, retried until exit
        [sys.executable, "-c", script, "synap_x", "http://127.0.0.1:9", "12"],
        capture_output=True,
        text=True,
        timeout=60,  # the bound is the recorder's (5 s); this only stops a hang
        cwd=ROOT,
    )
    assert done.returncode == 0
    warnings = [line for line in done.stderr.splitlines() if "not sent" in line]
    assert len(warnings) == 1, done.stderr
    assert "12 turns not sent" in warnings[0]
    assert "at interpreter exit" in warnings[0]


# -- async: asyncio and trio ---------------------------------------------------------------------


def _async_session(url: str, key: str, recorded: list[tuple[str, str]], close: bool) -> Any:
    async def main() -> RecorderStats:
        client = synap.AsyncSynap(api_key=key, base_url=url)
        rec = client.conversation.recorder(max_batch=10)
        assert isinstance(rec, AsyncRecorder)
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        if close:
            assert await rec.flush(timeout=60)
            await rec.aclose()
            await client.aclose()
        return rec.stats

    return main


async def test_async_recorder_stores_in_order(server: LocalServer) -> None:
    recorded = turns(500, 9, "async")
    stats = await _async_session(server.url, server.api_key, recorded, close=True)()
    assert stats == RecorderStats(recorded=500, sent=500, pending=0, failed=0)
    figures = check_exactly_once(server.db_path, expected(recorded))
    assert figures["stored"] == 500
    assert figures["conversations_out_of_order"] == 0


def test_async_recorder_under_trio(server: LocalServer) -> None:
    trio = pytest.importorskip("trio")
    recorded = turns(300, 7, "trio")
    stats = trio.run(_async_session(server.url, server.api_key, recorded, close=True))
    assert stats == RecorderStats(recorded=300, sent=300, pending=0, failed=0)
    figures = check_exactly_once(server.db_path, expected(recorded))
    assert figures["stored"] == 300
    assert figures["conversations_out_of_order"] == 0


# A call started as the loop ends may be dropped unstarted (its batch is reclaimed and sent).
@pytest.mark.filterwarnings("ignore:coroutine 'LoopDriver._deliver' was never awaited")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_turns_left_when_the_event_loop_ends_are_still_sent(
    server: LocalServer, backend: str
) -> None:
    """No aclose(), and asyncio.run / trio.run returns: the task drains before it stops."""
    recorded = turns(120, 4, backend)
    main = _async_session(server.url, server.api_key, recorded, close=False)
    if backend == "trio":
        pytest.importorskip("trio").run(main)
    else:
        asyncio.run(main())
    assert check_exactly_once(server.db_path, expected(recorded))["stored"] == 120


async def test_maximem_sdk_has_the_recorder(server: LocalServer) -> None:
    sdk = synap.MaximemSynapSDK(api_key=server.api_key, base_url=server.url)
    await sdk.initialize()
    async with sdk.conversation.recorder() as rec:
        rec.record(cid(0), "user", "from the docs' entry point", "u1", "c1")
    await sdk.shutdown()
    assert stored(server.db_path) == {cid(0): ["from the docs' entry point"]}


def test_recorder_options_are_checked(server: LocalServer) -> None:
    with client_for(server) as client:
        for bad in (
            {"max_batch": 0},
            {"max_batch": 101},
            {"flush_interval": 0},
            {"max_pending": 0},
            {"on_error": "print"},
        ):
            with pytest.raises(InvalidInputError):
                client.conversation.recorder(**bad)  # type: ignore[arg-type]
        rec = client.conversation.recorder()
        assert isinstance(rec, Recorder)
        assert "recorded=0" in repr(rec)
        rec.close()


def test_fsync_spool_records_and_recovers(server: LocalServer, tmp_path: Path) -> None:
    spool = tmp_path / "turns.spool"
    server.stop()
    with client_for(server, max_retries=0) as client:
        rec = client.conversation.recorder(spool=spool, fsync=True)
        rec.record(cid(0), "user", "durable", "u1", "c1")
        rec.close(timeout=0.1)
    assert b'"content":"durable"' in spool.read_bytes()
    server.start()
    with client_for(server) as client, client.conversation.recorder(spool=spool) as rec:
        assert rec.stats.recovered == 1
    assert stored(server.db_path) == {cid(0): ["durable"]}


def test_a_client_closed_under_its_recorder_is_reported_not_hung(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(server)
    rec = client.conversation.recorder(flush_interval=0.05)
    client.close()
    with caplog.at_level(logging.WARNING, logger="synap"):
        rec.record(cid(0), "user", "too late", "u1", "c1")
        assert rec.flush(timeout=30) is False
        with pytest.raises(SynapError, match="client is closed"):
            rec.record(cid(0), "user", "later still", "u1", "c1")
        rec.close()
    lines = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert lines == [
        "recorder: stopped: its client was closed with 1 turn not sent; they are lost "
        "(pass spool= to keep turns across restarts)"
    ]


def test_async_recorder_outliving_its_client_reports_at_the_loop_end(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with synap.AsyncSynap(api_key=server.api_key, base_url=server.url) as client:
            rec = client.conversation.recorder(flush_interval=3600)
            rec.record(cid(0), "user", "left behind", "u1", "c1")

    with caplog.at_level(logging.WARNING, logger="synap"):
        asyncio.run(main())
    lines = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert len(lines) == 1
    assert "its client was closed with 1 turn not sent" in lines[0]


def test_threads_share_one_recorder(server: LocalServer) -> None:
    import threading

    recorded = {n: turns(300, 3, f"thread{n}-") for n in range(4)}
    with client_for(server) as client, client.conversation.recorder() as rec:
        threads = [
            threading.Thread(
                target=lambda mine: [rec.record(c, "user", t, "u1", "c1") for c, t in mine],
                args=(recorded[n],),
            )
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    everything = [turn for mine in recorded.values() for turn in mine]
    figures = check_exactly_once(server.db_path, expected(everything))
    assert figures["stored"] == 1200
    assert figures["duplicated"] == figures["conversations_out_of_order"] == 0


async def test_async_recorder_takes_turns_from_worker_threads(server: LocalServer) -> None:
    import anyio.to_thread

    recorded = turns(60, 3, "worker")
    async with (
        synap.AsyncSynap(api_key=server.api_key, base_url=server.url) as client,
        client.conversation.recorder(flush_interval=0.05) as rec,
    ):
        for conversation, content in recorded:  # as a sync FastAPI endpoint would
            await anyio.to_thread.run_sync(rec.record, conversation, "user", content, "u1", "c1")
        assert await rec.flush(timeout=60)
    assert check_exactly_once(server.db_path, expected(recorded))["stored"] == 60
