"""The docs' input rules, as plain functions that return the JSON body to send.

Each function either returns the wire form of its input (exactly what goes out, see
wire.md) or raises `SynapValidationError` (`InvalidInputError`) with `.field` and `.index`
set, before anything is sent. Where two pages of the vendor docs disagree, the newer one
wins: `conversation_id` must be a UUID.

What a field may hold comes from the spec, through the facts `scripts/generate.py` writes
into `synap_spec`: the properties of each request schema in wire order, which are required,
their JSON types, `format` (`uuid`, `date-time`), enum, limits and `default`. The checks of
each schema are compiled once, at import: a field the spec adds is checked, ordered and sent
with no edit here. What is written here by hand is how a JSON type or format is checked in
Python (a `uuid.UUID` is a UUID, a `datetime` needs a timezone, a string must be UTF-8).

The bulk importer calls `batch_message(entry, index)` and `document(doc, index)` per item to
report invalid items without sending them.
"""

from __future__ import annotations

import copy
import datetime
import json
import keyword
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from synap_spec import ENUMS, OPERATIONS, SCHEMAS, Property, Schema

from synap._errors import SynapValidationError, brief

__all__ = [
    "DOCUMENT_FIELDS",
    "MAX_BATCH_DOCUMENTS",
    "MAX_NESTING",
    "MESSAGE_FIELDS",
    "batch_message",
    "batch_messages",
    "conversation_id",
    "document",
    "documents",
    "record_message_body",
]


def _list_property(operation_id: str) -> Property:
    """The array property of a batch operation's request (`messages`, `documents`)."""
    request = SCHEMAS[str(OPERATIONS[operation_id].request)]
    (found,) = (p for p in request.properties if "array" in p.types and p.items in SCHEMAS)
    return found


_MESSAGE = SCHEMAS[str(OPERATIONS["record_message"].request)]
_MESSAGES = _list_property("record_messages_batch")
_BATCH_MESSAGE = SCHEMAS[str(_MESSAGES.items)]
_DOCUMENTS = _list_property("batch_create")
_DOCUMENT = SCHEMAS[str(_DOCUMENTS.items)]

MESSAGE_FIELDS: tuple[str, ...] = _BATCH_MESSAGE.names
"""The documented keys of a `record_messages_batch` entry, in wire order (from the spec's
`BatchMessage`). Other keys pass through unchanged."""

DOCUMENT_FIELDS: tuple[str, ...] = _DOCUMENT.names
"""The keys of a `batch_create` document (a `CreateMemoryRequest` or a dict), in wire order
(from the spec's `CreateMemoryRequest`). Every one is sent; other keys are refused."""

MAX_BATCH_DOCUMENTS: int = _DOCUMENTS.max_items or 0
"""The most documents one `memories.batch_create` call may carry (the spec's `maxItems`)."""

MAX_NESTING = 32
"""How many levels of dicts and lists a free-form value (`metadata`, a dict `document`, an
extra key of a batch entry) may nest, itself included: deeper values are refused before
sending (the local server refuses bodies nested past 64 levels; JSON encoders recurse)."""

_UUID_HINT = "generate one with str(uuid.uuid4())"


def _where(field: str, index: int | None, container: str) -> str:
    return field if index is None else f"{container}[{index}].{field}"


def _fail(message: str, field: str | None, index: int | None) -> SynapValidationError:
    return SynapValidationError(message, field=field, index=index)


# The text `str(uuid.UUID(...))` gives: a string already in this form is sent as it is.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuid(value: object, field: str, index: int | None, container: str) -> str:
    """A UUID as sent: the canonical text of a UUID (a `str` or `uuid.UUID`)."""
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return value  # the common case, without parsing it into a UUID and back
    if isinstance(value, uuid.UUID):
        return str(value)
    where = _where(field, index, container)
    if not isinstance(value, str):
        raise _fail(
            f"{where} must be a UUID string, got {type(value).__name__}; {_UUID_HINT}",
            field,
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
            f"{where} must be a UUID, got {brief(value)}; {_UUID_HINT}", field, index
        ) from None
    return str(parsed)


