"""The SDK's fast requests (a performance path) put the same bytes on the wire as the
generated models they skip: same keys, same values, same order."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synap_api.models import RecordMessageRequest, RecordMessagesBatchRequest
from synap_spec import SCHEMAS

from synap import SynapValidationError, _validation, _wire

# The spec's optional entry keys (from the generated facts) and some it does not name.
OPTIONAL_KEYS = [p.name for p in SCHEMAS["BatchMessage"].properties if not p.required] + [
    "timestamp",
    "a",
    "zz",
]
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
)
value = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    """A batch entry with its keys in any order, some optional ones None or absent."""
    entry: dict[str, Any] = draw(st.dictionaries(st.sampled_from(OPTIONAL_KEYS), value, max_size=5))
    entry["conversation_id"] = draw(
        st.sampled_from([str(uuid.UUID(int=7)), str(uuid.UUID(int=7)).upper()])
    )
    entry["role"] = draw(st.sampled_from(["user", "assistant"]))
    entry["content"] = draw(st.text(max_size=3))
    order = draw(st.permutations(list(entry)))
    return {key: entry[key] for key in order}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(entries(), min_size=1, max_size=4))
def test_the_checked_request_is_what_the_generated_models_would_send(
    batch: list[dict[str, Any]],
) -> None:
    try:
        checked = _validation.batch_messages(batch)
    except SynapValidationError:
        return
    fast = _wire.record_messages_batch_request(checked)
    generated = RecordMessagesBatchRequest.from_dict({"messages": checked})
    assert isinstance(fast, RecordMessagesBatchRequest)
    assert json.dumps(fast.to_dict()) == json.dumps(generated.to_dict())


def test_checked_entries_are_not_checked_twice_but_others_are() -> None:
    good = {"conversation_id": str(uuid.uuid4()), "role": "user", "content": "hi"}
    checked = _validation.batch_message(good, 0)
    assert _validation.batch_messages([checked])[0] is checked
    again = _validation.batch_messages([dict(checked)])[0]
    assert again == checked
    assert again is not checked


optional_text = st.one_of(st.none(), st.text(max_size=3))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    role=st.sampled_from(["user", "assistant"]),
    content=st.text(max_size=4),
    user_id=st.text(min_size=1, max_size=3),
    customer_id=optional_text,
    session_id=optional_text,
    metadata=st.one_of(st.none(), st.dictionaries(st.text(max_size=3), value, max_size=3)),
)
def test_the_checked_record_message_request_is_what_the_generated_model_would_send(
    role: str,
    content: str,
    user_id: str,
    customer_id: str | None,
    session_id: str | None,
    metadata: dict[str, Any] | None,
) -> None:
    try:
        body = _validation.record_message_body(
            str(uuid.UUID(int=9)), role, content, user_id, customer_id, session_id, metadata
        )
    except SynapValidationError:
        return
    fast = _wire.record_message_request(body)
    assert isinstance(fast, RecordMessageRequest)
    assert json.dumps(fast.to_dict()) == json.dumps(RecordMessageRequest.from_dict(body).to_dict())
