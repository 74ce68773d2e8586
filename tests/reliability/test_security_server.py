"""Security of the local server: keys compared in constant time, tenants isolated, every SQL
statement parameterised (checked on the source and with SQL-looking input), sizes limited."""

from __future__ import annotations

import ast
import hmac
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from synap_spec import OPERATIONS

from synap.server import LocalServer, read_snapshot
from synap.server.store import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
# The paths are the spec's (tests/spec/test_spec.py pins them to the real service's).
MESSAGES = OPERATIONS["record_message"].path
MESSAGES_BATCH = OPERATIONS["record_messages_batch"].path
MEMORIES_BATCH = OPERATIONS["batch_create"].path


def _post(server: LocalServer, path: str, key: str, body: Any, **headers: str) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        return client.post(path, json=body, headers={"Authorization": f"Bearer {key}", **headers})


def _message(conversation_id: str, **fields: Any) -> dict[str, Any]:
    body = {"conversation_id": conversation_id, "role": "user", "content": "hi", "user_id": "u"}
    return {**body, **fields}


# --- keys ----------------------------------------------------------------------------------------


def test_api_keys_are_compared_with_compare_digest_every_one_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"synap_first_key_000000": None, "synap_second_key_00000": None, "synap_third": None}
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with LocalServer(tmp_path / "synap.db", api_keys=keys) as server:
        for presented, status in (
            ("synap_first_key_000000", 200),  # a match on the first key does not stop early
            ("synap_third", 200),
            ("synap_first_key_00000", 401),  # one character short
            ("synap_first_key_000001", 401),
        ):
            compared.clear()
            body = _message(str(uuid.uuid4()), customer_id="c")
            assert _post(server, MESSAGES, presented, body).status_code == status
            assert sorted(b for _, b in compared) == sorted(k.encode() for k in keys)
            assert {a for a, _ in compared} == {presented.encode()}


def test_the_key_check_has_no_other_comparison() -> None:
    """In the server's `authenticate`, the presented key meets the configured keys only in
    `hmac.compare_digest`: no `==`, `in` or dict lookup that would return early."""
    tree = ast.parse((ROOT / "synap" / "server" / "app.py").read_text())
    (function,) = [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "authenticate"
    ]
    calls = [ast.unparse(n.func) for n in ast.walk(function) if isinstance(n, ast.Call)]
    assert "hmac.compare_digest" in calls
    for node in ast.walk(function):
        if isinstance(node, ast.Compare):
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            assert not names & {"presented", "token", "key", "keys"}, ast.unparse(node)
        if isinstance(node, ast.Subscript | ast.Attribute) and isinstance(
            getattr(node, "value", None), ast.Name
        ):
            assert node.value.id != "api_keys", ast.unparse(node)  # type: ignore[attr-defined]


# --- tenants -------------------------------------------------------------------------------------


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[LocalServer]:
    """A B2B server with one key bound to customer_a and one to customer_b."""
    keys = {"key_of_a": "customer_a", "key_of_b": "customer_b"}
    with LocalServer(tmp_path / "synap.db", api_keys=keys) as server:
        yield server


def _by_customer(server: LocalServer) -> dict[str, set[str]]:
    """customer -> the conversation ids holding a message of theirs."""
    found: dict[str, set[str]] = {}
    for conversation in read_snapshot(server.db_path)["conversations"]:
        for message in conversation["messages"]:
            found.setdefault(message["customer_id"], set()).add(conversation["conversation_id"])
    return found


