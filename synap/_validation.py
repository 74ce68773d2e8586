"""The docs' input rules, as plain functions that return the JSON body to send.

Each function either returns the wire form of its input (exactly what goes out, see
wire.md) or raises `SynapValidationError` (`InvalidInputError`) with `.field` and `.index`
set, before anything is sent. Where two pages of the vendor docs disagree, the newer one
wins: `conversation_id` must be a UUID.

The bulk importer calls `batch_message(entry, index)` and `document(doc, index)` per item to
report invalid items without sending them.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from synap._errors import SynapValidationError, brief

__all__ = [
    "MAX_BATCH_DOCUMENTS",
    "MAX_NESTING",
    "batch_message",
    "batch_messages",
    "conversation_id",
    "document",
    "documents",
    "record_message_body",
]

MAX_BATCH_DOCUMENTS = 100
"""The most documents one `memories.batch_create` call may carry (the docs' limit)."""

MAX_NESTING = 32
"""How many levels of dicts and lists a free-form value (`metadata`, a dict `document`, an
extra key of a batch entry) may nest, itself included: deeper values are refused before
sending (the local server refuses bodies nested past 64 levels; JSON encoders recurse)."""

_ROLES = ("user", "assistant")
_UUID_HINT = "generate one with str(uuid.uuid4()) and reuse it for every turn of the conversation"
_DOCUMENT_KEYS = (
    "document",
    "document_type",
    "document_id",
    "document_created_at",
    "user_id",
    "customer_id",
    "scope",
    "mode",
    "metadata",
)


def _where(field: str, index: int | None, container: str) -> str:
    return field if index is None else f"{container}[{index}].{field}"


def _fail(message: str, field: str | None, index: int | None) -> SynapValidationError:
    return SynapValidationError(message, field=field, index=index)


# The text `str(uuid.UUID(...))` gives: a string already in this form is sent as it is.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _conversation_id(value: object, index: int | None = None, container: str = "messages") -> str:
    """A conversation id as sent: the canonical text of a UUID (a `str` or `uuid.UUID`)."""
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return value  # the common case, without parsing it into a UUID and back
    if isinstance(value, uuid.UUID):
        return str(value)
    where = _where("conversation_id", index, container)
    if not isinstance(value, str):
        raise _fail(
            f"{where} must be a UUID string, got {type(value).__name__}; {_UUID_HINT}",
            "conversation_id",
            index,
        )
    try:
        # Only the 8-4-4-4-12 form: uuid.UUID also reads braces, URNs and bare hex, which the
        # service does not accept as a UUID.
        if len(value) != 36:
            raise ValueError(value)
        parsed = uuid.UUID(value)
    except ValueError:
        raise _fail(
            f"{where} must be a UUID, got {brief(value)}; {_UUID_HINT}",
            "conversation_id",
            index,
        ) from None
    return str(parsed)


conversation_id = _conversation_id


def _role(value: object, index: int | None) -> str:
    if isinstance(value, str) and value in _ROLES:
        return str(value)
    raise _fail(
        f"{_where('role', index, 'messages')} must be 'user' or 'assistant' (lower case), "
        f"got {brief(value)}",
        "role",
        index,
    )


def _sendable(value: str, field: str, index: int | None, container: str) -> str:
    # JSON can spell a lone surrogate ("\ud800") but UTF-8, the wire encoding, cannot carry
    # one: without this check the call fails inside the JSON encoder, naming no field.
    if value.isascii():  # the common case, without encoding a copy
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _fail(
            f"{_where(field, index, container)} contains a character that cannot be sent as "
            f"UTF-8 (a lone surrogate, {value[exc.start]!r}, at position {exc.start})",
            field,
            index,
        ) from None
    return value


def _key_name(key: str) -> str:
    """A key as a message can show it: as is when printable UTF-8, else escaped (`'\\ud800'`),
    so that the message naming it can itself be printed and logged."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return ascii(key)
    return key if key.isprintable() else ascii(key)


def _content(value: object, index: int | None) -> str:
    if isinstance(value, str):
        return _sendable(value, "content", index, "messages")
    raise _fail(
        f"{_where('content', index, 'messages')} must be a string, got {type(value).__name__}",
        "content",
        index,
    )


def _optional_str(value: object, field: str, index: int | None, container: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _sendable(value, field, index, container)
    raise _fail(
        f"{_where(field, index, container)} must be a string or None, got {type(value).__name__}",
        field,
        index,
    )


# Values with nothing below them; skipped without the (slower) Mapping check.
_LEAVES = frozenset((str, int, float, bool, type(None)))


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether dicts and lists nest more than `limit` levels (`{}` is one). Iterative."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Iterable[object] = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if type(child) not in _LEAVES)
    return False


# json.dumps(value, ensure_ascii=False, allow_nan=False) without building an encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _json_ready(value: object, field: str, index: int | None, container: str) -> None:
    # The same rules httpx applies when it encodes the body (no NaN, UTF-8), checked here so
    # that one bad entry is reported with its index instead of failing the whole call. The
    # depth is checked first: the encoder recurses, and deep input ends in a RecursionError.
    if _depth_exceeds(value, MAX_NESTING):
        raise _fail(
            f"{_where(field, index, container)} nests more than {MAX_NESTING} levels of dicts "
            "and lists",
            field,
            index,
        )
    try:
        _JSON.encode(value).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"{_where(field, index, container)} must be JSON-serialisable: {exc}", field, index
        ) from None


# Plain values whose JSON is always valid and UTF-8 (ASCII text): a dict of only these needs
# neither the depth walk nor a trial encoding (the common metadata: {"channel": "web"}).
_PLAIN = frozenset((int, bool, type(None)))


def _plain(mapping: dict[str, Any]) -> bool:
    for key, value in mapping.items():
        if type(key) is not str or not key.isascii():
            return False
        if type(value) is str:
            if not value.isascii():
                return False
        elif type(value) not in _PLAIN:
            return False
    return True


def _metadata(value: object, index: int | None, container: str) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _fail(
            f"{_where('metadata', index, container)} must be a dict, got {type(value).__name__}",
            "metadata",
            index,
        )
    metadata = value.copy() if type(value) is dict else dict(value)
    if metadata and not _plain(metadata):
        _json_ready(metadata, "metadata", index, container)
    return metadata


def record_message_body(
    conversation_id: object,
    role: object,
    content: object,
    user_id: object,
    customer_id: object = None,
    session_id: object = None,
    metadata: object = None,
) -> dict[str, Any]:
    """The JSON body of `conversation.record_message`, checked.

    `customer_id` goes out as null when not given, `metadata` as `{}`, and `session_id` only
    when given, as the vendor's client sends them.
    """
    body: dict[str, Any] = {
        "conversation_id": _conversation_id(conversation_id),
        "role": _role(role, None),
        "content": _content(content, None),
    }
    if not isinstance(user_id, str) or not user_id.strip():
        raise _fail(
            "user_id is required: your application's identifier for the end user "
            f"(a non-empty string), got {brief(user_id)}",
            "user_id",
            None,
        )
    body["user_id"] = _sendable(user_id, "user_id", None, "messages")
    body["customer_id"] = _optional_str(customer_id, "customer_id", None, "messages")
    session = _optional_str(session_id, "session_id", None, "messages")
    if session is not None:
        body["session_id"] = session
    body["metadata"] = _metadata(metadata, None, "messages")
    return body


def batch_message(entry: object, index: int) -> dict[str, Any]:
    """One entry of `conversation.record_messages_batch`, checked, as sent.

    `conversation_id`, `role` and `content` are required; `user_id` and `customer_id` are
    optional in batch mode. Keys the SDK does not know (e.g. `timestamp`) pass through.
    `session_id` and `metadata` given as None count as not given.
    """
    if type(entry) is not dict and not isinstance(entry, Mapping):
        raise _fail(f"messages[{index}] must be a dict, got {type(entry).__name__}", None, index)
    for key in ("conversation_id", "role", "content"):
        if key not in entry:
            raise _fail(f"messages[{index}] is missing the required key {key!r}", key, index)
    out = _CheckedMessage(entry)
    # Keys passed through, in input order (most entries have none: one check in C first).
    extra = () if _KNOWN.issuperset(out) else [k for k in out if k not in _KNOWN_MESSAGE_KEYS]
    for key in extra:
        if not isinstance(key, str):
            raise _fail(
                f"messages[{index}] has a key that is not a string: {brief(key)}", None, index
            )
    out["conversation_id"] = _conversation_id(entry["conversation_id"], index)
    out["role"] = _role(entry["role"], index)
    out["content"] = _content(entry["content"], index)
    for key in ("user_id", "customer_id"):
        if key in out:
            _optional_str(out[key], key, index, "messages")
    for key in ("session_id", "metadata"):
        if key in out and out[key] is None:
            del out[key]
    if "session_id" in out:
        _optional_str(out["session_id"], "session_id", index, "messages")
    if "metadata" in out:
        out["metadata"] = _metadata(out["metadata"], index, "messages")
    for key in extra:  # passed through: each checked, so the bad one is named
        name = _key_name(key)
        _sendable(key, name, index, "messages")
        _json_ready(out[key], name, index, "messages")
    return out


_KNOWN_MESSAGE_KEYS = frozenset(
    ("conversation_id", "role", "content", "user_id", "customer_id", "session_id", "metadata")
)
_KNOWN: frozenset[object] = _KNOWN_MESSAGE_KEYS


class _CheckedMessage(dict[str, Any]):
    """An entry as `batch_message` returns it: checked and in its wire form already.

    `batch_messages` passes these through unchecked: the bulk helper checks every entry as it
    reads it (to report the invalid ones by position) and sends the checked entries through
    `record_messages_batch`, which would otherwise check each one a second time. Only SDK code
    holds them, and it does not change them after the check.
    """

    __slots__ = ()


def _non_string_sequence(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def batch_messages(messages: object) -> list[dict[str, Any]]:
    """Every entry of `conversation.record_messages_batch`, checked; an empty list is refused."""
    if not _non_string_sequence(messages):
        raise _fail(
            f"messages must be a list of dicts, got {type(messages).__name__}", "messages", None
        )
    assert isinstance(messages, Sequence)
    if not messages:
        raise _fail("messages is empty: a batch needs at least one message", "messages", None)
    return [
        entry if type(entry) is _CheckedMessage else batch_message(entry, i)
        for i, entry in enumerate(messages)
    ]


def documents(documents: object) -> list[Any]:
    """The list given to `memories.batch_create`, checked as a whole (not each document).

    Refused, whatever `fail_fast` says: not a list, empty, more than 100 documents, or an
    entry that is neither a `CreateMemoryRequest` nor a dict.
    """
    from synap.memories.models import CreateMemoryRequest

    if not _non_string_sequence(documents):
        raise _fail(
            f"documents must be a list of CreateMemoryRequest, got {type(documents).__name__}",
            "documents",
            None,
        )
    assert isinstance(documents, Sequence)
    if not documents:
        raise _fail("documents is empty: a batch needs at least one document", "documents", None)
    if len(documents) > MAX_BATCH_DOCUMENTS:
        raise _fail(
            f"documents holds {len(documents)} documents; at most {MAX_BATCH_DOCUMENTS} per call "
            "(split the list, or use synap.bulk for large imports)",
            "documents",
            None,
        )
    for i, doc in enumerate(documents):
        if not isinstance(doc, CreateMemoryRequest | Mapping):
            raise _fail(
                f"documents[{i}] must be a CreateMemoryRequest or a dict, got {type(doc).__name__}",
                None,
                i,
            )
    return list(documents)


def _created_at(value: object, index: int | None) -> str | None:
    where = _where("document_created_at", index, "documents")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise _fail(
                f"{where} must be an ISO-8601 date-time, got {brief(value)}",
                "document_created_at",
                index,
            ) from None
    elif isinstance(value, datetime.datetime):
        parsed = value
    else:
        raise _fail(
            f"{where} must be a datetime or an ISO-8601 string, got {type(value).__name__}",
            "document_created_at",
            index,
        )
    offset = parsed.utcoffset()
    if offset is None:
        # A naive time is ambiguous by hours; the service reads date-times with an offset.
        raise _fail(
            f"{where} must carry a timezone (e.g. datetime.now(timezone.utc) or a '+02:00' / "
            f"'Z' suffix), got {brief(value)}",
            "document_created_at",
            index,
        )
    if offset % datetime.timedelta(minutes=1):
        # RFC 3339 offsets are whole minutes; local mean time zones are not (Amsterdam before
        # 1937: +00:19:32), and the service refuses "+00:19:32". The same instant in UTC is fine.
        try:
            parsed = parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise _fail(
                f"{where} is out of range once written in UTC, got {brief(value)}",
                "document_created_at",
                index,
            ) from None
    return parsed.isoformat().replace("+00:00", "Z")


def _enum_value(value: object, field: str, allowed: tuple[str, ...], index: int | None) -> str:
    if isinstance(value, str) and value in allowed:
        return str(value)
    raise _fail(
        f"{_where(field, index, 'documents')} must be one of {', '.join(allowed)}; "
        f"got {brief(value)}",
        field,
        index,
    )


def document(doc: object, index: int | None = None) -> dict[str, Any]:
    """One document of `memories.batch_create`, checked, as sent: all nine keys, in order,
    null where unset, `document_type` defaulting to `ai-chat-conversation`, `mode` to
    `long-range`, `metadata` to `{}`.

    `doc` is a `CreateMemoryRequest` or a dict with the same keys (other keys are refused, so
    that a misspelt key is not silently dropped).
    """
    from synap.memories.models import CreateMemoryRequest, DocumentType, MemoryMode

    if isinstance(doc, CreateMemoryRequest):
        fields: dict[str, Any] = {key: getattr(doc, key) for key in _DOCUMENT_KEYS}
    elif isinstance(doc, Mapping):
        unknown = [k for k in doc if k not in _DOCUMENT_KEYS]
        if unknown:
            name = _key_name(str(unknown[0]))
            raise _fail(
                f"{_where(name, index, 'documents')} is not a document field; the fields are "
                f"{', '.join(_DOCUMENT_KEYS)}",
                name,
                index,
            )
        if "document" not in doc:
            raise _fail(f"{_where('document', index, 'documents')} is required", "document", index)
        fields = {key: doc.get(key) for key in _DOCUMENT_KEYS}
    else:
        where = "document" if index is None else f"documents[{index}]"
        raise _fail(
            f"{where} must be a CreateMemoryRequest or a dict, got {type(doc).__name__}",
            None,
            index,
        )

    content = fields["document"]
    if isinstance(content, Mapping):
        content = dict(content)
        _json_ready(content, "document", index, "documents")
    elif isinstance(content, str):
        _sendable(content, "document", index, "documents")
    else:
        raise _fail(
            f"{_where('document', index, 'documents')} is required: text or a dict, "
            f"got {type(content).__name__}",
            "document",
            index,
        )
    document_type = fields["document_type"]
    mode = fields["mode"]
    return {
        "document": content,
        "document_type": _enum_value(
            DocumentType.AI_CHAT_CONVERSATION.value if document_type is None else document_type,
            "document_type",
            tuple(t.value for t in DocumentType),
            index,
        ),
        "document_id": _optional_str(fields["document_id"], "document_id", index, "documents"),
        "document_created_at": _created_at(fields["document_created_at"], index),
        "user_id": _optional_str(fields["user_id"], "user_id", index, "documents"),
        "customer_id": _optional_str(fields["customer_id"], "customer_id", index, "documents"),
        "scope": _optional_str(fields["scope"], "scope", index, "documents"),
        "mode": _enum_value(
            MemoryMode.LONG_RANGE.value if mode is None else mode,
            "mode",
            tuple(m.value for m in MemoryMode),
            index,
        ),
        "metadata": _metadata(fields["metadata"], index, "documents"),
    }
