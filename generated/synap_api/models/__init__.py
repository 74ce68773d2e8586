"""Contains all the data models used in inputs/outputs"""

from .batch_create_request import BatchCreateRequest
from .batch_create_response import BatchCreateResponse
from .batch_message import BatchMessage
from .batch_message_error import BatchMessageError
from .batch_message_result import BatchMessageResult
from .create_memory_request import CreateMemoryRequest
from .create_memory_request_document_type_1 import CreateMemoryRequestDocumentType1
from .create_memory_response import CreateMemoryResponse
from .document_type import DocumentType
from .error_message import ErrorMessage
from .http_error import HTTPError
from .ingestion_status import IngestionStatus
from .memory_mode import MemoryMode
from .metadata import Metadata
from .record_message_request import RecordMessageRequest
from .record_message_response import RecordMessageResponse
from .record_messages_batch_request import RecordMessagesBatchRequest
from .record_messages_batch_response import RecordMessagesBatchResponse
from .role import Role
from .validation_error_item import ValidationErrorItem

__all__ = (
    "BatchCreateRequest",
    "BatchCreateResponse",
    "BatchMessage",
    "BatchMessageError",
    "BatchMessageResult",
    "CreateMemoryRequest",
    "CreateMemoryRequestDocumentType1",
    "CreateMemoryResponse",
    "DocumentType",
    "ErrorMessage",
    "HTTPError",
    "IngestionStatus",
    "MemoryMode",
    "Metadata",
    "RecordMessageRequest",
    "RecordMessageResponse",
    "RecordMessagesBatchRequest",
    "RecordMessagesBatchResponse",
    "Role",
    "ValidationErrorItem",
)