def test_a_key_bound_to_one_customer_never_writes_into_anothers_data(
    tenants: LocalServer,
) -> None:
    a_conversation, b_conversation = str(uuid.uuid4()), str(uuid.uuid4())
    first = _post(
        tenants, MESSAGES, "key_of_a", _message(a_conversation), **{"Idempotency-Key": "k1"}
    )
    assert first.status_code == 200
    assert _post(tenants, MESSAGES, "key_of_b", _message(b_conversation)).status_code == 200

    refused = [
        # B writes into A's conversation, with or without naming a customer.
        (MESSAGES, _message(a_conversation)),
        (MESSAGES, _message(a_conversation, customer_id="customer_b")),
        # B names A as the customer, of a new conversation or of a document.
        (MESSAGES, _message(str(uuid.uuid4()), customer_id="customer_a")),
        (MEMORIES_BATCH, {"documents": [{"document": "x", "customer_id": "customer_a"}]}),
        # A batch of B's own entries with one of A's conversation: refused whole.
        (MESSAGES_BATCH, {"messages": [_message(b_conversation), _message(a_conversation)]}),
    ]
    for path, body in refused:
        response = _post(tenants, path, "key_of_b", body)
        assert response.status_code == 403, (path, body, response.text)
        assert a_conversation not in response.text or path != MESSAGES_BATCH

    # B reusing A's idempotency key gets no replay of A's answer (keys are per API key).
    replay = _post(
        tenants, MESSAGES, "key_of_b", _message(a_conversation), **{"Idempotency-Key": "k1"}
    )
    assert replay.status_code == 403
    assert first.json()["message_id"] not in replay.text
    assert "idempotent-replayed" not in replay.headers
    own = _post(
        tenants, MESSAGES, "key_of_b", _message(b_conversation), **{"Idempotency-Key": "k1"}
    )
    assert own.status_code == 200
    assert own.json()["message_id"] != first.json()["message_id"]

    assert _by_customer(tenants) == {
        "customer_a": {a_conversation},
        "customer_b": {b_conversation},
    }
    documents = read_snapshot(tenants.db_path)["documents"]
    assert documents == []


def test_each_key_writes_as_its_own_customer_whatever_the_body_leaves_out(
    tenants: LocalServer,
) -> None:
    for key in ("key_of_a", "key_of_b"):
        entries = [_message(str(uuid.uuid4()), user_id=None) for _ in range(3)]
        batch = _post(tenants, MESSAGES_BATCH, key, {"messages": entries})
        assert batch.json()["succeeded"] == 3
        docs = _post(tenants, MEMORIES_BATCH, key, {"documents": [{"document": key}]})
        assert docs.json()["succeeded"] == 1
    snapshot = read_snapshot(tenants.db_path)
    assert {d["document"]: d["customer_id"] for d in snapshot["documents"]} == {
        "key_of_a": "customer_a",
        "key_of_b": "customer_b",
    }
    assert {c["customer_id"] for c in snapshot["conversations"]} == {"customer_a", "customer_b"}


# --- SQL -----------------------------------------------------------------------------------------

_EXECUTE = {"execute", "executemany", "executescript"}


def _dynamic(node: ast.expr) -> bool:
    """An expression that builds a string at run time: f-string, +, %, .format(), .join()."""
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join", "replace", "__add__", "__mod__")
    )


def built_sql(source: str) -> list[str]:
    """Every execute()/executemany()/executescript() whose statement is built at run time,
    directly or through a variable assigned such a value."""
    tree = ast.parse(source)
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            built = ast.BinOp(left=node.target, op=node.op, right=node.value)  # sql += ...
            assigned.setdefault(node.target.id, []).append(built)
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            assigned.setdefault(node.target.id, []).append(node.value)
    bad = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _EXECUTE
            and node.args
        ):
            continue
        statement = node.args[0]
        values = [statement]
        if isinstance(statement, ast.Name):
            values += assigned.get(statement.id, [])
        if any(_dynamic(v) for v in values):
            bad.append(f"line {node.lineno}: {ast.unparse(node)}")
    return bad


def test_no_sql_statement_is_built_from_strings_at_run_time() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "synap").rglob("*.py"))
        if (found := built_sql(path.read_text()))
    }
    assert offenders == {}
    # The store does run statements (so the check looked at something).
    store = (ROOT / "synap" / "server" / "store.py").read_text()
    assert "executemany(" in store
    assert "execute(" in store


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute(f"SELECT * FROM t WHERE id = {x}")',
        'conn.execute("SELECT * FROM t WHERE id = " + x)',
        'conn.execute("SELECT * FROM t WHERE id = %s" % x)',
        'conn.executemany("INSERT INTO {} VALUES (?)".format(t), rows)',
        'sql = f"DELETE FROM {t}"\nconn.execute(sql)',
        'conn.executescript(";".join(statements))',
        'sql = "SELECT * FROM t WHERE id = "\nsql += x\ncursor.execute(sql)',
    ],
)
def test_the_sql_check_catches_a_statement_built_at_run_time(source: str) -> None:
    assert built_sql(source)
    assert not built_sql('conn.execute("SELECT * FROM t WHERE id = ?", (x,))')


