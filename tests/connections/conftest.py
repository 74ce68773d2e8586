"""Shared by the connection-layer tests: the send-path fixture of the SDK tests."""

from tests.sdk.conftest import send_path

__all__ = ["send_path"]
