"""The async bulk helpers on anyio: `record_messages_bulk` and `bulk_create` on `AsyncSynap`
work under trio as under asyncio, and a job cancelled by its caller (a trio/anyio cancel scope,
or asyncio's `task.cancel()`) stops at once and resumes without losing or doubling anything.
Real local server, real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import synap
from synap.server import LocalServer, read_snapshot
from tests.bulk._support import Watch, messages, run_bulk, stored_contents

BACKENDS = ("asyncio", "trio")


def test_messages_under_trio_arrive_in_order_with_exact_results(server: LocalServer) -> None:
    watch = Watch()
    results: dict[int, Any] = {}
    summary = run_bulk(
        "trio", server, "messages", messages(1050), watch=watch, on_result=results.__setitem__
    )
    assert (summary.total, summary.succeeded, summary.failed, summary.calls) == (1050, 1050, 0, 11)
    assert [c.entries for c in watch.calls] == [100] * 10 + [50]
    assert watch.max_in_flight == 1  # one conversation: its calls never overlap
    assert stored_contents(server) == [f"message {i}" for i in range(1050)]
    (conversation,) = read_snapshot(server.db_path)["conversations"]
    assert [results[i]["message_id"] for i in range(1050)] == [
        m["message_id"] for m in conversation["messages"]
    ]


def test_trio_keeps_n_calls_in_flight(server: LocalServer) -> None:
    watch = Watch(hold_first=3)  # the first three are held until all three are in flight
    summary = run_bulk(
        "trio", server, "messages", messages(2000, per_conversation=100), watch=watch, concurrency=3
    )
    assert summary.succeeded == 2000
    assert watch.max_in_flight == 3
    assert sorted(stored_contents(server)) == sorted(f"message {i}" for i in range(2000))


def test_documents_from_a_trio_async_generator(server: LocalServer) -> None:
    async def produce() -> AsyncIterator[dict[str, Any]]:
        for i in range(250):
            await anyio.lowlevel.checkpoint()  # a trio checkpoint
            yield {"document": f"document {i}", "customer_id": "cust_1"}
        yield {"documnet": "typo"}

    watch = Watch()
    summary = run_bulk("trio", server, "documents", produce(), watch=watch, concurrency=2)
    assert (summary.total, summary.succeeded, summary.failed, summary.calls) == (251, 250, 1, 3)
    assert [(f.position, f.stage) for f in summary.failures] == [(250, "invalid")]
    stored = sorted(d["document"] for d in read_snapshot(server.db_path)["documents"])
    assert stored == sorted(f"document {i}" for i in range(250))


class Stop(Exception):
    """Raised by a test's callback."""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_callbacks_error_comes_out_as_itself_and_the_job_resumes(
    backend: str, server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"

    def stop_after_300(done: int, total: int | None) -> None:
        if done >= 300:
            raise Stop("enough")

    # Not wrapped in an exception group, though the calls run in a task group.
    with pytest.raises(Stop, match="enough"):
        run_bulk(
            backend,
            server,
            "messages",
            messages(1050, per_conversation=105),
            checkpoint=checkpoint,
            concurrency=3,
            preserve_order=False,
            on_progress=stop_after_300,
        )
    assert 300 <= len(stored_contents(server)) < 1050
    summary = run_bulk(
        backend,
        server,
        "messages",
        messages(1050, per_conversation=105),
        checkpoint=checkpoint,
        concurrency=3,
        preserve_order=False,
    )
    assert (summary.succeeded, summary.failed) == (1050, 0)
    assert summary.skipped >= 300
    assert sorted(stored_contents(server)) == sorted(f"message {i}" for i in range(1050))


async def _bulk_cancelled_by(
    server: LocalServer, checkpoint: Path, cancel: Callable[[], None] | None
) -> synap.bulk.BulkSummary:
    def on_progress(done: int, total: int | None) -> None:
        if cancel is not None and done >= 300:
            cancel()

    async with synap.AsyncSynap(api_key=server.api_key, base_url=server.url) as client:
        return await client.conversation.record_messages_bulk(
            messages(1050, per_conversation=105),
            checkpoint=checkpoint,
            concurrency=3,
            preserve_order=False,
            on_progress=on_progress,
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_job_cancelled_by_a_cancel_scope_stops_and_resumes_exactly_once(
    backend: str, server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"

    async def cancelled() -> bool:
        with anyio.CancelScope() as scope:
            await _bulk_cancelled_by(server, checkpoint, scope.cancel)
        return scope.cancelled_caught

    assert anyio.run(cancelled, backend=backend)
    stored_before = len(stored_contents(server))
    assert 300 <= stored_before < 1050
    summary = anyio.run(_bulk_cancelled_by, server, checkpoint, None, backend=backend)
    assert (summary.succeeded, summary.failed) == (1050, 0)
    assert summary.skipped >= 300
    assert sorted(stored_contents(server)) == sorted(f"message {i}" for i in range(1050))


def test_a_job_cancelled_by_task_cancel_raises_cancelled_and_resumes(
    server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"

    async def cancelled() -> None:
        task = asyncio.current_task()
        assert task is not None
        await _bulk_cancelled_by(server, checkpoint, task.cancel)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())
    assert 300 <= len(stored_contents(server)) < 1050
    summary = asyncio.run(_bulk_cancelled_by(server, checkpoint, None))
    assert (summary.succeeded, summary.failed) == (1050, 0)
    assert sorted(stored_contents(server)) == sorted(f"message {i}" for i in range(1050))
