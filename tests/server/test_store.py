"""The store's public pieces: the DDL the benchmark reuses, snapshots, the spec's location."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from synap.server import INSERT_MESSAGE, Store, read_snapshot, schema_ddl
from synap.server import schema as schema_module
from synap.server.store import Conversation, ConversationUpdate, MessageRow


def test_the_ddl_builds_the_servers_tables_for_a_raw_executemany(tmp_path: Path) -> None:
    raw = sqlite3.connect(tmp_path / "raw.db")
    raw.executescript(schema_ddl())
    raw.executescript(schema_ddl())  # idempotent
    rows = [
        MessageRow(f"m{i}", "c1", i, "user", f"text {i}", "u", "c", "s", "{}", "{}", "t")
        for i in range(1, 4)
    ]
    raw.executemany(INSERT_MESSAGE, rows)
    raw.commit()
    assert raw.execute("SELECT count(*) FROM messages").fetchone() == (3,)
    with pytest.raises(sqlite3.IntegrityError):  # one seq per conversation position
        raw.execute(INSERT_MESSAGE, rows[0]._replace(message_id="other"))
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    store = Store(tmp_path / "server.db")
    with sqlite3.connect(tmp_path / "server.db") as conn:
        server_tables = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store.close()
    assert tables == server_tables == {"conversations", "messages", "documents", "idempotency_keys"}


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "synap.db")
    row = MessageRow("m1", "c1", 1, "user", "x", None, None, "s", "{}", "{}", "t")

    def write_then_fail() -> None:
        with store.transaction() as tx:
            tx.add_messages([row], [])
            raise RuntimeError("the write fails halfway")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert store.counts()["messages"] == 0
    store.close()
    assert read_snapshot(tmp_path / "synap.db") == {"conversations": [], "documents": []}


def test_bad_settings_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        Store(tmp_path / "x.db", synchronous="OFF")
    with pytest.raises(FileNotFoundError):
        read_snapshot(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_the_spec_is_found_in_a_checkout_or_in_the_wheel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkout, shipped = schema_module.SPEC_LOCATIONS
    assert schema_module.spec_path() == checkout
    monkeypatch.setattr(schema_module, "SPEC_LOCATIONS", (tmp_path / "absent.yaml", checkout))
    assert schema_module.spec_path() == checkout
    monkeypatch.setattr(schema_module, "SPEC_LOCATIONS", (tmp_path / "absent.yaml",))
    with pytest.raises(FileNotFoundError, match=r"absent\.yaml"):
        schema_module.spec_path()
    assert shipped == Path(schema_module.__file__).parent / "synap.yaml"


def test_conversations_are_looked_up_alike_in_one_query_or_one_by_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    ids = [str(uuid.uuid4()) for _ in range(5)] + ['odd "id" \u00e9', "x"]
    with store.transaction() as tx:
        tx.add_messages(
            [],
            [
                ConversationUpdate(cid, f"cust{i}", None, f"s{i}", i + 1, "2026-01-01T00:00:00Z")
                for i, cid in enumerate(ids[::2])
            ],
        )
    wanted = [*ids, str(uuid.uuid4())]
    with store.transaction() as tx:
        found = [tx.conversations(wanted)]  # in one query where SQLite has json_each
        if tx._json_each:
            tx._json_each = False
            found.append(tx.conversations(wanted))  # and one by one
    for conversations in found:
        assert set(conversations) == set(ids[::2])
        assert conversations[ids[2]] == Conversation("cust1", "s1", 2)
        assert conversations == found[0]
    store.close()
