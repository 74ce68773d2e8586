"""`extra_headers=` on every method of both facades: merged over the SDK's headers for that
call, checked before anything is sent, and never leaking a replaced `Authorization`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import synap
from tests.sdk.conftest import CALL_IDS, CALLS, KEY, Facade, message, record_args


@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_extra_headers_go_out_beside_the_sdks_own(
    facade: Facade, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    await facade.call(
        method, *args, extra_headers={"X-Request-Source": "tests", "traceparent": "00-ab-cd-01"},
        **kwargs,
    )  # fmt: skip
    sent = facade.fake.last.headers
    assert sent["x-request-source"] == "tests"
    assert sent["traceparent"] == "00-ab-cd-01"
    assert sent["authorization"] == f"Bearer {KEY}"
    assert sent["idempotency-key"]
    assert sent["x-correlation-id"]
    await facade.call(method, *args, **kwargs)  # the next call sends none of them
    assert "x-request-source" not in facade.fake.last.headers


async def test_they_replace_the_sdks_headers_of_the_same_name(facade: Facade) -> None:
    client = facade.build(instance_id="inst_default")
    await facade.call(
        "conversation.record_message",
        client=client,
        extra_headers={"user-agent": "my-agent/2", "X-Instance-ID": "inst_other"},
        **record_args(),
    )
    sent = facade.fake.last.headers
    assert sent.get_list("user-agent") == ["my-agent/2"]
    assert sent.get_list("x-instance-id") == ["inst_other"]


async def test_they_are_sent_on_every_retry(facade: Facade) -> None:
    facade.fake.then(httpx.Response(503), httpx.Response(502))
    await facade.call(
        "conversation.record_messages_batch", [message()], extra_headers={"X-Tenant": "t1"}
    )
    assert [r.headers["x-tenant"] for r in facade.fake.requests] == ["t1"] * 3


async def test_an_authorization_of_the_call_replaces_the_key_and_stays_out_of_errors(
    facade: Facade,
) -> None:
    other = "synap_other_tenant_0123456789abcdef"
    facade.fake.then(httpx.Response(401, json={"detail": f"Invalid token Bearer {other}"}))
    with pytest.raises(synap.AuthenticationError) as caught:
        await facade.call(
            "conversation.record_message",
            extra_headers={"Authorization": f"Bearer {other}"},
            **record_args(),
        )
    assert facade.fake.last.headers.get_list("authorization") == [f"Bearer {other}"]
    error = caught.value
    shown = " ".join([str(error), repr(error), str(error.detail), str(error.body)])
    assert other not in shown
    assert KEY not in shown


async def test_idempotency_key_and_correlation_id_headers_are_the_arguments(
    facade: Facade,
) -> None:
    headers = {"idempotency-key": "job-7-turn-3", "X-Correlation-ID": "trace-9"}
    facade.fake.then(httpx.Response(503), httpx.Response(503), httpx.Response(503))
    with pytest.raises(synap.ServiceUnavailableError) as caught:
        await facade.call("conversation.record_message", extra_headers=headers, **record_args())
    assert {r.headers["idempotency-key"] for r in facade.fake.requests} == {"job-7-turn-3"}
    assert {r.headers["x-correlation-id"] for r in facade.fake.requests} == {"trace-9"}
    assert facade.fake.requests[0].headers.get_list("idempotency-key") == ["job-7-turn-3"]
    assert (caught.value.idempotency_key, caught.value.correlation_id) == (
        "job-7-turn-3",
        "trace-9",
    )
    # Both spellings with one value is fine; with two values it is refused, nothing sent.
    await facade.call(
        "conversation.record_message", extra_headers=headers, idempotency_key="job-7-turn-3",
        **record_args(),
    )  # fmt: skip
    sent = len(facade.fake.requests)
    with pytest.raises(synap.InvalidInputError, match="disagree") as refused:
        await facade.call(
            "conversation.record_message", extra_headers=headers, idempotency_key="other",
            **record_args(),
        )  # fmt: skip
    assert refused.value.field == "extra_headers"
    assert len(facade.fake.requests) == sent


BAD: dict[str, Any] = {
    "not-a-mapping": [("X-A", "1")],
    "empty-name": {"": "1"},
    "space-in-name": {"X Bad": "1"},
    "colon-in-name": {"X-A:": "1"},
    "non-str-name": {1: "1"},
    "crlf-injection": {"X-A": "1\r\nX-Injected: yes"},
    "nul": {"X-A": "a\x00b"},
    "non-ascii": {"X-A": "café"},
    "non-str-value": {"X-A": 1},
    "none-value": {"X-A": None},
    "same-name-twice": {"X-A": "1", "x-a": "2"},
    "content-length": {"Content-Length": "3"},
    "host": {"Host": "elsewhere.test"},
    "transfer-encoding": {"Transfer-Encoding": "chunked"},
    "bad-idempotency-key": {"Idempotency-Key": "has spaces in it"},
}


@pytest.mark.parametrize("headers", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_bad_extra_headers_are_refused_before_sending(
    facade: Facade, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], headers: Any
) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        await facade.call(method, *args, extra_headers=headers, **kwargs)
    assert caught.value.field == "extra_headers"
    assert caught.value.idempotency_key is None
    assert facade.fake.requests == []


async def test_a_batch_with_nothing_to_send_still_checks_them(facade: Facade) -> None:
    with pytest.raises(synap.InvalidInputError, match="header name"):
        await facade.call(
            "memories.batch_create", [{"documnet": "typo"}], extra_headers={"X Bad": "1"}
        )
    result = await facade.call(
        "memories.batch_create", [{"documnet": "typo"}], extra_headers={"X-Ok": "1"}
    )
    assert (result.succeeded, result.failed) == (0, 1)
    assert facade.fake.requests == []


@pytest.mark.parametrize(
    ("method", "items"),
    [
        ("conversation.record_messages_bulk", [message(content=f"m{i}") for i in range(5)]),
        ("memories.bulk_create", [{"document": f"d{i}"} for i in range(5)]),
    ],
    ids=["record_messages_bulk", "bulk_create"],
)
async def test_bulk_jobs_send_them_on_every_call(
    facade: Facade, method: str, items: list[dict[str, Any]]
) -> None:
    summary = await facade.call(method, items, chunk_size=2, extra_headers={"X-Job": "backfill"})
    assert (summary.succeeded, summary.calls) == (5, 3)
    assert [r.headers["x-job"] for r in facade.fake.requests] == ["backfill"] * 3
    assert len({r.headers["idempotency-key"] for r in facade.fake.requests}) == 3
    with pytest.raises(synap.InvalidInputError, match="its own Idempotency-Key") as caught:
        await facade.call(method, items, extra_headers={"Idempotency-Key": "one-for-all"})
    assert caught.value.field == "extra_headers"
    with pytest.raises(synap.InvalidInputError, match="header name"):
        await facade.call(method, items, extra_headers={"X Bad": "1"})
    assert len(facade.fake.requests) == 3
