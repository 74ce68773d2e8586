"""The only I/O: one httpx client per facade, the generated `*_detailed` calls, the retry loop.

A facade and its `with_options()` copies share one `Connection` (one httpx client, one pool).
What differs per call (timeout, the key's header, capturing the answer) travels in a context
variable read by two httpx event hooks, so no client is built per call and copies share the
pool. Context variables are per thread and per task, so concurrent calls do not mix.

Everything that is not I/O is a plain function elsewhere: `_errors` maps answers and
exceptions, `_retry` decides, `_wire` shapes. The blocking and the async loop below differ
only in `await`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

import httpx

from synap import _config, _headers, _response, _retry
from synap._errors import SynapError, error_from_exception, error_from_response, redact
from synap._ids import new_id

T = TypeVar("T")

logger = _config.logger


class _Call:
    """What the hooks (and the loop) need to know about the call in progress."""

    __slots__ = ("headers", "key", "response", "secret", "sent", "timeout")

    def __init__(
        self,
        headers: tuple[tuple[str, str], ...],
        timeout: dict[str, Any],
        key: str,
        secret: str | None = None,
    ) -> None:
        self.headers = headers
        self.timeout = timeout
        self.key = key  # the Idempotency-Key of every try
        self.secret = secret  # an Authorization of the caller's extra_headers: never shown
        self.sent = False  # the request was built (its body encoded) and handed to httpx
        self.response: httpx.Response | None = None

    def __repr__(self) -> str:  # the headers hold the API key
        return "<synap call>"


_CALL: ContextVar[_Call | None] = ContextVar("synap_call", default=None)


def _on_request(request: httpx.Request) -> None:
    call = _CALL.get()
    if call is None:  # a request of the caller's own on a client they shared with us
        return
    call.sent = True
    request.extensions["timeout"] = call.timeout
    headers = request.headers
    for name, value in call.headers:
        headers[name] = value


def _on_response(response: httpx.Response) -> None:
    call = _CALL.get()
    if call is not None:
        call.response = response


async def _aon_request(request: httpx.Request) -> None:
    _on_request(request)


async def _aon_response(response: httpx.Response) -> None:
    _on_response(response)


def install_hooks(http: httpx.Client | httpx.AsyncClient) -> None:
    """Add the SDK's hooks to an httpx client (once; they do nothing outside SDK calls)."""
    hooks = http.event_hooks
    if isinstance(http, httpx.AsyncClient):
        pairs: tuple[tuple[str, Callable[..., Any]], ...] = (
            ("request", _aon_request),
            ("response", _aon_response),
        )
    else:
        pairs = (("request", _on_request), ("response", _on_response))
    for event, hook in pairs:
        if hook not in hooks[event]:
            hooks[event].append(hook)


class Connection:
    """One httpx client and what every call on it sends; shared by a facade's copies."""

    __slots__ = ("api", "base_url", "headers", "http", "owns_http", "secret")

    def __init__(
        self,
        http: httpx.Client | httpx.AsyncClient,
        *,
        owns_http: bool,
        base_url: str,
        api_key: str,
        instance_id: str | None,
    ) -> None:
        from synap_api.client import Client

        self.http = http
        self.owns_http = owns_http
        self.base_url = base_url
        self.secret = api_key  # to clean it out of errors (see `_next`); never shown
        headers = [("Authorization", f"Bearer {api_key}")]
        if instance_id is not None:
            headers.append(("X-Instance-ID", instance_id))
        self.headers: tuple[tuple[str, str], ...] = tuple(headers)
        # The generated client, over our httpx client. No key in it: its repr shows fields.
        api = Client(base_url=base_url)
        if isinstance(http, httpx.AsyncClient):
            api.set_async_httpx_client(http)
        else:
            api.set_httpx_client(http)
        self.api = api

    @property
    def closed(self) -> bool:
        return self.http.is_closed

    def __repr__(self) -> str:
        return f"<synap connection {self.base_url}>"


class _Transport:
    """Per-facade options over a shared `Connection`; the parts common to both loops."""

    __slots__ = ("conn", "policy", "timeout", "timeout_dict")

    def __init__(self, conn: Connection, timeout: httpx.Timeout, max_retries: int) -> None:
        self.conn = conn
        self.timeout = timeout
        self.timeout_dict = timeout.as_dict()
        self.policy = _retry.RetryPolicy(max_retries=max_retries)

    def _begin(
        self,
        idempotency_key: object,
        correlation_id: object,
        timeout: object,
        extra_headers: Mapping[str, str] | None = None,
    ) -> tuple[_Call, str, str]:
        given = _headers.call_headers(extra_headers, idempotency_key, correlation_id)
        key = given.idempotency_key or new_id()
        cid = given.correlation_id or new_id()
        if self.conn.closed:
            raise SynapError(
                "This Synap client is closed; create a new one.",
                correlation_id=cid,
                idempotency_key=key,
            )
        if isinstance(timeout, _config.NotGiven):
            per_call = self.timeout_dict
        else:
            per_call = _config.timeout(timeout).as_dict()  # type: ignore[arg-type]
        # The caller's extra headers come last: the hook sets them over the SDK's.
        headers = self.conn.headers + given.extra if given.extra else self.conn.headers
        return _Call(headers, per_call, key, given.secret), key, cid

    def _outcome(
        self, endpoint: Any, response: Any, call: _Call, cid: str, shape: Callable[[bytes], T]
    ) -> T | SynapError:
        """The result of an answer the generated client could parse, or its error."""
        status = int(response.status_code)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s answered HTTP %d (correlation_id=%s)", endpoint.name, status, cid)
        if status != 200 or not isinstance(response.parsed, endpoint.ok):
            if status == 200:  # cannot happen with the generated parser, but never return junk
                return error_from_exception(
                    TypeError("unparsed 200"),
                    response=call.response,
                    correlation_id=cid,
                    request=endpoint.name,
                )
            return error_from_response(
                status,
                response.headers,
                response.content,
                correlation_id=cid,
                request=endpoint.name,
            )
        try:
            return shape(response.content)
        except Exception as exc:  # a 200 that is not what the docs promise
            return error_from_exception(
                exc, response=call.response, correlation_id=cid, request=endpoint.name
            )

    def _next(self, retries: int, error: SynapError, call: _Call) -> float | None:
        """Seconds before the next try, or None to raise `error`, which is first cleaned of
        the API key (before it is logged or raised: a server may echo the key) and given the
        call's idempotency key, to retry with."""
        key = error.idempotency_key = call.key
        redact(error, self.conn.secret)
        if call.secret is not None:
            redact(error, call.secret)
        delay = _retry.retry_delay(self.policy, retries, error)
        if delay is not None and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s; retry %d of %d in %.2fs (idempotency_key=%s)",
                error,  # its message names the call and its correlation id
                retries + 1,
                self.policy.max_retries,
                delay,
                key,
            )
        return delay

    def _log_attempt(self, endpoint: Any, retries: int, key: str, cid: str) -> None:
        logger.debug(
            "%s attempt %d (idempotency_key=%s correlation_id=%s)",
            endpoint.name,
            retries + 1,
            key,
            cid,
        )

    def __repr__(self) -> str:
        return f"<synap transport {self.conn.base_url} max_retries={self.policy.max_retries}>"


