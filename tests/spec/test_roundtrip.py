"""The generated models carry every documented payload through from_dict/to_dict unchanged."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import synap_api.models as models
from synap_spec import OPERATIONS

from tests.spec._spec import examples

EXAMPLES = list(examples())


def model_for(schema_name: str) -> Any:
    return getattr(models, schema_name)


def test_the_spec_has_examples_for_every_operation_and_outcome() -> None:
    wheres = [where for where, _, _ in EXAMPLES]
    for op in OPERATIONS.values():
        path = f"{op.path} "
        assert any(path + "request" in w for w in wheres), (
            f"{op.operation_id}: add a request example"
        )
        assert any(path + "response 200" in w for w in wheres), (
            f"{op.operation_id}: add a 200 response example"
        )
    assert len(EXAMPLES) >= 2 * len(OPERATIONS)


@pytest.mark.parametrize(("where", "schema_name", "value"), EXAMPLES)
def test_example_round_trips_unchanged(where: str, schema_name: str, value: Any) -> None:
    original = copy.deepcopy(value)
    parsed = model_for(schema_name).from_dict(value)
    assert parsed.to_dict() == original, where
    # And as bytes: what the SDK would send is what the docs show.
    assert json.dumps(parsed.to_dict(), sort_keys=True) == json.dumps(original, sort_keys=True)
    assert value == original, "from_dict must not modify its input"


@pytest.mark.parametrize(
    ("where", "schema_name", "value"),
    [e for e in EXAMPLES if " response " in e[0]],
)
def test_unknown_response_keys_are_kept(where: str, schema_name: str, value: Any) -> None:
    extended = {**copy.deepcopy(value), "added_by_a_newer_server": {"nested": [1, 2]}}
    if isinstance(extended.get("results"), list):
        extended["results"] = [{**r, "trace": "abc"} for r in extended["results"]]
    parsed = model_for(schema_name).from_dict(extended)
    assert parsed.additional_properties["added_by_a_newer_server"] == {"nested": [1, 2]}
    assert parsed.to_dict() == extended, where


def test_parsed_values_are_typed() -> None:
    from datetime import UTC, datetime
    from uuid import UUID

    value = next(v for w, s, v in EXAMPLES if s == "BatchCreateResponse")
    batch = models.BatchCreateResponse.from_dict(value)
    assert isinstance(batch.batch_id, UUID)
    first = batch.results[0]
    assert first.status is models.IngestionStatus.QUEUED
    assert first.queued_at == datetime(2026, 11, 21, 23, 32, 19, 874191, tzinfo=UTC)
    assert first.error_message is None


def test_documents_may_be_text_or_objects() -> None:
    text = models.CreateMemoryRequest.from_dict({"document": "plain"})
    obj = models.CreateMemoryRequest.from_dict({"document": {"a": [1, {"b": None}]}})
    assert text.document == "plain"
    assert obj.to_dict() == {"document": {"a": [1, {"b": None}]}}
