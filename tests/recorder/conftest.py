"""The recorder tests' server (a fresh database each) and fast retries (the same fixture as
tests/reliability's)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from synap.server import LocalServer
from tests.reliability.conftest import chaos_figures, fast_retries

__all__ = ["chaos_figures", "fast_retries", "server"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "synap.db") as s:
        yield s
