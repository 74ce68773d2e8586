"""Retries: which failures, how long between, and the same Idempotency-Key and
X-Correlation-ID on every attempt of one call. No test sleeps: the waits are recorded."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

import synap
from synap import _retry
from synap._errors import error_from_response
from tests.sdk.conftest import CALL_IDS, CALLS, Facade, record_args

RETRIED = [408, 429, 500, 502, 503, 504]
NOT_RETRIED = [400, 401, 402, 403, 404, 409, 413, 422, 501, 520]


def status(code: int, **headers: str) -> httpx.Response:
    return httpx.Response(code, json={"detail": f"status {code}"}, headers=headers)


@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_every_attempt_carries_the_same_key_and_correlation_id(
    facade: Facade, method: str, args: tuple, kwargs: dict, sleeps: list[float]
) -> None:
    facade.fake.then(status(503), httpx.ConnectError("refused"))
    await facade.call(method, *args, **kwargs)
    assert len(facade.fake.requests) == 3
    keys = {r.headers["idempotency-key"] for r in facade.fake.requests}
    correlation_ids = {r.headers["x-correlation-id"] for r in facade.fake.requests}
    assert len(keys) == 1
    assert len(correlation_ids) == 1
    assert len({r.content for r in facade.fake.requests}) == 1  # the same body, byte for byte
    assert len(sleeps) == 2


async def test_a_callers_key_and_correlation_id_are_reused_on_retries(facade: Facade) -> None:
    facade.fake.then(status(500), status(502))
    await facade.call(
        "conversation.record_message",
        **record_args(),
        idempotency_key="import-7-line-12",
        correlation_id="job-7",
    )
    assert [r.headers["idempotency-key"] for r in facade.fake.requests] == ["import-7-line-12"] * 3
    assert [r.headers["x-correlation-id"] for r in facade.fake.requests] == ["job-7"] * 3


async def test_separate_calls_get_separate_keys(facade: Facade) -> None:
    for _ in range(3):
        await facade.call("conversation.record_message", **record_args())
    assert len({r.headers["idempotency-key"] for r in facade.fake.requests}) == 3
    assert len({r.headers["x-correlation-id"] for r in facade.fake.requests}) == 3


@pytest.mark.parametrize("code", RETRIED)
async def test_retried_statuses(facade: Facade, code: int, sleeps: list[float]) -> None:
    facade.fake.then(status(code))
    result = await facade.call("conversation.record_message", **record_args())
    assert result["conversation_id"] == record_args()["conversation_id"]
    assert len(facade.fake.requests) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("code", NOT_RETRIED)
async def test_statuses_that_are_not_retried(
    facade: Facade, code: int, sleeps: list[float]
) -> None:
    facade.fake.then(status(code))
    with pytest.raises(synap.SynapError) as caught:
        await facade.call("conversation.record_message", **record_args())
    assert caught.value.status_code == code
    assert len(facade.fake.requests) == 1
    assert sleeps == []


async def test_backoff_is_exponential_with_jitter_and_capped(
    facade: Facade, sleeps: list[float]
) -> None:
    client = facade.build(max_retries=6)
    facade.fake.then(*[status(503)] * 7)
    with pytest.raises(synap.ServiceUnavailableError):
        await facade.call("conversation.record_message", client=client, **record_args())
    assert len(facade.fake.requests) == 7
    ceilings = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(sleeps) == len(ceilings)
    for slept, ceiling in zip(sleeps, ceilings, strict=True):
        assert 0.75 * ceiling <= slept <= ceiling


async def test_the_last_error_is_raised_when_retries_run_out(facade: Facade) -> None:
    facade.fake.then(status(500), status(502), status(503))
    with pytest.raises(synap.ServiceUnavailableError) as caught:
        await facade.call("conversation.record_message", **record_args())
    assert caught.value.status_code == 503
    assert caught.value.correlation_id == facade.fake.last.headers["x-correlation-id"]


async def test_max_retries_zero_tries_once(facade: Facade, sleeps: list[float]) -> None:
    client = facade.build(max_retries=0)
    facade.fake.then(status(503))
    with pytest.raises(synap.ServiceUnavailableError):
        await facade.call("conversation.record_message", client=client, **record_args())
    assert len(facade.fake.requests) == 1
    assert sleeps == []


async def test_with_options_changes_retries_for_the_copy_only(facade: Facade) -> None:
    impatient = facade.client.with_options(max_retries=0)
    facade.fake.then(status(503))
    with pytest.raises(synap.ServiceUnavailableError):
        await facade.call("conversation.record_message", client=impatient, **record_args())
    facade.fake.then(status(503))
    await facade.call("conversation.record_message", **record_args())  # the original retries
    assert len(facade.fake.requests) == 3
    assert (impatient.max_retries, facade.client.max_retries) == (0, 2)


async def test_retry_after_in_seconds_is_honoured(facade: Facade, sleeps: list[float]) -> None:
    facade.fake.then(status(429, **{"Retry-After": "3"}), status(503, **{"Retry-After": "0"}))
    await facade.call("conversation.record_message", **record_args())
    assert sleeps == [3.0, 0.0]


async def test_retry_after_as_an_http_date_is_honoured(facade: Facade, sleeps: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    facade.fake.then(status(429, **{"Retry-After": when}))
    await facade.call("conversation.record_message", **record_args())
    (slept,) = sleeps
    assert 15 <= slept <= 21  # whole seconds in the header; some time passes in between


async def test_an_unreadable_retry_after_falls_back_to_backoff(
    facade: Facade, sleeps: list[float]
) -> None:
    facade.fake.then(status(503, **{"Retry-After": "whenever"}))
    await facade.call("conversation.record_message", **record_args())
    (slept,) = sleeps
    assert 0.375 <= slept <= 0.5


@pytest.mark.parametrize("value", ["61", "3600", "Fri, 01 Jan 2100 00:00:00 GMT"])
async def test_a_retry_after_past_the_cap_raises_at_once(
    facade: Facade, value: str, sleeps: list[float]
) -> None:
    facade.fake.then(status(429, **{"Retry-After": value}))
    with pytest.raises(synap.RateLimitError) as caught:
        await facade.call("conversation.record_message", **record_args())
    assert sleeps == []
    assert len(facade.fake.requests) == 1
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 60


# The decision itself, as data ----------------------------------------------------------


def answer(code: int, retry_after: str | None = None) -> synap.SynapError:
    headers = httpx.Headers({"Retry-After": retry_after} if retry_after else {})
    return error_from_response(code, headers, b"", correlation_id=None, request="POST /x")


@pytest.mark.parametrize(
    ("retries_done", "error", "jitter", "expected"),
    [
        (0, answer(503), 0.0, 0.5),
        (0, answer(503), 1.0, 0.375),
        (1, answer(500), 0.0, 1.0),
        (3, answer(502), 0.0, 4.0),
        (9, answer(504), 0.0, 8.0),
        (0, answer(429, "12"), 0.7, 12.0),
        (0, answer(429, "60"), 0.0, 60.0),
        (0, answer(429, "60.5"), 0.0, None),
        (0, answer(400), 0.0, None),
        (0, answer(401), 0.0, None),
        (0, answer(403), 0.0, None),
        (0, answer(422), 0.0, None),
        (0, synap.NetworkError("refused"), 0.0, 0.5),
        (0, synap.NetworkTimeoutError("slow"), 0.0, 0.5),
        (0, synap.UnexpectedResponseError("junk", status_code=200), 0.0, None),
        (0, synap.InvalidInputError("bad"), 0.0, None),
    ],
)
def test_retry_delay(
    retries_done: int, error: synap.SynapError, jitter: float, expected: float | None
) -> None:
    policy = _retry.RetryPolicy(max_retries=10)
    assert _retry.retry_delay(policy, retries_done, error, lambda: jitter) == expected


def test_no_delay_once_retries_are_spent() -> None:
    policy = _retry.RetryPolicy(max_retries=2)
    assert _retry.retry_delay(policy, 2, answer(503)) is None
    assert _retry.retry_delay(_retry.RetryPolicy(max_retries=0), 0, answer(503)) is None


def test_generated_ids_are_random_uuid4s() -> None:
    import uuid

    from synap._transport import new_id

    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    for text in list(ids)[:50]:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)
