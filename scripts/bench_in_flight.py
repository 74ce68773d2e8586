"""Rows 2d-2g of `scripts/bench.py`: many `record_message` calls in flight, `AsyncSynap` as an
async service installs it (`pip install 'synap-memory[aiohttp]'`: its own pool is aiohttp's) vs raw
`aiohttp.ClientSession` posting the same JSON bytes with the same headers.

The server is `scripts/bench_stub.py --delay-ms 20` (every answer 20 ms late, next to no CPU of
its own), in its own process, so what differs is the client. Blocks of calls alternate between
the two contenders (ABBA...), each block on a fresh client; the first two rounds warm up.
2d/2f: calls per second at 32 and 200 in flight (higher is better); 2e/2g: the client's CPU per
call (`time.process_time` of this process: the stub runs elsewhere).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

DELAY_MS = 20
IN_FLIGHT = (32, 200)
TARGETS = (0.90, 0.75)  # AsyncSynap / raw aiohttp, calls per second, at each of IN_FLIGHT
IDS = (("2d", "2e"), ("2f", "2g"))  # (calls per second, CPU per call) at each of IN_FLIGHT
PATH = "/v1/conversations/messages"
LABELS = {
    "raw_label": "aiohttp.ClientSession.post, the same bytes and headers (its default pool)",
    "ours_label": "AsyncSynap(), synap-memory[aiohttp]: record_message (default pool)",
}


def measure_in_flight(
    url: str, key: str, calls: int, in_flight: int, rounds: int, message: Callable[..., Any]
) -> dict[str, list[float]]:
    """Samples "raw.calls_per_s", "raw.cpu_us", "synap.calls_per_s", "synap.cpu_us"."""
    import aiohttp

    import synap

    headers = {
        "Authorization": f"Bearer {key}",
        "User-Agent": f"synap-python/{synap.__version__}",
        "Content-Type": "application/json",
    }
    calls = max(calls, in_flight * 2)

    async def raw_block() -> dict[str, float]:
        async with aiohttp.ClientSession() as session:  # aiohttp's defaults: a pool of 100

            async def call(conversation_id: str, i: int) -> None:
                body = json.dumps(message(conversation_id, i), separators=(",", ":")).encode()
                sent = {**headers, "Idempotency-Key": str(uuid.uuid4()),
                        "X-Correlation-ID": str(uuid.uuid4())}  # fmt: skip
                async with session.post(url + PATH, data=body, headers=sent) as response:
                    content = await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"raw aiohttp got {response.status}: {content!r}")
                json.loads(content)

            return await block(call)

    async def sdk_block() -> dict[str, float]:
        async with synap.AsyncSynap(key, base_url=url) as client:  # the default pool: 100

            async def call(conversation_id: str, i: int) -> None:
                m = message(conversation_id, i)
                await client.conversation.record_message(
                    m["conversation_id"], m["role"], m["content"], m["user_id"],
                    m["customer_id"], metadata=m["metadata"],
                )  # fmt: skip

            result = await block(call)
            route = type(next(iter(client._transport.conn._routes.values()))).__name__
            if route != "AiohttpRoute":
                raise RuntimeError(f"AsyncSynap did not use aiohttp ({route}): install it")
            return result

    async def block(call: Callable[[str, int], Any]) -> dict[str, float]:
        todo = iter(range(calls))

        async def worker() -> None:
            conversation_id = str(uuid.uuid4())
            for i in todo:
                await call(conversation_id, i)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"calls_per_s": calls / wall, "cpu_us": cpu / calls * 1e6}

    async def main() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {}
        for r in range(rounds + 2):  # the first two rounds warm up
            order = [("raw", raw_block), ("synap", sdk_block)]
            for name, run in order if r % 2 == 0 else reversed(order):
                result = await run()
                if r >= 2:
                    for measure, value in result.items():
                        samples.setdefault(f"{name}.{measure}", []).append(value)
        return samples

    return asyncio.run(main())
