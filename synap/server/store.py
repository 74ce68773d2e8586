"""SQLite storage of the local Synap server: one file, WAL, one transaction per request.

Only the standard library is imported here, so `synap inspect` and the benchmark can use this
module without the `server` extra. Every statement is parameterised.

Durability: the database runs in WAL mode with `synchronous=NORMAL` by default: a committed
transaction survives the server process dying (SIGKILL included); only an operating-system
crash or power loss can drop the last commits. `Store(path, synchronous="FULL")` closes that
window at the price of an fsync per request.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

SCHEMA_VERSION = 2
"""2: documents gained `extra` (a database of version 1 is brought up to date on open)."""

_DDL = """
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    customer_id     TEXT,              -- the owner: the customer of the first message
    user_id         TEXT,
    session_id      TEXT NOT NULL,     -- the current session, reused when a message has none
    message_count   INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    message_id      TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,  -- 1, 2, ... within the conversation
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    user_id         TEXT,
    customer_id     TEXT,
    session_id      TEXT NOT NULL,
    metadata        TEXT NOT NULL,     -- JSON object
    extra           TEXT NOT NULL,     -- JSON object: keys beyond the documented ones
    recorded_at     TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE TABLE IF NOT EXISTS documents (
    ingestion_id        TEXT PRIMARY KEY,
    batch_id            TEXT NOT NULL,
    document_id         TEXT NOT NULL,
    document            TEXT NOT NULL, -- JSON: a string or an object
    document_type       TEXT NOT NULL,
    document_created_at TEXT,
    user_id             TEXT,
    customer_id         TEXT,
    scope               TEXT,
    mode                TEXT NOT NULL,
    metadata            TEXT NOT NULL, -- JSON object
    status              TEXT NOT NULL,
    queued_at           TEXT NOT NULL,
    extra               TEXT NOT NULL DEFAULT '{}' -- JSON object: keys without a column
);
CREATE INDEX IF NOT EXISTS documents_by_batch ON documents (batch_id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope       TEXT NOT NULL,         -- sha256 of the API key: keys are scoped per API key
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,         -- sha256 of method, path and canonical body
    status      INTEGER NOT NULL,
    response    BLOB NOT NULL,         -- the exact bytes first answered
    created_at  TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
"""

INSERT_MESSAGE = (
    "INSERT INTO messages (message_id, conversation_id, seq, role, content, user_id,"
    " customer_id, session_id, metadata, extra, recorded_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""The statement the server runs (with `executemany`) for the rows of `MessageRow`."""

_UPSERT_CONVERSATION = (
    "INSERT INTO conversations (conversation_id, customer_id, user_id, session_id,"
    " message_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (conversation_id) DO UPDATE SET"
    " message_count = message_count + excluded.message_count,"
    " customer_id = COALESCE(conversations.customer_id, excluded.customer_id),"
    " user_id = COALESCE(conversations.user_id, excluded.user_id),"
    " session_id = excluded.session_id, updated_at = excluded.updated_at"
)
_INSERT_DOCUMENT = (
    "INSERT INTO documents (ingestion_id, batch_id, document_id, document, document_type,"
    " document_created_at, user_id, customer_id, scope, mode, metadata, status, queued_at,"
    " extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The conversations a write touches, in one statement: their ids go in as one JSON array.
_SELECT_CONVERSATIONS = (
    "SELECT conversation_id, customer_id, session_id, message_count FROM conversations"
    " WHERE conversation_id IN (SELECT value FROM json_each(?))"
)
_SELECT_CONVERSATION = (
    "SELECT customer_id, session_id, message_count FROM conversations WHERE conversation_id = ?"
)
_HAS_JSON_EACH = "SELECT count(*) FROM json_each('[]')"
# Version 1 databases: `extra` added where CREATE TABLE IF NOT EXISTS left the old table.
_DOCUMENT_COLUMNS = "PRAGMA table_info(documents)"
_ADD_DOCUMENT_EXTRA = "ALTER TABLE documents ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'"


# Statements are constants, never built from values: PRAGMAs and table names cannot be bound
# as parameters, so each variant is spelled out (a static test checks every execute()).
_SET_SCHEMA_VERSION = "PRAGMA user_version = 2"  # SCHEMA_VERSION
_SYNCHRONOUS = {
    "NORMAL": "PRAGMA synchronous = NORMAL",
    "FULL": "PRAGMA synchronous = FULL",
    "EXTRA": "PRAGMA synchronous = EXTRA",
}
_CLEAR = (
    "DELETE FROM messages",
    "DELETE FROM conversations",
    "DELETE FROM documents",
    "DELETE FROM idempotency_keys",
)
_COUNTS = {
    "conversations": "SELECT count(*) FROM conversations",
    "messages": "SELECT count(*) FROM messages",
    "documents": "SELECT count(*) FROM documents",
    "idempotency_keys": "SELECT count(*) FROM idempotency_keys",
}


def schema_ddl() -> str:
    """The SQL creating every table (idempotent; run it with `sqlite3.Connection.executescript`).

    The benchmark builds the same tables with it to compare the server against a raw
    `executemany` of `INSERT_MESSAGE`.
    """
    return _DDL


class MessageRow(NamedTuple):
    """One row of `messages`, in the column order of `INSERT_MESSAGE`."""

    message_id: str
    conversation_id: str
    seq: int
    role: str
    content: str
    user_id: str | None
    customer_id: str | None
    session_id: str
    metadata: str
    extra: str
    recorded_at: str


class DocumentRow(NamedTuple):
    """One row of `documents`, in column order."""

    ingestion_id: str
    batch_id: str
    document_id: str
    document: str
    document_type: str
    document_created_at: str | None
    user_id: str | None
    customer_id: str | None
    scope: str | None
    mode: str
    metadata: str
    status: str
    queued_at: str
    extra: str = "{}"  # JSON object: the document's keys without a column of their own


class Conversation(NamedTuple):
    """What a write needs to know of an existing conversation."""

    customer_id: str | None
    session_id: str
    message_count: int


class ConversationUpdate(NamedTuple):
    """Messages added to one conversation by one request."""

    conversation_id: str
    customer_id: str | None
    user_id: str | None
    session_id: str
    added: int
    at: str


class Replay(NamedTuple):
    """The first answer given under an idempotency key."""

    fingerprint: str
    status: int
    response: bytes


T = TypeVar("T")

# The epoch a request was admitted in (set by the HTTP layer around the request's work).
_ADMITTED: ContextVar[int | None] = ContextVar("synap_store_epoch", default=None)


class StaleRequest(Exception):
    """A request admitted before `Store.clear()` tried to read or write after it."""


def run_admitted(epoch: int, func: Callable[..., T], *args: Any) -> T:
    """Call `func(*args)` as a request admitted in `epoch`: every transaction it opens raises
    `StaleRequest` if the store was cleared since (so nothing of an earlier test lands in
    the next one's empty store)."""
    token = _ADMITTED.set(epoch)
    try:
        return func(*args)
    finally:
        _ADMITTED.reset(token)


class Store:
    """The server's SQLite database.

    One writer connection behind a lock: every request's write is one `BEGIN IMMEDIATE`
    transaction (`with store.transaction() as tx: ...`), so concurrent requests are serialised
    and an idempotency key is checked and recorded atomically with the data it names.
    `clear()` empties every table in one such transaction and starts a new `epoch`.
    """

    def __init__(self, path: str | PathLike[str], *, synchronous: str = "NORMAL") -> None:
        pragma = _SYNCHRONOUS.get(synchronous.upper())
        if pragma is None:
            raise ValueError("synchronous must be NORMAL, FULL or EXTRA")
        self.path = Path(path)
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(pragma)
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(_DDL)
        if "extra" not in {row[1] for row in self._conn.execute(_DOCUMENT_COLUMNS)}:
            self._conn.execute(_ADD_DOCUMENT_EXTRA)
        self._conn.execute(_SET_SCHEMA_VERSION)
        self._epoch = 0
        try:  # built into SQLite since 3.38, and compiled in by most builds before
            self._conn.execute(_HAS_JSON_EACH)
            self._json_each = True
        except sqlite3.OperationalError:
            self._json_each = False

    @property
    def epoch(self) -> int:
        """How many times the store was cleared (see `clear` and `run_admitted`)."""
        return self._epoch

    def clear(self) -> int:
        """Delete everything stored (conversations, messages, documents, idempotency keys) in
        one transaction, and return the new epoch. Requests admitted before it (`run_admitted`)
        can no longer touch the store. Sub-millisecond on a test's handful of rows, against a
        new file and a new server for every test."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _CLEAR:
                    self._conn.execute(statement)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._epoch += 1
            return self._epoch

    def close(self) -> None:
        """Close the connection (checkpointing the WAL into the main file)."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction under the writer lock: committed on success, else rolled back."""
        with self._lock:
            admitted = _ADMITTED.get()
            if admitted is not None and admitted != self._epoch:
                raise StaleRequest("the store was cleared after this request was admitted")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn, self._json_each)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def snapshot(self) -> dict[str, Any]:
        """Everything stored, as `read_snapshot` returns it."""
        return read_snapshot(self.path)

    def counts(self) -> dict[str, int]:
        """How many conversations, messages, documents and idempotency keys are stored."""
        with _reader(self.path) as conn:
            return {table: conn.execute(sql).fetchone()[0] for table, sql in _COUNTS.items()}


class Transaction:
    """The statements of one write transaction (only valid inside `Store.transaction()`)."""

    def __init__(self, conn: sqlite3.Connection, json_each: bool = False) -> None:
        self._conn = conn
        self._json_each = json_each

    def replay(self, scope: str, key: str) -> Replay | None:
        """The answer already given under (`scope`, `key`), if any."""
        row = self._conn.execute(
            "SELECT fingerprint, status, response FROM idempotency_keys"
            " WHERE scope = ? AND key = ?",
            (scope, key),
        ).fetchone()
        return None if row is None else Replay(row[0], row[1], bytes(row[2]))

    def remember(self, scope: str, key: str, replay: Replay, at: str) -> None:
        """Record the answer given under (`scope`, `key`), in the same transaction as the write."""
        self._conn.execute(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (scope, key, replay.fingerprint, replay.status, replay.response, at),
        )

    def conversations(self, ids: Iterable[str]) -> dict[str, Conversation]:
        """The existing conversations among `ids` (one query for all of them: a batch's
        hundred lookups one by one were a third of building its rows)."""
        found: dict[str, Conversation] = {}
        if self._json_each:
            listed = json.dumps(list(ids))
            for row in self._conn.execute(_SELECT_CONVERSATIONS, (listed,)):
                found[row[0]] = Conversation(row[1], row[2], row[3])
            return found
        for conversation_id in ids:
            row = self._conn.execute(_SELECT_CONVERSATION, (conversation_id,)).fetchone()
            if row is not None:
                found[conversation_id] = Conversation(row[0], row[1], row[2])
        return found

    def add_messages(
        self, rows: Sequence[MessageRow], updates: Sequence[ConversationUpdate]
    ) -> None:
        """Insert the messages (one `executemany`) and bring their conversations up to date."""
        self._conn.executemany(INSERT_MESSAGE, rows)
        self._conn.executemany(
            _UPSERT_CONVERSATION,
            [
                (u.conversation_id, u.customer_id, u.user_id, u.session_id, u.added, u.at, u.at)
                for u in updates
            ],
        )

    def add_documents(self, rows: Sequence[DocumentRow]) -> None:
        """Insert queued documents (one `executemany`)."""
        self._conn.executemany(_INSERT_DOCUMENT, rows)


@contextmanager
def _reader(path: str | PathLike[str]) -> Iterator[sqlite3.Connection]:
    resolved = Path(path)
    if not resolved.is_file():
        raise FileNotFoundError(f"no database at {resolved}")
    uri = f"file:{quote(str(resolved.resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        # One read transaction: every query of the reader sees the same moment, even while the
        # server commits (a message whose conversation row came after the first query).
        conn.execute("BEGIN")
        yield conn
    finally:
        conn.close()


def read_snapshot(path: str | PathLike[str]) -> dict[str, Any]:
    """Everything a database holds, opened read-only.

    `{"conversations": [{conversation_id, customer_id, user_id, session_id, message_count,
    created_at, updated_at, messages: [{message_id, seq, role, content, user_id, customer_id,
    session_id, metadata, extra, recorded_at}, ...]}, ...], "documents": [{ingestion_id,
    batch_id, document_id, document, document_type, document_created_at, user_id, customer_id,
    scope, mode, metadata, status, queued_at, extra}, ...]}`: conversations in creation order, their
    messages in order, documents in the order they were queued. JSON columns are decoded.
    """
    with _reader(path) as conn:
        conn.row_factory = sqlite3.Row
        conversations: dict[str, dict[str, Any]] = {}
        for row in conn.execute("SELECT * FROM conversations ORDER BY created_at, rowid"):
            conversations[row["conversation_id"]] = {**dict(row), "messages": []}
        for row in conn.execute("SELECT * FROM messages ORDER BY conversation_id, seq"):
            message = dict(row)
            message["metadata"] = json.loads(message["metadata"])
            message["extra"] = json.loads(message["extra"])
            del message["conversation_id"]
            conversations[row["conversation_id"]]["messages"].append(message)
        documents = []
        for row in conn.execute("SELECT * FROM documents ORDER BY rowid"):
            document = dict(row)
            document["document"] = json.loads(document["document"])
            document["metadata"] = json.loads(document["metadata"])
            document["extra"] = json.loads(document.get("extra") or "{}")
            documents.append(document)
    return {"conversations": list(conversations.values()), "documents": documents}
