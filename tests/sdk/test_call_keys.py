"""Every `SynapError` a call raises carries the `Idempotency-Key` the call was sent under, so the
caller can repeat the call safely; `synap.new_idempotency_key()` makes a key to pass in."""

from __future__ import annotations

import pickle
import uuid
from typing import Any

import httpx
import pytest

import synap
from tests.sdk.conftest import CALL_IDS, CALLS, KEY, STATUSES, Facade, record_args


def sent_keys(facade: Facade) -> list[str]:
    return [r.headers["idempotency-key"] for r in facade.fake.requests]


@pytest.mark.parametrize(("status", "cls"), STATUSES)
@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_an_answered_error_carries_the_generated_key(
    facade: Facade,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    status: int,
    cls: type[synap.SynapError],
) -> None:
    client = facade.build(max_retries=1)
    facade.fake.then(httpx.Response(status, json={"detail": "no"}), httpx.Response(status))
    with pytest.raises(cls) as caught:
        await facade.call(method, *args, client=client, **kwargs)
    keys = sent_keys(facade)
    assert len(set(keys)) == 1  # one key, on the first try and on the retry (if any)
    assert caught.value.idempotency_key == keys[0]
    assert uuid.UUID(keys[0]).version == 4


NETWORK = [
    httpx.ConnectError("refused"),
    httpx.ReadTimeout("slow"),
    httpx.RemoteProtocolError("cut"),
    RuntimeError("a bug in a custom transport"),
]


@pytest.mark.parametrize("exc", NETWORK, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_a_failure_without_an_answer_carries_the_callers_key(
    facade: Facade, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], exc: Exception
) -> None:
    key = synap.new_idempotency_key()
    facade.fake.then(exc, exc, exc)
    with pytest.raises(synap.SynapError) as caught:
        await facade.call(method, *args, idempotency_key=key, **kwargs)
    assert caught.value.idempotency_key == key
    assert set(sent_keys(facade)) == {key}


async def test_a_closed_client_names_the_key_it_did_not_send(facade: Facade) -> None:
    http = facade.http_client()
    client = facade.build(http_client=http)
    await http.aclose() if isinstance(http, httpx.AsyncClient) else http.close()
    with pytest.raises(synap.SynapError, match="closed") as caught:
        await facade.call(
            "conversation.record_message", client=client, idempotency_key="k-1", **record_args()
        )
    assert caught.value.idempotency_key == "k-1"
    assert caught.value.correlation_id
    assert facade.fake.requests == []


@pytest.mark.parametrize("given", [None, "k-2"])
async def test_input_refused_before_sending_carries_no_key(
    facade: Facade, given: str | None
) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        await facade.call(
            "conversation.record_message", idempotency_key=given, **record_args(role="bot")
        )
    assert caught.value.idempotency_key is None  # nothing was sent under any key
    with pytest.raises(synap.InvalidInputError) as refused:
        await facade.call("conversation.record_message", idempotency_key="a b", **record_args())
    assert refused.value.field == "idempotency_key"
    assert refused.value.idempotency_key is None
    assert facade.fake.requests == []


async def test_retrying_with_the_errors_key_sends_the_same_key(facade: Facade) -> None:
    facade.fake.then(httpx.Response(503), httpx.Response(503), httpx.Response(503))
    with pytest.raises(synap.ServiceUnavailableError) as caught:
        await facade.call("conversation.record_message", **record_args())
    result = await facade.call(
        "conversation.record_message", idempotency_key=caught.value.idempotency_key, **record_args()
    )
    assert result["conversation_id"]
    assert len(set(sent_keys(facade))) == 1
    assert len(facade.fake.requests) == 4


def test_the_key_shows_in_repr_and_survives_pickling() -> None:
    error = synap.RateLimitError(
        "slow down", status_code=429, correlation_id="c-1", idempotency_key="k-3"
    )
    assert repr(error) == (
        "RateLimitError('slow down', status_code=429, correlation_id='c-1', idempotency_key='k-3')"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.idempotency_key, copy.correlation_id) == (
        synap.RateLimitError,
        "k-3",
        "c-1",
    )
    assert synap.SynapError("x").idempotency_key is None


async def test_an_error_repr_shows_the_key_but_never_the_api_key(facade: Facade) -> None:
    facade.fake.then(httpx.Response(401, json={"detail": f"bad token Bearer {KEY}"}))
    with pytest.raises(synap.AuthenticationError) as caught:
        await facade.call("conversation.record_message", **record_args())
    text = repr(caught.value) + str(caught.value)
    assert KEY not in text
    assert f"idempotency_key='{caught.value.idempotency_key}'" in repr(caught.value)


def test_new_idempotency_key_makes_distinct_uuid4_keys_the_sdk_accepts() -> None:
    keys = {synap.new_idempotency_key() for _ in range(500)}
    assert len(keys) == 500
    for key in list(keys)[:20]:
        parsed = uuid.UUID(key)
        assert (str(parsed), parsed.version) == (key, 4)
    assert "new_idempotency_key" in synap.__all__


async def test_a_key_from_the_helper_is_what_goes_out(facade: Facade) -> None:
    key = synap.new_idempotency_key()
    await facade.call("conversation.record_message", idempotency_key=key, **record_args())
    assert sent_keys(facade) == [key]


async def test_a_bulk_calls_failure_carries_that_calls_key(facade: Facade) -> None:
    items = [
        {"conversation_id": str(uuid.uuid4()), "role": "user", "content": f"m{i}"} for i in range(4)
    ]
    facade.fake.then(httpx.Response(400, json={"detail": "no"}))  # the first call only
    summary = await facade.call(
        "conversation.record_messages_bulk", items, chunk_size=2, concurrency=1
    )
    assert (summary.succeeded, summary.failed) == (2, 2)
    first_key = facade.fake.requests[0].headers["idempotency-key"]
    errors = {f.error for f in summary.failures}
    assert [e.idempotency_key for e in errors if isinstance(e, synap.SynapError)] == [first_key]
