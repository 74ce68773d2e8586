"""Crash: the server process is SIGKILLed in the middle of a backfill, at the worst moment (it
has committed a call whose answer the client never gets), then restarted on the same database.
The job, rerun on its checkpoint, finishes with every message stored once, in order."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from synap import NetworkError
from synap.server import LocalServerProcess
from tests.reliability._support import (
    FACADES,
    Facade,
    exactly_once,
    messages,
    out_of_order,
    stored_messages,
)

TOTAL = 2000
CHUNK = 50
KILL_AT = 6  # the answer whose arrival kills the server: 5 calls confirmed, the 6th committed


def _job(facade: Facade, checkpoint: Path, **options: Any) -> Any:
    return facade.call(
        "conversation.record_messages_bulk",
        messages(TOTAL, prefix="crash message", per_conversation=100),
        chunk_size=CHUNK,
        concurrency=4,
        checkpoint=checkpoint,
        **options,
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", FACADES)
def test_server_sigkilled_mid_backfill_then_restarted_and_the_job_resumed(
    kind: str, tmp_path: Path, fast_retries: list[float]
) -> None:
    db = tmp_path / "synap.db"
    checkpoint = tmp_path / "job.checkpoint"
    server = LocalServerProcess(db)
    server.start()
    try:
        answers = itertools.count(1)
        lock = threading.Lock()
        killed: list[int | None] = []

        def die_with_this_answer(request: httpx.Request, response: httpx.Response) -> None:
            with lock:
                if next(answers) != KILL_AT:
                    return
                killed.append(server.kill())  # committed on disk; the answer is lost with it
            raise httpx.ReadError("the server died before its answer arrived", request=request)

        stored_first: set[int] = set()
        with Facade(
            kind, server.url, server.api_key, on_response=die_with_this_answer, max_retries=1
        ) as facade:
            first = _job(facade, checkpoint, on_result=lambda p, _: stored_first.add(p))
        assert killed == [-9]  # SIGKILL, mid-backfill

        # Every item of the crashed run was either stored or reported; nothing raised.
        failed = {f.position for f in first.failures}
        assert stored_first | failed == set(range(TOTAL))
        assert not stored_first & failed
        assert 0 < first.succeeded < TOTAL
        assert all(
            f.stage in ("error", "held") and isinstance(f.error, NetworkError)
            for f in first.failures
        )

        server.start()  # same database (same port when it is still free)
        on_disk = sum(stored_messages(db).values())
        # The worst case really happened: the server holds more than the job could confirm.
        assert on_disk > first.succeeded

        with Facade(kind, server.url, server.api_key) as facade:
            again = _job(facade, checkpoint)
            replayed = facade.tally.replayed
        assert again.ok
        assert (again.succeeded, again.skipped) == (TOTAL, first.succeeded)
        assert replayed >= 1  # the call committed before the crash was answered, not redone

        outcome = exactly_once(stored_messages(db), [f"crash message {i}" for i in range(TOTAL)])
        assert outcome == {"stored": TOTAL, "duplicates": 0, "lost": 0, "unexpected": 0}
        assert out_of_order(db) == 0
    finally:
        server.stop()
