"""Cancellation never leaks a pool slot (encode/httpcore#1093): with a pool of 5, 800 calls
cancelled at random points (0-50 ms: waiting for a slot, connecting, sending, waiting for the
answer) against a server answering in 1 s; after a quiet moment every next call succeeds
within a 3 s pool timeout. On every async send path, under asyncio (wait_for, task.cancel(),
anyio cancel scopes) and trio (cancel scopes)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

import synap
from synap.server import FaultPlan, LocalServer

CANCELLED, WAVE, PROBES = 800, 40, 10
POOL = 5
SLOW = FaultPlan({"latency": 1.0}, latency_seconds=1.0)
TIMEOUT = httpx.Timeout(10.0, pool=3.0)


def make_client(path: str, server: LocalServer) -> tuple[synap.AsyncSynap, Any]:
    options: dict[str, Any] = {"api_key": server.api_key, "base_url": server.url}
    own = None
    if path == "own":
        own = httpx.AsyncClient(limits=httpx.Limits(max_connections=POOL), timeout=TIMEOUT)
        options["http_client"] = own
    else:
        options.update(max_connections=POOL, timeout=TIMEOUT)
    return synap.AsyncSynap(**options, max_retries=0), own


def call(client: synap.AsyncSynap) -> Awaitable[Any]:
    return client.conversation.record_message(str(uuid.uuid4()), "user", "x", "u", "c")


async def storm(
    client: synap.AsyncSynap,
    ways: list[Callable[[synap.AsyncSynap, float], Awaitable[str]]],
    sleep: Callable[[float], Awaitable[None]],
) -> Counter[str]:
    """CANCELLED calls, WAVE at a time, each cancelled after 0-50 ms in one of `ways`; then
    PROBES calls that must all succeed."""
    rng = random.Random(1093)
    outcomes: Counter[str] = Counter()

    async def one(i: int) -> None:
        outcomes[await ways[i % len(ways)](client, rng.uniform(0, 0.05))] += 1

    for start in range(0, CANCELLED, WAVE):
        async with anyio.create_task_group() as group:
            for i in range(start, start + WAVE):
                group.start_soon(one, i)
    await sleep(0.3)
    results: list[Any] = []

    async def probe() -> None:
        results.append(await call(client))

    async with anyio.create_task_group() as group:
        for _ in range(PROBES):
            group.start_soon(probe)
    assert len(results) == PROBES  # any failure (PoolTimeout after 3 s) raised above
    return outcomes


# asyncio: three ways to cancel


async def by_wait_for(client: synap.AsyncSynap, after: float) -> str:
    try:
        await asyncio.wait_for(call(client), after)
    except TimeoutError:
        return "cancelled"
    return "answered"


async def by_task_cancel(client: synap.AsyncSynap, after: float) -> str:
    task = asyncio.ensure_future(call(client))
    await asyncio.sleep(after)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    return "answered"


async def by_cancel_scope(client: synap.AsyncSynap, after: float) -> str:
    with anyio.move_on_after(after) as scope:
        await call(client)
    return "cancelled" if scope.cancelled_caught else "answered"


@pytest.mark.slow
@pytest.mark.synap_server(faults=SLOW)
@pytest.mark.parametrize("send_path", ["async", "async-httpx", "async-own"], indirect=True)
async def test_cancelled_calls_leave_no_slot_behind_under_asyncio(
    send_path: str, synap_server: LocalServer
) -> None:
    client, own = make_client("own" if send_path == "async-own" else "sdk", synap_server)
    try:
        outcomes = await storm(
            client, [by_wait_for, by_task_cancel, by_cancel_scope], asyncio.sleep
        )
    finally:
        await client.aclose()
        if own is not None:
            await own.aclose()
    assert outcomes["cancelled"] == CANCELLED


# trio: cancel scopes, by deadline and by cancel()


@pytest.mark.slow
@pytest.mark.synap_server(faults=SLOW)
@pytest.mark.parametrize("path", ["sdk", "own"])
def test_cancelled_calls_leave_no_slot_behind_under_trio(
    path: str, synap_server: LocalServer
) -> None:
    import trio

    async def by_deadline(client: synap.AsyncSynap, after: float) -> str:
        with trio.move_on_after(after) as scope:
            await call(client)
        return "cancelled" if scope.cancelled_caught else "answered"

    async def by_cancel(client: synap.AsyncSynap, after: float) -> str:
        async with trio.open_nursery() as nursery:
            scope = trio.CancelScope()

            async def cancel_later() -> None:
                await trio.sleep(after)
                scope.cancel()

            nursery.start_soon(cancel_later)
            with scope:
                await call(client)
        return "cancelled" if scope.cancelled_caught else "answered"

    async def main() -> Counter[str]:
        client, own = make_client(path, synap_server)
        try:
            return await storm(client, [by_deadline, by_cancel], trio.sleep)
        finally:
            await client.aclose()
            if own is not None:
                await own.aclose()

    assert trio.run(main)["cancelled"] == CANCELLED
