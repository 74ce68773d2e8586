"""`LocalServer`: the local Synap on a real socket, in a background thread or in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Mapping
from os import PathLike
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

import uvicorn

from synap.server.app import DEFAULT_MAX_BODY_BYTES, create_app
from synap.server.faults import FaultInjector, FaultPlan
from synap.server.operations import Tenancy
from synap.server.store import Store

if TYPE_CHECKING:
    from starlette.applications import Starlette


def generate_api_key() -> str:
    """A fresh key in the service's format, `synap_` + 32 hex digits."""
    return f"synap_{secrets.token_hex(16)}"


class _Server(uvicorn.Server):
    # Signals are ours to handle (LocalServer.run_forever); uvicorn would re-raise them on exit.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        # uvicorn's loop notices `should_exit` every 100 ms; tests stop many servers.
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown always sleeps 100 ms after asking connections to close, then
        # polls every 100 ms; this one polls every 5 ms, to the same grace period. Requests in
        # flight still finish (a dedicated test server is stopped after every test).
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()
        deadline = time.monotonic() + (self.config.timeout_graceful_shutdown or 0)
        while (state.connections or state.tasks) and not self.force_exit:
            if time.monotonic() > deadline:
                for task in state.tasks:
                    task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
                break
            await asyncio.sleep(0.005)


class LocalServer:
    """The local Synap server on 127.0.0.1, an ephemeral port, backed by one SQLite file.

    ```python
    with LocalServer() as server:          # started, in a background thread
        client = synap.Synap(api_key=server.api_key, base_url=server.url)
        ...
        server.restart()                   # same database (and port, when it is still free)
        server.reset()                     # empty again, under a new key (one per test)
    ```

    Arguments:
        db_path: the SQLite file; None makes one in a temporary directory, removed on exit.
        api_keys: accepted keys, each mapped to the customer it is bound to (None: any);
            None generates one key. `api_key` is the first.
        tenancy: "b2b" (customer_id required on messages) or "b2c" (resolved from the user).
        faults: a `FaultPlan` turns fault injection on; `fault_counts()` reads its counters,
            which carry over a restart.
        max_body_bytes: bodies past it are answered 413.
        host, port: where to listen; port 0 picks a free one (the real one is in `url`).
        access_log: log each request through the `uvicorn.access` logger.
    """

    def __init__(
        self,
        db_path: str | PathLike[str] | None = None,
        *,
        api_keys: Mapping[str, str | None] | None = None,
        tenancy: Tenancy = "b2b",
        faults: FaultPlan | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
    ) -> None:
        self._tmpdir: str | None = None
        if db_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="synap-")
            db_path = Path(self._tmpdir) / "synap.db"
        self.db_path = Path(db_path)
        self.api_keys: dict[str, str | None] = (
            dict(api_keys) if api_keys else {generate_api_key(): None}
        )
        self.api_key = next(iter(self.api_keys))
        self.tenancy: Tenancy = tenancy
        self.faults = FaultInjector(faults) if faults is not None else None
        self.max_body_bytes = max_body_bytes
        self.host = host
        self.port = port
        self.access_log = access_log
        self.store: Store | None = None
        self._app: Starlette | None = None
        self._server: _Server | None = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321` (valid once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    def fault_counts(self) -> dict[str, int]:
        """Requests seen and faults injected so far (`FaultInjector.counts`); {} without faults."""
        return self.faults.counts() if self.faults is not None else {}

    def _open(self) -> _Server:
        if self._server is not None:
            raise RuntimeError("the server is already running")
        self.store = Store(self.db_path)
        try:
            self._app = app = create_app(
                self.store,
                api_keys=self.api_keys,
                tenancy=self.tenancy,
                max_body_bytes=self.max_body_bytes,
                faults=self.faults,
            )
            self._socket = _bind(self.host, self.port)
        except (OSError, ValueError):  # taken port, or bad settings (tenancy, limits, keys)
            self.store.close()
            self.store = self._app = None
            raise
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=self.access_log,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(config)
        return self._server

    def _close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        if self.store is not None:
            self.store.close()
        self._server = self._socket = self._thread = self._app = None
        self.store = None

    def start(self, timeout: float = 10.0) -> LocalServer:
        """Serve in a background thread; returns once requests are accepted."""
        server = self._open()
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="synap-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._close()
                raise RuntimeError("the local Synap server did not start")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (in-flight requests finish first). The database stays."""
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def restart(self) -> None:
        """Stop, then serve again on the same database (and port, unless it was taken)."""
        self.stop()
        try:
            self.start()
        except OSError:
            self.port = 0
            self.start()

    def reset(self, api_keys: Mapping[str, str | None] | None = None) -> None:
        """Empty the database and accept only `api_keys` from now on (None: one new key).

        Conversations, messages, documents and idempotency keys are deleted in one
        transaction (a millisecond, where a new server costs a hundred and fifty); the old
        keys stop working at once, and a request admitted under one that is still in flight
        gets 401 instead of writing. The pytest fixtures run one server per worker and reset
        it before each test. Fault counters are kept.
        """
        keys: dict[str, str | None] = dict(api_keys) if api_keys else {generate_api_key(): None}
        if self.store is None:  # stopped: empty the file; the keys apply from the next start
            if self.db_path.exists():
                store = Store(self.db_path)
                store.clear()
                store.close()
        else:
            epoch = self.store.clear()
            if self._app is not None:
                self._app.state.api_keys.replace(keys, epoch)
        self.api_keys = keys
        self.api_key = next(iter(keys))

    def run_forever(self, on_ready: Callable[[LocalServer], None] | None = None) -> None:
        """Serve in this (main) thread until SIGINT or SIGTERM; `on_ready` runs once bound."""
        server = self._open()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if server.should_exit:  # a second signal: stop waiting for requests in flight
                server.force_exit = True
            server.should_exit = True

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if on_ready is not None:
                on_ready(self)
            server.run(sockets=[self._socket] if self._socket else None)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._close()

    def close(self) -> None:
        """Stop, and remove the temporary directory if the database lives in one of ours."""
        self.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> LocalServer:
        return self.start() if not self.running else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:  # never the key
        state = self.url if self.running else "stopped"
        return f"<LocalServer {state} db={str(self.db_path)!r} tenancy={self.tenancy}>"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol says TCP, and without it every keep-alive response waits ~40 ms (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
