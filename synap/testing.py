"""pytest fixtures for testing against a real local Synap server (loaded through `pytest11`).

```python
def test_remembers(synap_client):                 # a blocking synap.Synap
    synap_client.conversation.record_message(...)

@pytest.mark.asyncio                              # pytest-asyncio (any mode), or
@pytest.mark.anyio                                # anyio's plugin (installed with httpx)
async def test_remembers_async(async_synap_client):   # a synap.AsyncSynap
    await async_synap_client.conversation.record_message(...)

def test_raw(synap_server):                       # the LocalServer itself
    synap_server.url, synap_server.api_key, synap_server.db_path
    synap_server.store.snapshot()                 # what this test stored

@pytest.mark.synap_server(tenancy="b2c")          # LocalServer arguments, per test
def test_b2c(synap_client): ...
```

Isolation without a server per test: each pytest process (each xdist worker) starts one
server, on 127.0.0.1 and an ephemeral port, with its SQLite file under pytest's temporary
directory, and before every test `LocalServer.reset()` empties it (conversations, messages,
documents, idempotency keys) and swaps its key for a new one, so every test sees an empty
Synap, and a client left over from an earlier test gets 401 rather than writing into this one.
A marker asking for another tenancy or body limit (and/or its own `api_keys`) gets a server kept
for those options, reset the same way; a marker with `faults`, `db_path`, `host`, `port` or
`access_log` gets a server of its own, started and stopped around the test (faults can leave a
request still running after the test, which a shared server would let into the next one).

The fixtures need the `server` extra; without it they fail with the command that installs it,
and loading this plugin never imports it (nor anything else heavy), so other tests are
unaffected.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    import synap
    from synap.server import LocalServer

INSTALL_HINT = "the synap_server fixture needs the local server: pip install 'synap-memory[server]'"

_POOLED = frozenset({"api_keys", "tenancy", "max_body_bytes"})
"""Marker options a worker's kept servers can serve: the server is chosen by tenancy and body
limit, and `api_keys` are installed by the reset before the test."""


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


class _Servers:
    """The servers one pytest process keeps, one per (tenancy, body limit), started on first
    use and stopped when the session ends."""

    def __init__(self, folder: Callable[[], Path]) -> None:
        self._folder = folder
        self._servers: dict[tuple[Any, ...], LocalServer] = {}

    def get(self, options: dict[str, Any]) -> LocalServer:
        local_server = _local_server_class()
        defaults = inspect.signature(local_server).parameters
        # Options spelled out at their default value select the default server.
        settings = {
            k: v
            for k, v in options.items()
            if k != "api_keys" and not (k in defaults and v == defaults[k].default)
        }
        key = tuple(sorted(settings.items()))
        server = self._servers.get(key)
        if server is None:
            server = local_server(self._folder() / "synap.db", **settings)
            self._servers[key] = server
        if not server.running:  # first use, or a test stopped it
            try:
                server.start()
            except OSError:  # its old port was taken meanwhile
                server.port = 0
                server.start()
        return server

    def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()


@pytest.fixture(scope="session")
def _synap_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Servers]:
    servers = _Servers(lambda: tmp_path_factory.mktemp("synap-server"))
    yield servers
    servers.close()


@pytest.fixture
def synap_server(request: pytest.FixtureRequest, _synap_servers: _Servers) -> Iterator[LocalServer]:
    """A running local Synap server (`synap.server.LocalServer`) that holds nothing yet: this
    test's own data, under this test's own API key (`.api_key`)."""
    marker = request.node.get_closest_marker("synap_server")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if set(options) <= _POOLED:
        server = _synap_servers.get(options)
        server.reset(options.get("api_keys"))
        yield server
        return
    options.setdefault("db_path", request.getfixturevalue("tmp_path") / "synap.db")
    with _local_server_class()(**options) as server:
        yield server


@pytest.fixture
def synap_client(synap_server: LocalServer) -> Iterator[synap.Synap]:
    """A `synap.Synap` talking to `synap_server`, closed after the test."""
    import synap

    with synap.Synap(api_key=synap_server.api_key, base_url=synap_server.url) as client:
        yield client


# -- the async client ------------------------------------------------------------------------
# An AsyncSynap's connections belong to the event loop they were opened in, so the client must
# be closed in the loop the test ran in. Which loop that is depends on who runs the test:
# anyio's plugin (`@pytest.mark.anyio`; anyio comes with httpx) or pytest-asyncio
# (`@pytest.mark.asyncio`, or any async test in its auto mode) at the test's loop scope.
# `async_synap_client` looks at the test and hands over to the matching async fixture below.

NO_RUNNER = (
    "async_synap_client needs an async test: mark it @pytest.mark.anyio (anyio's plugin, "
    "installed with httpx) or @pytest.mark.asyncio (pytest-asyncio; its auto mode needs no mark)"
)


async def _open_async_client(server: LocalServer) -> AsyncIterator[synap.AsyncSynap]:
    import synap

    async with synap.AsyncSynap(api_key=server.api_key, base_url=server.url) as client:
        yield client


@pytest.fixture
async def _synap_async_client_anyio(
    synap_server: LocalServer,
) -> AsyncIterator[synap.AsyncSynap]:
    async for client in _open_async_client(synap_server):
        yield client


_LoopScope = Literal["function", "class", "module", "package", "session"]
_LOOP_SCOPES: tuple[_LoopScope, ...] = ("function", "class", "module", "package", "session")


def _asyncio_fixtures() -> dict[str, Any]:
    """One pytest-asyncio fixture per loop scope (none without pytest-asyncio)."""
    try:
        import pytest_asyncio
    except ImportError:
        return {}
    fixtures: dict[str, Any] = {}
    for scope in _LOOP_SCOPES:

        async def client(synap_server: LocalServer) -> AsyncIterator[synap.AsyncSynap]:
            async for opened in _open_async_client(synap_server):
                yield opened

        name = f"_synap_async_client_asyncio_{scope}"
        try:
            fixtures[name] = pytest_asyncio.fixture(client, name=name, loop_scope=scope)
        except TypeError:  # pytest-asyncio before 0.24: one loop per test
            fixtures[name] = pytest_asyncio.fixture(client, name=name)
    return fixtures


globals().update(_asyncio_fixtures())


def _asyncio_loop_scope(node: pytest.Item) -> str | None:
    """The loop scope pytest-asyncio runs `node` in, or None if it does not run it."""
    try:
        from pytest_asyncio import is_async_test
    except ImportError:
        return None
    if not is_async_test(node):
        return None
    marker = node.get_closest_marker("asyncio")
    scope = marker.kwargs.get("loop_scope") or marker.kwargs.get("scope") if marker else None
    if scope is None:
        try:
            scope = node.config.getini("asyncio_default_test_loop_scope")
        except ValueError:  # an older pytest-asyncio: one loop per test
            scope = None
    return str(scope or "function")


@pytest.fixture
def async_synap_client(request: pytest.FixtureRequest) -> synap.AsyncSynap:
    """A `synap.AsyncSynap` talking to `synap_server`, opened and closed in the test's loop.

    Mark the test `@pytest.mark.anyio` or `@pytest.mark.asyncio` (pytest-asyncio's auto mode
    needs no mark)."""
    # pytest-asyncio first: when it claims a test (its auto mode claims anyio's too), it is
    # the one that runs it, whatever other marks the test has.
    scope = _asyncio_loop_scope(request.node) if isinstance(request.node, pytest.Item) else None
    if scope is not None:
        name = f"_synap_async_client_asyncio_{scope}"
    elif "anyio_backend" in request.fixturenames:
        name = "_synap_async_client_anyio"
    else:
        pytest.fail(NO_RUNNER, pytrace=False)
    client: synap.AsyncSynap = request.getfixturevalue(name)
    return client