def test_the_schema_version_constant_matches_the_database(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "synap.db"):
        pass
    with sqlite3.connect(tmp_path / "synap.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


SQL_LOOKING = [
    "'); DROP TABLE messages; --",
    "x' OR '1'='1",
    'Robert"); DELETE FROM conversations; --',
    "1; UPDATE idempotency_keys SET status = 500",
    "%_\\' \" `; /* */ -- \x00",
]


def test_sql_looking_input_is_stored_verbatim_and_breaks_nothing(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "synap.db", tenancy="b2c") as server:
        conversation = str(uuid.uuid4())
        for i, text in enumerate(SQL_LOOKING):
            fields = {
                "content": text,
                "user_id": text,
                "customer_id": text,
                "session_id": text,
                "metadata": {text: text},
                "timestamp": text,  # a key passed through into `extra`
            }
            key = f"sql-{i}-%27--"
            response = _post(
                server,
                MESSAGES_BATCH,
                server.api_key,
                {"messages": [_message(conversation, **fields)]},
                **{"Idempotency-Key": key},
            )
            assert response.json()["succeeded"] == 1, response.text
            document = {
                "document": {text: text},
                "document_id": text,
                "scope": text,
                "user_id": text,
            }
            assert (
                _post(server, MEMORIES_BATCH, server.api_key, {"documents": [document]}).status_code
                == 200
            )
        snapshot = read_snapshot(server.db_path)
        assert server.store is not None
        counts = server.store.counts()
    (stored,) = snapshot["conversations"]
    assert [m["content"] for m in stored["messages"]] == SQL_LOOKING
    for message, text in zip(stored["messages"], SQL_LOOKING, strict=True):
        assert (message["user_id"], message["customer_id"], message["session_id"]) == (text,) * 3
        assert message["metadata"] == {text: text}
        assert message["extra"] == {"timestamp": text}
    assert [d["document_id"] for d in snapshot["documents"]] == SQL_LOOKING
    assert [d["document"] for d in snapshot["documents"]] == [{t: t} for t in SQL_LOOKING]
    assert counts == {
        "conversations": 1,
        "messages": len(SQL_LOOKING),
        "documents": len(SQL_LOOKING),
        "idempotency_keys": len(SQL_LOOKING),
    }


# --- sizes ---------------------------------------------------------------------------------------


def test_header_ids_are_limited_to_255_characters(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "synap.db") as server:
        body = _message(str(uuid.uuid4()), customer_id="c")
        for header in ("Idempotency-Key", "X-Correlation-ID"):
            assert (
                _post(server, MESSAGES, server.api_key, body, **{header: "k" * 255}).status_code
                == 200
            )
            too_long = _post(server, MESSAGES, server.api_key, body, **{header: "k" * 256})
            assert too_long.status_code == 422
            assert too_long.json()["detail"][0]["loc"] == ["header", header]
        assert server.store is not None
        assert server.store.counts()["messages"] == 2


def test_every_string_field_is_bounded_by_the_body_limit(tmp_path: Path) -> None:
    """No string field has a limit of its own in the spec; each is bounded by the body limit
    (4 MiB by default, `max_body_bytes`): a field one byte past it is refused whole."""
    limit = 32 * 1024
    with LocalServer(tmp_path / "synap.db", tenancy="b2c", max_body_bytes=limit) as server:
        big = "x" * limit
        cases = [
            (MESSAGES, _message(str(uuid.uuid4()), **{field: big}))
            for field in ("content", "user_id", "customer_id", "session_id")
        ]
        cases += [
            (MESSAGES, _message(str(uuid.uuid4()), metadata={"k": big})),
            (MESSAGES, _message(str(uuid.uuid4()), metadata={big: 1})),
            (MESSAGES_BATCH, {"messages": [_message(str(uuid.uuid4()), extra_key=big)]}),
            (MEMORIES_BATCH, {"documents": [{"document": big}]}),
            (MEMORIES_BATCH, {"documents": [{"document": "x", "document_id": big}]}),
        ]
        for path, body in cases:
            response = _post(server, path, server.api_key, body)
            assert response.status_code == 413, (path, response.text)
        assert server.store is not None
        assert server.store.counts() == dict.fromkeys(
            ("conversations", "messages", "documents", "idempotency_keys"), 0
        )
