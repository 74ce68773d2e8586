"""The documented exception hierarchy, and the one place an HTTP answer becomes an exception.

Every error the SDK raises is a `SynapError`. Errors worth retrying derive from
`SynapTransientError`, the others from `SynapPermanentError`. The names the vendor's docs use
under two spellings are one class each: `InvalidInputError is SynapValidationError`,
`AuthenticationError is SynapAuthError`, `NotFoundError is ContextNotFoundError`.

`error_from_response` (an HTTP answer) and `error_from_exception` (a failure before or while
answering) are the only functions that turn the outside world into these classes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "ContextNotFoundError",
    "InsufficientCreditsError",
    "InvalidInputError",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ServiceUnavailableError",
    "SynapAuthError",
    "SynapError",
    "SynapPermanentError",
    "SynapTransientError",
    "SynapValidationError",
    "UnexpectedResponseError",
    "brief",
    "error_from_exception",
    "error_from_response",
    "parse_retry_after",
    "redact",
]


def brief(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters, for error messages about a caller's value.

    Never raises: a repr can (an int past 4,300 digits, a nesting past the recursion limit,
    a class of the caller's), and a message about bad input must not fail on the input.
    """
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # the repr of a huge string would copy all of it
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class SynapError(Exception):
    """Base class of every error raised by the Synap SDK.

    Attributes:
        message: A human-readable description (also `str(error)`).
        status_code: The HTTP status of the answer, or None when there was no answer
            (network failure) or nothing was sent (invalid input).
        detail: The server's `detail` (a string, a list of validation failures, or an object),
            or the start of the body when it was not JSON; None without an answer.
        correlation_id: The `X-Correlation-ID` the call sent (the same on every retry), to find
            the call in logs on both sides.
        idempotency_key: The `Idempotency-Key` the call was sent under (yours, or the one the
            SDK made), the same on every retry: repeat the call with
            `idempotency_key=error.idempotency_key` and a server that honours the key stores
            the write once. None when nothing was sent because the arguments were refused
            (`InvalidInputError` raised before sending).
        headers: The response headers (case-insensitive mapping), or None without an answer.
        body: The decoded response body (JSON value or text), or None without an answer.
        retry_after: Seconds the server asked to wait (`Retry-After`), or None.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        detail: Any = None,
        correlation_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        retry_after: float | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.detail = detail
        self.correlation_id = correlation_id
        self.idempotency_key = idempotency_key
        self.headers = headers
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        if self.status_code is not None:
            parts.append(f"status_code={self.status_code}")
        if self.correlation_id is not None:
            parts.append(f"correlation_id={self.correlation_id!r}")
        if self.idempotency_key is not None:  # not a secret: it names a write, grants nothing
            parts.append(f"idempotency_key={self.idempotency_key!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments do not survive the default exception pickling;
        # errors cross process boundaries (multiprocessing pools, bulk workers) intact this way.
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[SynapError], message: str, state: dict[str, Any]) -> SynapError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class SynapTransientError(SynapError):
    """A failure that may go away on its own; the SDK retries these (see `max_retries`)."""


class SynapPermanentError(SynapError):
    """A failure that will happen again if the same call is repeated unchanged."""


class NetworkError(SynapTransientError):
    """The SDK cannot reach Synap: connection refused or reset, DNS, TLS, protocol errors."""


class NetworkTimeoutError(NetworkError):
    """Synap did not answer in time (connect, write, read or pool timeout, or HTTP 408)."""


class RateLimitError(SynapTransientError):
    """HTTP 429: too many requests. `retry_after` holds the seconds the server asked for."""

    @property
    def retry_after_seconds(self) -> float | None:
        """The vendor client's name for `retry_after`."""
        return self.retry_after


class ServiceUnavailableError(SynapTransientError):
    """HTTP 5xx: the service is in trouble. 500, 502, 503 and 504 are retried."""


