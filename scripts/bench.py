#!/usr/bin/env python
"""The synap benchmark: what the SDK costs on top of raw httpx, measured in one run.

    python scripts/bench.py --quick                  # under a minute
    python scripts/bench.py --json bench.json        # the full run (a few minutes)

It starts the local Synap server (`python -m synap serve`) in its own process on 127.0.0.1,
warms every contender up, then measures, interleaving the contenders round by round (A B, then
B A, ...) so that a drift in the machine's speed hits both alike:

1. `record_message`, blocking, one call after another: `httpx.Client.post` of the same JSON
   with the same headers (Authorization, Idempotency-Key, X-Correlation-ID) vs `Synap`,
   alternating call by call. Median wall time per call; 1b: the client's CPU per call;
   1c: the same two over `httpx.MockTransport` (no socket, no server), the least CPU per call
   of the rounds: what is left of the difference is the SDK's own work.
2. `record_message`, async, N calls in flight: `httpx.AsyncClient` vs `AsyncSynap`. Wall time
   of a block of calls divided by their number (the inverse of the throughput); 2b, 2c as 1b, 1c.
   2d-2g: many calls in flight against `scripts/bench_stub.py --delay-ms 20` (a server answering
   every call 20 ms late): `AsyncSynap()` as an async service installs it (`synap-memory[aiohttp]`)
   vs raw `aiohttp.ClientSession` posting the same bytes and headers; calls per second at 32
   (2d) and 200 (2f) in flight, client CPU per call (2e, 2g). See scripts/bench_in_flight.py.
3. Backfill: raw httpx posting the same 100-message chunks from the same generator at the same
   concurrency (threads) vs `Synap.conversation.record_messages_bulk`. Messages per second;
   3b: the client's CPU per message. 3c: the bulk helper's peak RSS (VmHWM) at two sizes, each
   in a fresh child process fed by a generator, against `scripts/bench_stub.py` (a batch
   endpoint that only answers), so a million messages take seconds rather than the real
   server's minutes.
4. Import time, fresh interpreters: `import synap` vs `import httpx`; 4b: what a script pays
   before its first call (`from synap import Synap; Synap(...)` vs `import httpx;
   httpx.Client()`). Each run minus a bare interpreter's start in the same round; medians.
5. Server ingest: messages stored per second through the batch endpoint (pre-encoded bodies
   posted with raw httpx) vs a raw SQLite `executemany` of the same rows in the same schema
   (`synap.server.store.schema_ddl()`), same pragmas, one transaction per 100 rows. 5b: the
   server's own work without HTTP (`Service.handle` in this process).

7. The background recorder (`scripts/bench_recorder.py`, `scripts/bench_service.py`): 7-7d
   `record()` cost, median and p99, without and with a spool, while its thread sends (against
   the input check `record()` must make anyway); 7e-7f recorder throughput vs a hand-written
   loop of 100-turn `record_messages_batch` calls (blocking, async); 7g-7h a FastAPI app with
   one client in its lifespan under 200 concurrent clients (a load generator on asyncio streams
   in its own process): requests/s awaiting `record_message` per request (7g) and recording
   through the recorder (7h), each against the same app recording nothing; 7i the app's CPU per
   request and 7j the Synap server's CPU per stored turn in that run; 7l what `rec.record()`
   took in the app's handler under that load (median; p99 in extra); 7k the 7h comparison
   again against a Synap server of its own at nice 19 (a stand-in for a remote Synap,
   reported beside 7h, never instead of it).
8. Start-up and test cost (`scripts/bench_startup.py`): the first `Synap()` in a fresh
   interpreter (8) and the median of the next ones (8a, target <= 2 ms) vs `httpx.Client()`;
   8b, 8c the same for `AsyncSynap()` vs `httpx.AsyncClient()`. 8d: what the pytest fixtures
   cost a test (target <= 15 ms): pytest in a subprocess runs N generated tests that each
   record one message through `synap_client` vs N tests that do nothing, wall time over N;
   8e: the same with `async_synap_client` vs plain `@pytest.mark.asyncio` tests.

The table shows medians and the ratio ours / raw; `--json PATH` writes the same with every
sample. Timing is never asserted; `--strict` exits 1 when a target is missed. Standard
library plus the project's own dependencies (and its `server` extra, for row 5's breakdown).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))
if str(ROOT / "scripts") not in sys.path:  # rows 7-7h live in modules beside this one
    sys.path.insert(0, str(ROOT / "scripts"))

MESSAGE_PATH = "/v1/conversations/messages"
BATCH_PATH = "/v1/conversations/messages/batch"
CHUNK = 100  # entries per batch call: the API's limit and the bulk helper's default
PER_CONVERSATION = 20  # messages per conversation in generated transcripts (divides CHUNK)

QUICK = {
    "rounds": 4,
    "calls": 100,
    "async_calls": 320,
    "many_calls": 1000,
    "backfill": 10_000,
    "backfill_rounds": 2,
    "rss_sizes": "10000,50000",
    "import_runs": 7,
    "ingest_batches": 20,
    "overhead_calls": 500,
    "startup_runs": 3,
    "fixture_tests": 200,
    "fixture_runs": 1,
    "recorder_turns": 5_000,
    "recorder_backfill": 10_000,
    "recorder_rounds": 2,
    "service_seconds": 2.0,
    "service_rounds": 1,
}
FULL = {
    "rounds": 9,
    "calls": 300,
    "async_calls": 960,
    "many_calls": 4000,
    "backfill": 100_000,
    "backfill_rounds": 3,
    "rss_sizes": "100000,1000000",
    "import_runs": 21,
    "ingest_batches": 50,
    "overhead_calls": 2000,
    "startup_runs": 9,
    "fixture_tests": 200,
    "fixture_runs": 3,
    "recorder_turns": 20_000,
    "recorder_backfill": 50_000,
    "recorder_rounds": 3,
    "service_seconds": 4.0,
    "service_rounds": 5,
}


# -- results ---------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table (and one object of the JSON)."""

    id: str
    title: str
    unit: str
    raw: float | None
    ours: float | None
    ratio: float | None  # ours / raw
    target: str = ""  # e.g. "<= 1.10"; "" for rows that are reported only
    met: bool | None = None
    raw_label: str = "raw"
    ours_label: str = "synap"
    samples: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def compare(
    id: str,
    title: str,
    unit: str,
    samples: dict[str, list[float]],
    raw: str,
    ours: str,
    *,
    limit: float | None = None,
    higher_is_better: bool = False,
    **kwargs: Any,
) -> Row:
    """A row from interleaved samples: medians, their ratio, and whether it meets `limit`."""
    r, o = median(samples[raw]), median(samples[ours])
    ratio = o / r if r else None
    met = target = None
    if limit is not None and ratio is not None:
        met = ratio >= limit if higher_is_better else ratio <= limit
        target = f"{'>=' if higher_is_better else '<='} {limit:.2f}"
    # The median of per-round ratios too: robust when one round of one contender was slowed.
    paired = [b / a for a, b in zip(samples[raw], samples[ours], strict=False) if a]
    extra = {"ratio_of_round_pairs_median": median(paired) if paired else None}
    extra.update(kwargs.pop("extra", {}))
    return Row(
        id,
        title,
        unit,
        r,
        o,
        ratio,
        target or "",
        met,
        samples={k: [round(v, 3) for v in samples[k]] for k in (raw, ours)},
        extra=extra,
        **kwargs,
    )


