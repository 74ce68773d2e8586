"""`with_raw_response` on the three methods of both facades: the final answer's status,
headers and bytes beside the parsed result, and the call's ids. Exact headers are the point,
so the scripted MockTransport stand-in; `test_keys_live.py` runs it against the local server."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import synap
from synap.memories.models import BatchCreateResponse
from tests.sdk.conftest import CALL_IDS, CALLS, Facade, answer_like_the_service, record_args


def with_header(request: httpx.Request) -> httpx.Response:
    answer = answer_like_the_service(request)
    return httpx.Response(
        200,
        content=answer.content,
        headers={"X-Request-Id": "req_1", "Idempotent-Replayed": "true", "X-RateLimit": "9"},
    )


@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_status_headers_body_ids_and_the_parsed_result(
    facade: Facade, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    facade.fake.then(with_header)
    raw = await facade.call(method.replace(".", ".with_raw_response."), *args, **kwargs)
    assert isinstance(raw, synap.RawResponse)
    sent = facade.fake.last
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "req_1"  # case-insensitive
    assert raw.headers["X-RATELIMIT"] == "9"
    assert raw.replayed is True
    assert raw.idempotency_key == sent.headers["idempotency-key"]
    assert raw.correlation_id == sent.headers["x-correlation-id"]
    assert raw.retries_taken == 0
    assert raw.json() == json.loads(raw.content) == json.loads(raw.text)
    parsed = raw.parse()
    plain = await facade.call(method, *args, **kwargs)  # the same call without the wrapper
    assert type(parsed) is type(plain)
    if isinstance(parsed, BatchCreateResponse):
        assert parsed.batch_id == raw.json()["batch_id"]
    else:
        assert parsed == raw.json()
    assert repr(raw).startswith("<RawResponse [200] replayed=True idempotency_key=")


async def test_an_answer_after_retries_says_how_many(facade: Facade) -> None:
    facade.fake.then(httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0"}))
    raw = await facade.call(
        "conversation.with_raw_response.record_message", idempotency_key="k-9", **record_args()
    )
    assert (raw.status_code, raw.retries_taken, raw.idempotency_key) == (200, 2, "k-9")
    assert raw.replayed is False
    assert {r.headers["idempotency-key"] for r in facade.fake.requests} == {"k-9"}


async def test_arguments_and_errors_are_the_methods_own(facade: Facade) -> None:
    with pytest.raises(synap.InvalidInputError):
        await facade.call("conversation.with_raw_response.record_message", **record_args(role="x"))
    facade.fake.then(httpx.Response(409, json={"detail": "key reused"}))
    with pytest.raises(synap.ConflictError) as caught:
        await facade.call(
            "memories.with_raw_response.batch_create",
            [{"document": "x"}],
            extra_headers={"X-Trace": "t"},
        )
    assert caught.value.idempotency_key == facade.fake.last.headers["idempotency-key"]
    assert facade.fake.last.headers["x-trace"] == "t"


async def test_a_batch_with_nothing_to_send_has_no_answer(facade: Facade) -> None:
    raw = await facade.call("memories.with_raw_response.batch_create", [{"documnet": "typo"}])
    assert (raw.status_code, raw.idempotency_key, raw.correlation_id) == (None, None, None)
    assert dict(raw.headers) == {}
    assert raw.replayed is False
    assert raw.json() is None
    assert (raw.parse().succeeded, raw.parse().failed) == (0, 1)
    assert facade.fake.requests == []


async def test_the_wrappers_keep_names_and_docs_and_are_made_once(facade: Facade) -> None:
    conversation = facade.client.conversation
    raw = conversation.with_raw_response
    assert raw is conversation.with_raw_response
    assert raw.record_message.__name__ == "record_message"
    assert raw.record_message.__doc__ == conversation.record_message.__doc__
    assert facade.client.with_options(max_retries=0).conversation.with_raw_response is not raw


async def test_concurrent_async_calls_each_get_their_own_answer() -> None:
    facade = Facade("async")
    try:
        keys = [f"key-{i}" for i in range(40)]
        raw_record = facade.client.conversation.with_raw_response.record_message
        raws = await asyncio.gather(
            *(raw_record(idempotency_key=k, **record_args(content=k)) for k in keys)
        )
        assert [r.idempotency_key for r in raws] == keys
        sent = {r.headers["idempotency-key"]: json.loads(r.content) for r in facade.fake.requests}
        assert all(sent[r.idempotency_key]["content"] == r.idempotency_key for r in raws)
        message_ids = [r.parse()["message_id"] for r in raws]
        assert [r.json()["message_id"] for r in raws] == message_ids
        assert len(set(message_ids)) == 40
    finally:
        for client in facade.built:
            await facade.close(client)


def test_concurrent_threads_each_get_their_own_answer() -> None:
    facade = Facade("sync")
    client = facade.client
    try:

        def one(i: int) -> synap.RawResponse[Any]:
            return client.conversation.with_raw_response.record_message(
                idempotency_key=f"key-{i}", **record_args()
            )

        with ThreadPoolExecutor(8) as pool:
            raws = list(pool.map(one, range(40)))
        assert [r.idempotency_key for r in raws] == [f"key-{i}" for i in range(40)]
        message_ids = [r.parse()["message_id"] for r in raws]
        assert [r.json()["message_id"] for r in raws] == message_ids
        assert len(set(message_ids)) == 40
    finally:
        client.close()
