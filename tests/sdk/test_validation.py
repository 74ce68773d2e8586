"""The docs' input rules as plain functions (the clients' tests check nothing is sent)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest

from synap import SynapValidationError, _validation
from synap.memories.models import CreateMemoryRequest, DocumentType, MemoryMode

CID = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"


def msg(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"conversation_id": CID, "role": "user", "content": "hi"}
    entry.update(overrides)
    return entry


# record_message -------------------------------------------------------------------------


def test_record_message_body_is_the_vendor_wire_shape() -> None:
    body = _validation.record_message_body(CID, "user", "hi", "u1")
    assert body == {
        "conversation_id": CID,
        "role": "user",
        "content": "hi",
        "user_id": "u1",
        "customer_id": None,
        "metadata": {},
    }
    assert list(body) == [
        "conversation_id",
        "role",
        "content",
        "user_id",
        "customer_id",
        "metadata",
    ]
    body = _validation.record_message_body(
        uuid.UUID(CID), "assistant", "", "u1", "c1", "s1", {"channel": "web"}
    )
    assert body["session_id"] == "s1"
    assert body["customer_id"] == "c1"
    assert body["metadata"] == {"channel": "web"}
    assert body["conversation_id"] == CID


def test_conversation_id_upper_case_is_sent_canonical() -> None:
    assert _validation.conversation_id(CID.upper()) == CID


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("conv_2026_05_16_alice", "user", "hi", "u1"), "conversation_id"),
        ((CID.replace("-", ""), "user", "hi", "u1"), "conversation_id"),
        (("{" + CID + "}", "user", "hi", "u1"), "conversation_id"),
        ((123, "user", "hi", "u1"), "conversation_id"),
        ((None, "user", "hi", "u1"), "conversation_id"),
        ((CID, "User", "hi", "u1"), "role"),
        ((CID, "system", "hi", "u1"), "role"),
        ((CID, None, "hi", "u1"), "role"),
        ((CID, "user", None, "u1"), "content"),
        ((CID, "user", b"hi", "u1"), "content"),
        ((CID, "user", "hi", None), "user_id"),
        ((CID, "user", "hi", ""), "user_id"),
        ((CID, "user", "hi", "  "), "user_id"),
        ((CID, "user", "hi", "u1", 5), "customer_id"),
        ((CID, "user", "hi", "u1", None, 5), "session_id"),
        ((CID, "user", "hi", "u1", None, None, ["a"]), "metadata"),
        ((CID, "user", "hi", "u1", None, None, {"when": datetime.date(2024, 1, 1)}), "metadata"),
        ((CID, "user", "hi", "u1", None, None, {"x": float("nan")}), "metadata"),
    ],
)
def test_record_message_rules(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(SynapValidationError) as info:
        _validation.record_message_body(*args)
    assert info.value.field == field
    assert info.value.index is None
    assert info.value.status_code is None
    # Every argument given in order (the recorder's call) is judged alike.
    with pytest.raises(SynapValidationError) as every:
        _validation.record_message_body(*args, *[None] * (7 - len(args)))
    assert (every.value.field, str(every.value)) == (field, str(info.value))


def test_record_message_body_in_order_equals_by_name() -> None:
    names = ("conversation_id", "role", "content", "user_id", "customer_id", "session_id",
             "metadata")  # fmt: skip
    for values in [
        (CID, "user", "hi", "u1", None, None, None),
        (uuid.UUID(CID), "assistant", "", "u1", "c1", "s1", {"channel": "web"}),
        (CID.upper(), "user", "héllo", "u1", "c1", None, {}),
    ]:
        by_name = _validation.record_message_body(**dict(zip(names, values, strict=True)))
        in_order = _validation.record_message_body(*values)
        assert (in_order, list(in_order)) == (by_name, list(by_name))


class _Text(str):
    """A str subclass: never taken by the generated function's plain tests."""


# Values that reach every branch of a property's check: the plain case of each kind, what
# a check changes (a UUID object, an enum member, an aware datetime), what it refuses.
_VALUES: list[Any] = [
    None, CID, CID.upper(), uuid.UUID(CID), "{" + CID + "}", "user", "assistant", "User",
    _Text("user"), _Text(CID), "", " ", "a", "ab", "abcdef", "héllo", "\ud800", "2024-01-01",
    "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:19:32",
    datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2024, 1, 1), 0, 3,
    -1, 1.5, float("nan"), True, {}, {"channel": "web"}, {"x": float("nan")}, [], ["a"],
    b"hi",
]  # fmt: skip


