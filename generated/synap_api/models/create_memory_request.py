from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.document_type import DocumentType
from ..models.memory_mode import MemoryMode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_memory_request_document_type_1 import (
        CreateMemoryRequestDocumentType1,
    )
    from ..models.metadata import Metadata


T = TypeVar("T", bound="CreateMemoryRequest")


@_attrs_define
class CreateMemoryRequest:
    """One document to ingest, with the fields of `memories.create`.

    Attributes:
        document (CreateMemoryRequestDocumentType1 | str): The content to ingest, as text or as a JSON object.
        document_type (DocumentType | Unset): What kind of content the document holds.
        document_id (None | str | Unset): Your identifier for the document; assigned by the server when absent.
        document_created_at (datetime.datetime | None | Unset): When the document was created (ISO-8601, with its
            offset).
        user_id (None | str | Unset): Your identifier for the end user the document belongs to.
        customer_id (None | str | Unset): Your customer (tenant) identifier.
        scope (None | str | Unset): The memory scope to store the document under.
        mode (MemoryMode | Unset): How the document is processed: `fast` for quick extraction, `long-range` (the
            default) for deeper processing.
        metadata (Metadata | Unset): Free-form metadata, for example model name, latency or custom tags.
    """

    document: CreateMemoryRequestDocumentType1 | str
    document_type: DocumentType | Unset = UNSET
    document_id: None | str | Unset = UNSET
    document_created_at: datetime.datetime | None | Unset = UNSET
    user_id: None | str | Unset = UNSET
    customer_id: None | str | Unset = UNSET
    scope: None | str | Unset = UNSET
    mode: MemoryMode | Unset = UNSET
    metadata: Metadata | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.create_memory_request_document_type_1 import (
            CreateMemoryRequestDocumentType1,  # noqa: PLC0415
        )

        document: dict[str, Any] | str
        if isinstance(self.document, CreateMemoryRequestDocumentType1):
            document = self.document.to_dict()
        else:
            document = self.document

        document_type: str | Unset = UNSET
        if not isinstance(self.document_type, Unset):
            document_type = self.document_type.value

        document_id: None | str | Unset
        if isinstance(self.document_id, Unset):
            document_id = UNSET
        else:
            document_id = self.document_id

        document_created_at: None | str | Unset
        if isinstance(self.document_created_at, Unset):
            document_created_at = UNSET
        elif isinstance(self.document_created_at, datetime.datetime):
            document_created_at = self.document_created_at.isoformat().replace(
                "+00:00", "Z"
            )
        else:
            document_created_at = self.document_created_at

        user_id: None | str | Unset
        if isinstance(self.user_id, Unset):
            user_id = UNSET
        else:
            user_id = self.user_id

        customer_id: None | str | Unset
        if isinstance(self.customer_id, Unset):
            customer_id = UNSET
        else:
            customer_id = self.customer_id

        scope: None | str | Unset
        if isinstance(self.scope, Unset):
            scope = UNSET
        else:
            scope = self.scope

        mode: str | Unset = UNSET
        if not isinstance(self.mode, Unset):
            mode = self.mode.value

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "document": document,
            }
        )
        if document_type is not UNSET:
            field_dict["document_type"] = document_type
        if document_id is not UNSET:
            field_dict["document_id"] = document_id
        if document_created_at is not UNSET:
            field_dict["document_created_at"] = document_created_at
        if user_id is not UNSET:
            field_dict["user_id"] = user_id
        if customer_id is not UNSET:
            field_dict["customer_id"] = customer_id
        if scope is not UNSET:
            field_dict["scope"] = scope
        if mode is not UNSET:
            field_dict["mode"] = mode
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_memory_request_document_type_1 import (
            CreateMemoryRequestDocumentType1,  # noqa: PLC0415
        )
        from ..models.metadata import Metadata  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_document(data: object) -> CreateMemoryRequestDocumentType1 | str:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                document_type_1 = CreateMemoryRequestDocumentType1.from_dict(data)

                return document_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CreateMemoryRequestDocumentType1 | str, data)

        document = _parse_document(d.pop("document"))

        _document_type = d.pop("document_type", UNSET)
        document_type: DocumentType | Unset
        if isinstance(_document_type, Unset):
            document_type = UNSET
        else:
            document_type = DocumentType(_document_type)

        def _parse_document_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        document_id = _parse_document_id(d.pop("document_id", UNSET))

        def _parse_document_created_at(
            data: object,
        ) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                document_created_at_type_0 = datetime.datetime.fromisoformat(data)

                return document_created_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        document_created_at = _parse_document_created_at(
            d.pop("document_created_at", UNSET)
        )

        def _parse_user_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_id = _parse_user_id(d.pop("user_id", UNSET))

        def _parse_customer_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        customer_id = _parse_customer_id(d.pop("customer_id", UNSET))

        def _parse_scope(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        scope = _parse_scope(d.pop("scope", UNSET))

        _mode = d.pop("mode", UNSET)
        mode: MemoryMode | Unset
        if isinstance(_mode, Unset):
            mode = UNSET
        else:
            mode = MemoryMode(_mode)

        _metadata = d.pop("metadata", UNSET)
        metadata: Metadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = Metadata.from_dict(_metadata)

        create_memory_request = cls(
            document=document,
            document_type=document_type,
            document_id=document_id,
            document_created_at=document_created_at,
            user_id=user_id,
            customer_id=customer_id,
            scope=scope,
            mode=mode,
            metadata=metadata,
        )

        create_memory_request.additional_properties = d
        return create_memory_request

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
