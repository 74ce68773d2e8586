"""The only I/O: the connection pools, the generated `*_detailed` calls, the retry loop.

A facade and its `with_options()` copies share one `Connection`. The blocking one holds one
httpx client per process; the async one a pool per process and running event loop (`_pool`):
aiohttp's under asyncio when installed (`_aiohttp`: the generated client still builds and
parses), else httpx's (trio, or without aiohttp), or the caller's `http_client`. On the httpx
paths, what differs per call (timeout, the key's header, capturing the answer) travels in a
context variable read by two httpx event hooks, so no client is built per call and copies share
the pool. Context variables are per thread and per task, so concurrent calls do not mix.

Everything that is not I/O is a plain function elsewhere: `_errors` maps answers and
exceptions, `_retry` decides, `_wire` shapes. The blocking and the async loop below differ
only in `await`.
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from synap import __version__, _config, _headers, _pool, _response, _retry, _tls
from synap._errors import SynapError, error_from_exception, error_from_response, redact
from synap._ids import new_id

T = TypeVar("T")

USER_AGENT = f"synap-python/{__version__}"

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
    """What every call of a facade sends, and where it goes; shared by the facade's
    `with_options()` copies. `SyncConnection` and `AsyncConnection` hold the pools."""

    __slots__ = (
        "base_url",
        "headers",
        "instance_id",
        "max_connections",
        "owns_http",
        "secret",
        "ssl",
        "timeout",
    )

    def __init__(
        self,
        *,
        owns_http: bool,
        base_url: str,
        api_key: str,
        instance_id: str | None,
        timeout: httpx.Timeout,
        max_connections: int,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.owns_http = owns_http
        self.base_url = base_url
        self.secret = api_key  # to clean it out of errors (see `_next`); never shown
        self.instance_id = instance_id
        # The SDK names itself on every path, also through a caller's http_client.
        headers = [("Authorization", f"Bearer {api_key}"), ("User-Agent", USER_AGENT)]
        if instance_id is not None:
            headers.append(("X-Instance-ID", instance_id))
        self.headers: tuple[tuple[str, str], ...] = tuple(headers)
        self.timeout = timeout
        self.max_connections = max_connections
        self.ssl = ssl_context

    def options(self) -> dict[str, Any]:
        """The options this connection was made with, to make another to the same service."""
        return {
            "base_url": self.base_url,
            "api_key": self.secret,
            "instance_id": self.instance_id,
            "timeout": self.timeout,
            "max_connections": self.max_connections,
            "ssl_context": self.ssl,
        }

    def _generated(self, http: httpx.Client | httpx.AsyncClient) -> Any:
        """The generated client over an httpx client (no key in it: its repr shows fields)."""
        from synap_api.client import Client

        api = Client(base_url=self.base_url)
        if isinstance(http, httpx.AsyncClient):
            api.set_async_httpx_client(http)
        else:
            api.set_httpx_client(http)
        return api

    def _httpx_options(self) -> dict[str, Any]:
        """How the SDK builds its own httpx clients: every connection kept alive (httpx's
        default keeps 20 of 100, so 50 callers open a connection per call)."""
        return {
            "base_url": self.base_url,
            "timeout": self.timeout,
            "verify": self.ssl,  # shared: no CA bundle loaded per client
            "limits": httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
                keepalive_expiry=_config.KEEPALIVE_EXPIRY,
            ),
        }

    def __repr__(self) -> str:
        return f"<synap connection {self.base_url}>"


class SyncConnection(Connection):
    """The blocking facade's httpx client: one per process (a forked child makes its own)."""

    __slots__ = ("_api", "_born", "_http", "_lock")

    def __init__(self, http: httpx.Client | None, **options: Any) -> None:
        super().__init__(owns_http=http is None, **options)
        self._http = http if http is not None else httpx.Client(**self._httpx_options())
        install_hooks(self._http)
        self._api = self._generated(self._http)
        self._born = _pool.generation
        self._lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        """The httpx client of this process."""
        self.api()
        return self._http

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def api(self) -> Any:
        """The generated client to call in this process."""
        if self._born == _pool.generation:
            return self._api
        return self._after_fork()

    def _after_fork(self) -> Any:
        with self._lock:
            if self._born != _pool.generation:
                if not self.owns_http:
                    _pool.check_foreign_pool(self._http, self._born, None)
                elif not self._http.is_closed:
                    _pool.leave_alone(self._http)  # the parent's sockets: never ours to close
                    self._http = httpx.Client(**self._httpx_options())
                    install_hooks(self._http)
                    self._api = self._generated(self._http)
                self._born = _pool.generation
            return self._api

    def close(self) -> None:
        if self.owns_http:
            self._http.close()


class _HttpxRoute:
    """An httpx.AsyncClient sending the generated requests (the caller's, or the SDK's own
    under trio or without aiohttp)."""

    __slots__ = ("api", "http", "keeper")

    def __init__(self, http: httpx.AsyncClient, api: Any) -> None:
        self.http = http
        self.api = api
        self.keeper: object = None

    async def send(self, endpoint: Any, body: Any, key: str, cid: str, call: _Call) -> Any:
        try:
            return await endpoint.asyncio(
                client=self.api, body=body, idempotency_key=key, x_correlation_id=cid
            )
        except BaseException:  # cancellation included: that is when httpcore leaks a slot
            await _pool.repair_httpcore_pool(self.http)
            raise

    @property
    def closed(self) -> bool:
        return self.http.is_closed

    async def aclose(self) -> None:
        await self.http.aclose()

    def leave(self) -> None:
        _pool.leave_alone((self.http, self.keeper))