def interleave(
    rounds: int, contenders: dict[str, Callable[[], dict[str, float]]]
) -> dict[str, list[float]]:
    """Run each contender once per round, the order reversed every other round (ABBA...).

    Each run returns named measures; the result maps "contender.measure" to its samples.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            for measure, value in contenders[name]().items():
                samples.setdefault(f"{name}.{measure}", []).append(value)
    return samples


# -- workload --------------------------------------------------------------------------------


def message(conversation_id: str, i: int) -> dict[str, Any]:
    """One message as the docs' examples write it (customer_id given: the server is B2B)."""
    return {
        "conversation_id": conversation_id,
        "role": "user" if i % 2 == 0 else "assistant",
        "content": f"Turn {i}: I prefer dark mode and concise answers, please.",
        "user_id": "user_alice",
        "customer_id": "customer_acme",
        "metadata": {"channel": "web", "turn": i},
    }


def messages(n: int) -> Iterator[dict[str, Any]]:
    """`n` messages, lazily: transcripts of PER_CONVERSATION turns each, so 100-message chunks
    never share a conversation (the bulk helper would otherwise keep them apart in time)."""
    conversation_id = ""
    for i in range(n):
        if i % PER_CONVERSATION == 0:
            conversation_id = str(uuid.uuid4())
        yield message(conversation_id, i)


