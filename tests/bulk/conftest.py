"""Fixtures every bulk test module shares: a fresh local server per test, and both facades."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from synap.server import LocalServer
from tests.bulk._support import FACADES


@pytest.fixture(params=FACADES)
def facade(request: pytest.FixtureRequest) -> str:
    """Each test runs on the blocking `Synap` and on the async `AsyncSynap`."""
    return str(request.param)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    """A local server of the test's own (a module may override it, e.g. with B2B tenancy)."""
    with LocalServer(tmp_path / "synap.db") as running:
        yield running
