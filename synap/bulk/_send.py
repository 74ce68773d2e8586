"""How a bulk job's message calls go out: the body the job already encoded, one parse of the
answer.

`record_messages_batch` would check each entry again, let httpx encode the body again, and
have the generated client build a model of every result (parsing three UUIDs and a time per
message) only to return the JSON as it came. The bulk job has checked and encoded each entry
once already, and reads each result's `error` itself, so its calls send those bytes through
the same transport (same retries, headers, errors, idempotency key) and parse the answer once.
The request is the generated client's own (`_get_kwargs`: method, path, headers), so a change
of the spec changes it here too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
from synap_api.api.conversation import record_messages_batch as _generated
from synap_api.types import UNSET, Response

from synap import _wire

if TYPE_CHECKING:
    from synap._transport import AsyncTransport, SyncTransport


class _Unchecked:
    """The `parsed` of a 200 answer the bulk job reads itself (see `batch_result`)."""

    __slots__ = ()


_UNCHECKED = _Unchecked()


class _Encoded:
    """A request body already encoded; `_get_kwargs` asks it for `to_dict()`."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {}


def _get_kwargs(*, body: bytes, idempotency_key: Any, x_correlation_id: Any) -> dict[str, Any]:
    """The generated request (method, path, headers) carrying `body` as it is. Named as the
    generated modules name it: the SDK's aiohttp route asks the endpoint's module for it."""
    kwargs = _generated._get_kwargs(
        body=_Encoded(),  # type: ignore[arg-type]
        idempotency_key=UNSET if idempotency_key is None else idempotency_key,
        x_correlation_id=UNSET if x_correlation_id is None else x_correlation_id,
    )
    del kwargs["json"]
    kwargs["content"] = body
    return kwargs


def _build_response(*, client: Any, response: httpx.Response) -> Response[Any]:
    """The generated `Response` of an answer, its body left for `batch_result` to read."""
    return Response(
        status_code=response.status_code,  # type: ignore[arg-type]  # read as an int
        content=response.content,
        headers=response.headers,
        parsed=_UNCHECKED if response.status_code == 200 else None,
    )


def _sync(*, client: Any, body: bytes, idempotency_key: Any, x_correlation_id: Any) -> Any:
    http = client.get_httpx_client()
    answer = http.request(**_get_kwargs(body=body, idempotency_key=idempotency_key,
                                        x_correlation_id=x_correlation_id))  # fmt: skip
    return _build_response(client=client, response=answer)


async def _async(*, client: Any, body: bytes, idempotency_key: Any, x_correlation_id: Any) -> Any:
    http = client.get_async_httpx_client()
    answer = await http.request(**_get_kwargs(body=body, idempotency_key=idempotency_key,
                                              x_correlation_id=x_correlation_id))  # fmt: skip
    return _build_response(client=client, response=answer)


RECORD_MESSAGES_BATCH = _wire.Endpoint(_wire.RECORD_MESSAGES_BATCH.name, _sync, _async, _Unchecked)


def messages_body(encoded: bytes) -> bytes:
    """The body of `record_messages_batch` carrying entries already encoded as one JSON array
    (`_engine.encode`: a bulk chunk's, a recorder batch's)."""
    return b'{"messages":' + encoded + b"}"


def batch_result(content: bytes) -> dict[str, Any]:
    """A 200 answer of `record_messages_batch` as the documented dict: an object with a
    `results` list of objects (each entry's own outcome is read by the job)."""
    data = json.loads(content)
    if not isinstance(data, dict):
        raise TypeError(f"expected a JSON object, got {type(data).__name__}")
    if not isinstance(data.get("results"), list):  # each entry's result is read by the job
        raise TypeError("the answer has no list of results")
    return data


def send_messages(
    transport: SyncTransport,
    body: bytes,
    idempotency_key: str,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One `record_messages_batch` call of checked entries (`messages_body`), blocking: a bulk
    job's chunk or a recorder's batch."""
    return transport.send(
        RECORD_MESSAGES_BATCH,
        body,
        batch_result,
        idempotency_key=idempotency_key,
        extra_headers=extra_headers,
    )


async def asend_messages(
    transport: AsyncTransport,
    body: bytes,
    idempotency_key: str,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The async twin of `send_messages`."""
    return await transport.send(
        RECORD_MESSAGES_BATCH,
        body,
        batch_result,
        idempotency_key=idempotency_key,
        extra_headers=extra_headers,
    )