def chunks(items: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def call_headers() -> dict[str, str]:
    """What the SDK sends per call on top of the client's headers; raw httpx sends it too."""
    return {"Idempotency-Key": str(uuid.uuid4()), "X-Correlation-ID": str(uuid.uuid4())}


# -- processes -------------------------------------------------------------------------------


class Stub:
    """`scripts/bench_stub.py` as a child process (it exits when our end of its stdin closes)."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("bench_stub.py")), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        lines = [self.process.stdout.readline().strip() for _ in range(2)]
        values = dict(line.split("=", 1) for line in lines if "=" in line)
        if len(values) != 2:
            self.stop()
            raise RuntimeError("the benchmark stub server did not start")
        self.url, self.api_key = values["SYNAP_BASE_URL"], values["SYNAP_API_KEY"]

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def clean_env() -> dict[str, str]:
    """The environment for child interpreters: this checkout first on the path, no SDK logging."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("SYNAP_LOG", None)
    return env


# -- 1. blocking, sequential -----------------------------------------------------------------


def bench_sequential(url: str, key: str, calls: int, rounds: int) -> list[Row]:
    import httpx

    import synap

    client = synap.Synap(api_key=key, base_url=url)
    raw = httpx.Client(
        base_url=url,
        timeout=client.timeout,
        headers={
            "Authorization": f"Bearer {key}",
            "User-Agent": f"synap-python/{synap.__version__}",
        },
    )

    def raw_call(conversation_id: str, i: int) -> None:
        response = raw.post(MESSAGE_PATH, json=message(conversation_id, i), headers=call_headers())
        if response.status_code != 200:
            raise RuntimeError(f"raw httpx got {response.status_code}: {response.text[:200]}")
        response.json()

    def sdk_call(conversation_id: str, i: int) -> None:
        m = message(conversation_id, i)
        client.conversation.record_message(
            m["conversation_id"], m["role"], m["content"], m["user_id"],
            m["customer_id"], metadata=m["metadata"],
        )  # fmt: skip

    def round_of_pairs() -> dict[str, float]:
        """`calls` calls of each, alternating call by call (A B, then B A, ...): a burst of
        load on the machine hits both. Each call is timed; the round's figure is the median."""
        conversation = {"raw": str(uuid.uuid4()), "synap": str(uuid.uuid4())}
        order = [("raw", raw_call), ("synap", sdk_call)]
        timed: dict[str, list[float]] = {"raw.wall_us": [], "raw.cpu_us": []}
        timed.update({"synap.wall_us": [], "synap.cpu_us": []})
        for i in range(calls):
            for name, call in order if i % 2 == 0 else reversed(order):
                cpu, wall = time.thread_time(), time.perf_counter()
                call(conversation[name], i)
                wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
                timed[f"{name}.wall_us"].append(wall * 1e6)
                timed[f"{name}.cpu_us"].append(cpu * 1e6)
        return {key: median(values) for key, values in timed.items()}

    try:
        contenders = {"pairs": round_of_pairs}
        interleave(2, contenders)  # warm-up: connections, lazy imports, caches
        s = {k.removeprefix("pairs."): v for k, v in interleave(rounds, contenders).items()}
    finally:
        raw.close()
        client.close()
    labels = {"raw_label": "httpx.Client.post", "ours_label": "Synap: record_message"}
    return [
        compare("1", "record_message, blocking, sequential: wall", "us/call",
                _pick(s, "wall_us"), "raw", "synap", limit=1.10, **labels),
        compare("1b", "  client CPU per call", "us/call", _pick(s, "cpu_us"), "raw", "synap",
                **labels),
    ]  # fmt: skip


def _pick(samples: dict[str, list[float]], measure: str) -> dict[str, list[float]]:
    """{"raw.wall_us": [...], ...} -> {"raw": [...]} for one measure."""
    suffix = f".{measure}"
    return {k[: -len(suffix)]: v for k, v in samples.items() if k.endswith(suffix)}


# -- 2. async, N in flight -------------------------------------------------------------------


def bench_async(url: str, key: str, calls: int, in_flight: int, rounds: int) -> list[Row]:
    import httpx

    import synap

    headers = {"Authorization": f"Bearer {key}", "User-Agent": f"synap-python/{synap.__version__}"}
    # The same pool for both, one connection per call in flight. With httpx's default (keep 20
    # idle connections, close the rest) the pool's own cost per request swings by +-40% from
    # block to block, with how many connections it happened to reopen: that noise, not the
    # SDK, decided this row. A pool that never closes costs the same every block.
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)

    def http() -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=url, timeout=30.0, headers=headers, limits=limits)

    async def raw_block() -> dict[str, float]:
        async with http() as raw:

            async def call(conversation_id: str, i: int) -> None:
                response = await raw.post(
                    MESSAGE_PATH, json=message(conversation_id, i), headers=call_headers()
                )
                if response.status_code != 200:
                    raise RuntimeError(f"raw httpx got {response.status_code}: {response.text}")
                response.json()

            return await block(call)

    async def sdk_block() -> dict[str, float]:
        async with http() as own, synap.AsyncSynap(key, base_url=url, http_client=own) as client:

            async def call(conversation_id: str, i: int) -> None:
                m = message(conversation_id, i)
                await client.conversation.record_message(
                    m["conversation_id"], m["role"], m["content"], m["user_id"],
                    m["customer_id"], metadata=m["metadata"],
                )  # fmt: skip

            return await block(call)

    async def block(call: Callable[[str, int], Any]) -> dict[str, float]:
        todo = iter(range(calls))

        async def worker() -> None:
            conversation_id = str(uuid.uuid4())  # one conversation per worker
            for i in todo:
                await call(conversation_id, i)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"wall_us": wall / calls * 1e6, "cpu_us": cpu / calls * 1e6}

    async def main() -> dict[str, list[float]]:
        # A fresh client per block, so that neither contender inherits the other's history.
        samples: dict[str, list[float]] = {}
        for r in range(rounds + 2):  # the first two rounds warm up
            order = [("raw", raw_block), ("synap", sdk_block)]
            for name, run in order if r % 2 == 0 else reversed(order):
                result = await run()
                if r >= 2:
                    for measure, value in result.items():
                        samples.setdefault(f"{name}.{measure}", []).append(value)
        return samples

    s = asyncio.run(main())
    labels = {
        "raw_label": f"httpx.AsyncClient.post (pool of {in_flight})",
        "ours_label": "AsyncSynap: record_message (the same pool, via http_client=)",
    }
    return [
        compare("2", f"record_message, async, {in_flight} in flight: wall", "us/call",
                _pick(s, "wall_us"), "raw", "synap", limit=1.10, **labels),
        compare("2b", "  client CPU per call", "us/call", _pick(s, "cpu_us"), "raw", "synap",
                **labels),
    ]  # fmt: skip


# -- 2d-2g. many calls in flight: AsyncSynap's own (aiohttp) pool vs raw aiohttp ------------


def bench_in_flight(calls: int, levels: list[int], rounds: int) -> list[Row]:
    """Rows 2d/2e (32 in flight) and 2f/2g (200): see `scripts/bench_in_flight.py`."""
    from scripts.bench_in_flight import DELAY_MS, IDS, LABELS, TARGETS, measure_in_flight

    rows: list[Row] = []
    stub = Stub("--delay-ms", str(DELAY_MS))
    try:
        for in_flight, (rate, cpu), target in zip(levels, IDS, TARGETS, strict=True):
            s = measure_in_flight(stub.url, stub.api_key, calls, in_flight, rounds, message)
            title = f"record_message, {in_flight} in flight, server {DELAY_MS} ms: calls/s"
            rows += [
                compare(rate, title, "calls/s", _pick(s, "calls_per_s"), "raw", "synap",
                        limit=target, higher_is_better=True, **LABELS),
                compare(cpu, "  client CPU per call", "us/call", _pick(s, "cpu_us"), "raw",
                        "synap", **LABELS),
            ]  # fmt: skip
    finally:
        stub.stop()
    return rows


