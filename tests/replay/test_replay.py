"""The cassettes of tests/cassettes/ replayed through both facades, with every socket blocked.

Each test replays one scenario (tests/replay/cassettes.py) and asserts what the SDK made of
the recorded answers: types, shapes, counts, error classes. Ids and timestamps differ between
recordings, so they are checked for form, not value. The request bodies are checked by the
replay itself: a body that differs from the recorded one is not in the cassette and fails.
"""

from __future__ import annotations

import datetime
import json
import re
import socket
import uuid
from dataclasses import replace
from typing import Any

import pytest

import synap
from synap.memories.models import BatchCreateResponse, CreateMemoryResponse, IngestionStatus
from tests.replay import cassettes
from tests.replay.cassettes import (
    BY_NAME,
    CASSETTES,
    FACADES,
    HOST,
    REPLAY_KEY,
    SCENARIOS,
    CassetteMismatch,
    cid,
    recorded,
    replay,
    replay_steps,
)

BLOCKED = "the replay tests must not open sockets"


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every outgoing connection and name lookup fails while a replay test runs."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(BLOCKED)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def dead_url(path: str = "", host: str = "127.0.0.1") -> str:
    """A base URL on a port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture(params=FACADES)
def facade(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def play(facade: Any, name: str) -> list[Any]:
    return replay(facade, name, base_url=dead_url())


def is_uuid(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


def is_utc_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parsed = datetime.datetime.fromisoformat(value)
    return parsed.utcoffset() == datetime.timedelta(0)


def call_id(facade: str, name: str, index: int) -> str:
    return f"{facade}-{name}-call-{index}"


# --- record_message ---------------------------------------------------------------------------


def test_record_message_success(facade: str) -> None:
    outcomes = play(facade, "record_message_success")
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    first, second, third = outcomes
    for result in outcomes:
        assert {"message_id", "conversation_id", "session_id", "recorded_at"} <= set(result)
        assert is_uuid(result["message_id"])
        assert result["conversation_id"] == cid(1)
        assert is_utc_timestamp(result["recorded_at"])
        assert isinstance(result["conversation_message_count"], int)
    assert len({r["message_id"] for r in outcomes}) == 3
    # one transcript: each turn adds one message; the reply stays in the first turn's session
    assert second["conversation_message_count"] == first["conversation_message_count"] + 1
    assert third["conversation_message_count"] == second["conversation_message_count"] + 1
    assert second["session_id"] == first["session_id"]
    assert third["session_id"] == "session-2"


def test_record_message_422_and_local_refusals(facade: str) -> None:
    server, bad_role, not_uuid = play(facade, "record_message_422")
    assert type(server) is synap.InvalidInputError
    assert server.status_code == 422
    assert server.correlation_id == call_id(facade, "record_message_422", 0)
    assert isinstance(server.detail, list)
    assert [item["loc"] for item in server.detail] == [["body", "customer_id"]]
    # refused by the SDK: no status, nothing sent (the cassette holds one interaction only)
    assert isinstance(bad_role, synap.InvalidInputError)
    assert (bad_role.status_code, bad_role.field) == (None, "role")
    assert isinstance(not_uuid, synap.InvalidInputError)
    assert (not_uuid.status_code, not_uuid.field) == (None, "conversation_id")
    assert "uuid.uuid4()" in str(not_uuid)


@pytest.mark.parametrize(
    "name", ["record_message_401", "record_messages_batch_401", "batch_create_401"]
)
def test_401_is_an_authentication_error(facade: str, name: str) -> None:
    (error,) = play(facade, name)
    assert isinstance(error, synap.AuthenticationError)
    assert isinstance(error, synap.SynapAuthError)
    assert isinstance(error, synap.SynapPermanentError)
    assert error.status_code == 401
    assert error.detail == "Invalid API key"
    assert error.correlation_id == call_id(facade, name, 0)
    assert error.headers is not None
    assert error.headers["www-authenticate"] == "Bearer"
    assert cassettes.WRONG_KEY not in f"{error} {error!r}"
    # the docs' two spellings catch it alike
    for spelling in (synap.SynapAuthError, synap.AuthenticationError):
        with pytest.raises(spelling):
            raise error


@pytest.mark.parametrize(
    "name", ["record_message_replay", "record_messages_batch_replay", "batch_create_replay"]
)
def test_idempotent_replay_and_conflict(facade: str, name: str) -> None:
    first, again, conflict = play(facade, name)
    assert not isinstance(first, synap.SynapError), first
    assert again == first  # the first answer, ids and timestamps included
    assert type(conflict) is synap.ConflictError
    assert conflict.status_code == 409
    assert "Idempotency-Key" in str(conflict.detail)
    # all three sent the same key (it is part of what the replay matched on)
    keys = {i["request"]["headers"]["idempotency-key"][0] for i in recorded(facade, name)}
    assert keys == {f"{facade}-{name}-once"}
    assert recorded(facade, name)[1]["response"]["headers"]["idempotent-replayed"] == ["true"]


# --- record_messages_batch -------------------------------------------------------------------


def test_record_messages_batch_success(facade: str) -> None:
    (result,) = play(facade, "record_messages_batch_success")
    assert isinstance(result, dict)
    assert (result["total"], result["succeeded"], result["failed"]) == (3, 3, 0)
    assert "errors" not in result
    assert len(result["results"]) == 3
    for entry in result["results"]:
        assert "error" not in entry
        assert is_uuid(entry["message_id"])
        assert is_utc_timestamp(entry["recorded_at"])
        assert entry["conversation_id"] == cid(20)
    assert len({entry["session_id"] for entry in result["results"]}) == 1


def test_record_messages_batch_rejection(facade: str) -> None:
    result, empty, bad_role = play(facade, "record_messages_batch_rejection")
    assert isinstance(result, dict)
    assert (result["total"], result["succeeded"], result["failed"]) == (3, 2, 1)
    first, rejected, third = result["results"]
    assert set(rejected) == {"error"}
    assert "customer_id" in rejected["error"]
    assert is_uuid(first["message_id"])
    assert is_uuid(third["message_id"])
    assert result["errors"] == [{"index": 1, "error": rejected["error"]}]
    assert isinstance(empty, synap.InvalidInputError)
    assert (empty.status_code, empty.field) == (None, "messages")
    assert isinstance(bad_role, synap.InvalidInputError)
    assert (bad_role.index, bad_role.field) == (1, "role")


def test_record_messages_batch_sends_entries_as_given(facade: str) -> None:
    (interaction,) = recorded(facade, "record_messages_batch_success")
    sent = json.loads(interaction["request"]["body"])
    # unknown keys pass through; no key is added to an entry
    assert sent["messages"][2] == {
        "conversation_id": cid(20),
        "role": "user",
        "content": "Move the dentist to Friday.",
        "user_id": "user_alice",
        "customer_id": "customer_acme",
        "timestamp": "2026-05-16T09:00:00Z",
    }


# --- memories.batch_create -------------------------------------------------------------------


def assert_queued(result: CreateMemoryResponse) -> None:
    assert isinstance(result, CreateMemoryResponse)
    assert is_uuid(result.ingestion_id)
    assert isinstance(result.document_id, str)
    assert result.document_id
    assert result.status is IngestionStatus.QUEUED
    assert is_utc_timestamp(result.queued_at)
    assert result.error_message is None


def test_batch_create_success(facade: str) -> None:
    (batch,) = play(facade, "batch_create_success")
    assert isinstance(batch, BatchCreateResponse)
    assert is_uuid(batch.batch_id)
    assert (batch.total, batch.succeeded, batch.failed) == (2, 2, 0)
    assert len(batch.results) == 2
    for result in batch.results:
        assert_queued(result)
    assert batch.results[1].document_id == "doc_given_1"


def test_batch_create_sends_every_key(facade: str) -> None:
    (interaction,) = recorded(facade, "batch_create_success")
    sent = json.loads(interaction["request"]["body"])
    assert sent["fail_fast"] is False
    # as the vendor's client sends a document: all nine keys, null where unset
    assert sent["documents"] == [
        {
            "document": "User: My favorite color is blue.\nAssistant: Noted!",
            "document_type": "ai-chat-conversation",
            "document_id": None,
            "document_created_at": None,
            "user_id": "user_789",
            "customer_id": "cust_456",
            "scope": None,
            "mode": "fast",
            "metadata": {},
        },
        {
            "document": {"subject": "Offsite", "body": "The offsite moves to Lisbon."},
            "document_type": "email",
            "document_id": "doc_given_1",
            "document_created_at": "2026-05-16T09:30:00Z",
            "user_id": "user_789",
            "customer_id": None,
            "scope": None,
            "mode": "long-range",
            "metadata": {"source": "imap"},
        },
    ]


def test_batch_create_rejection(facade: str) -> None:
    batch, fail_fast, too_many, empty = play(facade, "batch_create_rejection")
    assert isinstance(batch, BatchCreateResponse)
    assert (batch.total, batch.succeeded, batch.failed) == (3, 2, 1)
    first, rejected, third = batch.results
    assert_queued(first)
    assert_queued(third)
    assert third.document_id == "doc_given_1"
    assert rejected.status is IngestionStatus.FAILED
    assert (rejected.ingestion_id, rejected.queued_at) == (None, None)
    assert rejected.error_message is not None
    assert "document_type" in rejected.error_message
    # the invalid document was never sent: the request holds the other two
    (interaction,) = recorded(facade, "batch_create_rejection")
    sent = json.loads(interaction["request"]["body"])["documents"]
    assert [d["document_type"] for d in sent] == ["ai-chat-conversation", "email"]

    assert isinstance(fail_fast, synap.SynapValidationError)
    assert (fail_fast.index, fail_fast.field, fail_fast.status_code) == (1, "document_type", None)
    assert isinstance(too_many, synap.SynapValidationError)
    assert too_many.field == "documents"
    assert "100" in str(too_many)
    assert isinstance(empty, synap.SynapValidationError)
    assert empty.field == "documents"


# --- the cassettes themselves, and the strictness of replay ---------------------------------


def test_each_scenario_has_a_cassette_per_facade_and_nothing_else() -> None:
    on_disk = {p.relative_to(CASSETTES).as_posix() for p in CASSETTES.rglob("*") if p.is_file()}
    expected = {f"{facade}/{s.name}.yaml" for s in SCENARIOS for facade in FACADES}
    assert on_disk == expected


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_cassettes_hold_no_key_and_no_host(scenario: cassettes.Scenario) -> None:
    for facade in FACADES:
        text = cassettes.cassette_path(facade, scenario.name).read_text(encoding="utf-8")
        assert not re.search(r"authorization|bearer +\S|synap_[0-9a-f]{32}", text, re.IGNORECASE)
        assert "127.0.0.1" not in text
        assert "localhost" not in text
        interactions = recorded(facade, scenario.name)
        assert len(interactions) == scenario.interactions
        for interaction in interactions:
            request = interaction["request"]
            assert request["uri"].startswith(HOST + "/")
            assert set(request["headers"]) <= cassettes.KEPT_REQUEST_HEADERS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_both_facades_send_the_same_requests(scenario: cassettes.Scenario) -> None:
    def sent(facade: Any) -> list[tuple[str, str, str]]:
        return [
            (i["request"]["method"], i["request"]["uri"], i["request"]["body"])
            for i in recorded(facade, scenario.name)
        ]

    assert sent("sync") == sent("async")


@pytest.mark.parametrize(
    "base_url",
    [
        pytest.param(dead_url(host="localhost", path="/a/prefix"), id="prefix"),
        pytest.param("https://synap.example.org:8443", id="another-host"),
    ],
)
def test_cassettes_replay_on_any_host_port_and_prefix(facade: Any, base_url: str) -> None:
    outcomes = replay(facade, "record_message_success", base_url=base_url)
    assert [r["conversation_id"] for r in outcomes] == [cid(1)] * 3


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"content": "I prefer light mode."}, id="another-body"),
        pytest.param({"session_id": "session-9"}, id="another-key-in-the-body"),
    ],
)
def test_a_request_not_in_the_cassette_fails(facade: Any, change: dict[str, Any]) -> None:
    scenario = BY_NAME["record_message_success"]
    first = scenario.steps[0]
    changed = replace(scenario, steps=(replace(first, kwargs={**first.kwargs, **change}),))
    with pytest.raises(CassetteMismatch, match="does not hold"):
        replay_steps(facade, changed, base_url=dead_url())


def test_a_request_with_another_idempotency_key_fails(facade: Any) -> None:
    scenario = BY_NAME["record_message_success"]
    changed = replace(scenario, steps=(replace(scenario.steps[0], write="another-write"),))
    with pytest.raises(CassetteMismatch, match="does not hold"):
        replay_steps(facade, changed, base_url=dead_url())


def test_every_interaction_must_be_played(facade: Any) -> None:
    scenario = BY_NAME["record_message_success"]
    with pytest.raises(CassetteMismatch, match="only 2 of 3 interactions were played"):
        replay_steps(facade, replace(scenario, steps=scenario.steps[:2]), base_url=dead_url())


def test_no_interaction_plays_twice(facade: Any) -> None:
    scenario = BY_NAME["record_message_replay"]
    twice = replace(scenario, steps=(scenario.steps[0],) * 4)
    with pytest.raises(CassetteMismatch, match="does not hold"):
        replay_steps(facade, twice, base_url=dead_url())


def test_the_guard_blocks_every_connection(facade: Any) -> None:
    # Without a cassette the same call must hit the guard: so the replays above, which pass
    # under it, opened no socket (and need no server).
    scenario = cassettes.Scenario("no_cassette", BY_NAME["record_message_success"].steps[:1])
    (outcome,) = cassettes.run(facade, scenario, base_url=dead_url(), api_key=REPLAY_KEY)
    assert isinstance(outcome, synap.NetworkError)
    chain, cause = [], outcome.__cause__
    while cause is not None:
        chain.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    assert any(BLOCKED in text for text in chain), chain
    with pytest.raises(OSError, match=BLOCKED):
        socket.create_connection(("127.0.0.1", 9))
