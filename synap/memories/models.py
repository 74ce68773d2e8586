"""The documents `memories.batch_create` takes and the results it returns.

`CreateMemoryRequest` is one document to ingest. `BatchCreateResponse` is what a batch comes
back as: attribute access (`batch.succeeded`, `batch.results[0].ingestion_id`), with the
server's strings kept as they were sent. The enums are the spec's own, re-exported.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import attrs
from synap_api.models.document_type import DocumentType
from synap_api.models.ingestion_status import IngestionStatus
from synap_api.models.memory_mode import MemoryMode

__all__ = [
    "BatchCreateResponse",
    "CreateMemoryRequest",
    "CreateMemoryResponse",
    "DocumentType",
    "IngestionStatus",
    "MemoryMode",
]


def _document_type(value: Any) -> Any:
    # A known string becomes the enum; anything else is kept as given and judged when the
    # batch is sent, so that `fail_fast=False` can report it in `results` instead of the
    # constructor raising before the caller could submit the rest. Only strings are looked
    # up: the enum's error for another value would repr it, which can itself fail.
    if value is None:
        return DocumentType.AI_CHAT_CONVERSATION
    if isinstance(value, str) and value in _DOCUMENT_TYPES:
        return DocumentType(value)
    return value


def _mode(value: Any) -> Any:
    if value is None:
        return MemoryMode.LONG_RANGE
    if isinstance(value, str) and value in _MODES:
        return MemoryMode(value)
    return value


_DOCUMENT_TYPES = frozenset(t.value for t in DocumentType)
_MODES = frozenset(m.value for m in MemoryMode)


def _metadata(value: Any) -> Any:
    return {} if value is None else value


@attrs.define
class CreateMemoryRequest:
    """One document to ingest, with the fields of `memories.create`.

    Args:
        document: The content to ingest: text, or a JSON object (a dict).
        document_type: `"ai-chat-conversation"` (default), `"document"`, `"email"`, `"pdf"`,
            `"image"`, `"audio"` or `"meeting-transcript"`; a string or a `DocumentType`.
        document_id: Your identifier for the document; assigned by the server when None.
        document_created_at: When the document was created: a timezone-aware `datetime` or an
            ISO-8601 string with its offset.
        user_id: Your identifier for the end user the document belongs to.
        customer_id: Your customer (tenant) identifier.
        scope: The memory scope to store the document under.
        mode: `"long-range"` (default, deeper processing) or `"fast"`; a string or a
            `MemoryMode`.
        metadata: Free-form metadata (a dict), e.g. source or tags.

    Nothing is checked here: `memories.batch_create` checks every document before sending
    and, with `fail_fast=False`, reports an invalid one in its result instead of raising.
    """

    document: str | dict[str, Any]
    document_type: DocumentType | str = attrs.field(
        default=DocumentType.AI_CHAT_CONVERSATION, converter=_document_type
    )
    document_id: str | None = None
    document_created_at: datetime.datetime | str | None = None
    user_id: str | None = None
    customer_id: str | None = None
    scope: str | None = None
    mode: MemoryMode | str = attrs.field(default=MemoryMode.LONG_RANGE, converter=_mode)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_metadata)


def _status(value: Any) -> IngestionStatus | str:
    # A newer server may report a status this SDK does not know; the document was still
    # stored, so keep the text rather than turn a success into an error.
    if not isinstance(value, str):
        raise TypeError(f"status must be a string, not {type(value).__name__}")
    try:
        return IngestionStatus(value)
    except ValueError:
        return value


@attrs.define
class CreateMemoryResponse:
    """The outcome of one document of a batch.

    Attributes:
        ingestion_id: Identifier of the document's ingestion (a UUID string); None for a
            document the SDK rejected before sending.
        document_id: The document's id, passed in or assigned by the server; None for a
            document rejected before sending without an id of its own.
        status: `queued`, `processing`, `completed`, `failed` or `partial_success` (an
            `IngestionStatus`); a status newer than this SDK is kept as its text.
        queued_at: When the document was queued (ISO-8601, as the server wrote it); None for
            a document rejected before sending.
        error_message: Why the document was rejected; None when it was accepted.
        extra: Keys of the server's answer this SDK version does not know, kept as sent.
    """

    ingestion_id: str | None
    document_id: str | None
    status: IngestionStatus | str
    queued_at: str | None
    error_message: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreateMemoryResponse:
        """Build from a result as the server sends it (unknown keys go to `extra`)."""
        rest = dict(data)
        return cls(
            ingestion_id=rest.pop("ingestion_id", None),
            document_id=rest.pop("document_id", None),
            status=_status(rest.pop("status")),
            queued_at=rest.pop("queued_at", None),
            error_message=rest.pop("error_message", None),
            extra=rest,
        )

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data, in the server's shape."""
        return {
            **self.extra,
            "ingestion_id": self.ingestion_id,
            "document_id": self.document_id,
            "status": str(self.status),
            "queued_at": self.queued_at,
            "error_message": self.error_message,
        }


@attrs.define
class BatchCreateResponse:
    """What `memories.batch_create` returns: aggregate counts and per-document results.

    Attributes:
        batch_id: Unique identifier of the batch submission (a UUID string); None when no
            document was valid and nothing was sent.
        total: Total number of documents submitted.
        succeeded: Number of documents successfully queued.
        failed: Number of documents that failed validation (locally or on the server).
        results: One `CreateMemoryResponse` per document, in submission order.
        extra: Keys of the server's answer this SDK version does not know, kept as sent.
    """

    batch_id: str | None
    total: int
    succeeded: int
    failed: int
    results: list[CreateMemoryResponse]
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchCreateResponse:
        """Build from a response body as the server sends it (unknown keys go to `extra`)."""
        rest = dict(data)
        return cls(
            batch_id=rest.pop("batch_id", None),
            total=rest.pop("total"),
            succeeded=rest.pop("succeeded"),
            failed=rest.pop("failed"),
            results=[CreateMemoryResponse.from_dict(r) for r in rest.pop("results")],
            extra=rest,
        )

    def to_dict(self) -> dict[str, Any]:
        """The response as JSON-ready data, in the server's shape."""
        return {
            **self.extra,
            "batch_id": self.batch_id,
            "total": self.total,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "results": [r.to_dict() for r in self.results],
        }