# -- 1c, 2c. the SDK's own cost, without network or server -----------------------------------


def bench_overhead(calls: int, rounds: int) -> list[Row]:
    """CPU per call over `httpx.MockTransport` (a canned 200): no socket, no server, so what is
    left of the difference is the SDK's own work. The least CPU of the rounds is the figure
    least disturbed by other load on the machine."""
    import httpx

    import synap

    answer = json.dumps(
        {
            "message_id": str(uuid.uuid4()),
            "conversation_id": str(uuid.uuid4()),
            "session_id": str(uuid.uuid4()),
            "recorded_at": "2026-01-01T00:00:00.000000Z",
            "conversation_message_count": 1,
        }
    ).encode()
    key, url = "synap_" + "0" * 32, "http://127.0.0.1:9"
    headers = {"Authorization": f"Bearer {key}", "User-Agent": f"synap-python/{synap.__version__}"}

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=answer, headers={"Content-Type": "application/json"})

    async def areply(request: httpx.Request) -> httpx.Response:
        await request.aread()
        return reply(request)

    def cpu_per_call(run: Callable[[], None]) -> Callable[[], dict[str, float]]:
        def measure() -> dict[str, float]:
            cpu = time.thread_time()
            run()
            return {"cpu_us": (time.thread_time() - cpu) / calls * 1e6}

        return measure

    # Blocking.
    raw = httpx.Client(base_url=url, transport=httpx.MockTransport(reply), headers=headers)
    client = synap.Synap(
        api_key=key, base_url=url, http_client=httpx.Client(transport=httpx.MockTransport(reply))
    )
    conversation_id = str(uuid.uuid4())
    m = message(conversation_id, 0)

    def raw_block() -> None:
        for _ in range(calls):
            response = raw.post(
                MESSAGE_PATH, json=message(conversation_id, 0), headers=call_headers()
            )
            if response.status_code != 200:
                raise RuntimeError(response.status_code)
            response.json()

    def sdk_block() -> None:
        for _ in range(calls):
            client.conversation.record_message(
                m["conversation_id"], m["role"], m["content"], m["user_id"],
                m["customer_id"], metadata=m["metadata"],
            )  # fmt: skip

    contenders = {"raw": cpu_per_call(raw_block), "synap": cpu_per_call(sdk_block)}
    interleave(2, contenders)
    blocking = _pick(interleave(rounds, contenders), "cpu_us")
    raw.close()
    client.close()

    # Async.
    async def main() -> dict[str, list[float]]:
        araw = httpx.AsyncClient(
            base_url=url, transport=httpx.MockTransport(areply), headers=headers
        )
        aclient = synap.AsyncSynap(
            api_key=key,
            base_url=url,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(areply)),
        )

        async def raw_block() -> None:
            for _ in range(calls):
                response = await araw.post(
                    MESSAGE_PATH, json=message(conversation_id, 0), headers=call_headers()
                )
                if response.status_code != 200:
                    raise RuntimeError(response.status_code)
                response.json()

        async def sdk_block() -> None:
            for _ in range(calls):
                await aclient.conversation.record_message(
                    m["conversation_id"], m["role"], m["content"], m["user_id"],
                    m["customer_id"], metadata=m["metadata"],
                )  # fmt: skip

        samples: dict[str, list[float]] = {}
        for r in range(rounds + 2):  # the first two rounds warm up
            order = [("raw", raw_block), ("synap", sdk_block)]
            for name, block in order if r % 2 == 0 else reversed(order):
                cpu = time.thread_time()
                await block()
                if r >= 2:
                    value = (time.thread_time() - cpu) / calls * 1e6
                    samples.setdefault(name, []).append(value)
        await araw.aclose()
        await aclient.aclose()
        return samples

    asynchronous = asyncio.run(main())
    rows = []
    for id, kind, samples in (("1c", "blocking", blocking), ("2c", "async", asynchronous)):
        best = {name: min(values) for name, values in samples.items()}
        rows.append(
            Row(
                id,
                f"  client CPU per call, {kind}, no network (min)",
                "us/call",
                best["raw"],
                best["synap"],
                best["synap"] / best["raw"],
                samples={k: [round(v, 2) for v in vs] for k, vs in samples.items()},
                extra={"added_us": best["synap"] - best["raw"], "statistic": "min of rounds"},
                raw_label="httpx + MockTransport (a canned 200)",
                ours_label="synap + the same MockTransport",
            )
        )
    return rows


# -- 3. backfill and the bulk helper's memory ------------------------------------------------


