"""The async send path over aiohttp: what `AsyncSynap` uses under asyncio when aiohttp is
installed (`pip install 'synap-memory[aiohttp]'`) and the SDK owns the pool.

httpx's async pool costs milliseconds of CPU a call once hundreds of calls are in flight
(encode/httpx#3215); aiohttp's costs a tenth of that. Only the exchange changes: the generated
client still builds each request (`_get_kwargs`: method, path, JSON body, headers) and parses
each answer (`_build_response`, over an `httpx.Response` made of the bytes received), and the
result goes through the same error mapping and retry loop as on the httpx path. What is kept
the same as there:

- the body: the JSON httpx would send for `json=` (compact, UTF-8, no NaN), byte for byte;
- the headers: the SDK's own (`Authorization`, `Idempotency-Key`, `X-Correlation-ID`,
  `User-Agent`, `X-Instance-ID`, `Content-Type`) and `Accept-Encoding: gzip, deflate`; bodies
  are decoded by httpx, as on the httpx path;
- timeouts: httpx's phases mapped to aiohttp's (`client_timeout`). aiohttp has no write
  timeout: a peer that stops reading a body larger than the socket's buffers would hold the
  call forever (its read timer fires, but nothing wakes the waiting write). So the exchange
  of a body that large (over 32 KiB) up to the answer's headers is bounded by the phases
  together (`exchange_limit`: pool + connect + write + read, 55 s with the defaults); past
  that the call fails as a `WriteTimeout`, since each other phase has a timer of its own
  that would have fired first;
- errors: aiohttp's exceptions become the httpx ones they correspond to (`as_httpx_error`), so
  `error_from_exception` maps both paths alike;
- TLS: the SDK's shared verifying context (or the caller's `verify=`); no redirects followed;
  no cookies kept; proxies from the environment are not read here: a base URL that an
  `HTTP(S)_PROXY` applies to goes the httpx path instead (`proxy_applies`).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import urllib.request
from typing import Any

import aiohttp
import httpx
from yarl import URL

from synap import _pool

_ACCEPT_ENCODING = "gzip, deflate"  # what httpx decodes without optional packages


def proxy_applies(base_url: str) -> bool:
    """Whether an `HTTP(S)_PROXY` environment variable applies to `base_url` (httpx honours
    those; the aiohttp path does not, so such a URL takes the httpx path)."""
    proxies = urllib.request.getproxies()
    url = httpx.URL(base_url)
    if url.scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass(url.host)


def client_timeout(phases: dict[str, Any]) -> aiohttp.ClientTimeout:
    """aiohttp's timeout for httpx's phases: `connect` of aiohttp covers waiting for a pool
    slot and opening a connection (httpx's pool + connect), `sock_connect` the opening alone,
    `sock_read` each wait for the answer's bytes (httpx's read)."""
    pool, connect = phases.get("pool"), phases.get("connect")
    return aiohttp.ClientTimeout(
        total=None,
        connect=None if pool is None or connect is None else pool + connect,
        sock_connect=connect,
        sock_read=phases.get("read"),
    )


# asyncio's transports take up to 64 KiB without making a writer wait (their default
# high-water mark): a smaller request is handed to the socket whole and cannot stall in its
# write; its wait for the answer has `sock_read`. Half of that, to leave room for headers.
_MAY_STALL = 32 * 1024


class _NoDeadline:
    """What `asyncio.timeout(None)` does, for 0.3 us a call instead of 3.4: the common case."""

    async def __aenter__(self) -> _NoDeadline:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def reschedule(self, when: float | None) -> None:
        pass

    def expired(self) -> bool:
        return False


_NO_DEADLINE = _NoDeadline()


def exchange_limit(phases: dict[str, Any]) -> float | None:
    """Seconds the exchange up to the answer's headers may take at most: the phases' limits
    added up (each phase honouring its own keeps well inside it); None when one is None."""
    total = 0.0
    for name in ("pool", "connect", "write", "read"):
        limit = phases.get(name)
        if limit is None:
            return None
        total += float(limit)
    return total


def as_httpx_error(exc: aiohttp.ClientError | TimeoutError) -> httpx.TransportError:
    """The httpx exception that names the same failure (the aiohttp one is its `__cause__`)."""
    message = str(exc) or type(exc).__name__
    error: httpx.TransportError
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        error = httpx.ConnectTimeout(message)
    elif isinstance(exc, TimeoutError):  # SocketTimeoutError: no answer within `read`
        error = httpx.ReadTimeout(message)
    elif isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        error = httpx.ConnectError(message)  # refused, DNS, TLS verification
    elif isinstance(
        exc,  # cut off, or a malformed status line or headers
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        error = httpx.RemoteProtocolError(message)
    elif isinstance(exc, aiohttp.ClientOSError):
        error = httpx.ReadError(message)
    else:
        error = httpx.NetworkError(message)
    error.__cause__ = exc
    return error


def as_httpx_response(
    status: int, raw_headers: Any, content: bytes, *, encoded: bool
) -> httpx.Response:
    """The answer as the `httpx.Response` the generated parser reads. An `encoded` body
    (Content-Encoding) is decoded by httpx, as on the httpx path; a plain one is handed over
    as is: httpx's reading machinery (decoders, chunking) costs 30 us a call for nothing then."""
    response = httpx.Response(status, headers=raw_headers, stream=httpx.ByteStream(content))
    if encoded:
        response.read()
    else:
        response._content = content
    return response