def _outcome(fill: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    try:
        out = fill(*args, **kwargs)
    except SynapValidationError as exc:
        return ("refused", exc.field, exc.index, str(exc))
    return ("sent", out, [(k, type(v)) for k, v in out.items()])


def _accepted(form: Any, name: str) -> Any:
    """A value the property's check takes."""
    for value in _VALUES[1:]:
        try:
            form.checks[name](value, None)
        except SynapValidationError:
            continue
        return value
    raise AssertionError(name)


def _same_as_filled(form: Any, seed: int, rounds: int) -> None:
    """Each value in each place of an otherwise valid call, then `rounds` random calls."""
    import random

    fill = form.function("fill", "")
    chance = random.Random(seed)
    names = form.names
    valid = [_accepted(form, name) for name in names]
    one_at_a_time = [
        [*valid[:i], value, *valid[i + 1 :]] for i in range(len(names)) for value in _VALUES
    ]
    at_random = [[chance.choice(_VALUES) for _ in names] for _ in range(rounds)]
    for values in one_at_a_time + at_random:
        expected = _outcome(lambda *v: form.filled(dict(zip(names, v, strict=True)), None), *values)
        assert _outcome(fill, *values) == expected, (values, form.source)
        by_name = dict(zip(names, values, strict=True))
        assert _outcome(fill, **by_name) == expected


def test_the_generated_record_message_check_is_filled_written_out() -> None:
    """`record_message_body` is `_Form.function` of the spec's `RecordMessageRequest`: for
    any values it returns (keys, order, types) or refuses (field, message) as the plan's own
    interpreter, `filled`, does."""
    form = _validation._SINGLE
    assert _validation.record_message_body.__code__.co_filename.startswith("<synap:")
    _same_as_filled(form, seed=7, rounds=4000)


def test_the_generated_check_follows_the_spec_for_every_kind_of_property() -> None:
    """A schema the spec could grow into (an open enum, a date-time, limits and a pattern, a
    nullable UUID, numbers, a list, a default that is not `{}`): the generated function
    still equals `filled`."""
    from synap_spec import Property, Schema

    schema = Schema(
        name="FutureRequest",
        properties=(
            Property("conversation_id", ("string",), required=True, format="uuid"),
            Property("parent_id", ("string", "null"), format="uuid"),
            Property("role", ("string",), required=True, enum="Role"),
            Property("kind", ("string",), enum="Role", enum_open=True),
            Property("at", ("string", "null"), format="date-time"),
            Property("title", ("string",), min_length=2, max_length=5, pattern=r"^a"),
            Property("count", ("integer",), minimum=0, maximum=4),
            Property("score", ("number", "null")),
            Property("flag", ("boolean",), has_default=True, default=False),
            Property("tags", ("array",), has_default=True, default=["x"]),
            Property("extra", ("object",), has_default=True, default={}),
            Property("anything", ()),
        ),
        additional=False,
        description="",
    )
    form = _validation._Form(schema, "items")
    _same_as_filled(form, seed=11, rounds=6000)


def test_a_spec_property_that_cannot_be_a_parameter_is_refused_at_import() -> None:
    from synap_spec import Property, Schema

    bad = Schema("Bad", (Property("class", ("string",)),), additional=False, description="")
    with pytest.raises(ValueError, match="'class' cannot be a Python parameter"):
        _validation._Form(bad, "items").function("fill", "")


def test_uuid_message_says_how_to_make_one() -> None:
    with pytest.raises(SynapValidationError, match=r"str\(uuid\.uuid4\(\)\)"):
        _validation.record_message_body("conv_2026_05_16_alice", "user", "hi", "u1")


# record_messages_batch -------------------------------------------------------------------


def test_batch_entries_pass_unknown_keys_and_optional_ids() -> None:
    out = _validation.batch_messages(
        [
            msg(timestamp="2026-05-16T09:00:00Z"),
            msg(role="assistant", user_id=None, customer_id=None, session_id=None, metadata=None),
        ]
    )
    assert out[0] == msg(timestamp="2026-05-16T09:00:00Z")
    assert out[1] == msg(role="assistant", user_id=None, customer_id=None)


def test_batch_entry_input_is_not_modified() -> None:
    entry = msg(conversation_id=uuid.UUID(CID), session_id=None)
    _validation.batch_message(entry, 0)
    assert isinstance(entry["conversation_id"], uuid.UUID)
    assert "session_id" in entry


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"role": "user", "content": "hi"}, "conversation_id"),
        (msg(conversation_id="conv_1"), "conversation_id"),
        ({"conversation_id": CID, "content": "hi"}, "role"),
        (msg(role="bot"), "role"),
        ({"conversation_id": CID, "role": "user"}, "content"),
        (msg(content=3), "content"),
        (msg(user_id=7), "user_id"),
        (msg(customer_id=["c"]), "customer_id"),
        (msg(session_id=1), "session_id"),
        (msg(metadata="x"), "metadata"),
        ("not a dict", None),
        (msg(timestamp=datetime.datetime.now()), "timestamp"),
    ],
)
def test_batch_entry_rules_name_the_index(entry: Any, field: str | None) -> None:
    with pytest.raises(SynapValidationError) as info:
        _validation.batch_messages([msg(), entry])
    assert info.value.index == 1
    assert info.value.field == field
    assert "messages[1]" in str(info.value)


@pytest.mark.parametrize("messages", [[], (), "abc", None, {"a": 1}])
def test_batch_container_rules(messages: Any) -> None:
    with pytest.raises(SynapValidationError) as info:
        _validation.batch_messages(messages)
    assert info.value.field == "messages"