def bench_backfill(url: str, key: str, n: int, concurrency: int, rounds: int) -> list[Row]:
    import httpx

    import synap

    client = synap.Synap(api_key=key, base_url=url)
    raw = httpx.Client(
        base_url=url,
        timeout=client.timeout,
        headers={
            "Authorization": f"Bearer {key}",
            "User-Agent": f"synap-python/{synap.__version__}",
        },
    )
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="raw-backfill")

    def post(chunk: list[dict[str, Any]]) -> int:
        response = raw.post(BATCH_PATH, json={"messages": chunk}, headers=call_headers())
        if response.status_code != 200:
            raise RuntimeError(f"raw httpx got {response.status_code}: {response.text[:200]}")
        stored: int = response.json()["succeeded"]
        return stored

    def raw_backfill(count: int) -> int:
        stored = 0
        running: set[Future[int]] = set()
        for chunk in chunks(messages(count)):
            if len(running) >= concurrency:  # at most `concurrency` calls in flight
                done, running = wait(running, return_when=FIRST_COMPLETED)
                stored += sum(f.result() for f in done)
            running.add(pool.submit(post, chunk))
        stored += sum(f.result() for f in wait(running).done)
        return stored

    def sdk_backfill(count: int) -> int:
        summary = client.conversation.record_messages_bulk(messages(count), concurrency=concurrency)
        return summary.succeeded

    def timed(backfill: Callable[[int], int], count: int) -> Callable[[], dict[str, float]]:
        def run() -> dict[str, float]:
            cpu, start = time.process_time(), time.perf_counter()
            stored = backfill(count)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            if stored != count:
                raise RuntimeError(f"stored {stored} of {count} messages")
            # This process's CPU (all threads): the client's, the server is another process.
            return {"msg_per_s": count / seconds, "cpu_us_per_msg": cpu / count * 1e6}

        return run

    try:
        warm = min(n, 2_000)
        interleave(2, {"raw": timed(raw_backfill, warm), "synap": timed(sdk_backfill, warm)})
        s = interleave(rounds, {"raw": timed(raw_backfill, n), "synap": timed(sdk_backfill, n)})
    finally:
        pool.shutdown()
        raw.close()
        client.close()
    labels = {
        "raw_label": f"httpx.Client.post of 100-message chunks, {concurrency} threads",
        "ours_label": "Synap: conversation.record_messages_bulk(generator)",
    }
    return [
        compare("3", f"backfill {n:,} messages, {concurrency} calls in flight", "msg/s",
                _pick(s, "msg_per_s"), "raw", "synap", limit=0.90, higher_is_better=True,
                **labels),
        compare("3b", "  client CPU per message", "us/msg", _pick(s, "cpu_us_per_msg"), "raw",
                "synap", **labels),
    ]  # fmt: skip


def rss_child(n: int, url: str, key: str, concurrency: int) -> None:
    """In a fresh interpreter: the bulk helper over a generator of `n` messages; print JSON."""
    import synap

    with synap.Synap(api_key=key, base_url=url) as client:
        # Warm up (connections, lazy imports) so the baseline holds everything but the job.
        client.conversation.record_messages_bulk(messages(1_000), concurrency=concurrency)
        baseline = _status_kb("VmRSS")
        start = time.perf_counter()
        summary = client.conversation.record_messages_bulk(messages(n), concurrency=concurrency)
        seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM")
    if peak is None:  # not Linux: ru_maxrss (KiB on Linux, bytes on macOS)
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = maxrss // 1024 if sys.platform == "darwin" else maxrss
    print(
        json.dumps(
            {
                "messages": n,
                "succeeded": summary.succeeded,
                "peak_kb": peak,
                "baseline_kb": baseline,
                "seconds": seconds,
            }
        )
    )


def _status_kb(name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def bench_rss(sizes: list[int], concurrency: int) -> Row:
    stub = Stub()
    results = []
    try:
        for n in sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--child-rss", str(n), "--url", stub.url,
                 "--key", stub.api_key, "--concurrency", str(concurrency)],
                capture_output=True, text=True, env=clean_env(), timeout=1800, check=False,
            )  # fmt: skip
            if out.returncode != 0:
                raise RuntimeError(f"the RSS child for {n} messages failed:\n{out.stderr[-2000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            if result["succeeded"] != n:
                raise RuntimeError(f"the RSS child stored {result['succeeded']} of {n}")
            results.append(result)
    finally:
        stub.stop()
    small, large = results[0], results[-1]
    growth_mb = (large["peak_kb"] - small["peak_kb"]) / 1024
    return Row(
        "3c",
        "  bulk helper peak RSS (VmHWM), child process",
        "MB",
        small["peak_kb"] / 1024,
        large["peak_kb"] / 1024,
        None,
        "<= +20 MB",
        growth_mb <= 20,
        raw_label=f"{sizes[0]:,} messages",
        ours_label=f"{sizes[-1]:,} messages (against scripts/bench_stub.py)",
        extra={
            "growth_mb": growth_mb,
            "children": results,
            "server": "scripts/bench_stub.py (answers the batch endpoint, stores nothing)",
            "client_msg_per_s": [r["messages"] / r["seconds"] for r in results],
        },
    )


# -- 4. import time --------------------------------------------------------------------------

IMPORTS = {
    "bare": "pass",
    "httpx": "import httpx",
    "synap": "import synap",
    "httpx_client": "import httpx; httpx.Client()",
    "synap_client": "from synap import Synap; Synap(api_key='synap_x', base_url='http://127.0.0.1:9')",
}


def bench_imports(runs: int) -> list[Row]:
    env = clean_env()
    # Bytecode as an installed wheel has it (pip compiles on install); PYTHONDONTWRITEBYTECODE
    # in the caller's environment would otherwise make every run compile synap from source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("SYNAP_API_KEY", None)

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=tempfile.gettempdir())
        return (time.perf_counter() - start) * 1e3

    for code in IMPORTS.values():  # warm-up: write bytecode, fill the OS's file cache
        run(code)
    walls: dict[str, list[float]] = {name: [] for name in IMPORTS}
    names = list(IMPORTS)
    for r in range(runs):
        for name in names if r % 2 == 0 else reversed(names):
            walls[name].append(run(IMPORTS[name]))
    # Each run minus the bare interpreter of the same round: the import's own cost.
    net = {
        name: [w - b for w, b in zip(walls[name], walls["bare"], strict=True)]
        for name in names
        if name != "bare"
    }
    bare = {"bare_interpreter_ms": median(walls["bare"])}
    return [
        compare("4", "import, fresh interpreter, minus a bare one", "ms", net, "httpx",
                "synap", limit=1.5, raw_label="import httpx", ours_label="import synap",
                extra=bare),
        compare("4b", "  import and build the first client", "ms", net, "httpx_client",
                "synap_client", raw_label="import httpx; httpx.Client()",
                ours_label="from synap import Synap; Synap(...)", extra=bare),
    ]  # fmt: skip


