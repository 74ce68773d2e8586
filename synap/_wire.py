"""Checked arguments -> generated request models; 200 bodies -> the documented return shapes.

The generated client (`synap_api`) parses every answer into its models, which checks the
documented shape (required keys, UUIDs, timestamps, enums). What the SDK returns, though, is
built from the raw JSON: the server's strings exactly as sent (a timestamp parsed and written
back is not the server's string) and unknown keys kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from synap_api.api.conversation import record_message as _record_message
from synap_api.api.conversation import record_messages_batch as _record_messages_batch
from synap_api.api.memories import batch_create as _batch_create
from synap_api.models import (
    BatchCreateRequest,
    RecordMessageRequest,
    RecordMessagesBatchRequest,
)
from synap_api.models import BatchCreateResponse as _GeneratedBatchCreateResponse
from synap_api.models import RecordMessageResponse as _GeneratedRecordMessageResponse
from synap_api.models import RecordMessagesBatchResponse as _GeneratedBatchResponse
from synap_spec import OPERATIONS

from synap import _validation
from synap._errors import InvalidInputError, SynapValidationError, brief
from synap.memories.models import BatchCreateResponse, CreateMemoryResponse, IngestionStatus

if TYPE_CHECKING:  # the TypedDicts live with the methods that return them
    from synap.conversation import RecordMessageResponse, RecordMessagesBatchResponse


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation of the generated client, as the transport needs it."""

    name: str  # for messages and logs, e.g. "POST /v1/conversations/messages"
    sync: Callable[..., Any]
    asyncio: Callable[..., Any]
    ok: type  # the generated model of its 200 answer


def _route(operation_id: str) -> str:
    op = OPERATIONS[operation_id]
    return f"{op.method} {op.path}"


RECORD_MESSAGE = Endpoint(
    _route("record_message"),
    _record_message.sync_detailed,
    _record_message.asyncio_detailed,
    _GeneratedRecordMessageResponse,
)
RECORD_MESSAGES_BATCH = Endpoint(
    _route("record_messages_batch"),
    _record_messages_batch.sync_detailed,
    _record_messages_batch.asyncio_detailed,
    _GeneratedBatchResponse,
)
BATCH_CREATE = Endpoint(
    _route("batch_create"),
    _batch_create.sync_detailed,
    _batch_create.asyncio_detailed,
    _GeneratedBatchCreateResponse,
)


def _object(content: bytes) -> dict[str, Any]:
    data = json.loads(content)
    if not isinstance(data, dict):
        raise TypeError(f"expected a JSON object, got {type(data).__name__}")
    return data


# record_message ---------------------------------------------------------------------------


class _Checked:
    """A generated request model that carries the wire form of input `_validation` checked.

    Checked input is already what goes out (canonical UUIDs, valid roles, JSON-ready values,
    the generated `to_dict` key order), so building the generated models only to turn them
    back into the same dict cost time: the most of the SDK's own CPU per batched message.
    """

    __slots__ = ()
    _wire: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self._wire

    def __repr__(self) -> str:
        return f"<checked {type(self).__mro__[2].__name__}>"


class _CheckedMessageRequest(_Checked, RecordMessageRequest):
    __slots__ = ("_wire",)

    def __init__(self, body: dict[str, Any]) -> None:  # no generated model built
        self._wire = body


def record_message_request(body: dict[str, Any]) -> RecordMessageRequest:
    """The generated request of a body checked by `_validation.record_message_body` (whose
    keys are in the generated `to_dict` order already)."""
    return _CheckedMessageRequest(body)


def record_message_result(content: bytes) -> RecordMessageResponse:
    """The documented dict of a 200 answer (already shape-checked by the generated client)."""
    return cast("RecordMessageResponse", _object(content))


# record_messages_batch --------------------------------------------------------------------


class _CheckedBatchRequest(_Checked, RecordMessagesBatchRequest):
    __slots__ = ("_wire",)

    def __init__(self, entries: list[dict[str, Any]]) -> None:  # no generated models built
        # `_validation.batch_message` writes each entry's keys in the generated `to_dict`
        # order already (undocumented keys, then the spec's in spec order).
        self._wire = {"messages": entries}


def record_messages_batch_request(entries: list[dict[str, Any]]) -> RecordMessagesBatchRequest:
    """The generated request of entries checked by `_validation.batch_messages`."""
    return _CheckedBatchRequest(entries)


def record_messages_batch_result(content: bytes) -> RecordMessagesBatchResponse:
    """The documented dict of a 200 answer."""
    return cast("RecordMessagesBatchResponse", _object(content))


# memories.batch_create --------------------------------------------------------------------


def _bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidInputError(f"{name} must be True or False, got {brief(value)}", field=name)


def _local_failure(doc: object, error: SynapValidationError) -> CreateMemoryResponse:
    # A document the SDK refused: it has no ingestion id and was never queued.
    doc_id = doc.get("document_id") if isinstance(doc, dict) else getattr(doc, "document_id", None)
    return CreateMemoryResponse(
        ingestion_id=None,
        document_id=doc_id if isinstance(doc_id, str) else None,
        status=IngestionStatus.FAILED,
        queued_at=None,
        error_message=str(error),
    )


@dataclass(slots=True)
class BatchCreatePlan:
    """What `batch_create` sends, and how to put the answer back in submission order.

    `request` is None when no document is valid: nothing is sent and `unsent()` is the result.
    """

    total: int
    request: BatchCreateRequest | None
    failures: dict[int, CreateMemoryResponse] = field(default_factory=dict)

    def unsent(self) -> BatchCreateResponse:
        """The result when nothing was sent: every document failed locally."""
        results = [self.failures[i] for i in range(self.total)]
        return BatchCreateResponse(
            batch_id=None, total=self.total, succeeded=0, failed=self.total, results=results
        )

    def result(self, content: bytes) -> BatchCreateResponse:
        """The documented response of a 200 answer, with the documents refused locally merged
        into `results` at their positions and counted in `failed` and `total`."""
        response = BatchCreateResponse.from_dict(_object(content))
        if not self.failures:
            return response
        sent = self.total - len(self.failures)
        if len(response.results) != sent:
            raise ValueError(
                f"{sent} documents were sent but the answer has {len(response.results)} results"
            )
        remote = iter(response.results)
        response.results = [
            self.failures[i] if i in self.failures else next(remote) for i in range(self.total)
        ]
        response.total += len(self.failures)
        response.failed += len(self.failures)
        return response


def plan_batch_create(documents: object, fail_fast: object) -> BatchCreatePlan:
    """Check the documents and decide what to send.

    Always refused (nothing sent): not a list, empty, over 100, entries of the wrong type, a
    non-bool `fail_fast`. An invalid document raises with `fail_fast=True`; without it the
    document is left out and reported in the result at its position.
    """
    strict = _bool(fail_fast, "fail_fast")
    docs: Sequence[Any] = _validation.documents(documents)
    wire: list[dict[str, Any]] = []
    failures: dict[int, CreateMemoryResponse] = {}
    for i, doc in enumerate(docs):
        try:
            wire.append(_validation.document(doc, i))
        except SynapValidationError as error:
            if strict:
                raise
            failures[i] = _local_failure(doc, error)
    request = (
        BatchCreateRequest.from_dict({"documents": wire, "fail_fast": strict}) if wire else None
    )
    return BatchCreatePlan(total=len(docs), request=request, failures=failures)