def conversation_id(value: object, index: int | None = None, container: str = "messages") -> str:
    """A conversation id as sent: the canonical text of a UUID (a `str` or `uuid.UUID`)."""
    return _uuid(value, "conversation_id", index, container)


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


# Values whose JSON is always valid UTF-8 (ASCII text, ints, booleans, null): a flat dict of
# only these needs neither the depth walk nor a trial encoding (the common metadata,
# {"channel": "web"}).
_PLAIN = frozenset((int, bool, type(None)))


def _plain(mapping: dict[Any, Any]) -> bool:
    for key, value in mapping.items():
        if type(key) is not str or not key.isascii():
            return False
        if type(value) is str:
            if not value.isascii():
                return False
        elif type(value) not in _PLAIN:
            return False
    return True


def _date_time(value: object, field: str, index: int | None, container: str) -> str:
    """`format: date-time`: an aware `datetime` or an ISO-8601 string with its offset, sent
    as ISO-8601 (`Z` for UTC)."""
    where = _where(field, index, container)
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise _fail(
                f"{where} must be an ISO-8601 date-time, got {brief(value)}", field, index
            ) from None
    elif isinstance(value, datetime.datetime):
        parsed = value
    else:
        raise _fail(
            f"{where} must be a datetime or an ISO-8601 string, got {type(value).__name__}",
            field,
            index,
        )
    offset = parsed.utcoffset()
    if offset is None:
        # A naive time is ambiguous by hours; the service reads date-times with an offset.
        raise _fail(
            f"{where} must carry a timezone (e.g. datetime.now(timezone.utc) or a '+02:00' / "
            f"'Z' suffix), got {brief(value)}",
            field,
            index,
        )
    if offset % datetime.timedelta(minutes=1):
        # RFC 3339 offsets are whole minutes; local mean time zones are not (Amsterdam before
        # 1937: +00:19:32), and the service refuses "+00:19:32". The same instant in UTC is fine.
        try:
            parsed = parsed.astimezone(datetime.UTC)
        except OverflowError:
            raise _fail(
                f"{where} is out of range once written in UTC, got {brief(value)}", field, index
            ) from None
    return parsed.isoformat().replace("+00:00", "Z")


# -- one check per property, compiled from the spec's facts --------------------------------

Check = Callable[[object, "int | None"], Any]
"""A compiled property check: (value, entry index) -> the value as sent, or raises."""

_TYPE_WORDS = {
    "string": "a string",
    "object": "a dict",
    "array": "a list",
    "integer": "an int",
    "number": "a number",
    "boolean": "True or False",
    "null": "None",
}


def _json_types(prop: Property) -> set[str]:
    """The JSON types a property may hold (a property without `type` holds any value)."""
    return set(prop.types) or {"string", "object", "array", "integer", "number", "boolean"}