# -- 5. server ingest ------------------------------------------------------------------------


def bench_ingest(workdir: Path, batches: int, concurrency: int, rounds: int) -> list[Row]:
    import sqlite3

    import httpx

    from synap.server import LocalServerProcess
    from synap.server.store import INSERT_MESSAGE, MessageRow, schema_ddl

    def bodies() -> list[bytes]:
        return [
            json.dumps({"messages": chunk}, separators=(",", ":")).encode()
            for chunk in chunks(messages(batches * CHUNK))
        ]

    def sqlite_rows() -> list[list[MessageRow]]:
        # The rows the server would write for the same messages (ids and times made up front).
        out = []
        for chunk in chunks(messages(batches * CHUNK)):
            rows = []
            for seq, m in enumerate(chunk):
                rows.append(
                    MessageRow(
                        message_id=str(uuid.uuid4()),
                        conversation_id=m["conversation_id"],
                        seq=seq % PER_CONVERSATION + 1,
                        role=m["role"],
                        content=m["content"],
                        user_id=m["user_id"],
                        customer_id=m["customer_id"],
                        session_id=str(uuid.uuid4()),
                        metadata=json.dumps(m["metadata"], separators=(",", ":")),
                        extra="{}",
                        recorded_at="2026-01-01T00:00:00.000000Z",
                    )
                )
            out.append(rows)
        return out

    db = sqlite3.connect(workdir / "raw.db", isolation_level=None, check_same_thread=False)
    # The pragmas of synap.server.store.Store.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(schema_ddl())

    def raw_sqlite() -> dict[str, float]:
        data = sqlite_rows()
        start = time.perf_counter()
        for rows in data:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(INSERT_MESSAGE, rows)
            db.execute("COMMIT")
        return {"msg_per_s": batches * CHUNK / (time.perf_counter() - start)}

    server = LocalServerProcess(workdir / "ingest.db").start()
    http = httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"},
        timeout=60,
    )
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="ingest")

    def post(body: bytes) -> None:
        response = http.post(BATCH_PATH, content=body, headers=call_headers())
        if response.status_code != 200 or response.json()["succeeded"] != CHUNK:
            raise RuntimeError(f"server ingest got {response.status_code}: {response.text[:200]}")

    def through_server() -> dict[str, float]:
        data = bodies()
        start = time.perf_counter()
        for future in [pool.submit(post, body) for body in data]:
            future.result()
        return {"msg_per_s": batches * CHUNK / (time.perf_counter() - start)}

    contenders: dict[str, Callable[[], dict[str, float]]] = {
        "sqlite": raw_sqlite,
        "server": through_server,
    }
    service = _service_contender(workdir, bodies, batches)
    if service is not None:
        contenders["service"] = service
    try:
        interleave(2, contenders)
        s = _pick(interleave(rounds, contenders), "msg_per_s")
    finally:
        pool.shutdown()
        http.close()
        server.stop()
        db.close()
    rows = [
        compare("5", f"server ingest, batch endpoint, {concurrency} in flight", "msg/s", s,
                "sqlite", "server", raw_label="sqlite3 executemany, same rows and schema",
                ours_label="python -m synap serve, 100 messages/call"),
    ]  # fmt: skip
    if "service" in s:
        rows.append(
            compare("5b", "  the server's work without HTTP", "msg/s", s, "sqlite", "service",
                    raw_label="sqlite3 executemany, same rows and schema",
                    ours_label="synap.server Service.handle in this process")
        )  # fmt: skip
    return rows


def _service_contender(
    workdir: Path, bodies: Callable[[], list[bytes]], batches: int
) -> Callable[[], dict[str, float]] | None:
    """`Service.handle` in this process (the server minus HTTP), or None without the extra."""
    try:
        from synap.server.app import key_scope
        from synap.server.operations import Caller, Service
        from synap.server.store import Store
    except ImportError:
        return None
    service = Service(Store(workdir / "service.db"))
    caller = Caller(key_scope("synap_bench"))

    def run() -> dict[str, float]:
        data = bodies()
        start = time.perf_counter()
        for body in data:
            reply = service.handle(
                "record_messages_batch", caller, json.loads(body), str(uuid.uuid4())
            )
            if reply.status != 200:
                raise RuntimeError(f"Service.handle answered {reply.status}: {reply.body[:200]!r}")
        return {"msg_per_s": batches * CHUNK / (time.perf_counter() - start)}

    return run


# -- 8. client start-up and the pytest fixtures' cost per test -------------------------------


