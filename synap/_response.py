"""`with_raw_response`: the HTTP answer of a successful call, beside its parsed result.

    raw = client.conversation.with_raw_response.record_message(...)
    raw.status_code, raw.headers["Idempotent-Replayed"], raw.idempotency_key
    message = raw.parse()            # what record_message itself returns

Written once for every method of both facades: a wrapper factory (`raw_response_wrapper`,
`async_raw_response_wrapper`) turns a method into one returning a `RawResponse`. The wrapper
puts an empty `_Capture` into a context variable (per thread and per task, so concurrent calls
do not mix); the transport's retry loop fills it with the final answer (`answered`); the method
itself, its arguments, validation, retries and errors are unchanged.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, Generic, ParamSpec, TypeVar

__all__ = ["RawResponse", "answered", "async_raw_response_wrapper", "raw_response_wrapper"]

P = ParamSpec("P")
R = TypeVar("R")


class RawResponse(Generic[R]):
    """What a call made through `with_raw_response` returns: its final HTTP answer and its
    parsed result.

    Attributes:
        status_code: The HTTP status of the answer (200), or None when nothing was sent (a
            `batch_create` whose every document was invalid, with `fail_fast=False`).
        headers: The response headers (a case-insensitive mapping), e.g.
            `Idempotent-Replayed`, rate limits, request ids; empty when nothing was sent.
        content: The response body, as received.
        idempotency_key: The `Idempotency-Key` the call was sent under (yours, or the one the
            SDK made); None when nothing was sent.
        correlation_id: The `X-Correlation-ID` the call sent; None when nothing was sent.
        retries_taken: How many times the call was retried before this answer (0: first try).
    """

    __slots__ = (
        "_parsed",
        "content",
        "correlation_id",
        "headers",
        "idempotency_key",
        "retries_taken",
        "status_code",
    )

    def __init__(
        self,
        parsed: R,
        *,
        status_code: int | None,
        headers: Mapping[str, str],
        content: bytes,
        idempotency_key: str | None,
        correlation_id: str | None,
        retries_taken: int,
    ) -> None:
        self._parsed = parsed
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.idempotency_key = idempotency_key
        self.correlation_id = correlation_id
        self.retries_taken = retries_taken

    def parse(self) -> R:
        """The call's result: exactly what the method called without `with_raw_response`
        returns (already checked against the documented shape)."""
        return self._parsed

    @property
    def text(self) -> str:
        """The response body as text (UTF-8)."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The response body as JSON, as the server sent it (keys a newer server adds
        included); None when nothing was sent."""
        return json.loads(self.content) if self.content else None

    @property
    def replayed(self) -> bool:
        """True when the server answered from its idempotency record (`Idempotent-Replayed:
        true`): an earlier call with this key was stored, and this one stored nothing."""
        return self.headers.get("idempotent-replayed", "").strip().lower() == "true"

    def __repr__(self) -> str:
        return (
            f"<RawResponse [{self.status_code}] replayed={self.replayed} "
            f"idempotency_key={self.idempotency_key!r}>"
        )


class _Capture:
    """The final answer of the call in progress, filled by the transport."""

    __slots__ = ("content", "correlation_id", "headers", "idempotency_key", "retries", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: Mapping[str, str] = {}
        self.content = b""
        self.idempotency_key: str | None = None
        self.correlation_id: str | None = None
        self.retries = 0

    def response(self, parsed: R) -> RawResponse[R]:
        headers = self.headers
        if self.status is None:  # nothing was sent: empty, but as case-insensitive as ever
            import httpx

            headers = httpx.Headers()
        return RawResponse(
            parsed,
            status_code=self.status,
            headers=headers,
            content=self.content,
            idempotency_key=self.idempotency_key,
            correlation_id=self.correlation_id,
            retries_taken=self.retries,
        )


_CAPTURE: ContextVar[_Capture | None] = ContextVar("synap_raw_response", default=None)


def answered(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    idempotency_key: str,
    correlation_id: str,
    retries: int,
) -> None:
    """Called by the transport when a call succeeded: keep its answer if the caller asked
    for it (a call made through `with_raw_response`); otherwise nothing."""
    capture = _CAPTURE.get()
    if capture is None:
        return
    capture.status = status_code
    capture.headers = headers
    capture.content = content
    capture.idempotency_key = idempotency_key
    capture.correlation_id = correlation_id
    capture.retries = retries


def raw_response_wrapper(method: Callable[P, R]) -> Callable[P, RawResponse[R]]:
    """`method` (a blocking call), returning a `RawResponse` of its result instead."""

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        capture = _Capture()
        token = _CAPTURE.set(capture)
        try:
            parsed = method(*args, **kwargs)
        finally:
            _CAPTURE.reset(token)
        return capture.response(parsed)

    return wrapped


def async_raw_response_wrapper(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, Awaitable[RawResponse[R]]]:
    """`method` (an async call), returning a `RawResponse` of its result instead."""

    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        capture = _Capture()
        token = _CAPTURE.set(capture)
        try:
            parsed = await method(*args, **kwargs)
        finally:
            _CAPTURE.reset(token)
        return capture.response(parsed)

    return wrapped
