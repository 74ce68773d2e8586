"""Fixtures of the server tests: a real LocalServer on loopback, raw httpx against it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from synap.server import LocalServer
from tests.server._data import client


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One B2B server for a module's tests that only add data (each under new ids)."""
    with LocalServer(tmp_path_factory.mktemp("shared") / "synap.db") as server:
        yield server


@pytest.fixture
def http(shared_server: LocalServer) -> Iterator[httpx.Client]:
    """An authenticated httpx client of `shared_server`."""
    with client(shared_server.url, shared_server.api_key) as c:
        yield c
