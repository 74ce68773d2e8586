from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="BatchMessageResult")


@_attrs_define
class BatchMessageResult:
    """The outcome of one entry. A stored entry carries `message_id` and `recorded_at`; a rejected one carries `error`.

    Attributes:
        message_id (UUID | Unset): Server-assigned message identifier.
        conversation_id (UUID | Unset): Echo of the entry's conversation id.
        session_id (str | Unset): The entry's session id, passed in or generated.
        recorded_at (datetime.datetime | Unset): When the entry was accepted (ISO-8601).
        error (str | Unset): Why the entry was rejected.
    """

    message_id: UUID | Unset = UNSET
    conversation_id: UUID | Unset = UNSET
    session_id: str | Unset = UNSET
    recorded_at: datetime.datetime | Unset = UNSET
    error: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message_id: str | Unset = UNSET
        if not isinstance(self.message_id, Unset):
            message_id = str(self.message_id)

        conversation_id: str | Unset = UNSET
        if not isinstance(self.conversation_id, Unset):
            conversation_id = str(self.conversation_id)

        session_id = self.session_id

        recorded_at: str | Unset = UNSET
        if not isinstance(self.recorded_at, Unset):
            recorded_at = self.recorded_at.isoformat().replace("+00:00", "Z")

        error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if message_id is not UNSET:
            field_dict["message_id"] = message_id
        if conversation_id is not UNSET:
            field_dict["conversation_id"] = conversation_id
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if recorded_at is not UNSET:
            field_dict["recorded_at"] = recorded_at
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _message_id = d.pop("message_id", UNSET)
        message_id: UUID | Unset
        if isinstance(_message_id, Unset):
            message_id = UNSET
        else:
            message_id = UUID(_message_id)

        _conversation_id = d.pop("conversation_id", UNSET)
        conversation_id: UUID | Unset
        if isinstance(_conversation_id, Unset):
            conversation_id = UNSET
        else:
            conversation_id = UUID(_conversation_id)

        session_id = d.pop("session_id", UNSET)

        _recorded_at = d.pop("recorded_at", UNSET)
        recorded_at: datetime.datetime | Unset
        if isinstance(_recorded_at, Unset):
            recorded_at = UNSET
        else:
            recorded_at = datetime.datetime.fromisoformat(_recorded_at)

        error = d.pop("error", UNSET)

        batch_message_result = cls(
            message_id=message_id,
            conversation_id=conversation_id,
            session_id=session_id,
            recorded_at=recorded_at,
            error=error,
        )

        batch_message_result.additional_properties = d
        return batch_message_result

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
