"""Pool limits: 50 concurrent callers making 2,000 calls open about 50 TCP connections, not
one per call (httpx's default keeps 20 of 100 alive), counted by a loopback proxy in front of
the local server; `max_connections=` caps them; bad values are refused before anything."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import synap
from synap.server import LocalServer
from tests.sdk.conftest import async_synap

CALLERS, CALLS = 50, 2000


class CountingProxy:
    """A TCP proxy on 127.0.0.1 that counts the connections clients open to it."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.accepted = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        async def start() -> None:
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Pipe a client connection to the server. The server closes connections idle for 5 s
        (more of them on a busy machine): the proxy then opens a new one to the server when the
        client next sends, so only the connections the client opens are counted."""
        self.accepted += 1
        upstream: asyncio.StreamWriter | None = None
        answers: asyncio.Future[None] | None = None

        async def down(up: asyncio.StreamReader) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await up.read(65536):
                    writer.write(data)
                    await writer.drain()

        try:
            while data := await reader.read(65536):
                if upstream is None or answers is None or answers.done():
                    if upstream is not None:
                        upstream.close()
                    up_reader, upstream = await asyncio.open_connection(
                        "127.0.0.1", self.upstream_port
                    )
                    answers = asyncio.ensure_future(down(up_reader))
                upstream.write(data)
                await upstream.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if upstream is not None:
                upstream.close()
            if answers is not None:
                answers.cancel()
            writer.close()

    def stop(self) -> None:
        async def stop() -> None:
            self.server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def proxy(synap_server: LocalServer) -> Iterator[CountingProxy]:
    counting = CountingProxy(synap_server.port)
    yield counting
    counting.stop()


def options(server: LocalServer, proxy: CountingProxy, **more: Any) -> dict[str, Any]:
    return {"api_key": server.api_key, "base_url": f"http://127.0.0.1:{proxy.port}", **more}


def args(i: int) -> tuple[str, ...]:
    return (str(uuid.uuid4()), "user", f"call {i}", "u", "c")


# (pool size, calls): the default pool with the 2,000 calls; a small pool, fewer calls.
SIZES = [(None, CALLS), (10, 500)]


@pytest.mark.slow
@pytest.mark.parametrize(("pool", "calls"), SIZES)
def test_blocking_callers_reuse_connections(
    pool: int | None, calls: int, synap_server: LocalServer, proxy: CountingProxy
) -> None:
    more = {} if pool is None else {"max_connections": pool}
    with (
        synap.Synap(**options(synap_server, proxy, **more)) as client,
        ThreadPoolExecutor(CALLERS) as threads,
    ):
        results = list(threads.map(lambda i: client.conversation.record_message(*args(i)),
                                   range(calls)))  # fmt: skip
    assert len(results) == calls
    assert 1 <= proxy.accepted <= (60 if pool is None else pool)


# The SDK's httpx pool (trio, or no aiohttp) keeps every connection too, but httpx's own pool
# is slow enough with 50 callers that some connections idle past the 5 s keep-alive and are
# reopened later (79 for 500 calls here): its bound is tested with a pool of 10.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("send_path", "pool", "calls"),
    [("async", None, CALLS), ("async", 10, 500), ("async-httpx", 10, 500)],
    indirect=["send_path"],
)
async def test_async_callers_reuse_connections(
    send_path: str, pool: int | None, calls: int, synap_server: LocalServer, proxy: CountingProxy
) -> None:
    more = {} if pool is None else {"max_connections": pool}
    done = 0
    async with async_synap(send_path, **options(synap_server, proxy, **more)) as client:

        async def caller(k: int) -> None:
            nonlocal done
            for i in range(k, calls, CALLERS):
                await client.conversation.record_message(*args(i))
                done += 1

        await asyncio.gather(*(caller(k) for k in range(CALLERS)))
    assert done == calls
    assert 1 <= proxy.accepted <= (60 if pool is None else pool)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True, None])
@pytest.mark.parametrize("cls", [synap.Synap, synap.AsyncSynap])
def test_max_connections_is_checked(cls: Any, bad: object) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        cls(api_key="synap_k", max_connections=bad)
    assert caught.value.field == "max_connections"


def test_max_connections_is_not_mixed_with_an_http_client() -> None:
    import httpx

    with pytest.raises(synap.InvalidInputError, match=r"limits=httpx\.Limits"):
        synap.Synap(api_key="synap_k", http_client=httpx.Client(), max_connections=5)
