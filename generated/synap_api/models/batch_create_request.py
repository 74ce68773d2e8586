from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_memory_request import CreateMemoryRequest


T = TypeVar("T", bound="BatchCreateRequest")


@_attrs_define
class BatchCreateRequest:
    """
    Attributes:
        documents (list[CreateMemoryRequest]): The documents to ingest, at most 100.
        fail_fast (bool | Unset): Reject the whole batch as soon as one document fails validation. When false, valid
            documents are queued and invalid ones are reported in their results. Default: False.
    """

    documents: list[CreateMemoryRequest]
    fail_fast: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        documents = []
        for documents_item_data in self.documents:
            documents_item = documents_item_data.to_dict()
            documents.append(documents_item)

        fail_fast = self.fail_fast

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "documents": documents,
            }
        )
        if fail_fast is not UNSET:
            field_dict["fail_fast"] = fail_fast

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_memory_request import CreateMemoryRequest  # noqa: PLC0415

        d = dict(src_dict)
        documents = []
        _documents = d.pop("documents")
        for documents_item_data in _documents:
            documents_item = CreateMemoryRequest.from_dict(documents_item_data)

            documents.append(documents_item)

        fail_fast = d.pop("fail_fast", UNSET)

        batch_create_request = cls(
            documents=documents,
            fail_fast=fail_fast,
        )

        batch_create_request.additional_properties = d
        return batch_create_request

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