def _json_bytes(value: Any) -> bytes:
    # Exactly httpx 0.28's encoding of `json=`.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class AiohttpRoute:
    """One aiohttp session (one pool) of one event loop, sending the generated requests."""

    __slots__ = ("_api", "_base", "_headers", "_targets", "_timeouts", "keeper", "session")

    def __init__(
        self,
        *,
        api: Any,
        base_url: str,
        headers: tuple[tuple[str, str], ...],
        max_connections: int,
        keepalive_expiry: float,
        ssl_context: ssl.SSLContext,
    ) -> None:
        connector = aiohttp.TCPConnector(
            limit=max_connections,
            limit_per_host=0,
            keepalive_timeout=keepalive_expiry,
            ssl=ssl_context,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # httpx decodes, as on the httpx path
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        self._api = api
        self._base = base_url.rstrip("/")
        self._headers = {"Accept-Encoding": _ACCEPT_ENCODING, **dict(headers)}
        self._targets: dict[Any, tuple[Any, URL]] = {}  # by the endpoint's generated function
        # By the phases' values: aiohttp's timeout, and the exchange's limit.
        self._timeouts: dict[tuple[Any, ...], tuple[aiohttp.ClientTimeout, float | None]] = {}
        self.keeper: object = None  # see `_pool.keep_until_loop_ends`

    def _target(self, endpoint: Any, path: str) -> tuple[Any, URL]:
        module = sys.modules[endpoint.asyncio.__module__]
        target = (module, URL(self._base + path))
        self._targets[endpoint.asyncio] = target
        return target

    def _timeout(self, phases: dict[str, Any]) -> tuple[aiohttp.ClientTimeout, float | None]:
        key = tuple(phases.values())
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = (client_timeout(phases), exchange_limit(phases))
        return timeout

    async def send(self, endpoint: Any, body: Any, key: str, cid: str, call: Any) -> Any:
        """The generated `Response` of one try (raises httpx exceptions on failure)."""
        target = self._targets.get(endpoint.asyncio)  # two endpoints may share a route
        module = target[0] if target is not None else sys.modules[endpoint.asyncio.__module__]
        request = module._get_kwargs(body=body, idempotency_key=key, x_correlation_id=cid)
        if target is None:
            target = self._target(endpoint, request["url"])
        # A body the caller encoded already (the bulk job's) goes as it is.
        data = request["content"] if "content" in request else _json_bytes(request["json"])
        headers = {**self._headers, **request["headers"]}
        for name, value in call.headers:
            headers[name] = value
        timeout, limit = self._timeout(call.timeout)
        # Only a body past the transport's high-water mark waits for the socket to drain.
        deadline: asyncio.Timeout | _NoDeadline = (
            asyncio.timeout(limit) if limit is not None and len(data) > _MAY_STALL else _NO_DEADLINE
        )
        call.sent = True
        try:
            async with (
                deadline,
                self.session.request(
                    request["method"].upper(),  # the generated "post", as httpx sends it
                    target[1],
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=timeout,
                ) as answer,
            ):
                deadline.reschedule(None)  # the body's reads have `sock_read` each
                content = await answer.read()
                status, raw_headers = answer.status, answer.raw_headers
                encoded = answer.headers.get("Content-Encoding", "identity") != "identity"
        except (aiohttp.ClientError, TimeoutError) as exc:
            if deadline.expired():
                raise httpx.WriteTimeout(
                    f"the request was not sent and answered within {limit:g} s (pool + connect"
                    " + write + read): the peer stopped reading it"
                ) from exc
            raise as_httpx_error(exc) from exc
        response = as_httpx_response(status, raw_headers, content, encoded=encoded)
        call.response = response
        return module._build_response(client=self._api, response=response)

    @property
    def closed(self) -> bool:
        return self.session.closed

    async def aclose(self) -> None:
        await self.session.close()

    def leave(self) -> None:
        # Marked closed without closing anything (aiohttp would otherwise report it, and try
        # to close its connections, when collected: at the latest as the interpreter exits).
        connector = self.session.connector
        if connector is not None and hasattr(connector, "_closed"):
            connector._closed = True
        _pool.leave_alone((self.session, self.keeper))
