"""The server's quick schema check (a performance path) never accepts what jsonschema refuses.

`synap.server.schema` answers most valid requests without jsonschema; these tests hold it to
the one rule that keeps the server's answers unchanged: the quick check says True only for
instances jsonschema accepts.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synap.server.schema import SpecValidator, _quick_check

VALIDATOR = SpecValidator()
NAMES = sorted(VALIDATOR.spec["components"]["schemas"])
QUICK = {name: _quick_check(VALIDATOR._inline(VALIDATOR.schema(name))) for name in NAMES}
CID = str(uuid.uuid4())

SAMPLE_STRINGS = [
    "", "user", "assistant", "USER", CID, CID.upper(), "{" + CID + "}", "2024-05-01T12:00:00Z",
    "2024-05-01T12:00:00", "fast", "long-range", "email", "ai-chat-conversation", "queued",
    "\ud800",
]  # fmt: skip
KEYS = [
    "conversation_id", "role", "content", "user_id", "customer_id", "session_id", "metadata",
    "messages", "documents", "fail_fast", "document", "document_type", "document_id",
    "document_created_at", "scope", "mode", "total", "succeeded", "failed", "results",
    "message_id", "recorded_at", "detail", "ingestion_id", "status", "queued_at",
    "error_message", "batch_id", "error", "index", "loc", "msg", "type", "extra",
]  # fmt: skip
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, 0.0, -1.0]),
    st.text(max_size=4),
    st.sampled_from(SAMPLE_STRINGS),
)
value = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=10,
)
# Mostly valid requests with one thing wrong now and then: where the two checks could differ.
entry = st.fixed_dictionaries(
    {
        "conversation_id": st.sampled_from([CID, CID, CID.upper(), "nope"]),
        "role": st.sampled_from(["user", "assistant", "bot"]),
        "content": st.one_of(st.text(max_size=3), st.text(max_size=3), leaf),
    },
    optional={
        "user_id": leaf,
        "customer_id": leaf,
        "session_id": leaf,
        "metadata": value,
        "timestamp": value,
    },
)
document = st.fixed_dictionaries(
    {"document": value},
    optional={
        "document_type": st.sampled_from(["email", "pdf", "nope", None]),
        "document_id": leaf,
        "mode": st.sampled_from(["fast", "long-range", "slow"]),
        "document_created_at": st.sampled_from(SAMPLE_STRINGS),
        "user_id": leaf,
        "metadata": value,
        "scope": leaf,
    },
)
anything = st.one_of(value, st.dictionaries(st.sampled_from(KEYS), value, max_size=9))
FOR_SCHEMA = {
    "BatchMessage": entry,
    "RecordMessageRequest": entry,
    "RecordMessagesBatchRequest": st.fixed_dictionaries(
        {"messages": st.lists(st.one_of(entry, entry, value), max_size=3)}
    ),
    "CreateMemoryRequest": document,
    "BatchCreateRequest": st.fixed_dictionaries(
        {"documents": st.lists(st.one_of(document, document, value), max_size=3)},
        optional={"fail_fast": leaf},
    ),
}


def test_every_schema_of_the_spec_has_a_quick_check() -> None:
    assert [name for name, check in QUICK.items() if check is None] == []


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_quick_check_accepts_only_what_jsonschema_accepts(name: str, data: Any) -> None:
    check = QUICK[name]
    assert check is not None
    candidate = data.draw(st.one_of(FOR_SCHEMA.get(name, anything), anything))
    if check(candidate):
        assert VALIDATOR._validator(name, VALIDATOR.schema(name)).is_valid(candidate)


@pytest.mark.parametrize(
    "entry",
    [
        {"conversation_id": CID, "role": "user", "content": "hi"},
        {"conversation_id": CID, "role": "assistant", "content": "", "metadata": {"a": [1]}},
        {"conversation_id": CID, "role": "user", "content": "x", "user_id": None, "t": 1},
    ],
)
def test_valid_entries_need_no_jsonschema(entry: dict[str, Any]) -> None:
    check = QUICK["BatchMessage"]
    assert check is not None
    assert check(entry)
    assert VALIDATOR.errors("BatchMessage", entry) == []


@pytest.mark.parametrize(
    ("entry", "loc"),
    [
        ({"conversation_id": CID, "role": "User", "content": "x"}, ["role"]),
        ({"conversation_id": "nope", "role": "user", "content": "x"}, ["conversation_id"]),
        ({"conversation_id": CID, "role": "user"}, ["content"]),
        ({"conversation_id": CID, "role": "user", "content": "x", "metadata": []}, ["metadata"]),
        ({"conversation_id": CID, "role": "user", "content": "\ud800"}, ["content"]),
    ],
)
def test_invalid_entries_still_get_the_same_errors(entry: dict[str, Any], loc: list[str]) -> None:
    errors = VALIDATOR.errors("BatchMessage", entry)
    assert [e["loc"] for e in errors] == [loc]


def _uuid_by_parsing(value: str) -> bool:
    # The definition `_is_uuid` had before its canonical-spelling shortcut.
    if len(value) != 36 or any(value[i] != "-" for i in (8, 13, 18, 23)):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


uuid_like = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.text(alphabet="0123456789abcdefABCDEF-_+ {}xg", min_size=30, max_size=40),
    st.text(max_size=40),
)


@settings(max_examples=500, deadline=None)
@given(value=uuid_like)
def test_the_uuid_format_check_answers_as_parsing_does(value: str) -> None:
    from synap.server.schema import _is_uuid

    assert _is_uuid(value) == _uuid_by_parsing(value)
