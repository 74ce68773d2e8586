"""Rerunning a bulk job stores nothing twice, with or without a checkpoint; a turn the server
rejects holds back the later turns of its conversation, which a fixed rerun sends in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synap.cli import main
from synap.server import LocalServer, read_snapshot
from tests.bulk._support import (
    DROP,
    Watch,
    conversation_id,
    messages,
    run_bulk,
    stored_contents,
)


def documents(count: int) -> list[dict[str, Any]]:
    return [{"document": f"document {i}", "customer_id": "cust_1"} for i in range(count)]


def test_a_plain_rerun_of_messages_stores_nothing_twice(facade: str, server: LocalServer) -> None:
    first, again = Watch(), Watch()
    a = run_bulk(facade, server, "messages", messages(450, per_conversation=90), watch=first)
    b = run_bulk(facade, server, "messages", messages(450, per_conversation=90), watch=again)
    assert (a.succeeded, b.succeeded) == (450, 450)
    # No checkpoint: the second run's calls carry the same keys, and the server replays them.
    assert sorted(c.idempotency_key for c in again.calls) == sorted(
        c.idempotency_key for c in first.calls
    )
    assert len(stored_contents(server)) == 450
    assert server.store is not None
    assert server.store.counts()["messages"] == 450


def test_a_plain_rerun_of_documents_stores_nothing_twice(facade: str, server: LocalServer) -> None:
    run_bulk(facade, server, "documents", documents(230))
    again = run_bulk(facade, server, "documents", iter(documents(230)))
    assert again.succeeded == 230
    stored = read_snapshot(server.db_path)["documents"]
    assert sorted(d["document"] for d in stored) == sorted(f"document {i}" for i in range(230))


def test_equal_lines_are_separate_turns(facade: str, server: LocalServer) -> None:
    cid = conversation_id(5)
    same = {"conversation_id": cid, "role": "user", "content": "ok", "customer_id": "c"}
    summary = run_bulk(facade, server, "messages", [dict(same) for _ in range(150)])
    assert summary.succeeded == 150
    assert stored_contents(server) == ["ok"] * 150
    run_bulk(facade, server, "messages", [dict(same) for _ in range(150)])
    assert stored_contents(server) == ["ok"] * 150  # and still nothing twice


def test_a_run_with_and_a_run_without_checkpoint_are_the_same_job(
    server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"
    run_bulk("sync", server, "messages", messages(300), checkpoint=checkpoint)
    run_bulk("sync", server, "messages", messages(300))
    run_bulk("async", server, "messages", messages(300), checkpoint=tmp_path / "other.ckpt")
    assert stored_contents(server) == [f"message {i}" for i in range(300)]


def test_a_rejected_turn_holds_back_its_conversation_until_fixed(
    facade: str, server: LocalServer, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "job.ckpt"
    # Conversation 1 is positions 150..299; its first 50 turns lack customer_id, which the B2B
    # server rejects entry by entry.
    bad = {i: {"customer_id": DROP} for i in range(150, 200)}
    first = run_bulk(
        facade,
        server,
        "messages",
        messages(450, per_conversation=150, bad=bad),
        checkpoint=checkpoint,
        chunk_size=100,
    )
    stages = {f.position: f.stage for f in first.failures}
    assert stages == {
        150: "rejected",
        # The turns after 150 went in a call of their own, sent once the server had judged
        # 150: it refused it, so they are held back, those with customer_id (200..299) too,
        # which stored now would come before 150..199.
        **{p: "held" for p in range(151, 300)},
    }
    held = next(f for f in first.failures if f.stage == "held")
    assert f"conversation {conversation_id(1)} (item 150) was rejected" in held.reason
    assert first.succeeded == 300

    # Fixed (customer_id given) and rerun on the checkpoint: conversation 1 arrives in order.
    again = run_bulk(
        facade,
        server,
        "messages",
        messages(450, per_conversation=150),
        checkpoint=checkpoint,
    )
    assert (again.succeeded, again.failed, again.skipped) == (450, 0, 300)
    by_conversation = {
        c["conversation_id"]: [m["content"] for m in c["messages"]]
        for c in read_snapshot(server.db_path)["conversations"]
    }
    for n in range(3):
        expected = [f"message {i}" for i in range(150 * n, 150 * (n + 1))]
        assert by_conversation[conversation_id(n)] == expected


def test_the_cli_rerun_stores_nothing_twice_with_or_without_checkpoint(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text(
        "".join(json.dumps(m) + "\n" for m in messages(491, per_conversation=50)),
        encoding="utf-8",
    )
    args = ["import", "messages", str(path), "--base-url", server.url, "--api-key", server.api_key]
    assert main(args) == 0
    assert main(args) == 0
    assert main([*args, "--checkpoint", str(tmp_path / "c.ckpt")]) == 0
    assert main([*args, "--checkpoint", str(tmp_path / "c.ckpt")]) == 0
    capsys.readouterr()
    assert len(stored_contents(server)) == 491

    folder = tmp_path / "kb"
    folder.mkdir()
    for i in range(12):
        (folder / f"note-{i:02d}.md").write_text(f"note {i}")
    docs = ["import", "documents", str(folder), "--base-url", server.url]
    assert main([*docs, "--api-key", server.api_key]) == 0
    assert main([*docs, "--api-key", server.api_key]) == 0
    assert len(read_snapshot(server.db_path)["documents"]) == 12


def test_an_item_too_large_for_one_call_is_invalid_before_sending(
    facade: str, server: LocalServer
) -> None:
    items = documents(5)
    items[2] = {"document": "x" * 5_000, "customer_id": "cust_1"}
    watch = Watch()
    summary = run_bulk(facade, server, "documents", items, watch=watch, max_body_bytes=4_000)
    assert [(f.position, f.stage) for f in summary.failures] == [(2, "invalid")]
    assert "more than one call may carry (4,000 bytes)" in summary.failures[0].reason
    assert [c.entries for c in watch.calls] == [4]


def test_an_unreachable_server_stops_the_job_once(facade: str, tmp_path: Path) -> None:
    from synap import NetworkError

    with LocalServer(tmp_path / "gone.db") as gone:
        pass  # stopped: nothing listens on its port any more
    watch = Watch()
    with pytest.raises(NetworkError):
        run_bulk(facade, gone, "messages", messages(5000, per_conversation=10), watch=watch,
                 max_retries=0)  # fmt: skip
    # The calls already in flight failed alike; no more were started.
    assert 1 <= len(watch.calls) <= 4


def test_after_a_lost_answer_a_plain_rerun_completes_without_duplicates(
    facade: str, server: LocalServer
) -> None:
    # Conversations of 120 turns, calls of 100: call 2 carries the end of conversation 0 and
    # the start of 1. Its answer is lost (the server stored it). Without a checkpoint, call 3
    # (the rest of 1, the start of 2) is held back whole, and with it the rest of 2, and so
    # on: every later call shares a conversation with a held one. The rerun makes the first
    # run's calls again; the server replays those it stored and stores the rest, in order.
    first = run_bulk(
        facade,
        server,
        "messages",
        messages(600, per_conversation=120),
        watch=Watch(lose={2}),
        max_retries=0,
        concurrency=1,
    )
    stages = {f.position: f.stage for f in first.failures}
    assert {p for p, s in stages.items() if s == "error"} == set(range(100, 200))
    assert {p for p, s in stages.items() if s == "held"} == set(range(200, 600))
    with_call = next(f for f in first.failures if f.position == 250)
    assert with_call.reason.startswith(
        f"held back with its call: a turn of conversation {conversation_id(1)} (item 120) failed"
    )
    assert len(stored_contents(server)) == 200  # the lost call was stored all the same

    again = run_bulk(facade, server, "messages", messages(600, per_conversation=120))
    assert again.ok
    by_conversation = {
        c["conversation_id"]: [m["content"] for m in c["messages"]]
        for c in read_snapshot(server.db_path)["conversations"]
    }
    for n in range(5):
        expected = [f"message {i}" for i in range(120 * n, 120 * (n + 1))]
        assert by_conversation[conversation_id(n)] == expected


def test_turns_without_customer_id_inside_one_call_stay_in_order(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The case: 20 conversations of 25 turns, customer_id on the user turns only. A
    # B2B server rejects the others one by one; fixed with --customer-id and rerun on the
    # checkpoint, every conversation must still be stored in order.
    path = tmp_path / "chat.jsonl"
    lines = []
    for i in range(500):
        turn: dict[str, Any] = {
            "conversation_id": conversation_id(i // 25),
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"message {i}",
        }
        if i % 2 == 0:
            turn["customer_id"] = "acme"
        lines.append(json.dumps(turn))
    path.write_text("\n".join(lines) + "\n")
    checkpoint = tmp_path / "chat.ckpt"
    args = ["import", "messages", str(path), "--checkpoint", str(checkpoint)]
    args += ["--base-url", server.url, "--api-key", server.api_key]
    assert main(args) == 1
    out = capsys.readouterr().out
    # Each conversation stops at its first turn without customer_id (its first or second).
    assert out.startswith("10 of 500 lines stored, 490 failed, 5 calls")
    assert main([*args, "--customer-id", "acme"]) == 0
    by_conversation = {
        c["conversation_id"]: [m["content"] for m in c["messages"]]
        for c in read_snapshot(server.db_path)["conversations"]
    }
    assert len(by_conversation) == 20
    for n in range(20):
        expected = [f"message {i}" for i in range(25 * n, 25 * (n + 1))]
        assert by_conversation[conversation_id(n)] == expected


def test_on_b2c_turns_without_customer_id_are_stored_after_one_look(
    facade: str, tmp_path: Path
) -> None:
    with LocalServer(tmp_path / "synap.db", tenancy="b2c") as b2c:
        watch = Watch()
        summary = run_bulk(
            facade,
            b2c,
            "messages",
            messages(1000, per_conversation=50, customer_id=None),
            watch=watch,
            checkpoint=tmp_path / "job.ckpt",
            concurrency=1,
        )
        assert (summary.succeeded, summary.failed) == (1000, 0)
        # The first call's conversations were judged on their first turn; once the server
        # had stored one without customer_id, the calls went whole.
        assert [c.entries for c in watch.calls][:3] == [2, 98, 100]
        assert len(watch.calls) == 11
        assert stored_contents(b2c) == [f"message {i}" for i in range(1000)]