def _compile(prop: Property, container: str) -> Check:
    """The check of one property: its JSON types, format, enum and limits, as the spec says."""
    name = prop.name
    types = _json_types(prop)
    nullable = "null" in types
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in prop.types) or "a JSON value"
    if prop.enum is not None and not prop.enum_open:
        allowed = ENUMS[prop.enum]
        options = frozenset(allowed)
        quoted = [repr(v) for v in allowed]
        listed = " or ".join(quoted) if len(quoted) <= 2 else "one of " + ", ".join(quoted)

        def check_enum(value: object, index: int | None) -> Any:
            if isinstance(value, str):
                # A str enum member (`DocumentType.EMAIL`) goes out as its value; enum members
                # hash by name, so look up the plain string.
                text = value if type(value) is str else str.__str__(value)
                if text in options:
                    return text
            if value is None and nullable:
                return None
            raise _fail(
                f"{_where(name, index, container)} must be {listed} (case-sensitive), "
                f"got {brief(value)}",
                name,
                index,
            )

        return check_enum
    if prop.format == "uuid" and types <= {"string", "null"}:
        return lambda value, index: (
            None if value is None and nullable else _uuid(value, name, index, container)
        )
    if prop.format == "date-time" and types <= {"string", "null"}:
        return lambda value, index: (
            None if value is None and nullable else _date_time(value, name, index, container)
        )
    pattern = re.compile(prop.pattern) if prop.pattern is not None else None

    def check_string(value: str, index: int | None) -> str:
        _sendable(value, name, index, container)
        where = _where(name, index, container)
        if prop.min_length is not None and len(value) < prop.min_length:
            raise _fail(
                f"{where} must be at least {prop.min_length} character(s) long, got {brief(value)}",
                name,
                index,
            )
        if prop.max_length is not None and len(value) > prop.max_length:
            raise _fail(
                f"{where} must be at most {prop.max_length} characters long, got {len(value)}",
                name,
                index,
            )
        if pattern is not None and not pattern.search(value):
            detail = f" ({prop.description})" if prop.description else ""
            raise _fail(
                f"{where} must match {prop.pattern!r}, got {brief(value)}{detail}", name, index
            )
        return value

    plain_string = prop.min_length is None and prop.max_length is None and pattern is None

    takes_str = "string" in types

    def check(value: object, index: int | None) -> Any:
        kind = type(value)
        if kind is str and takes_str:
            text: str = value  # type: ignore[assignment]
            if plain_string and text.isascii():
                return text  # ASCII is always sendable: the common case, no encode
            return check_string(text, index)
        if value is None:
            if nullable:
                return None
        elif isinstance(value, Mapping) and "object" in types:
            out = value.copy() if type(value) is dict else dict(value)
            if out and not _plain(out):
                _json_ready(out, name, index, container)
            return out
        elif isinstance(value, str) and "string" in types:
            return check_string(str(value), index)
        elif kind is bool:
            if "boolean" in types:
                return value
        elif isinstance(value, int) and types & {"integer", "number"}:
            return _number(prop, int(value), index, container)
        elif isinstance(value, float) and "number" in types:
            if math.isfinite(value):
                return _number(prop, value, index, container)
        elif isinstance(value, list | tuple) and "array" in types:
            items = list(value)
            _json_ready(items, name, index, container)
            _size(prop, len(items), index, container)
            return items
        raise _fail(
            f"{_where(name, index, container)} must be {words}, got {type(value).__name__}",
            name,
            index,
        )

    return check


def _unchanged_when(prop: Property, var: str, n: int) -> tuple[str, dict[str, Any]]:
    """A Python condition on the variable `var` that holds only where `_compile`'s check of
    `prop` would return the value itself (the common case: a canonical UUID string, an enum
    member's plain string, ASCII text within its limits), and the names it uses; "" where
    there is none. It follows `_compile`'s branches: a value it does not pass goes to the
    check, which returns it (maybe changed) or raises."""
    types = _json_types(prop)
    if prop.enum is not None and not prop.enum_open:
        options = f"_options_{n}"
        return f"type({var}) is str and {var} in {options}", {options: frozenset(ENUMS[prop.enum])}
    if prop.format == "uuid" and types <= {"string", "null"}:
        test = f"type({var}) is str and _canonical_uuid({var}) is not None"
        return test, {"_canonical_uuid": _CANONICAL_UUID.fullmatch}
    if prop.format == "date-time" and types <= {"string", "null"}:
        return "", {}  # always parsed (a string's offset is rewritten)
    if "string" not in types:
        return "", {}
    terms = [f"type({var}) is str", f"{var}.isascii()"]
    names: dict[str, Any] = {}
    if prop.min_length is not None:
        terms.append(f"len({var}) >= {int(prop.min_length)}")
    if prop.max_length is not None:
        terms.append(f"len({var}) <= {int(prop.max_length)}")
    if prop.pattern is not None:
        names[f"_pattern_{n}"] = re.compile(prop.pattern).search
        terms.append(f"_pattern_{n}({var}) is not None")
    return " and ".join(terms), names


