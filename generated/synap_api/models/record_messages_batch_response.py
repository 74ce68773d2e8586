from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.batch_message_error import BatchMessageError
    from ..models.batch_message_result import BatchMessageResult


T = TypeVar("T", bound="RecordMessagesBatchResponse")


@_attrs_define
class RecordMessagesBatchResponse:
    """Summary of a batch.

    Attributes:
        total (int): Number of messages submitted.
        succeeded (int): Number of messages accepted.
        failed (int): Number of messages rejected.
        results (list[BatchMessageResult]): One result per message, in submission order.
        errors (list[BatchMessageError] | Unset): The rejected entries again, by index (sent by some servers).
    """

    total: int
    succeeded: int
    failed: int
    results: list[BatchMessageResult]
    errors: list[BatchMessageError] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        succeeded = self.succeeded

        failed = self.failed

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "succeeded": succeeded,
                "failed": failed,
                "results": results,
            }
        )
        if errors is not UNSET:
            field_dict["errors"] = errors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_message_error import BatchMessageError  # noqa: PLC0415
        from ..models.batch_message_result import BatchMessageResult  # noqa: PLC0415

        d = dict(src_dict)
        total = d.pop("total")

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = BatchMessageResult.from_dict(results_item_data)

            results.append(results_item)

        _errors = d.pop("errors", UNSET)
        errors: list[BatchMessageError] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = BatchMessageError.from_dict(errors_item_data)

                errors.append(errors_item)

        record_messages_batch_response = cls(
            total=total,
            succeeded=succeeded,
            failed=failed,
            results=results,
            errors=errors,
        )

        record_messages_batch_response.additional_properties = d
        return record_messages_batch_response

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