def bench_startup(runs: int, fixture_tests: int, fixture_runs: int) -> list[Row]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_startup as startup

    clients = startup.client_samples(runs)
    rows = []
    for ids, raw, ours in (
        (("8", "8a"), "httpx.Client()", "synap.Synap()"),
        (("8b", "8c"), "httpx.AsyncClient()", "synap.AsyncSynap()"),
    ):
        first = compare(ids[0], f"{ours}: the first in a process", "ms", clients,
                        f"{raw}.first_ms", f"{ours}.first_ms", raw_label=f"the first {raw}",
                        ours_label=f"the first {ours} (after import)")  # fmt: skip
        later = compare(ids[1], f"  {ours}: the next ones", "ms", clients, f"{raw}.next_ms",
                        f"{ours}.next_ms", raw_label=f"the next {raw} (median of 200)",
                        ours_label=f"the next {ours} (median of 200)")  # fmt: skip
        later.target = "<= 2 ms"
        later.met = later.ours is not None and later.ours <= 2.0
        rows += [first, later]
    tests = startup.fixture_samples(fixture_tests, fixture_runs)
    for id, raw, ours in (
        ("8d", "plain", "synap_client"),
        ("8e", "async_plain", "async_synap_client"),
    ):
        row = compare(
            id,
            f"{ours}, per test beyond a plain one",
            "ms",
            tests,
            f"{raw}.ms_per_test",
            f"{ours}.ms_per_test",
            raw_label=f"{fixture_tests} {raw.replace('_', ' ')} tests, ms per test",
            ours_label=f"{fixture_tests} tests each recording one message via {ours}",
        )
        assert row.raw is not None
        assert row.ours is not None
        row.extra["added_ms"] = row.ours - row.raw
        # The steady state (the median test) and the one-time start (the first test).
        for measure in ("median_ms", "first_ms"):
            row.extra[f"{measure}_plain"] = median(tests[f"{raw}.{measure}"])
            row.extra[f"{measure}_synap"] = median(tests[f"{ours}.{measure}"])
        row.target = "<= +15 ms"
        row.met = row.extra["added_ms"] <= 15.0
        rows.append(row)
    return rows


# -- the run ---------------------------------------------------------------------------------


def bench_recorder_rows(
    url: str,
    key: str,
    args: argparse.Namespace,
    step: Callable[[str], None],
    server_pid: int | None = None,
) -> list[Row]:
    """Rows 7-7k: the background recorder (scripts/bench_recorder.py) and the FastAPI
    service (scripts/bench_service.py; 7i-7j: where its CPU goes, given the server's pid;
    7k: with a Synap server of its own at nice 19, reported beside 7h, not instead)."""
    import bench_recorder
    import bench_service

    step("7-7d. recorder: record() cost")
    found = bench_recorder.bench_record_cost(url, key, args.recorder_turns, args.recorder_rounds)
    step("7e-7f. recorder throughput vs a loop of 100-turn batch calls")
    found += bench_recorder.bench_recorder_throughput(
        url, key, args.recorder_backfill, args.recorder_rounds
    )
    step("7g-7h. FastAPI app, 200 concurrent clients: nothing / direct / recorder")
    samples = bench_service.bench_service(
        url, key, rounds=args.service_rounds, seconds=args.service_seconds, server_pid=server_pid
    )
    found += bench_service.rows(samples, 200)
    step("7k. the same app, the local Synap server at nice 19 (a stand-in, not row 7h)")
    niced = bench_service.bench_service_niced(
        rounds=args.service_rounds, seconds=args.service_seconds
    )
    found.append(bench_service.niced_row(niced, 200))
    return [Row(**row) for row in found]


def machine() -> dict[str, Any]:
    import httpx

    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "httpx": httpx.__version__,
    }
    with contextlib.suppress(AttributeError):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return info


def fmt(value: float | None, unit: str) -> str:
    if value is None or value != value:
        return "-"
    if unit == "MB":
        return f"{value:,.1f} MB"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "us/call":
        return f"{value:,.0f} us"
    if unit in ("msg/s", "calls/s"):
        return f"{value:,.0f}/s"
    if unit in ("us/msg", "us/turn"):
        return f"{value:,.1f} us"
    return f"{value:,.0f} {unit}"


