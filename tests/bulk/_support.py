"""Helpers for the bulk tests: run a job on either facade against a real local server, and a
real httpx transport wrapper that watches the calls (count, order, keys, in flight)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

import synap
from synap.bulk import BulkSummary

FACADES = ("sync", "async")
"""`run_bulk` also takes "trio": the async facade under trio instead of asyncio."""


def conversation_id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"synap-bulk-test/{n}"))


def messages(
    count: int,
    *,
    per_conversation: int | None = None,
    customer_id: str | None = "cust_1",
    bad: dict[int, dict[str, Any]] | None = None,
) -> Iterator[dict[str, Any]]:
    """A generator of `count` messages ("message i"), one conversation per `per_conversation`
    consecutive messages (all in one when None); `bad` replaces keys of some positions."""
    for i in range(count):
        entry: dict[str, Any] = {
            "conversation_id": conversation_id(i // per_conversation if per_conversation else 0),
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"message {i}",
            "user_id": "user_1",
        }
        if customer_id is not None:
            entry["customer_id"] = customer_id
        if bad and i in bad:
            entry.update(bad[i])
            entry = {k: v for k, v in entry.items() if v is not _DROP}
        yield entry


_DROP = object()
DROP: Any = _DROP
"""Use as a value in `bad` to remove the key from that message."""


@dataclass
class Call:
    path: str
    entries: int
    idempotency_key: str
    first_content: Any


@dataclass
class Watch:
    """What the transport saw. `hold_first` holds the first N requests until all N are in
    flight together (proving the runner really overlaps N calls); `lose` lists call numbers
    (1-based) whose response is dropped after the server answered (the server committed)."""

    hold_first: int = 0
    lose: set[int] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _barrier: threading.Barrier | None = None
    _async_ready: anyio.Event | None = None
    _arrived: int = 0

    def enter(self, request: httpx.Request) -> tuple[int, bool]:
        body = json.loads(request.content)
        entries = body.get("messages") or body.get("documents") or []
        first = entries[0].get("content", entries[0].get("document")) if entries else None
        with self._lock:
            self.calls.append(
                Call(
                    request.url.path,
                    len(entries),
                    request.headers.get("idempotency-key", ""),
                    first,
                )
            )
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._arrived += 1
            return len(self.calls), self._arrived <= self.hold_first

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


class WatchingTransport(httpx.BaseTransport):
    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.inner = httpx.HTTPTransport()
        if watch.hold_first:
            watch._barrier = threading.Barrier(watch.hold_first, timeout=10)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        number, hold = self.watch.enter(request)
        try:
            if hold and self.watch._barrier is not None:
                self.watch._barrier.wait()
            response = self.inner.handle_request(request)
            response.read()
        finally:
            self.watch.leave()
        if number in self.watch.lose:
            response.close()
            raise httpx.ReadError("connection lost before the response arrived", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncWatchingTransport(httpx.AsyncBaseTransport):
    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        number, hold = self.watch.enter(request)
        try:
            if hold:
                if self.watch._async_ready is None:
                    self.watch._async_ready = anyio.Event()
                if number >= self.watch.hold_first:
                    self.watch._async_ready.set()
                with anyio.fail_after(10):
                    await self.watch._async_ready.wait()
            response = await self.inner.handle_async_request(request)
            await response.aread()
        finally:
            self.watch.leave()
        if number in self.watch.lose:
            await response.aclose()
            raise httpx.ReadError("connection lost before the response arrived", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def run_bulk(
    facade: str,
    server: Any,
    what: str,
    items: Any,
    *,
    watch: Watch | None = None,
    api_key: str | None = None,
    max_retries: int = 2,
    **options: Any,
) -> BulkSummary:
    """`record_messages_bulk` (what="messages") or `bulk_create` (what="documents") on a
    fresh `Synap` or `AsyncSynap` (under asyncio, or trio for facade="trio") talking to
    `server`."""
    key = api_key or server.api_key
    if facade == "sync":
        transport = WatchingTransport(watch or Watch())
        with (
            httpx.Client(transport=transport) as http,
            synap.Synap(
                api_key=key, base_url=server.url, http_client=http, max_retries=max_retries
            ) as client,
        ):
            if what == "messages":
                return client.conversation.record_messages_bulk(items, **options)
            return client.memories.bulk_create(items, **options)

    async def main() -> BulkSummary:
        transport = AsyncWatchingTransport(watch or Watch())
        async with (
            httpx.AsyncClient(transport=transport) as http,
            synap.AsyncSynap(
                api_key=key, base_url=server.url, http_client=http, max_retries=max_retries
            ) as client,
        ):
            if what == "messages":
                return await client.conversation.record_messages_bulk(items, **options)
            return await client.memories.bulk_create(items, **options)

    return anyio.run(main, backend="trio" if facade == "trio" else "asyncio")


def stored_contents(server: Any) -> list[str]:
    """Every stored message's content, conversation by conversation, in stored order."""
    from synap.server import read_snapshot

    snapshot = read_snapshot(server.db_path)
    return [m["content"] for c in snapshot["conversations"] for m in c["messages"]]
