"""The spec itself: valid OpenAPI 3.1, and saying what wire.md and the docs say.

The tables here are deliberate pins: they restate the vendor docs and wire.md (the real
service), not the spec, so that an edit of the spec that drifts from the service is noticed.
When the service really changed, each failure says what to update besides the spec.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator

from tests.spec._spec import examples, load_spec, resolve

# The real service's endpoints (wire.md "Endpoints"); the prefixes really differ.
OPERATIONS = {
    ("post", "/v1/conversations/messages"): ("record_message", "conversation"),
    ("post", "/v1/conversations/messages/batch"): ("record_messages_batch", "conversation"),
    ("post", "/api/v1/memories/batch"): ("batch_create", "memories"),
}
ERROR_STATUSES = {"400", "401", "402", "403", "404", "409", "413", "422", "429"}


def test_spec_is_valid_openapi_3_1() -> None:
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    errors = list(OpenAPIV31SpecValidator(spec).iter_errors())
    assert errors == []


def test_the_validator_rejects_a_broken_spec() -> None:
    # The check above can fail: a response without a description is invalid 3.1.
    spec = load_spec()
    broken = {**spec, "paths": {"/x": {"post": {"responses": {"200": {}}}}}}
    assert list(OpenAPIV31SpecValidator(broken).iter_errors())


def test_exactly_the_three_operations_on_their_real_paths() -> None:
    spec = load_spec()
    found = {
        (method, path): (op["operationId"], op["tags"][0])
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert found == OPERATIONS, (
        "the spec's operations are not wire.md's: if the service really changed, update "
        "OPERATIONS here and wire.md; tests/spec/test_parity.py then names the facade methods "
        "and server handlers to add"
    )


@pytest.mark.parametrize(("method", "path"), list(OPERATIONS))
def test_every_operation_declares_headers_auth_and_errors(method: str, path: str) -> None:
    op = load_spec()["paths"][path][method]
    headers = {resolve(p)["name"]: resolve(p) for p in op["parameters"]}
    assert set(headers) == {"Idempotency-Key", "X-Correlation-ID"}
    assert all(h["in"] == "header" and h["required"] is False for h in headers.values())
    assert load_spec()["security"] == [{"bearerAuth": []}]
    codes = set(op["responses"])
    assert "200" in codes
    assert codes >= ERROR_STATUSES
    assert {"500", "502", "503", "504"} <= codes
    for code in codes - {"200"}:
        schema = resolve(op["responses"][code])["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/HTTPError"}
    assert "Retry-After" in resolve(op["responses"]["429"])["headers"]


# What the vendor docs and wire.md say of the schemas: (schema, JSON pointer) -> value.
DOCS = {
    ("Role", "enum"): ["user", "assistant"],
    ("DocumentType", "enum"): [
        "ai-chat-conversation",
        "document",
        "email",
        "pdf",
        "image",
        "audio",
        "meeting-transcript",
    ],
    ("MemoryMode", "enum"): ["fast", "long-range"],
    ("IngestionStatus", "enum"): ["queued", "processing", "completed", "failed", "partial_success"],
    ("BatchCreateRequest", "properties/documents/minItems"): 1,
    ("BatchCreateRequest", "properties/documents/maxItems"): 100,
    ("CreateMemoryRequest", "properties/document_type/default"): "ai-chat-conversation",
    ("CreateMemoryRequest", "properties/mode/default"): "long-range",
    ("CreateMemoryRequest", "properties/customer_id/type"): ["string", "null"],  # 3.1 nullable
    ("RecordMessageRequest", "required"): ["conversation_id", "role", "content", "user_id"],
    ("BatchMessage", "required"): ["conversation_id", "role", "content"],
    ("RecordMessageResponse", "additionalProperties"): True,
    ("BatchCreateResponse", "additionalProperties"): True,
    ("CreateMemoryResponse", "additionalProperties"): True,
}


@pytest.mark.parametrize(("schema", "pointer"), list(DOCS))
def test_schema_details_from_the_docs(schema: str, pointer: str) -> None:
    node: Any = load_spec()["components"]["schemas"][schema]
    for part in pointer.split("/"):
        node = node[part]
    expected = DOCS[(schema, pointer)]
    if pointer == "enum":
        # A value the service adds is compatible and flows through with no edit; one of the
        # docs' values missing is not.
        node = [value for value in node if value in expected]
    assert node == expected, (
        f"openapi/synap.yaml says {schema}/{pointer} = {node!r}, the vendor docs {expected!r}: "
        "if the service really changed, update DOCS in tests/spec/test_spec.py (and wire.md); "
        "the SDK, the local server and the CLI follow the spec after scripts/generate.py"
    )


def _validator(schema_name: str) -> jsonschema.protocols.Validator:
    spec = load_spec()
    # The spec's components as one JSON Schema 2020-12 document, so $refs resolve.
    root = {"$defs": spec["components"]["schemas"], "$ref": f"#/$defs/{schema_name}"}
    text = yaml.safe_dump(root).replace("#/components/schemas/", "#/$defs/")
    return jsonschema.Draft202012Validator(
        yaml.safe_load(text), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.mark.parametrize(("where", "schema_name", "value"), list(examples()))
def test_every_example_satisfies_its_schema(where: str, schema_name: str, value: object) -> None:
    errors = [e.message for e in _validator(schema_name).iter_errors(value)]
    assert errors == [], where


def test_the_schemas_reject_what_the_docs_forbid() -> None:
    doc = {"document": "x"}
    assert not _validator("BatchCreateRequest").is_valid({"documents": [doc] * 101})
    assert not _validator("BatchCreateRequest").is_valid({"documents": []})
    assert _validator("BatchCreateRequest").is_valid({"documents": [doc] * 100})
    message = {"conversation_id": "not-a-uuid", "role": "user", "content": "hi", "user_id": "u"}
    assert not _validator("RecordMessageRequest").is_valid(message)
    message["conversation_id"] = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"
    assert _validator("RecordMessageRequest").is_valid(message)
    assert not _validator("RecordMessageRequest").is_valid({**message, "role": "User"})
    assert not _validator("CreateMemoryRequest").is_valid({"document": "x", "mode": "slow"})
