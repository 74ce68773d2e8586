"""Spec-driven parity: every operation, request property and response property of the spec has
its place in the hand-written layer, and a failure names the one edit to make.

The operations and properties come from the generated facts (`synap_spec`), so after a spec
change and `scripts/generate.py` these tests list exactly what the SDK lacks: a facade method
for a new operation, a `record_message` parameter for a new request field (the one hand edit
an additive field needs: batch entries and documents carry it with no edit), an attribute of a
response class. Options of the SDK (`timeout`, `idempotency_key`, `correlation_id`,
`extra_headers`, ...) are keyword-only parameters that are not spec properties; they are
allowed, and must match between the blocking and the async twin like everything else.
"""

from __future__ import annotations

import copy
import inspect
import json
import typing
import uuid
from pathlib import Path
from typing import Any, get_args, get_origin, is_typeddict

import attrs
import httpx
import pytest
from synap_spec import ENUMS, OPERATIONS, SCHEMAS, Property

import synap
from synap.memories.models import CreateMemoryRequest
from synap.server import LocalServer
from synap.server.operations import Caller, Service
from synap.server.schema import SpecValidator, load_spec
from synap.server.store import Store

FACADES = {
    "Synap": synap.Synap,
    "AsyncSynap": synap.AsyncSynap,
    "MaximemSynapSDK": synap.MaximemSynapSDK,
}
TWIN_FILES = {"conversation": "synap/conversation.py", "memories": "synap/memories/__init__.py"}


def _client(facade: type[Any]) -> Any:
    return facade(api_key="synap_parity", base_url="http://127.0.0.1:9")


def method_of(facade: type[Any], operation_id: str) -> Any:
    """The facade's method for an operation: `client.<tag>.<operationId>` (None if absent)."""
    op = OPERATIONS[operation_id]
    client = _client(facade)
    try:
        return getattr(getattr(client, op.tag, None), operation_id, None)
    finally:
        if facade is synap.Synap:
            client.close()


def _where(operation_id: str) -> str:
    op = OPERATIONS[operation_id]
    return TWIN_FILES.get(op.tag, f"a new synap/{op.tag}.py (client.{op.tag})")


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
@pytest.mark.parametrize("facade", list(FACADES))
def test_every_operation_has_a_method_on_every_facade(facade: str, operation_id: str) -> None:
    op = OPERATIONS[operation_id]
    method = method_of(FACADES[facade], operation_id)
    assert method is not None, (
        f"{facade} lacks {op.tag}.{operation_id} for the spec's operation {operation_id} "
        f"({op.method} {op.path}): add it (blocking and async twins) in {_where(operation_id)}, "
        "with an Endpoint in synap/_wire.py"
    )


def _request_properties(operation_id: str) -> tuple[Property, ...]:
    request = OPERATIONS[operation_id].request
    return SCHEMAS[request].properties if request in SCHEMAS else ()


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
@pytest.mark.parametrize("facade", list(FACADES))
def test_every_request_property_is_a_parameter(facade: str, operation_id: str) -> None:
    method = method_of(FACADES[facade], operation_id)
    if method is None:
        pytest.skip("no method: test_every_operation_has_a_method_on_every_facade names it")
    params = inspect.signature(method).parameters
    op = OPERATIONS[operation_id]
    missing = [p.name for p in _request_properties(operation_id) if p.name not in params]
    # Parameters before the keyword-only SDK options are the spec's properties, no others.
    spec_names = {p.name for p in _request_properties(operation_id)}
    stale = [
        name
        for name, param in params.items()
        if param.kind is not inspect.Parameter.KEYWORD_ONLY and name not in spec_names
    ]
    problems = []
    if missing:
        problems.append(
            f"lacks parameter(s) {', '.join(missing)} (spec: {op.request}): add each to "
            f"{operation_id} in {_where(operation_id)} (both twins), pass it on to the "
            "request, and document it in the docstring"
        )
    if stale:
        problems.append(
            f"has parameter(s) {', '.join(stale)} that the spec's {op.request} does not "
            f"(removed or renamed): update {operation_id} in {_where(operation_id)} (both twins)"
        )
    assert not problems, f"{facade}.{op.tag}.{operation_id} " + "; it ".join(problems)
    for prop in _request_properties(operation_id):
        param = params[prop.name]
        if prop.required:
            assert param.default is inspect.Parameter.empty, (
                f"{operation_id}: {prop.name} is required by the spec but has a default"
            )


def _signature(method: Any) -> list[tuple[str, Any, Any, str]]:
    return [
        (p.name, p.kind, p.default, str(p.annotation))
        for p in inspect.signature(method).parameters.values()
    ]


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_blocking_and_async_signatures_match(operation_id: str) -> None:
    blocking = method_of(synap.Synap, operation_id)
    if blocking is None:
        pytest.skip("no method: test_every_operation_has_a_method_on_every_facade names it")
    for facade in ("AsyncSynap", "MaximemSynapSDK"):
        twin = method_of(FACADES[facade], operation_id)
        assert twin is not None
        assert inspect.iscoroutinefunction(twin), f"{facade}.{operation_id} must be async"
        assert _signature(blocking) == _signature(twin), (
            f"Synap and {facade} disagree on {operation_id}'s parameters: make the twins in "
            f"{_where(operation_id)} take the same names, kinds, defaults and types"
        )


# -- response types ------------------------------------------------------------------------


def _keys_of(kind: Any) -> dict[str, Any] | None:
    """The keys of a response type with their types: a TypedDict's, or an attrs class's
    attributes (`extra` aside); None for anything else."""
    if is_typeddict(kind):
        return typing.get_type_hints(kind)
    if attrs.has(kind):
        hints = typing.get_type_hints(kind)
        return {f.name: hints[f.name] for f in attrs.fields(kind) if f.name != "extra"}
    return None