class SyncTransport(_Transport):
    """The blocking loop. Never starts an event loop."""

    __slots__ = ()

    def copy(self, timeout: httpx.Timeout, max_retries: int) -> SyncTransport:
        return SyncTransport(self.conn, timeout, max_retries)

    def send(
        self,
        endpoint: Any,
        body: Any,
        shape: Callable[[bytes], T],
        *,
        idempotency_key: object = None,
        correlation_id: object = None,
        timeout: object = _config.NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
    ) -> T:
        """Send `body` to `endpoint` with retries; return `shape(200 body)` or raise."""
        call, key, cid = self._begin(idempotency_key, correlation_id, timeout, extra_headers)
        token = _CALL.set(call)
        try:
            retries = 0
            while True:
                if logger.isEnabledFor(logging.DEBUG):
                    self._log_attempt(endpoint, retries, key, cid)
                call.response = None
                call.sent = False
                try:
                    response = endpoint.sync(
                        client=self.conn.api, body=body, idempotency_key=key, x_correlation_id=cid
                    )
                except Exception as exc:
                    outcome: Any = error_from_exception(
                        exc,
                        response=call.response,
                        sent=call.sent,
                        correlation_id=cid,
                        request=endpoint.name,
                    )
                else:
                    outcome = self._outcome(endpoint, response, call, cid, shape)
                if not isinstance(outcome, SynapError):
                    _response.answered(  # kept for with_raw_response, if it asked
                        int(response.status_code),
                        response.headers,
                        response.content,
                        idempotency_key=key,
                        correlation_id=cid,
                        retries=retries,
                    )
                    return outcome  # type: ignore[no-any-return]
                delay = self._next(retries, outcome, call)
                if delay is None:
                    raise outcome
                _retry.sleep(delay)
                retries += 1
        finally:
            _CALL.reset(token)

    def close(self) -> None:
        if self.conn.owns_http:
            self.conn.http.close()  # type: ignore[union-attr]


class AsyncTransport(_Transport):
    """The async loop: the blocking one with `await`."""

    __slots__ = ()

    def copy(self, timeout: httpx.Timeout, max_retries: int) -> AsyncTransport:
        return AsyncTransport(self.conn, timeout, max_retries)

    async def send(
        self,
        endpoint: Any,
        body: Any,
        shape: Callable[[bytes], T],
        *,
        idempotency_key: object = None,
        correlation_id: object = None,
        timeout: object = _config.NOT_GIVEN,  # noqa: ASYNC109 - HTTP timeout
        extra_headers: Mapping[str, str] | None = None,
    ) -> T:
        """Send `body` to `endpoint` with retries; return `shape(200 body)` or raise."""
        call, key, cid = self._begin(idempotency_key, correlation_id, timeout, extra_headers)
        token = _CALL.set(call)
        try:
            retries = 0
            while True:
                if logger.isEnabledFor(logging.DEBUG):
                    self._log_attempt(endpoint, retries, key, cid)
                call.response = None
                call.sent = False
                try:
                    response = await endpoint.asyncio(
                        client=self.conn.api, body=body, idempotency_key=key, x_correlation_id=cid
                    )
                except Exception as exc:
                    outcome: Any = error_from_exception(
                        exc,
                        response=call.response,
                        sent=call.sent,
                        correlation_id=cid,
                        request=endpoint.name,
                    )
                else:
                    outcome = self._outcome(endpoint, response, call, cid, shape)
                if not isinstance(outcome, SynapError):
                    _response.answered(  # kept for with_raw_response, if it asked
                        int(response.status_code),
                        response.headers,
                        response.content,
                        idempotency_key=key,
                        correlation_id=cid,
                        retries=retries,
                    )
                    return outcome  # type: ignore[no-any-return]
                delay = self._next(retries, outcome, call)
                if delay is None:
                    raise outcome
                await _retry.async_sleep(delay)
                retries += 1
        finally:
            _CALL.reset(token)

    async def aclose(self) -> None:
        if self.conn.owns_http:
            await self.conn.http.aclose()  # type: ignore[union-attr]