def _number(prop: Property, value: float, index: int | None, container: str) -> float:
    where = _where(prop.name, index, container)
    if prop.minimum is not None and value < prop.minimum:
        raise _fail(f"{where} must be at least {prop.minimum}, got {value}", prop.name, index)
    if prop.maximum is not None and value > prop.maximum:
        raise _fail(f"{where} must be at most {prop.maximum}, got {value}", prop.name, index)
    return value


def _size(prop: Property, size: int, index: int | None, container: str) -> None:
    where = _where(prop.name, index, container)
    if prop.min_items is not None and size < prop.min_items:
        raise _fail(f"{where} needs at least {prop.min_items} item(s)", prop.name, index)
    if prop.max_items is not None and size > prop.max_items:
        raise _fail(f"{where} holds {size} items; at most {prop.max_items}", prop.name, index)


def _copier(default: Any) -> Callable[[], Any]:
    """A fresh copy of a spec default each time (a `{}` default must not be shared)."""
    if isinstance(default, str | int | float | bool) or default is None:
        return lambda: default
    if default == {}:
        return dict
    return lambda: copy.deepcopy(default)


class _Form:
    """The compiled checks of one request schema, for one container name in messages."""

    def __init__(self, schema: Schema, container: str) -> None:
        self.schema = schema
        self.container = container
        self.names = schema.names
        self.checks = {p.name: _compile(p, container) for p in schema.properties}
        self.required = tuple(p.name for p in schema.properties if p.required)
        self.nullable = frozenset(p.name for p in schema.properties if "null" in p.types)
        # What an absent (or None) optional field is sent as: the spec's default (a fresh
        # copy), else null when the field may be null, else nothing.
        self.absent: dict[str, Callable[[], Any]] = {}
        for p in schema.properties:
            if p.has_default:
                self.absent[p.name] = _copier(p.default)
            elif "null" in p.types:
                self.absent[p.name] = lambda: None
        self.descriptions = {p.name: p.description for p in schema.properties}
        self.known = frozenset(self.names)
        self.source = ""  # the generated function's, once `function` made it (for reading)
        # Per property, in wire order: (name, check, absent value or None, required, nullable).
        self.plan = tuple(
            (
                p.name,
                self.checks[p.name],
                self.absent.get(p.name),
                p.required,
                "null" in p.types,
            )
            for p in schema.properties
        )

    def missing(self, name: str, index: int | None) -> SynapValidationError:
        where = _where(name, index, self.container)
        about = self.descriptions.get(name)
        return _fail(f"{where} is required" + (f": {about}" if about else ""), name, index)

    def filled(self, given: Mapping[str, object], index: int | None) -> dict[str, Any]:
        """Every property in wire order: given values checked, absent ones as `absent` says.
        None counts as not given. Used for requests sent whole (a single message, a
        document), as the vendor's client sends them."""
        out: dict[str, Any] = {}
        for name, check, absent, required, _ in self.plan:
            value = given.get(name)
            if value is None:
                if absent is not None:
                    out[name] = absent()
                elif required:
                    raise self.missing(name, index)
                continue
            out[name] = check(value, index)
        return out

    def function(self, name: str, doc: str) -> Callable[..., dict[str, Any]]:
        """`filled` as one generated function of the properties (by name or in wire order,
        each None by default): what the plan says, written out as straight-line code, the
        way attrs writes an `__init__`. Per property, the common value is passed by a plain
        test (`_unchanged_when`) and anything else goes to the compiled check, so that
        messages and results are `filled`'s own (the tests hold the two equal). A hot path
        (`record()` runs it on a service's request path) touches far less code this way
        than `filled`'s loop over the plan, which matters most when the CPU's caches are
        cold between requests."""
        for prop in self.names:
            if not prop.isidentifier() or keyword.iskeyword(prop) or prop.startswith("_"):
                raise ValueError(f"{self.schema.name}: {prop!r} cannot be a Python parameter")
        names: dict[str, Any] = {"_missing": self.missing}
        body: list[str] = []
        always: list[str] = []  # properties always sent, before the first that may be left out
        tail: list[str] = []
        for n, (prop, check, absent, required, _) in enumerate(self.plan):
            names[f"_check_{n}"] = check
            body.append(f"    if {prop} is None:")
            if absent is not None:
                names[f"_absent_{n}"] = absent
                body.append(f"        {prop} = _absent_{n}()")
            elif required:
                body.append(f"        raise _missing({prop!r}, None)")
            else:
                body.append("        pass")
            test, used = _unchanged_when(self.schema.properties[n], prop, n)
            names.update(used)
            body.append(f"    elif not ({test}):" if test else "    else:")
            body.append(f"        {prop} = _check_{n}({prop}, None)")
            sometimes = absent is None and not required
            if sometimes or tail:
                tail.append(
                    f"    if {prop} is not None:\n        out[{prop!r}] = {prop}"
                    if sometimes
                    else f"    out[{prop!r}] = {prop}"
                )
            else:
                always.append(f"{prop!r}: {prop}")
        params = ", ".join(f"{prop}=None" for prop in self.names)
        header = [f"def {name}({params}):"]
        build = [f"    out = {{{', '.join(always)}}}", *tail, "    return out", ""]
        source = "\n".join([*header, *body, *build])
        self.source = source
        exec(compile(source, f"<synap: {self.schema.name} checks>", "exec"), names)
        function: Callable[..., dict[str, Any]] = names[name]
        function.__doc__ = doc
        function.__module__ = __name__
        return function