def table(rows: list[Row], info: dict[str, Any]) -> str:
    """The results as aligned text (README-ready inside a code block)."""
    load = info.get("load_average_start") or []
    lines = [
        f"synap benchmark: {info['cpu_count']} CPUs, Python {info['python']}, "
        f"httpx {info['httpx']}, {info['platform']}"
        + (f", load average {load[0]:.2f} at start" if load else ""),
        "",
    ]
    widths = (3, 50, 14, 14, 8, 9, 3)

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if 2 <= i <= 4 else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines.append(line(("#", "measure (median)", "raw", "synap", "ratio", "target", "met")))
    for row in rows:
        if "growth_mb" in row.extra:
            ratio = f"{row.extra['growth_mb']:+.1f} MB"
        elif "added_ms" in row.extra:
            ratio = f"{row.extra['added_ms']:+.1f} ms"
        elif "added_us" in row.extra:
            ratio = f"{row.extra['added_us']:+.0f} us"
        else:
            ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
        met = "" if row.met is None else ("yes" if row.met else "NO")
        cells = (row.id, row.title, fmt(row.raw, row.unit), fmt(row.ours, row.unit), ratio)
        lines.append(line((*cells, row.target, met)))
    lines.append("")
    lines.append("raw | synap per row:")
    for row in rows:
        lines.append(f"  {row.id}: {row.raw_label} | {row.ours_label}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="small sizes: finishes in under a minute")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--only", default="1,2,2d,3,4,5,7,8",
                   help="rows to run, e.g. 1,2 (default: all; 2d: rows 2d-2g)")  # fmt: skip
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--rounds", type=int, help="interleaved rounds of rows 1, 2 and 5")
    p.add_argument("--calls", type=int, help="calls per round, row 1")
    p.add_argument("--async-calls", type=int, help="calls per round, row 2")
    p.add_argument("--in-flight", type=int, default=32, help="async calls in flight, row 2")
    p.add_argument("--many-in-flight", default="32,200",
                   help="the two numbers of calls in flight of rows 2d-2g")  # fmt: skip
    p.add_argument("--many-calls", type=int, help="calls per block, rows 2d-2g")
    p.add_argument("--backfill", type=int, help="messages per backfill, row 3")
    p.add_argument("--backfill-rounds", type=int, help="interleaved rounds, row 3")
    p.add_argument("--concurrency", type=int, default=4, help="calls in flight, rows 3 and 5")
    p.add_argument("--rss-sizes", help="comma-separated message counts for the RSS children")
    p.add_argument("--import-runs", type=int, help="fresh interpreters per import, row 4")
    p.add_argument("--ingest-batches", type=int, help="100-message batches per round, row 5")
    p.add_argument("--overhead-calls", type=int, help="calls per round, rows 1c and 2c")
    p.add_argument("--startup-runs", type=int, help="fresh interpreters per client, row 8")
    p.add_argument("--fixture-tests", type=int, help="tests per generated pytest run, row 8")
    p.add_argument("--fixture-runs", type=int, help="interleaved pytest runs per suite, row 8")
    p.add_argument("--recorder-turns", type=int, help="record() calls per round, rows 7-7d")
    p.add_argument("--recorder-backfill", type=int, help="turns per round, rows 7e-7f")
    p.add_argument("--recorder-rounds", type=int, help="interleaved rounds, rows 7-7f")
    p.add_argument("--service-seconds", type=float, help="measured seconds per app run, 7g-7k")
    p.add_argument("--service-rounds", type=int, help="interleaved rounds, rows 7g-7k")
    # The RSS child (run by this script in a fresh interpreter).
    p.add_argument("--child-rss", type=int, help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--key", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_rss is not None:
        rss_child(args.child_rss, args.url, args.key, args.concurrency)
        return 0
    only = {part.strip() for part in args.only.split(",")}
    info = machine()
    info["load_average_start"] = info.pop("load_average", None)
    print(f"synap benchmark on {info['cpu_count']} CPUs ({'quick' if args.quick else 'full'} run)",
          flush=True)  # fmt: skip
    started = time.perf_counter()
    rows: list[Row] = []

    def step(label: str) -> None:
        print(f"  [{time.perf_counter() - started:6.1f} s] {label}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="synap-bench-") as tmp:
        workdir = Path(tmp)
        if only & {"1", "2", "3", "7"}:
            from synap.server import LocalServerProcess

            with LocalServerProcess(workdir / "bench.db") as server:
                url, key = server.url, server.api_key
                if "1" in only:
                    step("1. record_message, blocking, sequential")
                    rows += bench_sequential(url, key, args.calls, args.rounds)
                if "2" in only:
                    step(f"2. record_message, async, {args.in_flight} in flight")
                    rows += bench_async(url, key, args.async_calls, args.in_flight, args.rounds)
                if "3" in only:
                    step(f"3. backfill of {args.backfill:,} messages")
                    rows += bench_backfill(
                        url, key, args.backfill, args.concurrency, args.backfill_rounds
                    )
                if "7" in only:
                    rows += bench_recorder_rows(url, key, args, step, server.pid)
        if "2d" in only:
            step("2d-2g. record_message, 32 and 200 in flight, AsyncSynap vs raw aiohttp")
            levels = [int(n) for n in args.many_in_flight.split(",")]
            rows += bench_in_flight(args.many_calls, levels, args.rounds)
        if only & {"1", "2"}:
            step("1c, 2c. the SDK's own CPU per call, no network")
            overhead = bench_overhead(args.overhead_calls, args.rounds)
            rows += [row for row in overhead if row.id[0] in only]
        if "3" in only:
            sizes = [int(size) for size in args.rss_sizes.split(",")]
            step(f"3c. bulk helper peak RSS at {' and '.join(f'{n:,}' for n in sizes)} messages")
            rows.append(bench_rss(sizes, args.concurrency))
        if "4" in only:
            step("4. import time")
            rows += bench_imports(args.import_runs)
        if "5" in only:
            step("5. server ingest")
            rows += bench_ingest(workdir, args.ingest_batches, args.concurrency, args.rounds)
        if "8" in only:
            step("8. client start-up, fixture cost per test")
            rows += bench_startup(args.startup_runs, args.fixture_tests, args.fixture_runs)
    rows.sort(key=lambda row: row.id)
    with contextlib.suppress(OSError):
        info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    seconds = time.perf_counter() - started
    print()
    print(table(rows, info))
    missed = [row.id for row in rows if row.met is False]
    print(f"\ndone in {seconds:.0f} s; targets missed: {', '.join(missed) or 'none'}")
    if args.json:
        report = {
            "machine": info,
            "mode": "quick" if args.quick else "full",
            "sizes": {k: getattr(args, k) for k in (*FULL, "in_flight", "concurrency")},
            "seconds": seconds,
            "rows": [asdict(row) for row in rows],
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
