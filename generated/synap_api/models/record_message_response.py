from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RecordMessageResponse")


@_attrs_define
class RecordMessageResponse:
    """The recorded message.

    Attributes:
        message_id (UUID): Server-assigned message identifier.
        conversation_id (UUID): Echo of the supplied conversation id.
        session_id (str): The session id passed in, or the one generated for the message.
        recorded_at (datetime.datetime): When the message was accepted (ISO-8601).
        conversation_message_count (int | Unset): How many messages the conversation holds, this one included.
    """

    message_id: UUID
    conversation_id: UUID
    session_id: str
    recorded_at: datetime.datetime
    conversation_message_count: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message_id = str(self.message_id)

        conversation_id = str(self.conversation_id)

        session_id = self.session_id

        recorded_at = self.recorded_at.isoformat().replace("+00:00", "Z")

        conversation_message_count = self.conversation_message_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "message_id": message_id,
                "conversation_id": conversation_id,
                "session_id": session_id,
                "recorded_at": recorded_at,
            }
        )
        if conversation_message_count is not UNSET:
            field_dict["conversation_message_count"] = conversation_message_count

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        message_id = UUID(d.pop("message_id"))

        conversation_id = UUID(d.pop("conversation_id"))

        session_id = d.pop("session_id")

        recorded_at = datetime.datetime.fromisoformat(d.pop("recorded_at"))

        conversation_message_count = d.pop("conversation_message_count", UNSET)

        record_message_response = cls(
            message_id=message_id,
            conversation_id=conversation_id,
            session_id=session_id,
            recorded_at=recorded_at,
            conversation_message_count=conversation_message_count,
        )

        record_message_response.additional_properties = d
        return record_message_response

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