_ABSENT: Any = object()
_SINGLE = _Form(_MESSAGE, "messages")
_ENTRY = _Form(_BATCH_MESSAGE, _MESSAGES.name)
_DOC = _Form(_DOCUMENT, _DOCUMENTS.name)


record_message_body: Callable[..., dict[str, Any]] = _SINGLE.function(
    "record_message_body",
    """The JSON body of `conversation.record_message`, checked.

    Arguments are the properties of the spec's `RecordMessageRequest`, by name or in spec
    order (`conversation_id, role, content, user_id, customer_id, session_id, metadata`). An
    optional one not given (or None) goes out as its spec default (`metadata`: `{}`), else as
    null when it may be null (`customer_id`), else not at all (`session_id`), as the vendor's
    client sends them.
    """,
)


def batch_message(entry: object, index: int) -> dict[str, Any]:
    """One entry of `conversation.record_messages_batch`, checked, as sent.

    The spec's `BatchMessage` says which keys are required (`conversation_id`, `role`,
    `content`) and what each may hold. Keys it does not name (e.g. `timestamp`) pass through,
    each checked to be sendable JSON. An optional key given as None that may not be null
    (`session_id`, `metadata`) counts as not given. Keys go out in the generated model's
    order: the undocumented ones first, then the spec's in spec order.
    """
    if type(entry) is not dict and not isinstance(entry, Mapping):
        raise _fail(f"messages[{index}] must be a dict, got {type(entry).__name__}", None, index)
    form = _ENTRY
    for key in form.required:
        if key not in entry:
            raise _fail(
                f"{form.container}[{index}] is missing the required key {key!r}", key, index
            )
    out = _CheckedMessage()
    if not entry.keys() <= form.known:  # keys the spec does not name: first, in input order
        for key, value in entry.items():
            if key in form.known:
                continue
            if not isinstance(key, str):
                raise _fail(
                    f"{form.container}[{index}] has a key that is not a string: {brief(key)}",
                    None,
                    index,
                )
            # passed through: each checked, so the bad one is named
            name = _key_name(key)
            _sendable(key, name, index, form.container)
            _json_ready(value, name, index, form.container)
            out[key] = value
    for name, check, _, required, nullable in form.plan:
        value = entry.get(name, _ABSENT)
        if value is _ABSENT:
            continue
        if value is None and not nullable:
            if required:
                raise form.missing(name, index)
            continue  # None counts as not given
        out[name] = check(value, index)
    return out


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


