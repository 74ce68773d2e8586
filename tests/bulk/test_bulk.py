"""Bulk ingestion against a real local server, through both facades."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from synap import AuthenticationError, NetworkError, SynapValidationError
from synap.bulk import CheckpointError
from synap.server import LocalServer, read_snapshot
from tests.bulk._support import (
    DROP,
    Watch,
    messages,
    run_bulk,
    stored_contents,
)


def test_1050_messages_arrive_as_11_calls_in_order_with_exact_results(
    facade: str, server: LocalServer
) -> None:
    watch = Watch()
    results: dict[int, Any] = {}
    progress: list[tuple[int, int | None]] = []
    summary = run_bulk(
        facade,
        server,
        "messages",
        messages(1050),
        watch=watch,
        on_result=results.__setitem__,
        on_progress=lambda done, total: progress.append((done, total)),
    )

    assert (summary.total, summary.succeeded, summary.failed, summary.calls) == (1050, 1050, 0, 11)
    assert summary.ok
    assert summary.failures == ()
    assert [c.entries for c in watch.calls] == [100] * 10 + [50]
    assert [c.first_content for c in watch.calls] == [f"message {i}" for i in range(0, 1050, 100)]
    assert all(c.path == "/v1/conversations/messages/batch" for c in watch.calls)
    assert len({c.idempotency_key for c in watch.calls}) == 11
    # One conversation: its chunks never overlap, so the transcript is stored in input order.
    assert watch.max_in_flight == 1
    assert stored_contents(server) == [f"message {i}" for i in range(1050)]
    # Every position got its own result, the one the server stored for it.
    (conversation,) = read_snapshot(server.db_path)["conversations"]
    assert sorted(results) == list(range(1050))
    assert [results[i]["message_id"] for i in range(1050)] == [
        m["message_id"] for m in conversation["messages"]
    ]
    # A generator has no len(): total unknown, and done reaches every item.
    assert progress[-1] == (1050, None)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_invalid_items_are_reported_with_positions_and_never_sent(
    facade: str, server: LocalServer
) -> None:
    bad = {
        3: {"role": "bot"},
        250: {"content": DROP},
        500: {"customer_id": DROP},  # valid for the SDK; the B2B server rejects it
        777: {"conversation_id": "conv_2026_05_16_alice"},
        1049: {"metadata": "not a dict"},
    }
    items: list[Any] = list(messages(1050, bad=bad))
    items[900] = "not even a dict"
    watch = Watch()
    progress: list[tuple[int, int | None]] = []
    summary = run_bulk(
        facade,
        server,
        "messages",
        items,
        watch=watch,
        on_progress=lambda done, total: progress.append((done, total)),
        preserve_order=False,  # one conversation: else every later turn is held back
    )

    failures = {f.position: f for f in summary.failures}
    assert sorted(failures) == [3, 250, 500, 777, 900, 1049]
    assert {p: f.stage for p, f in failures.items()} == {
        3: "invalid",
        250: "invalid",
        500: "rejected",
        777: "invalid",
        900: "invalid",
        1049: "invalid",
    }
    assert "role" in failures[3].reason
    assert isinstance(failures[3].error, SynapValidationError)
    assert failures[3].error.field == "role"
    assert "content" in failures[250].reason
    assert "customer_id" in failures[500].reason
    assert "UUID" in failures[777].reason
    assert (summary.total, summary.succeeded, summary.failed) == (1050, 1044, 6)
    # Invalid items never left the machine; every call was still made.
    assert sum(c.entries for c in watch.calls) == 1050 - 5
    assert len(watch.calls) == 11
    stored = stored_contents(server)
    assert len(stored) == 1044
    assert "message 3" not in stored
    assert "message 500" not in stored
    assert progress[-1] == (1050, 1050)


def test_crash_from_the_progress_callback_then_resume_stores_each_once(
    facade: str, server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"

    def crash_after_300(done: int, total: int | None) -> None:
        if done >= 300:
            raise KeyboardInterrupt

    # Ten conversations of 105 messages: chunks overlap, and some are in flight at the crash.
    with pytest.raises(KeyboardInterrupt):
        run_bulk(
            facade,
            server,
            "messages",
            messages(1050, per_conversation=105),
            checkpoint=checkpoint,
            concurrency=3,
            preserve_order=False,
            on_progress=crash_after_300,
        )
    stored_before = len(stored_contents(server))
    assert 300 <= stored_before < 1050

    watch = Watch()
    summary = run_bulk(
        facade,
        server,
        "messages",
        messages(1050, per_conversation=105),
        watch=watch,
        checkpoint=checkpoint,
        concurrency=3,
        preserve_order=False,
    )
    assert (summary.total, summary.succeeded, summary.failed) == (1050, 1050, 0)
    assert summary.skipped >= 300
    assert summary.calls == len(watch.calls) <= 8
    stored = stored_contents(server)
    assert sorted(stored) == sorted(f"message {i}" for i in range(1050))  # each exactly once


def test_a_lost_response_is_not_stored_twice_on_resume(
    facade: str, server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"
    # The 4th call reaches the server and is committed; its answer never arrives, and no
    # retry is allowed: the job reports those items failed and does not checkpoint them. The
    # later turns of that conversation are held back (reported, not sent), so that the rerun
    # stores the conversation in order whether or not the server had committed the 4th call.
    lossy = Watch(lose={4})
    first = run_bulk(
        facade,
        server,
        "messages",
        messages(1050),
        watch=lossy,
        checkpoint=checkpoint,
        max_retries=0,
    )
    assert (first.succeeded, first.failed, first.calls) == (300, 750, 4)
    assert {f.position for f in first.failures} == set(range(300, 1050))
    # The lost call's items failed; the later turns were held back with its error.
    assert {f.position for f in first.failures if f.stage == "error"} == set(range(300, 400))
    assert {f.position for f in first.failures if f.stage == "held"} == set(range(400, 1050))
    assert all(isinstance(f.error, NetworkError) for f in first.failures)
    assert len(stored_contents(server)) == 400  # the server did store the 4th call

    watch = Watch()
    again = run_bulk(facade, server, "messages", messages(1050), watch=watch, checkpoint=checkpoint)
    assert (again.succeeded, again.failed, again.skipped, again.calls) == (1050, 0, 300, 8)
    # Resent under the same key, so the server replayed its first answer.
    assert watch.calls[0].idempotency_key == lossy.calls[3].idempotency_key
    assert stored_contents(server) == [f"message {i}" for i in range(1050)]
    assert server.store is not None
    assert server.store.counts()["idempotency_keys"] == 11


def test_concurrency_never_exceeds_n_in_flight(facade: str, server: LocalServer) -> None:
    # 20 conversations of 100: independent calls, so the runner may overlap up to N of them.
    watch = Watch(hold_first=3)
    summary = run_bulk(
        facade,
        server,
        "messages",
        messages(2000, per_conversation=100),
        watch=watch,
        concurrency=3,
        total=2000,
        on_progress=lambda done, total: None,
    )
    assert summary.succeeded == 2000
    assert len(watch.calls) == 20
    assert watch.max_in_flight == 3  # the first three were held until all three were in flight
    assert sorted(stored_contents(server)) == sorted(f"message {i}" for i in range(2000))


def test_progress_reaches_total(facade: str, server: LocalServer) -> None:
    seen: list[tuple[int, int | None]] = []
    items = list(messages(230, bad={7: {"role": "bot"}}))
    run_bulk(
        facade,
        server,
        "messages",
        items,
        chunk_size=50,
        on_progress=lambda done, total: seen.append((done, total)),
        preserve_order=False,  # one conversation: else its turns after 7 are held back
        concurrency=1,
    )
    # The invalid item counts as done when its chunk is cut, the others when their call
    # answers: done only grows, and reaches the total.
    assert seen == [(1, 230), (50, 230), (100, 230), (150, 230), (200, 230), (230, 230)]


def test_chunk_size_is_configurable_downward_only(facade: str, server: LocalServer) -> None:
    watch = Watch()
    summary = run_bulk(facade, server, "messages", messages(120), watch=watch, chunk_size=25)
    assert [c.entries for c in watch.calls] == [25, 25, 25, 25, 20]
    assert summary.calls == 5
    with pytest.raises(SynapValidationError, match="chunk_size"):
        run_bulk(facade, server, "messages", messages(10), chunk_size=101)
    with pytest.raises(SynapValidationError, match="concurrency"):
        run_bulk(facade, server, "messages", messages(10), concurrency=0)


def test_dry_run_validates_and_sends_nothing(facade: str, server: LocalServer) -> None:
    watch = Watch()
    summary = run_bulk(
        facade,
        server,
        "messages",
        messages(300, bad={9: {"role": "bot"}}),
        watch=watch,
        dry_run=True,
    )
    assert summary.dry_run
    # As the real run would: the invalid turn, and the later turns of its conversation held.
    assert (summary.total, summary.succeeded, summary.failed, summary.calls) == (300, 0, 291, 0)
    assert [(f.position, f.stage) for f in summary.failures] == [(9, "invalid")] + [
        (p, "held") for p in range(10, 300)
    ]
    assert watch.calls == []
    assert stored_contents(server) == []


def test_a_bad_key_stops_the_job_with_the_documented_error(
    facade: str, server: LocalServer
) -> None:
    watch = Watch()
    with pytest.raises(AuthenticationError):
        run_bulk(facade, server, "messages", messages(5000), watch=watch, api_key="synap_wrong")
    assert len(watch.calls) == 1  # one conversation: nothing else was in flight


def test_another_inputs_checkpoint_is_refused(
    facade: str, server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"
    run_bulk(facade, server, "messages", messages(150), checkpoint=checkpoint)
    watch = Watch()
    with pytest.raises(CheckpointError, match="does not match"):
        run_bulk(
            facade,
            server,
            "messages",
            messages(150, customer_id="cust_2"),
            watch=watch,
            checkpoint=checkpoint,
        )
    assert watch.calls == []
    with pytest.raises(CheckpointError, match="messages job"):
        run_bulk(facade, server, "documents", [{"document": "x"}], checkpoint=checkpoint)


def documents(count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield {"document": f"document {i}", "customer_id": "cust_1", "user_id": "user_1"}


def test_documents_in_chunks_with_invalid_ones_reported(facade: str, server: LocalServer) -> None:
    items: list[Any] = list(documents(250))
    items[10] = {"document": "x", "document_type": "spreadsheet"}
    items[120] = {"documnet": "typo"}
    items[249] = {"document": "y", "document_created_at": "2024-05-01 12:00"}  # no offset
    watch = Watch()
    results: dict[int, Any] = {}
    summary = run_bulk(
        facade, server, "documents", iter(items), watch=watch, on_result=results.__setitem__
    )
    assert (summary.total, summary.succeeded, summary.failed, summary.calls) == (250, 247, 3, 3)
    assert [(f.position, f.stage) for f in summary.failures] == [
        (10, "invalid"),
        (120, "invalid"),
        (249, "invalid"),
    ]
    assert sorted(c.entries for c in watch.calls) == [49, 99, 99]  # calls overlap
    assert all(c.path == "/api/v1/memories/batch" for c in watch.calls)
    # Calls overlap (documents have no order to keep): compare by content.
    stored = {d["document"]: d for d in read_snapshot(server.db_path)["documents"]}
    kept = [i for i in range(250) if i not in (10, 120, 249)]
    assert sorted(stored) == sorted(f"document {i}" for i in kept)
    assert sorted(results) == kept
    assert all(results[i].ingestion_id == stored[f"document {i}"]["ingestion_id"] for i in kept)


def test_a_call_too_large_for_the_server_is_split(facade: str, tmp_path: Path) -> None:
    # 100 documents of ~2 KB do not fit in a 64 KiB body; halves of 25 do.
    big = [{"document": f"{i:04d} " + "x" * 2000, "customer_id": "cust_1"} for i in range(100)]
    with LocalServer(tmp_path / "synap.db", max_body_bytes=64 * 1024) as small:
        watch = Watch()
        summary = run_bulk(facade, small, "documents", big, watch=watch, checkpoint=tmp_path / "c")
        assert (summary.succeeded, summary.failed) == (100, 0)
        assert [c.entries for c in watch.calls] == [100, 50, 25, 25, 50, 25, 25]
        stored = read_snapshot(small.db_path)["documents"]
        assert sorted(d["document"][:4] for d in stored) == [f"{i:04d}" for i in range(100)]
        # Resumable like any other call: everything is confirmed.
        again = run_bulk(facade, small, "documents", big, checkpoint=tmp_path / "c")
        assert (again.skipped, again.calls) == (100, 0)


def test_the_async_facade_takes_async_iterables(server: LocalServer) -> None:
    async def produce() -> AsyncIterator[dict[str, Any]]:
        for entry in messages(250):
            await asyncio.sleep(0)
            yield entry

    summary = run_bulk("async", server, "messages", produce())
    assert (summary.total, summary.succeeded, summary.calls) == (250, 250, 3)


def test_results_are_json_ready(facade: str, server: LocalServer) -> None:
    results: list[Any] = []
    run_bulk(facade, server, "messages", messages(3), on_result=lambda p, r: results.append(r))
    assert json.loads(json.dumps(results)) == results


def test_a_killed_process_resumes_and_stores_each_once(
    facade: str, server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"
    script = Path(__file__).with_name("_crash_job.py")
    # Killed (SIGKILL) just after the server committed call 5 and before the job saw it.
    done = subprocess.run(
        [sys.executable, str(script), server.url, server.api_key, str(checkpoint), "5", facade],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert len(stored_contents(server)) == 500
    confirmed = checkpoint.read_text().splitlines()[1:]
    assert [json.loads(line)["chunk"] for line in confirmed] == [0, 1, 2, 3]

    watch = Watch()
    summary = run_bulk(
        facade, server, "messages", messages(1050), watch=watch, checkpoint=checkpoint
    )
    assert (summary.succeeded, summary.skipped, summary.calls) == (1050, 400, 7)
    assert stored_contents(server) == [f"message {i}" for i in range(1050)]
    assert server.store is not None
    assert server.store.counts()["idempotency_keys"] == 11  # call 5 was replayed, not redone


def test_the_input_is_read_lazily_with_bounded_look_ahead(facade: str, server: LocalServer) -> None:
    consumed = 0

    def counting() -> Iterator[dict[str, Any]]:
        nonlocal consumed
        for entry in messages(3000, per_conversation=100):
            consumed += 1
            yield entry

    ahead: list[int] = []
    summary = run_bulk(
        facade,
        server,
        "messages",
        counting(),
        concurrency=3,
        on_progress=lambda done, total: ahead.append(consumed - done),
    )
    assert summary.succeeded == 3000
    # Never more than the calls in flight, the chunk waiting for a slot and one item read
    # ahead: memory stays flat however long the input.
    assert max(ahead) <= (3 + 1) * 100 + 1


def test_the_docs_entry_point_and_models(server: LocalServer) -> None:
    from datetime import UTC, datetime

    from synap import CreateMemoryRequest, MaximemSynapSDK

    def requests() -> Iterator[CreateMemoryRequest]:
        for i in range(120):
            yield CreateMemoryRequest(
                document=f"User: fact {i}",
                user_id="user_789",
                customer_id="cust_456",
                mode="fast",
                document_created_at=datetime(2024, 5, 1, 12, tzinfo=UTC),
            )

    async def main() -> Any:
        sdk = MaximemSynapSDK(api_key=server.api_key, base_url=server.url)
        await sdk.initialize()
        try:
            return await sdk.memories.bulk_create(requests(), concurrency=2)
        finally:
            await sdk.shutdown()

    summary = asyncio.run(main())
    assert (summary.succeeded, summary.calls) == (120, 2)
    stored = read_snapshot(server.db_path)["documents"]
    assert {d["document_created_at"] for d in stored} == {"2024-05-01T12:00:00Z"}
    assert {d["mode"] for d in stored} == {"fast"}


def test_import_synap_does_not_load_bulk_or_dateutil() -> None:
    code = (
        "import sys, synap; print(sorted(m for m in sys.modules if 'dateutil' in m or 'bulk' in m))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
