"""The documents `memories.batch_create` takes and the results it returns.

`CreateMemoryRequest` is one document to ingest. `BatchCreateResponse` is what a batch comes
back as: attribute access (`batch.succeeded`, `batch.results[0].ingestion_id`), with the
server's strings kept as they were sent. The enums are the spec's own, re-exported.

The attributes are the spec's properties by name (`tests/spec/test_parity.py` fails naming
any property of `CreateMemoryRequest`, `CreateMemoryResponse` or `BatchCreateResponse` that
is not an attribute here); their defaults come from the spec's facts (`synap_spec`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import attrs
from synap_api.models.document_type import DocumentType
from synap_api.models.ingestion_status import IngestionStatus
from synap_api.models.memory_mode import MemoryMode
from synap_spec import SCHEMAS

__all__ = [
    "BatchCreateResponse",
    "CreateMemoryRequest",
    "CreateMemoryResponse",
    "DocumentType",
    "IngestionStatus",
    "MemoryMode",
]


_REQUEST = SCHEMAS["CreateMemoryRequest"]


def _default(name: str) -> Any:
    prop = _REQUEST.prop(name)
    return prop.default if prop is not None and prop.has_default else None


def _lenient(enum: type[DocumentType] | type[MemoryMode], default: Any) -> Any:
    """A converter: a known string becomes the enum, None the spec's default; anything else is
    kept as given and judged when the batch is sent, so that `fail_fast=False` can report it
    in `results` instead of the constructor raising before the caller could submit the rest.
    Only strings are looked up: the enum's error for another value would repr it, which can
    itself fail."""
    known = frozenset(member.value for member in enum)

    def convert(value: Any) -> Any:
        if value is None:
            return enum(default)
        if isinstance(value, str) and value in known:
            return enum(value)
        return value

    return convert


_to_document_type = _lenient(DocumentType, _default("document_type"))
_to_mode = _lenient(MemoryMode, _default("mode"))


def _document_type(value: Any) -> Any:
    return _to_document_type(value)


def _mode(value: Any) -> Any:
    return _to_mode(value)


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
        extra: Fields of the spec's `CreateMemoryRequest` newer than this class, by name
            (keyword only): sent and checked like the others. A name that is not a field of
            the spec is refused when the batch is checked.

    Nothing is checked here: `memories.batch_create` checks every document before sending
    and, with `fail_fast=False`, reports an invalid one in its result instead of raising.
    """

    document: str | dict[str, Any]
    document_type: DocumentType | str = attrs.field(default=None, converter=_document_type)
    document_id: str | None = None
    document_created_at: datetime.datetime | str | None = None
    user_id: str | None = None
    customer_id: str | None = None
    scope: str | None = None
    mode: MemoryMode | str = attrs.field(default=None, converter=_mode)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_metadata)
    extra: dict[str, Any] = attrs.field(factory=dict, kw_only=True, repr=False)


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
        known = {name: rest.pop(name, None) for name in _names(cls)}
        known["status"] = _status(known["status"])
        return cls(**known, extra=rest)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data, in the server's shape."""
        out = {**self.extra, **{name: getattr(self, name) for name in _names(type(self))}}
        out["status"] = str(self.status)
        return out


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
        known = {name: rest.pop(name, None) for name in _names(cls)}
        for name in _REQUIRED:
            if name not in data:
                raise KeyError(name)  # required by the spec: a malformed answer
        known["results"] = [CreateMemoryResponse.from_dict(r) for r in data["results"]]
        return cls(**known, extra=rest)

    def to_dict(self) -> dict[str, Any]:
        """The response as JSON-ready data, in the server's shape."""
        out = {**self.extra, **{name: getattr(self, name) for name in _names(type(self))}}
        out["results"] = [r.to_dict() for r in self.results]
        return out


_REQUIRED = tuple(p.name for p in SCHEMAS["BatchCreateResponse"].properties if p.required)


def _names(cls: type) -> tuple[str, ...]:
    """The attributes of a response class that are the spec's keys (all but `extra`)."""
    return tuple(f.name for f in attrs.fields(cls) if f.name != "extra")
