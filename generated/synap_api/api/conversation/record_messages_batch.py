from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.http_error import HTTPError
from ...models.record_messages_batch_request import RecordMessagesBatchRequest
from ...models.record_messages_batch_response import RecordMessagesBatchResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: RecordMessagesBatchRequest,
    idempotency_key: str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(x_correlation_id, Unset):
        headers["X-Correlation-ID"] = x_correlation_id

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/conversations/messages/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> HTTPError | RecordMessagesBatchResponse | None:
    if response.status_code == 200:
        response_200 = RecordMessagesBatchResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = HTTPError.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = HTTPError.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = HTTPError.from_dict(response.json())

        return response_402

    if response.status_code == 403:
        response_403 = HTTPError.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = HTTPError.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = HTTPError.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = HTTPError.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = HTTPError.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = HTTPError.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = HTTPError.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = HTTPError.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = HTTPError.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = HTTPError.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[HTTPError | RecordMessagesBatchResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RecordMessagesBatchRequest,
    idempotency_key: str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
) -> Response[HTTPError | RecordMessagesBatchResponse]:
    """Record many conversation messages in one call.

     Records many messages in one call: for backfilling an existing transcript, syncing a buffered queue,
    or recording a multi-turn exchange once it has finished. Each entry has the shape of a
    `record_message` call, except that `user_id` and `customer_id` are optional. Entries are judged one
    by one; the response reports each in submission order.

    Args:
        idempotency_key (str | Unset):
        x_correlation_id (str | Unset):
        body (RecordMessagesBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPError | RecordMessagesBatchResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        x_correlation_id=x_correlation_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: RecordMessagesBatchRequest,
    idempotency_key: str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
) -> HTTPError | RecordMessagesBatchResponse | None:
    """Record many conversation messages in one call.

     Records many messages in one call: for backfilling an existing transcript, syncing a buffered queue,
    or recording a multi-turn exchange once it has finished. Each entry has the shape of a
    `record_message` call, except that `user_id` and `customer_id` are optional. Entries are judged one
    by one; the response reports each in submission order.

    Args:
        idempotency_key (str | Unset):
        x_correlation_id (str | Unset):
        body (RecordMessagesBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPError | RecordMessagesBatchResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        x_correlation_id=x_correlation_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RecordMessagesBatchRequest,
    idempotency_key: str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
) -> Response[HTTPError | RecordMessagesBatchResponse]:
    """Record many conversation messages in one call.

     Records many messages in one call: for backfilling an existing transcript, syncing a buffered queue,
    or recording a multi-turn exchange once it has finished. Each entry has the shape of a
    `record_message` call, except that `user_id` and `customer_id` are optional. Entries are judged one
    by one; the response reports each in submission order.

    Args:
        idempotency_key (str | Unset):
        x_correlation_id (str | Unset):
        body (RecordMessagesBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[HTTPError | RecordMessagesBatchResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        x_correlation_id=x_correlation_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: RecordMessagesBatchRequest,
    idempotency_key: str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
) -> HTTPError | RecordMessagesBatchResponse | None:
    """Record many conversation messages in one call.

     Records many messages in one call: for backfilling an existing transcript, syncing a buffered queue,
    or recording a multi-turn exchange once it has finished. Each entry has the shape of a
    `record_message` call, except that `user_id` and `customer_id` are optional. Entries are judged one
    by one; the response reports each in submission order.

    Args:
        idempotency_key (str | Unset):
        x_correlation_id (str | Unset):
        body (RecordMessagesBatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        HTTPError | RecordMessagesBatchResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            x_correlation_id=x_correlation_id,
        )
    ).parsed
