"""Keys without a column of their own are stored, never dropped: a message's or a document's
`extra` (undocumented keys, or fields the spec added after the store was laid out), shown by
`synap inspect`; a database made before documents had `extra` is brought up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from synap.commands.inspect import render
from synap.server import LocalServer, Store, read_snapshot
from synap.server.store import SCHEMA_VERSION, schema_ddl
from tests.server._data import MEMORIES_BATCH, MESSAGES_BATCH, document, message


def _post(server: LocalServer, path: str, body: object) -> httpx.Response:
    return httpx.post(
        server.url + path, json=body, headers={"Authorization": f"Bearer {server.api_key}"}
    )


def test_undocumented_keys_of_documents_and_messages_are_stored_and_shown() -> None:
    with LocalServer() as server:
        answer = _post(server, MEMORIES_BATCH, {"documents": [document(source_url="https://x")]})
        assert answer.status_code == 200, answer.text
        answer = _post(server, MESSAGES_BATCH, {"messages": [message(timestamp="2026-05-16")]})
        assert answer.json()["succeeded"] == 1
        snapshot = server.store.snapshot()
    (doc,) = snapshot["documents"]
    assert doc["extra"] == {"source_url": "https://x"}
    (msg,) = snapshot["conversations"][0]["messages"]
    assert msg["extra"] == {"timestamp": "2026-05-16"}
    shown = render(snapshot)
    assert 'source_url="https://x"' in shown
    assert 'timestamp="2026-05-16"' in shown


def test_a_version_1_database_gains_the_documents_extra_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        # The tables as version 1 made them: documents without `extra`.
        v1 = schema_ddl().replace(
            ",\n    extra               TEXT NOT NULL DEFAULT '{}'"
            " -- JSON object: keys without a column",
            "",
        )
        assert "extra               TEXT NOT NULL DEFAULT" not in v1
        conn.executescript(v1)
        conn.execute(
            "INSERT INTO documents VALUES ('i1', 'b1', 'd1', '\"text\"', 'document', NULL, NULL,"
            " NULL, NULL, 'fast', '{}', 'queued', '2026-01-01T00:00:00.000000Z')"
        )
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    # Read-only, before any migration: the old row reads with an empty extra.
    assert read_snapshot(path)["documents"][0]["extra"] == {}
    Store(path).close()
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(documents)")]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert columns[-1] == "extra"
    assert version == SCHEMA_VERSION == 2
    (old,) = read_snapshot(path)["documents"]
    assert (old["document_id"], old["extra"]) == ("d1", {})
