"""synap: the Python SDK for the Synap memory API.

    from synap import Synap                      # blocking scripts
    from synap import AsyncSynap                 # async services
    from synap import MaximemSynapSDK            # the vendor docs' async entry point

Every public name is here, flat. `import synap` stays cheap: the generated client, attrs and
the models load the first time a client is built or a model name is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synap import _version_source as _version
from synap._errors import (
    AuthenticationError,
    ConflictError,
    ContextNotFoundError,
    InsufficientCreditsError,
    InvalidInputError,
    NetworkError,
    NetworkTimeoutError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServiceUnavailableError,
    SynapAuthError,
    SynapError,
    SynapPermanentError,
    SynapTransientError,
    SynapValidationError,
    UnexpectedResponseError,
)
from synap._ids import new_idempotency_key

if TYPE_CHECKING:
    from synap._client import AsyncSynap, MaximemSynapSDK, Synap
    from synap._response import RawResponse
    from synap.bulk import BulkFailure, BulkSummary, CheckpointError
    from synap.conversation import (
        BatchMessageError,
        BatchMessageResult,
        RecordMessageResponse,
        RecordMessagesBatchResponse,
    )
    from synap.memories.models import (
        BatchCreateResponse,
        CreateMemoryRequest,
        CreateMemoryResponse,
        DocumentType,
        IngestionStatus,
        MemoryMode,
    )
    from synap.recorder import (
        AsyncRecorder,
        Recorder,
        RecorderFullError,
        RecorderStats,
        SpoolError,
        SpoolInUseError,
    )

__version__: str = _version.read()

__all__ = [
    "AsyncRecorder",
    "AsyncSynap",
    "AuthenticationError",
    "BatchCreateResponse",
    "BatchMessageError",
    "BatchMessageResult",
    "BulkFailure",
    "BulkSummary",
    "CheckpointError",
    "ConflictError",
    "ContextNotFoundError",
    "CreateMemoryRequest",
    "CreateMemoryResponse",
    "DocumentType",
    "IngestionStatus",
    "InsufficientCreditsError",
    "InvalidInputError",
    "MaximemSynapSDK",
    "MemoryMode",
    "NetworkError",
    "NetworkTimeoutError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitError",
    "RawResponse",
    "RecordMessageResponse",
    "RecordMessagesBatchResponse",
    "Recorder",
    "RecorderFullError",
    "RecorderStats",
    "ServiceUnavailableError",
    "SpoolError",
    "SpoolInUseError",
    "Synap",
    "SynapAuthError",
    "SynapError",
    "SynapPermanentError",
    "SynapTransientError",
    "SynapValidationError",
    "UnexpectedResponseError",
    "__version__",
    "new_idempotency_key",
]

# name -> module that defines it, imported on first access (PEP 562).
_LAZY = {
    "Synap": "synap._client",
    "AsyncSynap": "synap._client",
    "MaximemSynapSDK": "synap._client",
    "RawResponse": "synap._response",
    "RecordMessageResponse": "synap.conversation",
    "RecordMessagesBatchResponse": "synap.conversation",
    "BatchMessageResult": "synap.conversation",
    "BatchMessageError": "synap.conversation",
    "BatchCreateResponse": "synap.memories.models",
    "CreateMemoryRequest": "synap.memories.models",
    "CreateMemoryResponse": "synap.memories.models",
    "DocumentType": "synap.memories.models",
    "IngestionStatus": "synap.memories.models",
    "MemoryMode": "synap.memories.models",
    "BulkSummary": "synap.bulk",
    "BulkFailure": "synap.bulk",
    "CheckpointError": "synap.bulk",
    "Recorder": "synap.recorder",
    "AsyncRecorder": "synap.recorder",
    "RecorderFullError": "synap.recorder",
    "RecorderStats": "synap.recorder",
    "SpoolError": "synap.recorder",
    "SpoolInUseError": "synap.recorder",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'synap' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