def _element(kind: Any) -> Any:
    """`list[X]` -> X, `NotRequired[X]` -> X, `X | None` -> X (a union of one class)."""
    while get_origin(kind) is typing.NotRequired:
        kind = get_args(kind)[0]
    if get_origin(kind) is list:
        return get_args(kind)[0]
    classes = [a for a in get_args(kind) if isinstance(a, type) and a is not type(None)]
    return classes[0] if len(classes) == 1 else kind


def _missing_response_keys(schema_name: str, kind: Any, path: str) -> list[str]:
    keys = _keys_of(kind)
    assert keys is not None, f"{path}: {kind!r} is neither a TypedDict nor an attrs class"
    missing = []
    for prop in SCHEMAS[schema_name].properties:
        if prop.name not in keys:
            missing.append(f"{path}.{prop.name}")
            continue
        nested = prop.schema or prop.items
        if nested in SCHEMAS:
            missing += _missing_response_keys(
                nested, _element(keys[prop.name]), f"{path}.{prop.name}"
            )
    return missing


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_every_response_property_is_in_the_response_type(operation_id: str) -> None:
    op = OPERATIONS[operation_id]
    method = method_of(synap.Synap, operation_id)
    if method is None or op.response is None:
        pytest.skip("no method or no response body")
    returned = typing.get_type_hints(method)["return"]
    missing = _missing_response_keys(op.response, returned, returned.__name__)
    assert not missing, (
        f"{operation_id} returns {returned.__module__}.{returned.__name__}, which lacks "
        f"{', '.join(missing)}: TypedDicts are generated (run scripts/generate.py); an attrs "
        "class in synap/memories/models.py needs the attribute added (from_dict / to_dict "
        "read every attribute)"
    )


def test_create_memory_request_has_every_document_field() -> None:
    fields = {f.name for f in attrs.fields(CreateMemoryRequest)}
    missing = [name for name in SCHEMAS["CreateMemoryRequest"].names if name not in fields]
    assert not missing, (
        f"synap.memories.models.CreateMemoryRequest lacks {', '.join(missing)} (spec: "
        "CreateMemoryRequest): add the attribute (default None) and its docstring line. "
        "Dict documents, and CreateMemoryRequest(extra={...}), carry the field already."
    )


# -- every request property reaches the wire -------------------------------------------------


def sample(prop: Property) -> Any:
    """A valid value of a property, from its facts alone."""
    if prop.enum:
        return ENUMS[prop.enum][-1]
    if prop.has_default and prop.default not in (None, {}, []):
        return prop.default
    if prop.format == "uuid":
        return str(uuid.uuid4())
    if prop.format == "date-time":
        return "2024-05-01T12:00:00Z"
    kinds = [t for t in prop.types if t != "null"] or ["string"]
    kind = kinds[0]
    if kind == "string":
        return "x" * max(prop.min_length or 1, 1)
    if kind == "object":
        return {"parity": prop.name}
    if kind == "array":
        return []
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return prop.minimum if prop.minimum is not None else 1
    raise AssertionError(f"no sample for {prop}")


@pytest.fixture(scope="module")
def server() -> Any:
    with LocalServer() as running:
        yield running


def test_every_record_message_parameter_reaches_the_wire(server: Any) -> None:
    """Each property of the single-message request, passed by name, is sent under its key:
    a parameter that exists but is not passed on to `_validation.record_message_body` fails
    here."""
    sent: list[dict[str, Any]] = []

    def capture(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    props = _request_properties("record_message")
    values = {p.name: sample(p) for p in props}
    with (
        httpx.Client(event_hooks={"request": [capture]}) as http,
        synap.Synap(api_key=server.api_key, base_url=server.url, http_client=http) as client,
    ):
        params = inspect.signature(client.conversation.record_message).parameters
        given = {k: v for k, v in values.items() if k in params}
        client.conversation.record_message(**given)
    (body,) = sent
    wrong = {k: body.get(k) for k, v in given.items() if body.get(k) != v}
    assert not wrong, (
        f"record_message sent {wrong} for {given}: pass each of these parameters on to "
        "_validation.record_message_body in synap/conversation.py (both twins)"
    )
    assert list(body) == [name for name in SCHEMAS["RecordMessageRequest"].names if name in body]


# -- the local server ------------------------------------------------------------------------


def test_the_local_server_handles_every_operation(tmp_path: Path) -> None:
    unhandled = Service(Store(tmp_path / "synap.db")).unhandled()
    assert unhandled == [], (
        f"the local server answers 501 to {', '.join(unhandled)}: add a handler "
        "(`_<operationId>` and an entry of HANDLED) in synap/server/operations.py"
    )


def test_an_operation_without_a_handler_answers_501_naming_it(tmp_path: Path) -> None:
    spec = copy.deepcopy(load_spec())
    spec["paths"]["/v1/conversations/compact"] = {
        "post": {
            "operationId": "compact_conversation",
            "summary": "Compact a conversation.",
            "responses": {"200": {"description": "ok"}},
        }
    }
    service = Service(Store(tmp_path / "synap.db"), validator=SpecValidator(spec))
    assert service.unhandled() == ["compact_conversation"]
    reply = service.handle("compact_conversation", Caller("scope"), {})
    assert reply.status == 501
    detail = json.loads(reply.body)["detail"]
    assert "compact_conversation (POST /v1/conversations/compact)" in detail
    assert "synap/server/operations.py" in detail
    assert Store(tmp_path / "synap.db").counts()["messages"] == 0
