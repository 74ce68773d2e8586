"""Nothing lost across a restart, nor when the server process is killed with SIGKILL."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from synap.server import LocalServer, LocalServerProcess, read_snapshot
from tests.server._data import (
    MEMORIES_BATCH,
    MESSAGES,
    MESSAGES_BATCH,
    client,
    document,
    message,
    new_id,
)


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "synap.db") as server:
        conversation = new_id()
        with client(server.url, server.api_key) as c:
            c.post(MESSAGES, json=message(conversation, session_id="s"))
            c.post(MESSAGES_BATCH, json={"messages": [message(conversation), message(new_id())]})
            c.post(MEMORIES_BATCH, json={"documents": [document("kept")]})
            replay_key = {"Idempotency-Key": "k1"}
            first = c.post(MESSAGES, json=message(conversation), headers=replay_key)
        assert server.store is not None
        before = server.store.snapshot()
        url = server.url
        server.restart()
        assert server.url == url
        assert server.store is not None
        assert server.store.snapshot() == before
        with client(server.url, server.api_key) as c:
            # counts, sessions and idempotency keys carry over
            next_turn = c.post(MESSAGES, json=message(conversation)).json()
            assert next_turn["conversation_message_count"] == 4
            assert next_turn["session_id"] == "s"
            again = c.post(MESSAGES, json=message(conversation), headers=replay_key)
            assert again.content == first.content
    assert len(read_snapshot(tmp_path / "synap.db")["conversations"]) == 2


def _batch(i: int) -> dict[str, Any]:
    conversation = f"00000000-0000-4000-8000-{i:012d}"
    return {"messages": [message(conversation, content=f"b{i}-m{j}") for j in range(5)]}


def test_sigkill_loses_nothing_committed_and_leaves_no_partial_write(tmp_path: Path) -> None:
    db = tmp_path / "synap.db"
    acknowledged: set[int] = set()
    unexpected: list[int] = []
    stop = threading.Event()

    def backfill(server: LocalServerProcess) -> None:
        with client(server.url, server.api_key, timeout=5) as c:
            for i in range(2000):
                if stop.is_set():
                    return
                try:
                    r = c.post(MESSAGES_BATCH, json=_batch(i), headers={"Idempotency-Key": f"b{i}"})
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code != 200:
                    unexpected.append(r.status_code)
                    return
                acknowledged.add(i)

    server = LocalServerProcess(db)
    with server:
        sender = threading.Thread(target=backfill, args=(server,))
        sender.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 30 and sender.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert server.kill() == -9  # mid-backfill: requests are in flight
        stop.set()
        sender.join(10)
        assert len(acknowledged) >= 30
        assert unexpected == []

        snapshot = read_snapshot(db)  # as the killed process left it
        stored = {
            c["conversation_id"]: [m["content"] for m in c["messages"]]
            for c in snapshot["conversations"]
        }
        for i in acknowledged:
            assert stored[_batch(i)["messages"][0]["conversation_id"]] == [
                f"b{i}-m{j}" for j in range(5)
            ]
        # every batch all or nothing, and its idempotency key committed with it
        assert all(len(contents) == 5 for contents in stored.values())

        server.start()  # same database, same key
        assert server.api_key
        with client(server.url, server.api_key) as c:
            assert c.post(MESSAGES, json=message()).status_code == 200
            # the resumed job sends every batch again with its key: nothing doubles
            for i in range(max(acknowledged) + 2):
                r = c.post(MESSAGES_BATCH, json=_batch(i), headers={"Idempotency-Key": f"b{i}"})
                assert r.status_code == 200
                assert (r.headers.get("idempotent-replayed") == "true") == (
                    _batch(i)["messages"][0]["conversation_id"] in stored
                )
    final = read_snapshot(db)
    contents = [m["content"] for c in final["conversations"] for m in c["messages"]]
    assert len(contents) == len(set(contents))
    assert len(contents) == 5 * (max(acknowledged) + 2) + 1


def test_a_snapshot_is_one_moment_while_the_server_writes(tmp_path: Path) -> None:
    # read_snapshot reads conversations, then messages: without one read transaction, a batch
    # committed between the two showed a message whose conversation was not in the snapshot.
    with LocalServer(tmp_path / "synap.db") as server:
        done = threading.Event()

        def write() -> None:
            with client(server.url, server.api_key) as c:
                for _ in range(150):  # bounded: about a second of writes
                    batch = [message(new_id()) for _ in range(5)]
                    c.post(MESSAGES_BATCH, json={"messages": batch})
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        snapshots = 0
        try:
            while not done.is_set():
                snapshot = read_snapshot(server.db_path)  # raised KeyError before
                for conversation in snapshot["conversations"]:
                    assert conversation["message_count"] == len(conversation["messages"])
                snapshots += 1
        finally:
            writer.join(timeout=60)
        assert snapshots > 0
        assert len(read_snapshot(server.db_path)["conversations"]) == 750
