"""Chaos: a bulk backfill through every fault kind at once, at 30%, on both facades.

The local server fails 30% of requests, spread over every kind: 500, 502, 503, 504, 429 with
`Retry-After`, the connection cut before the write commits, the answer cut after it commits
(the case that stores twice without idempotency keys), and latency past the client's read
timeout. The job runs with a checkpoint; whatever it reports as failed after the SDK's retries
is picked up by a rerun of the same job (the documented way to finish a job), until it is
done. The client keeps the SDK's defaults but for a short read timeout. Then every item must
be in the server's database exactly once, by content and count, and every conversation's turns
in input order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from synap import SynapError, SynapTransientError
from synap.bulk import BulkSummary
from synap.server import KINDS, FaultPlan, LocalServer
from tests.reliability._support import (
    FACADES,
    Facade,
    documents,
    exactly_once,
    messages,
    out_of_order,
    stored_documents,
    stored_messages,
)

RATE = 0.3
SEED = 20240501
RETRY_AFTER = 1
CHUNK = 20
MAX_PASSES = 5
# The read timeout the latency fault outlasts; connect and write keep generous limits.
TIMEOUT = httpx.Timeout(10.0, read=0.25)
PLAN = FaultPlan.every_kind(RATE, seed=SEED, latency_seconds=0.5, retry_after=RETRY_AFTER)


def _run_until_done(
    facade: Facade,
    method: str,
    items: Callable[[], Iterator[Any]],
    checkpoint: Path,
) -> tuple[list[BulkSummary], set[int]]:
    """Run the job, then rerun it on its checkpoint while it reports failures. Returns every
    run's summary and the positions the first run reported as stored."""
    stored_first: set[int] = set()
    summaries: list[BulkSummary] = []
    for attempt in range(MAX_PASSES):
        on_result = (lambda position, _: stored_first.add(position)) if attempt == 0 else None
        summary = facade.call(
            method,
            items(),
            chunk_size=CHUNK,
            concurrency=8,
            checkpoint=checkpoint,
            on_result=on_result,
        )
        summaries.append(summary)
        if summary.ok:
            break
    return summaries, stored_first


def _check_first_run(summary: BulkSummary, stored: set[int], total: int) -> None:
    """Every call of the first run either succeeded or was reported, item by item."""
    assert summary.total == total
    # At most one call per chunk (none split; a chunk whose conversation a failed call left
    # with a gap is held back whole when it has nothing else to send).
    assert summary.calls <= math.ceil(total / CHUNK)
    failed = {f.position for f in summary.failures}
    assert stored | failed == set(range(total))
    assert not stored & failed
    assert summary.succeeded == len(stored)
    for failure in summary.failures:
        # The input is valid: only calls fail (or are held back after one), never items.
        assert failure.stage in ("error", "held")
        assert isinstance(failure.error, SynapError)


def _figures(
    what: str,
    facade: Facade,
    server: LocalServer,
    summaries: list[BulkSummary],
    delays: list[float],
    outcome: dict[str, int],
    items: int,
) -> dict[str, Any]:
    faults = server.fault_counts()
    return {
        "what": what,
        "facade": facade.kind,
        "items": items,
        "fault_rate": RATE,
        "seed": SEED,
        "runs": len(summaries),
        "calls": sum(s.calls for s in summaries),
        "reported_by_first_run": summaries[0].failed,
        "requests": faults["requests"],
        "faults_injected": faults["injected"],
        "faults_by_kind": {kind: faults[kind] for kind in KINDS},
        "retries": len(delays),
        "retry_after_honoured": sum(1 for d in delays if d == RETRY_AFTER),
        "answers_replayed_for_a_repeated_key": facade.tally.replayed,
        **outcome,
    }


def _record(figures: dict[str, Any], tmp_path: Path, chaos_figures: list[dict[str, Any]]) -> None:
    path = tmp_path / "chaos-figures.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    chaos_figures.append({**figures, "json": str(path)})
    print(json.dumps(figures, sort_keys=True))


