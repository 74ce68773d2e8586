from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.ingestion_status import IngestionStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateMemoryResponse")


@_attrs_define
class CreateMemoryResponse:
    """The outcome of one document.

    Attributes:
        ingestion_id (UUID): Identifier of the document's ingestion.
        document_id (str): The document's id, passed in or assigned by the server.
        status (IngestionStatus | str): Where the document stands in the ingestion pipeline. A status newer than this
            document is kept as its text, so a stored document is never reported as an error.
        queued_at (datetime.datetime): When the document was queued (ISO-8601).
        error_message (None | str | Unset): Why the document was rejected; null when it was accepted.
    """

    ingestion_id: UUID
    document_id: str
    status: IngestionStatus | str
    queued_at: datetime.datetime
    error_message: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ingestion_id = str(self.ingestion_id)

        document_id = self.document_id

        status: str
        if isinstance(self.status, IngestionStatus):
            status = self.status.value
        else:
            status = self.status

        queued_at = self.queued_at.isoformat().replace("+00:00", "Z")

        error_message: None | str | Unset
        if isinstance(self.error_message, Unset):
            error_message = UNSET
        else:
            error_message = self.error_message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ingestion_id": ingestion_id,
                "document_id": document_id,
                "status": status,
                "queued_at": queued_at,
            }
        )
        if error_message is not UNSET:
            field_dict["error_message"] = error_message

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        ingestion_id = UUID(d.pop("ingestion_id"))

        document_id = d.pop("document_id")

        def _parse_status(data: object) -> IngestionStatus | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = IngestionStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IngestionStatus | str, data)

        status = _parse_status(d.pop("status"))

        queued_at = datetime.datetime.fromisoformat(d.pop("queued_at"))

        def _parse_error_message(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error_message = _parse_error_message(d.pop("error_message", UNSET))

        create_memory_response = cls(
            ingestion_id=ingestion_id,
            document_id=document_id,
            status=status,
            queued_at=queued_at,
            error_message=error_message,
        )

        create_memory_response.additional_properties = d
        return create_memory_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
