"""The blocking recorder keeps several calls in flight from its one background thread, never
two holding turns of one conversation, and what close() cancels in flight is resent under the
same key: stored once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import synap
from synap.recorder import RecorderStats
from synap.recorder._core import IN_FLIGHT
from synap.server import FaultPlan, LocalServer
from tests.recorder._support import Gate, GatedTransport, check_exactly_once, cid

# Every request waits this long at the server before it is served: calls stay in flight.
LATENCY = 1.5


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    with LocalServer(faults=FaultPlan({"latency": 1.0}, latency_seconds=LATENCY)) as server:
        yield server


def wait_for(condition: Callable[[], bool], limit: float = 20.0) -> bool:
    """Poll `condition` until it holds (True) or `limit` seconds pass (False)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def recorder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("synap-recorder")]


def one_turn_each(n: int, tag: str) -> list[tuple[str, str]]:
    """n turns, each of its own conversation: nothing keeps their batches apart."""
    return [(cid(i, tag), f"{tag} {i}") for i in range(n)]


def test_several_calls_are_in_flight_from_one_background_thread(slow_server: LocalServer) -> None:
    before = set(threading.enumerate())
    recorded = one_turn_each(IN_FLIGHT * 5, "overlap")
    with synap.Synap(api_key=slow_server.api_key, base_url=slow_server.url) as client:
        rec = client.conversation.recorder(max_batch=5, flush_interval=3600)
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        # IN_FLIGHT full batches: all of them reach the server before the first is answered.
        assert wait_for(lambda: slow_server.fault_counts()["latency"] >= IN_FLIGHT)
        assert rec.stats.sent == 0
        started = set(threading.enumerate()) - before
        assert [t.name for t in started] == ["synap-recorder"]
        assert rec.flush(30)
        rec.close()
    assert rec.stats == RecorderStats(
        recorded=len(recorded), sent=len(recorded), pending=0, failed=0
    )
    assert slow_server.fault_counts()["requests"] == IN_FLIGHT
    figures = check_exactly_once(slow_server.db_path, {c: [t] for c, t in recorded})
    assert (figures["stored"], figures["duplicated"]) == (len(recorded), 0)
    assert wait_for(lambda: not recorder_threads(), 10)  # close() ended the thread


def test_one_conversation_is_never_in_two_calls_at_once(slow_server: LocalServer) -> None:
    conversation = cid(0, "serial")
    contents = [f"serial {i}" for i in range(15)]
    with synap.Synap(api_key=slow_server.api_key, base_url=slow_server.url) as client:
        rec = client.conversation.recorder(max_batch=5, flush_interval=3600)
        for content in contents:
            rec.record(conversation, "user", content, "u1", "c1")
        # Three full batches of one conversation: the second goes out only after the first
        # is answered, so while the first is held at the server it is alone there.
        assert wait_for(lambda: slow_server.fault_counts()["latency"] >= 1)
        time.sleep(LATENCY / 3)
        assert (slow_server.fault_counts()["latency"], rec.stats.sent) == (1, 0)
        assert rec.flush(30)
        rec.close()
    assert slow_server.fault_counts()["requests"] == 3
    figures = check_exactly_once(slow_server.db_path, {conversation: contents})
    assert (figures["stored"], figures["conversations_out_of_order"]) == (15, 0)


def test_calls_through_the_callers_http_client_overlap_too(server: LocalServer) -> None:
    gate = Gate()
    http = httpx.Client(transport=GatedTransport(gate))
    client = synap.Synap(api_key=server.api_key, base_url=server.url, http_client=http)
    recorded = one_turn_each(IN_FLIGHT * 3, "gated")
    rec = client.conversation.recorder(max_batch=3, flush_interval=3600)
    try:
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        # Each call waits at the gate in its own thread: all of them arrive before any passes.
        assert wait_for(lambda: gate.requests >= IN_FLIGHT)
        assert rec.stats.sent == 0
    finally:
        gate.open()
    assert rec.flush(30)
    rec.close()
    client.close()
    http.close()
    assert gate.requests == IN_FLIGHT
    figures = check_exactly_once(server.db_path, {c: [t] for c, t in recorded})
    assert (figures["stored"], figures["duplicated"]) == (len(recorded), 0)


def test_calls_cancelled_by_close_are_resent_under_their_keys_and_stored_once(
    slow_server: LocalServer, tmp_path: Path
) -> None:
    """close(timeout) cancels the calls held at the server; the server still stores them
    (late). The next recorder on the spool sends the same batches under the same keys, and
    Synap answers them without storing again."""
    spool = tmp_path / "turns.spool"
    recorded = one_turn_each(IN_FLIGHT * 4, "cancel")
    with synap.Synap(api_key=slow_server.api_key, base_url=slow_server.url) as client:
        rec = client.conversation.recorder(spool=spool, max_batch=4, flush_interval=3600)
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        assert wait_for(lambda: slow_server.fault_counts()["latency"] >= IN_FLIGHT)
        rec.close(timeout=0.1)
        assert rec.stats.sent == 0
    assert wait_for(lambda: not recorder_threads(), 10)
    keys: list[str] = []
    http = httpx.Client(
        timeout=30, event_hooks={"request": [lambda r: keys.append(r.headers["idempotency-key"])]}
    )
    client = synap.Synap(api_key=slow_server.api_key, base_url=slow_server.url, http_client=http)
    with client.conversation.recorder(spool=spool) as again:
        assert again.stats.recovered == len(recorded)
    http.close()
    assert again.stats.sent == len(recorded)
    assert len(keys) == len(set(keys)) == IN_FLIGHT  # the four cut batches, as they were
    figures = check_exactly_once(slow_server.db_path, {c: [t] for c, t in recorded})
    assert (figures["stored"], figures["duplicated"]) == (len(recorded), 0)