def _container(value: object, prop: Property, what: str) -> Sequence[Any]:
    """A batch's list, checked as a whole against the spec's `minItems` / `maxItems`."""
    name = prop.name
    if not _non_string_sequence(value):
        raise _fail(f"{name} must be a list of {what}, got {type(value).__name__}", name, None)
    assert isinstance(value, Sequence)
    if not value and (prop.min_items or 0) > 0:
        raise _fail(f"{name} is empty: a batch needs at least one entry", name, None)
    if prop.max_items is not None and len(value) > prop.max_items:
        raise _fail(
            f"{name} holds {len(value)} entries; at most {prop.max_items} per call "
            "(split the list, or use synap.bulk for large imports)",
            name,
            None,
        )
    return value


def batch_messages(messages: object) -> list[dict[str, Any]]:
    """Every entry of `conversation.record_messages_batch`, checked; an empty list is refused."""
    entries = _container(messages, _MESSAGES, "dicts")
    return [
        entry if type(entry) is _CheckedMessage else batch_message(entry, i)
        for i, entry in enumerate(entries)
    ]


def documents(documents: object) -> list[Any]:
    """The list given to `memories.batch_create`, checked as a whole (not each document).

    Refused, whatever `fail_fast` says: not a list, empty, more than 100 documents (the
    spec's `maxItems`), or an entry that is neither a `CreateMemoryRequest` nor a dict.
    """
    from synap.memories.models import CreateMemoryRequest

    docs = _container(documents, _DOCUMENTS, "CreateMemoryRequest")
    for i, doc in enumerate(docs):
        if not isinstance(doc, CreateMemoryRequest | Mapping):
            raise _fail(
                f"documents[{i}] must be a CreateMemoryRequest or a dict, got {type(doc).__name__}",
                None,
                i,
            )
    return list(docs)


def _no_unknown_keys(doc: Mapping[Any, object], form: _Form, index: int | None) -> None:
    unknown = [k for k in doc if k not in form.known]
    if unknown:
        name = _key_name(str(unknown[0]))
        raise _fail(
            f"{_where(name, index, form.container)} is not a document field; the fields "
            f"are {', '.join(form.names)}",
            name,
            index,
        )


def document(doc: object, index: int | None = None) -> dict[str, Any]:
    """One document of `memories.batch_create`, checked, as sent: every field of the spec's
    `CreateMemoryRequest`, in spec order, null where unset, the spec's defaults applied
    (`document_type`: `ai-chat-conversation`, `mode`: `long-range`, `metadata`: `{}`).

    `doc` is a `CreateMemoryRequest` or a dict with the same keys (other keys are refused, so
    that a misspelt key is not silently dropped).
    """
    from synap.memories.models import CreateMemoryRequest

    form = _DOC
    if isinstance(doc, CreateMemoryRequest):
        given: Mapping[str, object] = {key: getattr(doc, key, None) for key in form.names}
        newer = getattr(doc, "extra", None)
        if newer:  # fields of the spec this version's class has no attribute for
            if not isinstance(newer, Mapping):
                raise _fail(
                    f"{_where('extra', index, form.container)} must be a dict of document "
                    f"fields, got {type(newer).__name__}",
                    "extra",
                    index,
                )
            _no_unknown_keys(newer, form, index)
            given = {**newer, **{k: v for k, v in given.items() if v is not None}}
    elif isinstance(doc, Mapping):
        _no_unknown_keys(doc, form, index)
        given = doc
    else:
        where = "document" if index is None else f"{form.container}[{index}]"
        raise _fail(
            f"{where} must be a CreateMemoryRequest or a dict, got {type(doc).__name__}",
            None,
            index,
        )
    return form.filled(given, index)
