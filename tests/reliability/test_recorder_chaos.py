"""The background recorder under chaos, and across a crash.

Chaos: 20,000 turns over 200 conversations, recorded as fast as `record()` returns, through a
local server failing 30% of requests across every fault kind (500/502/503/504, 429 with
Retry-After, a cut before the write, an answer cut after the write, latency past the read
timeout), on the blocking and the async recorder. Then every turn must be stored exactly once,
each conversation in record order, nothing reported failed.

Crash: a child process records through a spool while the server injects faults, and is
SIGKILLed mid-stream (calls in flight, batches formed but unanswered). A new recorder opened on
the same spool finishes the job: every turn whose `record()` returned is stored exactly once,
in order, and nothing else is stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import synap
from synap.server import KINDS, FaultPlan, LocalServer
from tests.recorder._support import check_exactly_once, cid, stored
from tests.reliability._support import AsyncCountingTransport, CountingTransport, Tally

ROOT = Path(__file__).resolve().parents[2]
SEED = 20240502
RATE = 0.3
TIMEOUT = httpx.Timeout(10.0, read=0.25)
PLAN = FaultPlan.every_kind(RATE, seed=SEED, latency_seconds=0.5, retry_after=1)
TURNS = 20_000
CONVERSATIONS = 200


def _turns(n: int, conversations: int, tag: str) -> list[tuple[str, str]]:
    return [(cid(i % conversations, tag), f"{tag}{i % conversations} {i}") for i in range(n)]


def _expected(recorded: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for conversation, content in recorded:
        out.setdefault(conversation, []).append(content)
    return out


def _record(figures: dict[str, Any], tmp_path: Path, chaos_figures: list[dict[str, Any]]) -> None:
    path = tmp_path / "chaos-figures.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    chaos_figures.append({**figures, "json": str(path)})
    print(json.dumps(figures, sort_keys=True))


def _run_blocking(server: LocalServer, tally: Tally, recorded: list[tuple[str, str]]) -> Any:
    http = httpx.Client(transport=CountingTransport(tally))
    client = synap.Synap(
        api_key=server.api_key, base_url=server.url, http_client=http, timeout=TIMEOUT
    )
    errors: list[Any] = []
    with client.conversation.recorder(on_error=lambda t, e: errors.append((t, e))) as rec:
        for conversation, content in recorded:
            rec.record(conversation, "user", content, "u1", "c1")
        assert rec.flush(timeout=600)
    client.close()
    http.close()
    return rec.stats, errors


def _run_async(server: LocalServer, tally: Tally, recorded: list[tuple[str, str]]) -> Any:
    async def main() -> Any:
        http = httpx.AsyncClient(transport=AsyncCountingTransport(tally))
        client = synap.AsyncSynap(
            api_key=server.api_key, base_url=server.url, http_client=http, timeout=TIMEOUT
        )
        errors: list[Any] = []
        async with client.conversation.recorder(on_error=lambda t, e: errors.append((t, e))) as rec:
            for conversation, content in recorded:
                rec.record(conversation, "user", content, "u1", "c1")
            assert await rec.flush(timeout=600)
        await client.aclose()
        await http.aclose()
        return rec.stats, errors

    return asyncio.run(main())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_recorder_stores_20000_turns_exactly_once_in_order_through_30_percent_faults(
    kind: str, tmp_path: Path, fast_retries: list[float], chaos_figures: list[dict[str, Any]]
) -> None:
    recorded = _turns(TURNS, CONVERSATIONS, f"chaos-{kind}-")
    tally = Tally()
    started = time.monotonic()
    with LocalServer(tmp_path / "synap.db", faults=PLAN) as server:
        run = _run_blocking if kind == "sync" else _run_async
        stats, errors = run(server, tally, recorded)
        faults = server.fault_counts()
        outcome = check_exactly_once(server.db_path, _expected(recorded))
    figures = {
        "what": f"recorder, {kind}",
        "turns": TURNS,
        "conversations": CONVERSATIONS,
        "fault_rate": RATE,
        "seed": SEED,
        "requests": faults["requests"],
        "faults_injected": faults["injected"],
        "faults_by_kind": {k: faults[k] for k in KINDS},
        "answers_replayed_for_a_repeated_key": tally.replayed,
        "reported_failed": len(errors),
        "seconds": round(time.monotonic() - started, 1),
        **outcome,
    }
    _record(figures, tmp_path, chaos_figures)
    assert errors == []
    assert stats.sent == TURNS
    assert stats.pending == 0
    assert stats.failed == 0
    assert outcome["stored"] == TURNS
    assert outcome["lost"] == outcome["duplicated"] == outcome["unexpected"] == 0
    assert outcome["conversations_out_of_order"] == 0
    assert all(n > 0 for n in figures["faults_by_kind"].values()), figures["faults_by_kind"]
    assert tally.requests == faults["requests"]
    assert tally.replayed > 0  # a write behind a cut answer was answered again, not stored again


CRASH_TURNS = 6000
CRASH_CONVERSATIONS = 60
KILL_AFTER = 3000  # acknowledged record() calls before the SIGKILL
CRASH_PLAN = FaultPlan.every_kind(0.25, seed=SEED + 1, latency_seconds=0.5, retry_after=1)


@pytest.mark.slow
def test_a_recorder_killed_mid_stream_is_finished_by_the_next_one_on_its_spool(
    tmp_path: Path, fast_retries: list[float], chaos_figures: list[dict[str, Any]]
) -> None:
    spool = tmp_path / "turns.spool"
    recorded = _turns(CRASH_TURNS, CRASH_CONVERSATIONS, "crash-")
    with LocalServer(tmp_path / "synap.db", faults=CRASH_PLAN) as server:
        child = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("_recorder_crash_child.py")),
                server.url,
                server.api_key,
                str(spool),
                str(CRASH_TURNS),
                str(CRASH_CONVERSATIONS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        acknowledged = -1
        assert child.stdout is not None
        try:
            for line in child.stdout:
                acknowledged = int(line)  # record(i) returned
                if acknowledged + 1 >= KILL_AFTER:
                    break
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait(30)
        assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
        assert acknowledged + 1 >= KILL_AFTER
        stored_before = sum(len(v) for v in stored(server.db_path).values())
        lines = spool.read_bytes().splitlines()
        formed = {json.loads(x)["b"] for x in lines if x.startswith(b'{"b"')}
        settled = {json.loads(x)["d"] for x in lines if x.startswith(b'{"d"')}

        errors: list[Any] = []
        client = synap.Synap(api_key=server.api_key, base_url=server.url, timeout=TIMEOUT)
        with client.conversation.recorder(
            spool=spool, on_error=lambda t, e: errors.append((t, e))
        ) as rec:
            recovered = rec.stats.recovered
            assert rec.flush(timeout=600)
        client.close()
        faults = server.fault_counts()
        # Turns whose record() returned: all of them must be stored, exactly once, in order.
        outcome = check_exactly_once(server.db_path, _expected(recorded[: acknowledged + 1]))
        # Turns after those may or may not have made it into the spool; never twice either.
        everything = check_exactly_once(server.db_path, _expected(recorded))
    figures = {
        "what": "recorder, killed mid-stream, finished by a new recorder on the spool",
        "turns_acknowledged_before_kill": acknowledged + 1,
        "stored_before_kill": stored_before,
        "batches_in_flight_or_unconfirmed_at_kill": len(formed - settled),
        "recovered_from_spool": recovered,
        # Stored by a call whose answer the child never saw: resent under the same key.
        "recovered_although_stored_before_kill": recovered - (everything["stored"] - stored_before),
        "requests_both_recorders": faults["requests"],
        "faults_injected": faults["injected"],
        "reported_failed": len(errors),
        **outcome,
        "stored_in_all": everything["stored"],
        "duplicated_in_all": everything["duplicated"],
    }
    _record(figures, tmp_path, chaos_figures)
    assert errors == []
    # Every acknowledged turn not stored before the kill came back from the spool (and those
    # stored by calls whose answer the child never saw: resent, answered, not stored again).
    assert recovered >= acknowledged + 1 - stored_before > 0
    assert outcome["stored"] == acknowledged + 1
    assert outcome["lost"] == outcome["duplicated"] == 0
    assert outcome["conversations_out_of_order"] == 0
    assert everything["duplicated"] == everything["unexpected"] == 0
    assert everything["conversations_out_of_order"] == 0