def _check_chaos(figures: dict[str, Any], facade: Facade) -> None:
    assert figures["duplicates"] == 0
    assert figures["lost"] == 0
    assert figures["unexpected"] == 0
    # Every kind really happened, and every attempt the client made reached the server.
    assert all(n > 0 for n in figures["faults_by_kind"].values()), figures["faults_by_kind"]
    assert facade.tally.requests == figures["requests"]
    assert figures["faults_injected"] / figures["requests"] == pytest.approx(RATE, abs=0.1)
    assert figures["retry_after_honoured"] > 0  # the 429s' Retry-After was the wait
    # A write committed behind a cut answer was answered again, not stored again.
    assert figures["answers_replayed_for_a_repeated_key"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", FACADES)
def test_backfill_of_3000_messages_through_30_percent_faults_stores_each_once(
    kind: str, tmp_path: Path, fast_retries: list[float], chaos_figures: list[dict[str, Any]]
) -> None:
    total = 3000
    with (
        LocalServer(tmp_path / "synap.db", faults=PLAN) as server,
        Facade(kind, server.url, server.api_key, timeout=TIMEOUT) as facade,
    ):
        summaries, stored_first = _run_until_done(
            facade,
            "conversation.record_messages_bulk",
            # Conversations of 50 turns span calls of 20: their order is at stake too.
            lambda: messages(total, prefix="chaos message", per_conversation=50),
            tmp_path / "checkpoint.jsonl",
        )
        _check_first_run(summaries[0], stored_first, total)
        assert summaries[-1].ok, summaries[-1]
        assert summaries[-1].succeeded == total
        outcome = exactly_once(
            stored_messages(server.db_path), [f"chaos message {i}" for i in range(total)]
        )
        outcome["conversations_out_of_order"] = out_of_order(server.db_path)
        figures = _figures("messages", facade, server, summaries, fast_retries, outcome, total)
    _record(figures, tmp_path, chaos_figures)
    _check_chaos(figures, facade)
    assert figures["stored"] == total
    assert figures["conversations_out_of_order"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", FACADES)
def test_bootstrap_of_1000_documents_through_30_percent_faults_stores_each_once(
    kind: str, tmp_path: Path, fast_retries: list[float], chaos_figures: list[dict[str, Any]]
) -> None:
    total = 1000
    with (
        LocalServer(tmp_path / "synap.db", faults=PLAN) as server,
        Facade(kind, server.url, server.api_key, timeout=TIMEOUT) as facade,
    ):
        summaries, stored_first = _run_until_done(
            facade,
            "memories.bulk_create",
            lambda: documents(total, prefix="chaos document"),
            tmp_path / "checkpoint.jsonl",
        )
        _check_first_run(summaries[0], stored_first, total)
        assert summaries[-1].ok, summaries[-1]
        outcome = exactly_once(
            stored_documents(server.db_path), [f"chaos document {i}" for i in range(total)]
        )
        figures = _figures("documents", facade, server, summaries, fast_retries, outcome, total)
    _record(figures, tmp_path, chaos_figures)
    _check_chaos(figures, facade)
    assert figures["stored"] == total


@pytest.mark.parametrize("kind", FACADES)
def test_every_single_call_through_faults_succeeds_or_raises_a_synap_error(
    kind: str, tmp_path: Path, fast_retries: list[float]
) -> None:
    """Without retries, each of the three methods meets every fault kind: each call returns
    the documented shape or raises a `SynapError` (a transient one), nothing else."""
    plan = FaultPlan.every_kind(0.8, seed=SEED, latency_seconds=0.5, retry_after=0)
    outcomes: dict[str, int] = {}
    with (
        LocalServer(tmp_path / "synap.db", faults=plan) as server,
        Facade(kind, server.url, server.api_key, max_retries=0, timeout=TIMEOUT) as facade,
    ):
        for i in range(60):
            message = next(messages(1, prefix=f"single {i}"))
            calls: list[tuple[str, Any]] = [
                ("conversation.record_message", message),
                ("conversation.record_messages_batch", {"messages": [message]}),
                (
                    "memories.batch_create",
                    {"documents": list(documents(2, prefix=f"single {i}"))},
                ),
            ]
            method, arguments = calls[i % 3]
            failure: SynapError | None = None
            try:
                result = facade.call(method, **arguments)
            except SynapError as error:  # anything else fails the test
                failure = error
            if failure is not None:
                assert isinstance(failure, SynapTransientError), repr(failure)
                name = type(failure).__name__
            else:
                name = "ok"
                if method == "memories.batch_create":
                    assert result.succeeded == 2
                else:
                    assert "message_id" in str(result)
            outcomes[name] = outcomes.get(name, 0) + 1
        counts = server.fault_counts()
    assert counts["requests"] == 60 == facade.tally.requests
    assert outcomes.get("ok", 0) > 0
    # 5xx, 429, cut connections and timeouts each surface as their own class.
    assert {"ServiceUnavailableError", "RateLimitError", "NetworkError"} <= set(outcomes)
    assert "NetworkTimeoutError" in outcomes