class AsyncConnection(Connection):
    """The async facade's pools: one per process and running event loop (aiohttp under
    asyncio when installed, else httpx), or the caller's `http_client`."""

    use_aiohttp: ClassVar[bool] = True
    """Whether the SDK's own pool under asyncio is aiohttp's when aiohttp is installed
    (the tests turn it off to run the SDK's httpx pool under asyncio too)."""

    __slots__ = ("_born", "_closed", "_loop", "_route", "_routes", "_user")

    def __init__(self, http: httpx.AsyncClient | None, **options: Any) -> None:
        super().__init__(owns_http=http is None, **options)
        self._user: _HttpxRoute | None = None
        if http is not None:
            install_hooks(http)
            self._user = _HttpxRoute(http, self._generated(http))
        self._routes: dict[object, Any] = {}
        self._loop: object = None  # the loop of the last call, and its route
        self._route: Any = None
        self._born = _pool.generation
        self._closed = False

    @property
    def http(self) -> httpx.AsyncClient | None:
        """The caller's httpx client, else the SDK's httpx client of the current loop (None
        outside a loop, or when the SDK's pool there is aiohttp's)."""
        if self._user is not None:
            return self._user.http
        try:
            route = self._routes.get(_pool.running_loop())
        except RuntimeError:
            return None
        return route.http if isinstance(route, _HttpxRoute) else None

    @property
    def closed(self) -> bool:
        if self._user is not None:
            return self._user.closed
        return self._closed

    async def prepare(self) -> None:
        """Make the running loop's pool, if this loop has none yet (`async with` does, off
        any request's path); the first call would otherwise."""
        if not self._closed and self._user is None:  # a caller's client is theirs to open
            await self._switch(_pool.running_loop())

    async def send(self, endpoint: Any, body: Any, key: str, cid: str, call: _Call) -> Any:
        """One try of `endpoint` on this loop's pool: the generated `Response`."""
        loop = _pool.running_loop()
        route = self._route
        if loop is not self._loop or self._born != _pool.generation or route is None:
            route = await self._switch(loop)
        return await route.send(endpoint, body, key, cid, call)

    async def _switch(self, loop: object) -> Any:
        """The route of a loop (or process) other than the last call's."""
        if self._user is not None:
            _pool.check_foreign_pool(self._user.http, self._born, self._loop)
            self._born, self._loop, self._route = _pool.generation, loop, self._user
            return self._user
        if self._born != _pool.generation:  # forked: the parent's pools are not ours
            for old in self._routes.values():
                old.leave()
            self._routes.clear()
            self._born = _pool.generation
        route = self._routes.get(loop)
        if route is None:
            for other, old in list(self._routes.items()):
                if _pool.loop_closed(other):  # closed without running its async generators
                    old.leave()
                    del self._routes[other]
            route = self._routes[loop] = self._new_route(loop)
            route.keeper = await _pool.keep_until_loop_ends(functools.partial(self._drop, loop))
        self._loop, self._route = loop, route
        return route

    def _new_route(self, loop: object) -> Any:
        import asyncio

        if self.use_aiohttp and isinstance(loop, asyncio.AbstractEventLoop):
            try:
                from synap._aiohttp import AiohttpRoute, proxy_applies
            except ImportError:  # aiohttp is an extra
                pass
            else:
                if not proxy_applies(self.base_url):
                    from synap_api.client import Client

                    return AiohttpRoute(
                        api=Client(base_url=self.base_url),  # parses answers; sends nothing
                        base_url=self.base_url,
                        headers=self.headers,
                        max_connections=self.max_connections,
                        keepalive_expiry=_config.KEEPALIVE_EXPIRY,
                        ssl_context=self.ssl or _tls.default_ssl_context(),
                    )
        http = httpx.AsyncClient(**self._httpx_options())
        install_hooks(http)
        return _HttpxRoute(http, self._generated(http))

    async def _drop(self, loop: object) -> None:
        """Close a loop's pool as the loop shuts down."""
        route = self._routes.pop(loop, None)
        if route is None:
            return
        if self._route is route:
            self._loop = self._route = None
        await route.aclose()

    async def aclose(self) -> None:
        if not self.owns_http:
            return
        self._closed = True
        try:
            route = self._routes.get(_pool.running_loop())
        except RuntimeError:
            return
        if route is not None and self._born == _pool.generation:
            await route.aclose()  # other loops' pools close as their loops end


C = TypeVar("C", SyncConnection, AsyncConnection)


class _Transport(Generic[C]):
    """Per-facade options over a shared `Connection`; the parts common to both loops."""

    __slots__ = ("conn", "policy", "timeout", "timeout_dict")

    def __init__(self, conn: C, timeout: httpx.Timeout, max_retries: int) -> None:
        self.conn: C = conn
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


class SyncTransport(_Transport[SyncConnection]):
    """The blocking loop. Never starts an event loop."""

    __slots__ = ()

    def copy(self, timeout: httpx.Timeout, max_retries: int) -> SyncTransport:
        return SyncTransport(self.conn, timeout, max_retries)

    def async_twin(self) -> AsyncTransport | None:
        """An async transport to the same service with the same options (key, instance id,
        timeout, retries, TLS, pool size) and a pool of its own, for a background thread that
        keeps several calls in flight (the blocking recorder's). None when the calls must go
        through the caller's `http_client`, which cannot be awaited."""
        if not self.conn.owns_http:
            return None
        conn = AsyncConnection(None, **self.conn.options())
        return AsyncTransport(conn, self.timeout, self.policy.max_retries)

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
                        client=self.conn.api(), body=body, idempotency_key=key, x_correlation_id=cid
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
        self.conn.close()


class AsyncTransport(_Transport[AsyncConnection]):
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
                    response = await self.conn.send(endpoint, body, key, cid, call)
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
        await self.conn.aclose()
