"""Properties of every public call, on both facades, for arbitrary arguments (hypothesis).

Each argument of `record_message`, `record_messages_batch` and `batch_create` (the keyword
options included) is drawn either from values the docs allow or from anything at all: wrong
types, None, huge strings, non-UUIDs, lone surrogates and other odd unicode, deep or cyclic
nesting, NaN and infinities, values JSON cannot carry, oversized batches. Every call must end
in the documented result or in a `SynapError`, and:

- an invalid call sends nothing (counted at the transport) and raises `InvalidInputError`
  whose message names an argument (or batch entry and key) that was drawn invalid;
- a call the SDK sends is accepted by the server (a B2C local server, so that no tenancy rule
  applies): the client refuses what the server would, before sending. The exceptions are the
  server's own body size limit (`PayloadTooLargeError`, HTTP 413, which no document sets) and a
  caller's idempotency key reused with another body (`ConflictError`, HTTP 409).
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

import synap
from synap import (
    ConflictError,
    CreateMemoryRequest,
    InvalidInputError,
    NetworkTimeoutError,
    PayloadTooLargeError,
    SynapError,
)
from synap._config import NOT_GIVEN
from synap.server import LocalServer
from tests.reliability._support import FACADES, Facade

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is reproducible
    # No shrinking: a batch of 100 odd documents takes minutes to shrink, and each draw is
    # labelled, so the failing case reads well as it is.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- values of every kind --------------------------------------------------------------------

ODD_TEXT = st.text(st.characters(exclude_categories=()), max_size=30)  # lone surrogates, NUL...
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)  # anything UTF-8 can carry
HUGE = st.sampled_from([200_000, 1_500_000]).map(lambda n: "é" * n)  # up to 3 MB of UTF-8


def _or_rarely(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """`usual`, or one time in fifteen `rare` (huge values are slow to send)."""
    return st.integers(1, 15).flatmap(lambda n: rare if n == 15 else usual)


def _nest(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"level": value} if level % 2 else [value]
    return value


def _cyclic() -> Any:
    loop: list[Any] = []
    loop.append(loop)
    return {"loop": loop}


LONE_SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud83d", "ok \ud83d"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    LONE_SURROGATES,
    st.integers(0, 9).map(lambda n: 10**5000 + n),  # more digits than json will write
    st.floats(),  # NaN and infinities included
    ODD_TEXT,
    st.binary(max_size=10),
    st.uuids(),
    st.datetimes(),
    st.sets(st.integers(), max_size=2),
    st.complex_numbers(max_magnitude=10),
    st.builds(object),
)
NON_STR_KEYS = st.one_of(st.integers(), st.none(), st.tuples(st.integers()), st.floats())
ODD_KEYS = ODD_TEXT | NON_STR_KEYS
NESTED = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_KEYS, inner, max_size=3),
    max_leaves=8,
)
ANYTHING = _or_rarely(
    st.one_of(SCALARS, NESTED, st.integers(30, 3000).map(_nest), st.builds(_cyclic)), HUGE
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
METADATA = st.none() | st.dictionaries(TEXT, JSON, max_size=4)
CONVERSATION_ID = st.one_of(
    st.uuids(), st.uuids().map(str), st.uuids().map(lambda u: str(u).upper())
)
ROLE = st.sampled_from(["user", "assistant"])
CONTENT = _or_rarely(TEXT, HUGE)
USER_ID = TEXT.map(lambda s: f"user {s}")  # never blank
OPTIONAL_TEXT = st.none() | TEXT
FRESH = "<a fresh key>"  # replaced by a new UUID at call time: a key is for one body only
IDEMPOTENCY_KEY = st.none() | st.just(FRESH)
HEADER_TEXT = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=80)
TIMEOUT = st.one_of(
    st.just(NOT_GIVEN),
    st.none(),
    st.floats(1, 120),
    st.integers(1, 86400),
    st.just(httpx.Timeout(30.0, connect=5.0)),
)
DOCUMENT_TYPE = st.sampled_from(
    [None, *[t.value for t in synap.DocumentType], *list(synap.DocumentType)]
)
MODE = st.sampled_from([None, *[m.value for m in synap.MemoryMode], *list(synap.MemoryMode)])
AWARE = st.datetimes(
    min_value=datetime.datetime(1800, 1, 1),
    max_value=datetime.datetime(2200, 1, 1),
    timezones=st.timezones(),  # local mean time offsets of seconds included
)
CREATED_AT = st.none() | AWARE | AWARE.map(lambda d: d.isoformat())

ODD_CONVERSATION_IDS = st.sampled_from(
    [
        "conv_2026_05_16_alice",  # the older docs' example: not a UUID
        "{9e9e45b2-399a-490a-89f2-9d25e1bf9a1d}",
        "urn:uuid:9e9e45b2-399a-490a-89f2-9d25e1bf9a1d",
        "9e9e45b2399a490a89f29d25e1bf9a1d",
        "9e9e45b2-399a-490a-89f2-9d25e1bf9a1g",
        "",
    ]
)


# --- drawing arguments, remembering which were drawn invalid ----------------------------------


@dataclass
class Draw:
    """Arguments drawn for one call, and the names of those drawn from anything (`bad`)."""

    data: st.DataObject
    bad: set[str] = field(default_factory=set)
    huge: bool = False
    clean: bool = field(init=False)

    def __post_init__(self) -> None:
        # Two calls in five are drawn all valid, so that sent calls are tested as much as
        # refused ones; the others draw each argument odd one time in six.
        self.clean = self.data.draw(st.integers(0, 4), label="all valid") < 2

    def odd(self, label: str, one_in: int) -> bool:
        """True one time in `one_in` (never in an all-valid call)."""
        return not self.clean and self.data.draw(st.integers(1, one_in), label=label) == one_in

    def arg(self, name: str, valid: st.SearchStrategy[Any], odd: Any = ANYTHING) -> Any:
        """A valid value, or (one time in six) anything at all: then `name` is bad."""
        if self.odd(f"{name} is odd", 6):
            self.bad.add(name)
            value = self.data.draw(odd, label=name)
        else:
            value = self.data.draw(valid, label=name)
        if isinstance(value, str) and len(value) > 100_000:
            self.huge = True
        return value

    def options(self) -> dict[str, Any]:
        """The keyword options every method takes: idempotency_key, correlation_id, timeout."""
        out = {
            "idempotency_key": self.arg("idempotency_key", IDEMPOTENCY_KEY),
            "correlation_id": self.arg("correlation_id", st.none() | HEADER_TEXT),
            "timeout": self.arg("timeout", TIMEOUT),
        }
        if out["idempotency_key"] == FRESH:
            out["idempotency_key"] = str(uuid.uuid4())
        if out["timeout"] is NOT_GIVEN:
            del out["timeout"]
        return out


def _message_entry(draw: Draw, index: int) -> Any:
    where = f"messages[{index}]"
    if draw.odd(f"{where} is not a dict", 20):
        draw.bad.add(where)
        return draw.data.draw(ANYTHING.filter(lambda v: not isinstance(v, dict)), label=where)
    entry: dict[Any, Any] = {
        "conversation_id": draw.arg(f"{where}.conversation_id", CONVERSATION_ID),
        "role": draw.arg(f"{where}.role", ROLE),
        "content": draw.arg(f"{where}.content", CONTENT),
    }
    for key, valid in (
        ("user_id", OPTIONAL_TEXT),
        ("customer_id", OPTIONAL_TEXT),
        ("session_id", OPTIONAL_TEXT),
        ("metadata", METADATA),
    ):
        if draw.data.draw(st.booleans(), label=f"{where} has {key}"):
            entry[key] = draw.arg(f"{where}.{key}", valid)
    if draw.data.draw(st.integers(0, 9), label=f"{where} has an extra key") == 9:
        name = draw.data.draw(st.sampled_from(["timestamp", "source", "x"]), label="extra")
        entry[name] = draw.arg(f"{where}.{name}", JSON)
    if draw.odd(f"{where} misses a key", 15):
        missing = draw.data.draw(st.sampled_from(["conversation_id", "role", "content"]))
        del entry[missing]
        draw.bad.add(f"{where}.{missing}")
    if draw.odd(f"{where} has an odd key", 20):
        entry[draw.data.draw(NON_STR_KEYS, label=f"{where} odd key")] = 1
        draw.bad.add(where)
    return entry


def _document(draw: Draw, index: int) -> Any:
    where = f"documents[{index}]"
    if draw.odd(f"{where} is odd", 20):
        draw.bad.add(where)
        return draw.data.draw(ANYTHING, label=where)
    fields = {
        "document": draw.arg(
            f"{where}.document", _or_rarely(TEXT | st.dictionaries(TEXT, JSON), HUGE)
        ),
        "document_type": draw.arg(f"{where}.document_type", DOCUMENT_TYPE),
        "document_id": draw.arg(f"{where}.document_id", OPTIONAL_TEXT),
        "document_created_at": draw.arg(f"{where}.document_created_at", CREATED_AT),
        "user_id": draw.arg(f"{where}.user_id", OPTIONAL_TEXT),
        "customer_id": draw.arg(f"{where}.customer_id", OPTIONAL_TEXT),
        "scope": draw.arg(f"{where}.scope", OPTIONAL_TEXT),
        "mode": draw.arg(f"{where}.mode", MODE),
        "metadata": draw.arg(f"{where}.metadata", METADATA),
    }
    if draw.data.draw(st.booleans(), label=f"{where} as a CreateMemoryRequest"):
        return CreateMemoryRequest(**fields)
    if draw.odd(f"{where} misses its document", 15):
        del fields["document"]
        draw.bad.add(f"{where}.document")
    if draw.odd(f"{where} has an unknown key", 15):
        fields["documnet_type"] = "email"  # a misspelt key is refused, not dropped
        draw.bad.add(f"{where}.documnet_type")
    return {k: v for k, v in fields.items() if v is not None or k == "document"}


def _batch(
    draw: Draw, name: str, entry: Callable[[Draw, int], Any], largest: int, most: int | None
) -> Any:
    """A list (or tuple) of up to `largest` entries; empty or past `most` makes `name` bad."""
    sizes = [st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(6, largest)]
    if not draw.clean:
        sizes.append(st.just(0))
        if most is not None:
            sizes.append(st.integers(most + 1, most + 3))
    size = draw.data.draw(st.one_of(sizes), label="size")
    if size == 0 or (most is not None and size > most):
        draw.bad.add(name)  # empty, or more than a call may carry
    if draw.odd(f"{name} is odd", 15):
        draw.bad.add(name)
        return draw.data.draw(
            ANYTHING.filter(lambda v: not isinstance(v, list | tuple)), label=name
        )
    # Eight drawn entries at most; the rest of a long batch are plain valid ones (cheap to
    # make: what a long batch tests is its length).
    items = [entry(draw, i) if i < 8 else _plain(name, i) for i in range(size)]
    return tuple(items) if draw.data.draw(st.booleans(), label=f"{name} as a tuple") else items


def _plain(name: str, index: int) -> dict[str, Any]:
    if name == "messages":
        conversation = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"
        return {"conversation_id": conversation, "role": "user", "content": f"plain {index}"}
    return {"document": f"plain {index}", "mode": "fast"}


# --- the checks --------------------------------------------------------------------------------


def _blamed(error: InvalidInputError, container: str) -> str:
    """The name (as in `Draw.bad`) of what the error blames."""
    if error.index is None:
        return str(error.field)
    entry = f"{container}[{error.index}]"
    return entry if error.field is None else f"{entry}.{error.field}"


def _check_refusal(error: InvalidInputError, draw: Draw, container: str) -> None:
    """A refused call names something that was drawn invalid, in its message too."""
    blamed = _blamed(error, container)
    entry = blamed.split(".", 1)[0]
    assert blamed in draw.bad or entry in draw.bad, (blamed, draw.bad, str(error))
    if error.field is not None:
        assert error.field in str(error), str(error)
    if error.index is not None:
        assert f"{container}[{error.index}]" in str(error), str(error)


def _call(facade: Facade, method: str, arguments: dict[str, Any]) -> tuple[Any, int]:
    """(result or the SynapError raised, requests sent). Any other exception fails the test."""
    before = facade.tally.requests
    try:
        outcome: Any = facade.call(method, **arguments)
    except SynapError as error:
        outcome = error
    return outcome, facade.tally.requests - before


def _tested(outcome: Any, sent: int) -> None:
    # Shown by `pytest --hypothesis-show-statistics`: the mix of outcomes actually tested.
    event("succeeded" if not isinstance(outcome, SynapError) else type(outcome).__name__)
    event(f"requests sent: {sent}")


def _check_sent_error(error: SynapError, draw: Draw, sent: int) -> None:
    """An error after sending: only the server's size limit or a reused key of the caller's."""
    assert sent == 1, (sent, repr(error))
    if isinstance(error, PayloadTooLargeError):
        assert draw.huge
        assert error.status_code == 413
        assert "body" in str(error)
    elif isinstance(error, ConflictError):
        assert "idempotency_key" in draw.bad  # an odd but valid key, reused with another body
    elif isinstance(error, NetworkTimeoutError):
        assert "timeout" in draw.bad  # an odd but valid timeout, too short to be met
    else:
        pytest.fail(f"the SDK sent a call the server refused: {error!r} (drawn bad: {draw.bad})")


# --- the fixtures: one B2C server, one client per facade ---------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(tmp_path_factory.mktemp("properties") / "synap.db", tenancy="b2c") as s:
        yield s


@pytest.fixture(scope="module", params=FACADES)
def facade(request: pytest.FixtureRequest, server: LocalServer) -> Iterator[Facade]:
    with Facade(request.param, server.url, server.api_key, max_retries=0) as f:
        yield f


# --- the properties ----------------------------------------------------------------------------


@settings(SETTINGS, max_examples=200)
@given(data=st.data())
def test_record_message_succeeds_or_refuses_naming_the_field(
    facade: Facade, data: st.DataObject
) -> None:
    draw = Draw(data)
    arguments = {
        "conversation_id": draw.arg(
            "conversation_id", CONVERSATION_ID, ANYTHING | ODD_CONVERSATION_IDS
        ),
        "role": draw.arg("role", ROLE, ANYTHING | st.sampled_from(["User", "system", " user"])),
        "content": draw.arg("content", CONTENT),
        "user_id": draw.arg("user_id", USER_ID, ANYTHING | st.sampled_from(["", "  "])),
        "customer_id": draw.arg("customer_id", OPTIONAL_TEXT),
        "session_id": draw.arg("session_id", OPTIONAL_TEXT),
        "metadata": draw.arg("metadata", METADATA),
        **draw.options(),
    }
    outcome, sent = _call(facade, "conversation.record_message", arguments)
    _tested(outcome, sent)
    if isinstance(outcome, InvalidInputError) and sent == 0:
        _check_refusal(outcome, draw, "messages")
    elif isinstance(outcome, SynapError):
        _check_sent_error(outcome, draw, sent)
    else:
        assert sent == 1
        assert set(outcome) >= {"message_id", "conversation_id", "session_id", "recorded_at"}
        assert outcome["conversation_id"] == str(arguments["conversation_id"]).lower()


@SETTINGS
@given(data=st.data())
def test_record_messages_batch_succeeds_or_refuses_naming_the_entry(
    facade: Facade, data: st.DataObject
) -> None:
    draw = Draw(data)
    messages = _batch(draw, "messages", _message_entry, largest=120, most=None)
    arguments = {"messages": messages, **draw.options()}
    outcome, sent = _call(facade, "conversation.record_messages_batch", arguments)
    _tested(outcome, sent)
    if isinstance(outcome, InvalidInputError) and sent == 0:
        _check_refusal(outcome, draw, "messages")
    elif isinstance(outcome, SynapError):
        _check_sent_error(outcome, draw, sent)
    else:
        assert sent == 1
        # Every entry the SDK let through was stored: the client refuses what the server would.
        assert (outcome["total"], outcome["succeeded"], outcome["failed"]) == (
            len(messages),
            len(messages),
            0,
        )
        assert all("message_id" in r for r in outcome["results"])


@SETTINGS
@given(data=st.data())
def test_batch_create_succeeds_reports_or_refuses_naming_the_document(
    facade: Facade, data: st.DataObject
) -> None:
    draw = Draw(data)
    documents = _batch(draw, "documents", _document, largest=100, most=100)
    fail_fast = draw.arg("fail_fast", st.booleans())
    arguments = {"documents": documents, "fail_fast": fail_fast, **draw.options()}
    outcome, sent = _call(facade, "memories.batch_create", arguments)
    _tested(outcome, sent)
    if isinstance(outcome, InvalidInputError) and sent == 0:
        _check_refusal(outcome, draw, "documents")
        return
    if isinstance(outcome, SynapError):
        _check_sent_error(outcome, draw, sent)
        return
    assert isinstance(outcome, synap.BatchCreateResponse)
    results = outcome.results
    assert outcome.total == len(results) == len(documents)
    assert outcome.succeeded + outcome.failed == outcome.total
    assert sent == (1 if outcome.succeeded else 0)
    for index, result in enumerate(results):
        if result.error_message is None:
            assert result.status == synap.IngestionStatus.QUEUED
            continue
        # Refused locally (never sent), at its position, naming the document and the field.
        assert result.ingestion_id is None, result
        assert f"documents[{index}]" in result.error_message
        assert any(b.startswith(f"documents[{index}]") for b in draw.bad), (result, draw.bad)


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        (
            "conversation.record_message",
            {"conversation_id": str(uuid.uuid4()), "role": "user", "user_id": "u"},
        ),
        ("conversation.record_messages_batch", {}),
        ("memories.batch_create", {}),
    ],
)
def test_a_body_past_the_servers_limit_is_payload_too_large_and_stores_nothing(
    tmp_path: Any, method: str, arguments: dict[str, Any]
) -> None:
    """The one refusal that needs a request: the server's own size limit (no document states
    one). It comes back as `PayloadTooLargeError` and nothing is stored."""
    big = "x" * 70_000
    if method == "conversation.record_message":
        arguments = {**arguments, "content": big}
    elif method == "conversation.record_messages_batch":
        entry = {"conversation_id": str(uuid.uuid4()), "role": "user", "content": big}
        arguments = {"messages": [entry]}
    else:
        arguments = {"documents": [{"document": big}]}
    with LocalServer(tmp_path / "synap.db", tenancy="b2c", max_body_bytes=65536) as server:
        for kind in FACADES:
            with Facade(kind, server.url, server.api_key) as facade:
                outcome, sent = _call(facade, method, arguments)
            assert isinstance(outcome, PayloadTooLargeError), repr(outcome)
            assert (outcome.status_code, sent) == (413, 1)  # refused at once, never retried
        assert server.store is not None
        assert server.store.counts() == dict.fromkeys(
            ("conversations", "messages", "documents", "idempotency_keys"), 0
        )


def test_the_strategies_reach_every_kind_of_value() -> None:
    """A guard on the generators above: they do produce the odd values they promise."""
    seen: set[str] = set()

    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(ANYTHING)
    def look(value: Any) -> None:
        if isinstance(value, float) and math.isnan(value):
            seen.add("nan")
        if isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            seen.add("surrogate")
        if isinstance(value, str) and len(value) > 100_000:
            seen.add("huge")
        if isinstance(value, list | dict) and _depth(value) > 32:
            seen.add("deep")
        if isinstance(value, int) and value > 10**4000:
            seen.add("big int")

    look()
    assert seen == {"nan", "surrogate", "huge", "deep", "big int"}


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= 100:  # bounded: cyclic values are drawn too
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
    return deepest
