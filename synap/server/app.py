"""The HTTP layer of the local server: a Starlette app over `Service`.

Per request, in order: route (404/405), bearer auth (401), header parameters (422), body size
(413), JSON parsing (422), then `Service.handle` in a worker thread (validation 422, tenancy
403, idempotency replay/409, the write). Every answer is JSON; errors are `{"detail": ...}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from synap.server.faults import FaultInjector, FaultMiddleware, FaultPlan
from synap.server.operations import ApiError, Caller, Reply, Service, Tenancy, dumps
from synap.server.schema import SpecValidator
from synap.server.store import StaleRequest, Store, run_admitted

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
"""Bodies past this many bytes are answered 413 (4 MiB: 100 large documents fit)."""
MAX_JSON_DEPTH = 64
"""Deeper JSON nesting is answered 422 rather than risking the recursion limit."""


def parse_api_keys(specs: Iterable[str]) -> dict[str, str | None]:
    """`["KEY", "KEY2=CUSTOMER"]` -> `{"KEY": None, "KEY2": "CUSTOMER"}` (the CLI's spelling)."""
    keys: dict[str, str | None] = {}
    for spec in specs:
        key, sep, customer = spec.partition("=")
        if not key or (sep and not customer):
            raise ValueError("an API key is KEY or KEY=CUSTOMER, both non-empty")
        keys[key] = customer if sep else None
    return keys


def key_scope(api_key: str) -> str:
    """The name idempotency keys are scoped under: a hash of the API key, never the key."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class ApiKeys:
    """The keys an app accepts, each with the customer it is bound to (None: any).

    `replace()` swaps the whole table at once (`LocalServer.reset` gives each test its own
    key): a request is judged against the table it found, and carries that table's store
    epoch, so a request admitted under an old key cannot write after the store was cleared.
    """

    def __init__(self, api_keys: Mapping[str, str | None], epoch: int = 0) -> None:
        self._table = self._build(api_keys, epoch)

    @staticmethod
    def _build(
        api_keys: Mapping[str, str | None], epoch: int
    ) -> tuple[list[tuple[bytes, Caller]], int]:
        if not api_keys:
            raise ValueError("the server needs at least one API key")
        # Bytes once, up front: compare_digest wants bytes for non-ASCII input.
        keys = [
            (key.encode("utf-8"), Caller(key_scope(key), customer))
            for key, customer in api_keys.items()
        ]
        return keys, epoch

    def replace(self, api_keys: Mapping[str, str | None], epoch: int) -> None:
        """Accept only `api_keys` from now on, for requests admitted into store `epoch`."""
        self._table = self._build(api_keys, epoch)

    def authenticate(self, authorization: str) -> tuple[Caller, int]:
        """The caller an `Authorization` header names and the epoch it is admitted in; 401
        (`ApiError`) for a missing, malformed or unknown key."""
        keys, epoch = self._table  # one read: a concurrent replace() is seen whole or not
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
        presented = token.strip().encode("utf-8", "surrogateescape")
        found = None
        for key, caller in keys:  # no early exit: every key is compared
            if hmac.compare_digest(presented, key):
                found = caller
        if found is None:
            raise ApiError(401, "Invalid API key", {"WWW-Authenticate": "Bearer"})
        return found, epoch


def create_app(
    store: Store,
    *,
    api_keys: Mapping[str, str | None],
    tenancy: Tenancy = "b2b",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    faults: FaultPlan | FaultInjector | None = None,
    validator: SpecValidator | None = None,
) -> Starlette:
    """The local Synap as an ASGI app, storing into `store`.

    `api_keys` maps each accepted key to the customer it is bound to (None: any customer).
    `tenancy` is "b2b" (customer_id required on messages) or "b2c" (resolved from the user).
    `faults` turns fault injection on (see `synap.server.faults`); its `FaultInjector`
    (counters included) is `app.state.faults`. `app.state.service` is the `Service`,
    `app.state.api_keys` the `ApiKeys`.
    """
    keys = ApiKeys(api_keys, store.epoch)
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    validator = validator or SpecValidator()
    service = Service(store, tenancy=tenancy, validator=validator)

    async def read_body(request: Request) -> bytes:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body_bytes:
            raise _too_large(max_body_bytes)
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise _too_large(max_body_bytes)
            chunks.append(chunk)
        return b"".join(chunks)

    def endpoint(operation_id: str) -> Any:
        async def handle(request: Request) -> Response:
            correlation = request.headers.get("x-correlation-id")
            echo = {"X-Correlation-ID": correlation} if correlation else {}
            try:
                caller, epoch = keys.authenticate(request.headers.get("authorization", ""))
                header_errors = validator.header_errors(operation_id, request.headers)
                if header_errors:
                    raise ApiError(422, header_errors)
                body = _parse_json(await read_body(request), request.headers.get("content-type"))
                idempotency_key = request.headers.get("idempotency-key")
                reply = await run_in_threadpool(
                    run_admitted, epoch, service.handle, operation_id, caller, body, idempotency_key
                )
            except ApiError as error:
                reply = error.reply()
            except StaleRequest:  # its key was retired (LocalServer.reset) while it waited
                reply = ApiError(401, "Invalid API key", {"WWW-Authenticate": "Bearer"}).reply()
            except ClientDisconnect:
                return Response(status_code=400)  # nobody is listening any more
            return Response(
                reply.body,
                status_code=reply.status,
                headers={**reply.headers, **echo},
                media_type="application/json",
            )

        return handle

    routes = [
        Route(path, endpoint(op["operationId"]), methods=[method.upper()])
        for path, item in validator.spec["paths"].items()
        for method, op in item.items()
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.service = service
    app.state.api_keys = keys
    app.state.faults = None
    if faults is not None:
        injector = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
        app.state.faults = injector
        app.add_middleware(FaultMiddleware, injector=injector, paths=[r.path for r in routes])
    return app


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"Request body is larger than {limit} bytes")


def _parse_json(raw: bytes, content_type: str | None) -> Any:
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        msg = f"Content-Type must be application/json, not {media!r}"
        raise ApiError(
            422, [{"loc": ["header", "Content-Type"], "msg": msg, "type": "model_attributes_type"}]
        )
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        msg = "JSON decode error"
        reason = getattr(error, "msg", None) or str(error)
        raise ApiError(
            422,
            [{"loc": ["body"], "msg": msg, "type": "json_invalid", "ctx": {"error": reason}}],
        ) from None
    if _depth(value) > MAX_JSON_DEPTH:
        msg = f"JSON nesting deeper than {MAX_JSON_DEPTH} levels"
        raise ApiError(422, [{"loc": ["body"], "msg": msg, "type": "json_invalid"}])
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    """How many levels of dicts and lists nest in a parsed JSON value (a scalar: 0), counted
    up to MAX_JSON_DEPTH + 1. Level by level: no recursion, and no depth kept per node (this
    runs over every request body)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            return depth
        below: list[Any] = []
        for node in level:
            below.extend(node.values() if isinstance(node, dict) else node)
        level = [node for node in below if isinstance(node, (dict, list))]
    return depth


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    return Response(dumps({"detail": "Internal Server Error"}), 500, media_type="application/json")


__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "ApiKeys",
    "Reply",
    "create_app",
    "key_scope",
    "parse_api_keys",
]