class InvalidInputError(SynapPermanentError):
    """The input is invalid: rejected before sending (no request was made) or by the server
    with HTTP 400/422. `SynapValidationError` is the same class.

    Attributes:
        field: The offending argument or key (e.g. `"role"`), when known.
        index: The position of the offending entry in a batch, when the error is about one.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        index: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.field = field
        self.index = index


SynapValidationError = InvalidInputError


class PayloadTooLargeError(InvalidInputError):
    """HTTP 413: the request body is larger than the server accepts; send smaller batches."""


class AuthenticationError(SynapPermanentError):
    """The API key is missing (HTTP 401 or no key configured) or not allowed (HTTP 403).
    `SynapAuthError` is the same class."""


SynapAuthError = AuthenticationError


class InsufficientCreditsError(SynapPermanentError):
    """HTTP 402: the account has run out of credits."""


class NotFoundError(SynapPermanentError):
    """HTTP 404: not found (a wrong base URL path also ends here).
    `ContextNotFoundError` (the vendor client's name) is the same class."""


ContextNotFoundError = NotFoundError


class ConflictError(SynapPermanentError):
    """HTTP 409: the request conflicts with the server's state, e.g. an `Idempotency-Key`
    reused with a different body."""


class UnexpectedResponseError(SynapPermanentError):
    """Synap answered with something the SDK cannot read: a status the API does not use
    (3xx, a 2xx other than 200, an unknown 4xx) or a 200 whose body is not the documented
    shape. A write may have been applied: repeat it with the same `idempotency_key`."""


_BY_STATUS: dict[int, type[SynapError]] = {
    400: InvalidInputError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: AuthenticationError,
    404: NotFoundError,
    408: NetworkTimeoutError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: InvalidInputError,
    429: RateLimitError,
}

_MAX_DETAIL_TEXT = 300
_SPACES = re.compile(r"\s+")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _class_for(status: int) -> type[SynapError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status <= 599:
        return ServiceUnavailableError
    return UnexpectedResponseError


def _decode_body(content: bytes) -> tuple[Any, Any]:
    """(body, detail) of an error answer, never raising: JSON when it parses, else text."""
    if not content:
        return None, None
    try:
        body = json.loads(content)
    except ValueError:  # not JSON (an HTML error page of a proxy, plain text, bad UTF-8)
        title = _TITLE.search(content)
        text = (title.group(1) if title else content).decode("utf-8", "replace")
        text = _SPACES.sub(" ", text).strip()[:_MAX_DETAIL_TEXT]
        return content.decode("utf-8", "replace"), text or None
    if isinstance(body, dict):
        for key in ("detail", "message", "error"):
            if key in body:
                return body, body[key]
    return body, body


def _describe(detail: Any) -> str:
    """One line for a FastAPI-style detail: a string, `{"message": ...}` or a list of failures."""
    if detail is None:
        return ""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        return str(detail["message"])
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = item.get("loc")
                where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
                parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: delta-seconds or an HTTP date.

    Returns None when absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # float() also reads "nan" and "inf": neither is a wait the SDK can honour.
        return max(seconds, 0.0) if seconds == seconds and seconds != float("inf") else None
    # Imported here: email.utils is not needed by a call that is never told to wait by date.
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a date without a zone is read as such
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    correlation_id: str | None,
    request: str,
    malformed: str | None = None,
) -> SynapError:
    """The exception for an HTTP answer that is not a readable 200.

    `request` names the call for the message (e.g. `"POST /v1/conversations/messages"`);
    `malformed` says why a 200 body could not be read (then the class is
    `UnexpectedResponseError`).
    """
    body, detail = _decode_body(content)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if malformed is not None:
        cls: type[SynapError] = UnexpectedResponseError
        what = f"HTTP {status_code} with a body that is not the documented shape ({malformed})"
    else:
        cls = _class_for(status_code)
        what = f"HTTP {status_code}"
        described = _describe(detail)
        if described:
            what = f"{what}: {described}"
        if cls is UnexpectedResponseError:
            what = f"unexpected {what}"
    message = f"{request} failed with {what}"
    if correlation_id:
        message = f"{message} (correlation id {correlation_id})"
    return cls(
        message,
        status_code=status_code,
        detail=detail,
        correlation_id=correlation_id,
        headers=headers,
        body=body,
        retry_after=retry_after,
    )


REDACTED = "[redacted]"


def _scrub(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, list):
        return [_scrub(item, secret) for item in value]
    if isinstance(value, dict):
        return {_scrub(k, secret): _scrub(v, secret) for k, v in value.items()}
    return value


def redact(error: SynapError, secret: str) -> None:
    """Replace `secret` (the API key) wherever an error carries it: message, detail, body,
    response headers. A server or proxy that echoes the key it was sent ("Invalid token
    Bearer synap_...") must not put it into the caller's logs and tracebacks."""
    if not secret:
        return
    if secret in error.message:
        error.message = error.message.replace(secret, REDACTED)
        error.args = (error.message,)
    error.detail = _scrub(error.detail, secret)
    error.body = _scrub(error.body, secret)
    headers = error.headers
    if headers is not None and any(secret in v for v in headers.values()):
        import httpx  # only an echoing server pays for it

        items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
        error.headers = httpx.Headers([(k, v.replace(secret, REDACTED)) for k, v in items])


def error_from_exception(
    exc: BaseException,
    *,
    response: Any = None,
    sent: bool = True,
    correlation_id: str | None,
    request: str,
) -> SynapError:
    """The exception for a call that raised instead of returning an answer.

    `response` is the `httpx.Response` received before the exception, if any: then the
    exception came from reading it (a body that is not JSON or not the documented shape, a
    status code `http.HTTPStatus` does not know such as 520) and the answer decides the class.
    Without one it is a network failure, a timeout, or (`sent=False`: it failed before the
    request went out) a body that could not be encoded. The original is kept as `__cause__`.
    """
    # Imported here so that the error classes stay importable without httpx.
    import httpx

    if isinstance(exc, SynapError):
        return exc
    if response is not None and not isinstance(exc, httpx.HTTPError):
        try:
            content = response.content
        except Exception:  # the body was never read (a failing hook of the caller's client)
            content = b""
        status = int(response.status_code)
        error = error_from_response(
            status,
            response.headers,
            content,
            correlation_id=correlation_id,
            request=request,
            malformed=f"{type(exc).__name__}: {exc}" if status == 200 else None,
        )
    else:
        if isinstance(exc, httpx.TimeoutException):
            cls: type[SynapError] = NetworkTimeoutError
            what = f"timed out ({type(exc).__name__})"
        elif isinstance(exc, httpx.TransportError):
            cls = NetworkError
            what = f"could not reach Synap ({type(exc).__name__}: {exc})"
        elif not sent and isinstance(exc, TypeError | ValueError):
            # json= encoding failed before anything was sent (validation makes this rare).
            cls = InvalidInputError
            what = f"could not be encoded as JSON ({type(exc).__name__}: {exc})"
        else:
            cls = SynapError
            what = f"failed ({type(exc).__name__}: {exc})"
        message = f"{request} {what}"
        if correlation_id:
            message = f"{message} (correlation id {correlation_id})"
        error = cls(message, correlation_id=correlation_id)
    error.__cause__ = exc
    return error