# documents --------------------------------------------------------------------------------


def test_document_has_all_nine_keys_with_defaults() -> None:
    wire = _validation.document(CreateMemoryRequest(document="text"), 0)
    assert wire == {
        "document": "text",
        "document_type": "ai-chat-conversation",
        "document_id": None,
        "document_created_at": None,
        "user_id": None,
        "customer_id": None,
        "scope": None,
        "mode": "long-range",
        "metadata": {},
    }
    assert list(wire) == list(_validation.DOCUMENT_FIELDS)
    assert _validation.document({"document": "text"}, 0) == wire


def test_document_accepts_strings_enums_dicts_and_datetimes() -> None:
    when = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
    by_enum = CreateMemoryRequest(
        document={"subject": "Renewal"},
        document_type=DocumentType.EMAIL,
        document_created_at=when,
        mode=MemoryMode.FAST,
        metadata={"folder": "inbox"},
    )
    by_str = {
        "document": {"subject": "Renewal"},
        "document_type": "email",
        "document_created_at": "2024-05-01T12:00:00+00:00",
        "mode": "fast",
        "metadata": {"folder": "inbox"},
    }
    assert _validation.document(by_enum, 3) == _validation.document(by_str, 3)
    wire = _validation.document(by_enum, 3)
    assert wire["document_created_at"] == "2024-05-01T12:00:00Z"
    assert wire["document_type"] == "email"
    assert type(wire["document_type"]) is str
    plus2 = datetime.datetime(2024, 5, 1, 14, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert (
        _validation.document({"document": "x", "document_created_at": plus2})["document_created_at"]
        == "2024-05-01T14:00:00+02:00"
    )


def test_create_memory_request_turns_known_strings_into_enums() -> None:
    req = CreateMemoryRequest(document="x", document_type="pdf", mode="fast")
    assert req.document_type is DocumentType.PDF
    assert req.mode is MemoryMode.FAST
    odd = CreateMemoryRequest(document="x", document_type="spreadsheet", metadata=None)
    assert odd.document_type == "spreadsheet"
    assert odd.metadata == {}


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"document_type": "email"}, "document"),
        ({"document": None}, "document"),
        (CreateMemoryRequest(document=None), "document"),  # type: ignore[arg-type]
        ({"document": 5}, "document"),
        (CreateMemoryRequest(document="x", document_type="spreadsheet"), "document_type"),
        ({"document": "x", "document_type": "Email"}, "document_type"),
        ({"document": "x", "mode": "slow"}, "mode"),
        ({"document": "x", "document_id": 5}, "document_id"),
        ({"document": "x", "user_id": 5}, "user_id"),
        ({"document": "x", "customer_id": 5}, "customer_id"),
        ({"document": "x", "scope": 5}, "scope"),
        ({"document": "x", "metadata": [1]}, "metadata"),
        ({"document": "x", "document_created_at": "yesterday"}, "document_created_at"),
        ({"document": "x", "document_created_at": "2024-05-01T12:00:00"}, "document_created_at"),
        (
            {"document": "x", "document_created_at": datetime.datetime(2024, 5, 1)},
            "document_created_at",
        ),
        (
            {"document": "x", "document_created_at": datetime.date(2024, 5, 1)},
            "document_created_at",
        ),
        ({"document": "x", "documnet_type": "email"}, "documnet_type"),
        ({"document": {"x": {1, 2}}}, "document"),
    ],
)
def test_document_rules(doc: Any, field: str) -> None:
    with pytest.raises(SynapValidationError) as info:
        _validation.document(doc, 4)
    assert info.value.field == field
    assert info.value.index == 4
    assert "documents[4]" in str(info.value)


@pytest.mark.parametrize(
    ("documents", "field", "index"),
    [
        ([], "documents", None),
        (None, "documents", None),
        ("text", "documents", None),
        ([{"document": "x"}] * 101, "documents", None),
        ([{"document": "x"}, "text"], None, 1),
        ([{"document": "x"}, 42], None, 1),
    ],
)
def test_documents_container_rules(documents: Any, field: str | None, index: int | None) -> None:
    with pytest.raises(SynapValidationError) as info:
        _validation.documents(documents)
    assert (info.value.field, info.value.index) == (field, index)


def test_one_hundred_documents_are_fine() -> None:
    assert len(_validation.documents([{"document": "x"}] * 100)) == 100


def test_create_memory_request_extra_carries_fields_newer_than_the_class() -> None:
    # `scope` stands in for a field the spec added after the class was written.
    doc = CreateMemoryRequest(document="x", extra={"scope": "team"})
    assert _validation.document(doc, 0)["scope"] == "team"
    with pytest.raises(SynapValidationError) as info:
        _validation.document(CreateMemoryRequest(document="x", extra={"scope": 5}), 2)
    assert (info.value.field, info.value.index) == ("scope", 2)
    with pytest.raises(SynapValidationError) as info:
        _validation.document(CreateMemoryRequest(document="x", extra={"scoop": "t"}), 2)
    assert (info.value.field, info.value.index) == ("scoop", 2)
    assert "not a document field" in str(info.value)
