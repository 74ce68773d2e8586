from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.create_memory_response import CreateMemoryResponse


T = TypeVar("T", bound="BatchCreateResponse")


@_attrs_define
class BatchCreateResponse:
    """Aggregate counts and one result per document.

    Attributes:
        batch_id (UUID): Identifier of the batch submission.
        total (int): Number of documents submitted.
        succeeded (int): Number of documents queued.
        failed (int): Number of documents that failed validation.
        results (list[CreateMemoryResponse]): One result per document, in submission order.
    """

    batch_id: UUID
    total: int
    succeeded: int
    failed: int
    results: list[CreateMemoryResponse]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        batch_id = str(self.batch_id)

        total = self.total

        succeeded = self.succeeded

        failed = self.failed

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "batch_id": batch_id,
                "total": total,
                "succeeded": succeeded,
                "failed": failed,
                "results": results,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_memory_response import CreateMemoryResponse  # noqa: PLC0415

        d = dict(src_dict)
        batch_id = UUID(d.pop("batch_id"))

        total = d.pop("total")

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = CreateMemoryResponse.from_dict(results_item_data)

            results.append(results_item)

        batch_create_response = cls(
            batch_id=batch_id,
            total=total,
            succeeded=succeeded,
            failed=failed,
            results=results,
        )

        batch_create_response.additional_properties = d
        return batch_create_response

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
