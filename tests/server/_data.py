"""Request bodies and checks shared by the server tests."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from synap_spec import OPERATIONS

from synap.server import SpecValidator

# The paths are the spec's (tests/spec/test_spec.py pins them to the real service's).
MESSAGES = OPERATIONS["record_message"].path
MESSAGES_BATCH = OPERATIONS["record_messages_batch"].path
MEMORIES_BATCH = OPERATIONS["batch_create"].path

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
VALIDATOR = SpecValidator()


def new_id() -> str:
    return str(uuid.uuid4())


def message(conversation_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid record_message body (B2B: with a customer)."""
    body: dict[str, Any] = {
        "conversation_id": conversation_id or new_id(),
        "role": "user",
        "content": "I prefer dark mode and concise answers.",
        "user_id": "user_alice",
        "customer_id": "customer_acme",
        "metadata": {"channel": "web"},
    }
    body.update(fields)
    return body


def document(text: str = "User: My favorite color is blue.", **fields: Any) -> dict[str, Any]:
    """A valid batch_create document, all nine keys as the vendor client sends them."""
    body: dict[str, Any] = {
        "document": text,
        "document_type": "ai-chat-conversation",
        "document_id": None,
        "document_created_at": None,
        "user_id": "user_789",
        "customer_id": "cust_456",
        "scope": None,
        "mode": "fast",
        "metadata": {},
    }
    body.update(fields)
    return body


def client(url: str, api_key: str | None, **kwargs: Any) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    kwargs.setdefault("timeout", 10)
    return httpx.Client(base_url=url, headers=headers, **kwargs)


def assert_valid(schema: str, body: Any) -> None:
    """`body` satisfies the spec's component schema `schema`."""
    assert VALIDATOR.errors(schema, body) == []
