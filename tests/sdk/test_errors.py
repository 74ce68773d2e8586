"""The documented hierarchy and the one place an HTTP answer becomes an exception."""

from __future__ import annotations

import email.utils
import pickle
from typing import Any

import httpx
import pytest

import synap
from synap import _errors
from tests.sdk.conftest import STATUSES

REQ = "POST /v1/conversations/messages"


def from_status(status: int, content: bytes = b'{"detail":"x"}', **headers: str) -> Any:
    return _errors.error_from_response(
        status, httpx.Headers(headers), content, correlation_id="cid-1", request=REQ
    )


def test_documented_names_are_real_and_aliases_are_one_class() -> None:
    assert synap.InvalidInputError is synap.SynapValidationError
    assert synap.AuthenticationError is synap.SynapAuthError
    assert synap.NotFoundError is synap.ContextNotFoundError
    for transient in (
        synap.NetworkError,
        synap.NetworkTimeoutError,
        synap.RateLimitError,
        synap.ServiceUnavailableError,
    ):
        assert issubclass(transient, synap.SynapTransientError)
    for permanent in (
        synap.InvalidInputError,
        synap.AuthenticationError,
        synap.InsufficientCreditsError,
        synap.NotFoundError,
        synap.ConflictError,
        synap.PayloadTooLargeError,
        synap.UnexpectedResponseError,
    ):
        assert issubclass(permanent, synap.SynapPermanentError)
    assert issubclass(synap.NetworkTimeoutError, synap.NetworkError)
    assert issubclass(synap.PayloadTooLargeError, synap.SynapValidationError)
    assert issubclass(synap.SynapTransientError, synap.SynapError)
    assert issubclass(synap.SynapPermanentError, synap.SynapError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        *STATUSES,
        (201, synap.UnexpectedResponseError),
        (302, synap.UnexpectedResponseError),
        (405, synap.UnexpectedResponseError),
        (418, synap.UnexpectedResponseError),
    ],
)
def test_status_maps_to_its_class(status: int, cls: type[Exception]) -> None:
    error = from_status(status)
    assert type(error) is cls
    assert error.status_code == status
    assert error.correlation_id == "cid-1"
    assert error.detail == "x"
    assert "cid-1" in str(error)
    assert str(status) in str(error)


def test_fastapi_detail_shapes_are_described() -> None:
    items = b'{"detail":[{"loc":["body","documents"],"msg":"too many","type":"too_long"}]}'
    error = from_status(422, items)
    assert "body.documents: too many" in str(error)
    assert isinstance(error.detail, list)
    error = from_status(402, b'{"detail":{"message":"Insufficient credits"}}')
    assert "Insufficient credits" in str(error)
    assert error.detail == {"message": "Insufficient credits"}
    error = from_status(500, b'{"message":"boom"}')
    assert error.detail == "boom"
    assert error.body == {"message": "boom"}


def test_html_and_empty_and_binary_bodies_do_not_break_mapping() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    error = from_status(502, html)
    assert isinstance(error, synap.ServiceUnavailableError)
    assert error.detail == "502 Bad Gateway"
    assert from_status(503, b"").detail is None
    assert from_status(500, b"\xff\xfe\x00garbage").status_code == 500
    assert from_status(401, b"null").detail is None


def test_headers_and_retry_after_are_kept() -> None:
    error = from_status(429, b'{"detail":"slow down"}', **{"Retry-After": "7"})
    assert isinstance(error, synap.RateLimitError)
    assert error.retry_after == 7.0
    assert error.retry_after_seconds == 7.0
    assert error.headers is not None
    assert error.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 2.5 ", 2.5), ("0", 0.0), ("-4", 0.0), ("nan", None), ("soon", None)],
)
def test_retry_after_seconds(value: str, expected: float | None) -> None:
    assert _errors.parse_retry_after(value) == expected


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    later = email.utils.formatdate(now + 30, usegmt=True)
    assert _errors.parse_retry_after(later, now=now) == pytest.approx(30.0)
    earlier = email.utils.formatdate(now - 30, usegmt=True)
    assert _errors.parse_retry_after(earlier, now=now) == 0.0
    assert _errors.parse_retry_after(None) is None


def test_malformed_200_is_an_unexpected_response() -> None:
    error = _errors.error_from_response(
        200, httpx.Headers(), b"[]", correlation_id=None, request=REQ, malformed="TypeError"
    )
    assert type(error) is synap.UnexpectedResponseError
    assert error.status_code == 200


@pytest.mark.parametrize(
    ("exc", "sent", "cls"),
    [
        (httpx.ConnectError("refused"), True, synap.NetworkError),
        (httpx.ReadTimeout("slow"), True, synap.NetworkTimeoutError),
        (httpx.ConnectTimeout("slow"), True, synap.NetworkTimeoutError),
        (httpx.RemoteProtocolError("eof"), True, synap.NetworkError),
        (TypeError("Object of type set is not JSON serializable"), False, synap.InvalidInputError),
        (ValueError("a custom transport's bug"), True, synap.SynapError),
        (RuntimeError("client closed"), False, synap.SynapError),
    ],
)
def test_exceptions_without_an_answer(exc: Exception, sent: bool, cls: type[Exception]) -> None:
    error = _errors.error_from_exception(exc, sent=sent, correlation_id="c", request=REQ)
    assert type(error) is cls
    assert error.__cause__ is exc
    assert error.status_code is None


def test_exception_while_reading_an_answer_uses_the_answer() -> None:
    response = httpx.Response(520, content=b"<html>origin down</html>")
    error = _errors.error_from_exception(
        ValueError("520 is not a valid HTTPStatus"),
        response=response,
        correlation_id="c",
        request=REQ,
    )
    assert type(error) is synap.ServiceUnavailableError
    assert error.status_code == 520
    ok = httpx.Response(200, content=b'{"message_id": 1}')
    error = _errors.error_from_exception(
        KeyError("recorded_at"), response=ok, correlation_id="c", request=REQ
    )
    assert type(error) is synap.UnexpectedResponseError


def test_errors_pickle_with_their_attributes() -> None:
    error = from_status(429, b'{"detail":"slow"}', **{"Retry-After": "1"})
    error.headers = dict(error.headers or {})  # httpx.Headers pickles too, but keep it plain
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is synap.RateLimitError
    assert (copy.status_code, copy.retry_after, copy.correlation_id, str(copy)) == (
        429,
        1.0,
        "cid-1",
        str(error),
    )
    invalid = synap.InvalidInputError("bad", field="role", index=3)
    copy2 = pickle.loads(pickle.dumps(invalid))
    assert (copy2.field, copy2.index, copy2.message) == ("role", 3, "bad")
