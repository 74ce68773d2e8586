"""Helpers of the reliability tests: a real httpx transport that counts what reaches it, one
client on either facade behind one blocking interface, and what the server's database holds."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

import synap
from synap.server import read_snapshot

FACADES = ("sync", "async", "aiohttp")
"""`async`: AsyncSynap over a caller's httpx client (counting); `aiohttp`: AsyncSynap's own
default pool (aiohttp), its tries counted by wrapping the route's `send`."""


class Tally:
    """What the transport saw: requests sent, and the headers of each answer."""

    def __init__(self) -> None:
        self.requests = 0
        self.replayed = 0
        self._lock = threading.Lock()

    def sent(self) -> None:
        with self._lock:
            self.requests += 1

    def answered(self, response: httpx.Response) -> None:
        if response.headers.get("idempotent-replayed") == "true":
            with self._lock:
                self.replayed += 1


OnResponse = Callable[[httpx.Request, httpx.Response], None]


class CountingTransport(httpx.BaseTransport):
    """`httpx.HTTPTransport`, counting every request that reaches it. `on_response` runs once
    the answer is fully read (it may raise, as if the connection died right then)."""

    def __init__(self, tally: Tally, on_response: OnResponse | None = None) -> None:
        self.tally = tally
        self.on_response = on_response
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.tally.sent()
        response = self.inner.handle_request(request)
        response.read()
        self.tally.answered(response)
        if self.on_response is not None:
            self.on_response(request, response)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncCountingTransport(httpx.AsyncBaseTransport):
    """The async twin of `CountingTransport`."""

    def __init__(self, tally: Tally, on_response: OnResponse | None = None) -> None:
        self.tally = tally
        self.on_response = on_response
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.tally.sent()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.tally.answered(response)
        if self.on_response is not None:
            self.on_response(request, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class Facade:
    """A `Synap` or an `AsyncSynap` over a counting transport, driven from blocking code:
    `facade.call("conversation.record_message", ...)` returns what the method returns (the
    async one is awaited on this facade's own event loop) or raises what it raises."""

    def __init__(
        self,
        kind: str,
        url: str,
        api_key: str,
        *,
        on_response: OnResponse | None = None,
        **options: Any,
    ) -> None:
        self.kind = kind
        self.tally = Tally()
        self._runner: asyncio.Runner | None = None
        if kind == "sync":
            self._http: Any = httpx.Client(transport=CountingTransport(self.tally, on_response))
            self.client: Any = synap.Synap(
                api_key=api_key, base_url=url, http_client=self._http, **options
            )
        else:
            self._runner = asyncio.Runner()
            self._http = None
            if kind == "aiohttp":
                self._count_aiohttp_tries(on_response)

            async def build() -> Any:
                if kind == "aiohttp":
                    return synap.AsyncSynap(api_key=api_key, base_url=url, **options)
                self._http = httpx.AsyncClient(
                    transport=AsyncCountingTransport(self.tally, on_response)
                )
                return synap.AsyncSynap(
                    api_key=api_key, base_url=url, http_client=self._http, **options
                )

            self.client = self._runner.run(build())

    def _count_aiohttp_tries(self, on_response: OnResponse | None) -> None:
        """Count each try on the aiohttp path (and run `on_response`) until `close()`."""
        from synap._aiohttp import AiohttpRoute

        original = AiohttpRoute.send
        tally = self.tally

        async def send(route: Any, endpoint: Any, body: Any, key: str, cid: str, call: Any) -> Any:
            tally.sent()
            result = await original(route, endpoint, body, key, cid, call)
            tally.answered(call.response)
            if on_response is not None:
                on_response(httpx.Request("POST", endpoint.name.split()[1]), call.response)
            return result

        AiohttpRoute.send = send  # type: ignore[method-assign]
        self._restore = lambda: setattr(AiohttpRoute, "send", original)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        resource, name = method.split(".")
        bound = getattr(getattr(self.client, resource), name)
        if self._runner is None:
            return bound(*args, **kwargs)
        return self._runner.run(bound(*args, **kwargs))

    def close(self) -> None:
        if self._runner is None:
            self.client.close()
            self._http.close()
            return

        async def close() -> None:
            await self.client.aclose()
            if self._http is not None:
                await self._http.aclose()

        self._runner.run(close())
        self._runner.close()
        if self.kind == "aiohttp":
            self._restore()

    def __enter__(self) -> Facade:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def conversation_id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"synap-reliability/{n}"))


def messages(count: int, *, prefix: str = "message", per_conversation: int = 10) -> Iterator[Any]:
    """`count` valid messages with distinct contents `f"{prefix} {i}"` (a generator)."""
    for i in range(count):
        yield {
            "conversation_id": conversation_id(i // per_conversation),
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"{prefix} {i}",
            "user_id": "user_1",
            "customer_id": "customer_1",
        }


def documents(count: int, *, prefix: str = "document") -> Iterator[Any]:
    """`count` valid documents with distinct contents `f"{prefix} {i}"` (a generator)."""
    for i in range(count):
        yield synap.CreateMemoryRequest(
            document=f"{prefix} {i}", user_id="user_1", customer_id="customer_1", mode="fast"
        )


def stored_messages(db_path: Path) -> Counter[str]:
    """How many times each message content is stored."""
    snapshot = read_snapshot(db_path)
    return Counter(m["content"] for c in snapshot["conversations"] for m in c["messages"])


def out_of_order(db_path: Path) -> int:
    """How many conversations hold their messages ("... <i>") in another order than input."""
    snapshot = read_snapshot(db_path)
    count = 0
    for conversation in snapshot["conversations"]:
        positions = [int(m["content"].rsplit(" ", 1)[1]) for m in conversation["messages"]]
        count += positions != sorted(positions)
    return count


def stored_documents(db_path: Path) -> Counter[str]:
    """How many times each document content is stored."""
    return Counter(str(d["document"]) for d in read_snapshot(db_path)["documents"])


def exactly_once(stored: Counter[str], expected: list[str]) -> dict[str, int]:
    """Stored, duplicates (extra copies), lost (expected, not stored) and unexpected rows."""
    wanted = set(expected)
    return {
        "stored": sum(stored.values()),
        "duplicates": sum(n - 1 for n in stored.values() if n > 1),
        "lost": sum(1 for content in wanted if content not in stored),
        "unexpected": sum(n for content, n in stored.items() if content not in wanted),
    }
