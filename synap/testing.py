"""pytest fixtures for testing against a real local Synap server (loaded through `pytest11`).

```python
def test_remembers(synap_client):                 # a blocking synap.Synap
    synap_client.conversation.record_message(...)

async def test_remembers_async(async_synap_client):   # a synap.AsyncSynap
    await async_synap_client.conversation.record_message(...)

def test_raw(synap_server):                       # the LocalServer itself
    synap_server.url, synap_server.api_key, synap_server.db_path
    synap_server.store.snapshot()                 # what is stored

@pytest.mark.synap_server(tenancy="b2c")          # LocalServer arguments, per test
def test_b2c(synap_client): ...
```

Each test gets a fresh server: 127.0.0.1, an ephemeral port, a new SQLite file under the
test's `tmp_path`, a generated key; it is stopped after the test. The fixtures need the
`server` extra; without it they fail with the command that installs it, and loading this
plugin never imports it (nor anything else heavy), so other tests are unaffected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import synap
    from synap.server import LocalServer

INSTALL_HINT = "the synap_server fixture needs the local server: pip install 'synap-memory[server]'"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "synap_server(**kwargs): LocalServer arguments for this test's synap_server "
        "(tenancy='b2c', api_keys={...}, faults=FaultPlan(...), max_body_bytes=...)",
    )


def _local_server_class() -> type[LocalServer]:
    try:
        from synap.server import LocalServer
    except ImportError as error:  # the extra is missing: say what to install
        pytest.fail(f"{INSTALL_HINT} ({error})", pytrace=False)
    return LocalServer


@pytest.fixture
def synap_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalServer]:
    """A running local Synap server (`synap.server.LocalServer`) on a fresh database."""
    marker = request.node.get_closest_marker("synap_server")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    options.setdefault("db_path", tmp_path / "synap.db")
    with _local_server_class()(**options) as server:
        yield server


@pytest.fixture
def synap_client(synap_server: LocalServer) -> Iterator[synap.Synap]:
    """A `synap.Synap` talking to `synap_server`, closed after the test."""
    import synap

    with synap.Synap(api_key=synap_server.api_key, base_url=synap_server.url) as client:
        yield client


def _async_fixture(name: str) -> Callable[[Any], Any]:
    # pytest-asyncio (in any mode) runs the async fixtures it registered; without it, anyio's
    # plugin runs plain async fixtures for anyio tests. Either is already imported if installed.
    try:
        import pytest_asyncio
    except ImportError:
        return pytest.fixture(name=name)
    fixture: Callable[[Any], Any] = pytest_asyncio.fixture(name=name)
    return fixture


@_async_fixture("async_synap_client")
async def _async_synap_client(synap_server: LocalServer) -> AsyncIterator[synap.AsyncSynap]:
    """A `synap.AsyncSynap` talking to `synap_server`, closed after the test."""
    import synap

    async with synap.AsyncSynap(api_key=synap_server.api_key, base_url=synap_server.url) as client:
        yield client
