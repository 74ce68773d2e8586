"""Rows 7-7f of `scripts/bench.py`: the background recorder (`client.conversation.recorder()`).

7, 7b   `record()` cost, median and p99, no spool, while the recorder's thread is sending to
        the local server (a service's situation), against the check `record()` must do anyway
        (`_validation.record_message_body`, what `record_message` runs first). Target: median
        <= 20 us.
7c, 7d  the same with `spool=PATH` (an OS write per turn, no fsync). Target: median <= 50 us.
7e      throughput, blocking: `rec.record()` of every turn then `flush()`, against a
        hand-written loop of 100-turn `record_messages_batch` calls (same turns, same client).
        Target >= 0.90x.
7f      the same, async: `AsyncSynap` recorder against awaited 100-turn batch calls.

Each function returns rows as dicts of `bench.Row` fields (this module does not import
`bench`, which runs as `__main__`).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONVERSATIONS = 200
CONTENT = "I would like the summary of my last three invoices, please."


def _turns(n: int) -> list[tuple[str, str]]:
    ids = [str(uuid.uuid4()) for _ in range(CONVERSATIONS)]
    return [(ids[i % CONVERSATIONS], f"{CONTENT} ({i})") for i in range(n)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(
    id: str,
    title: str,
    unit: str,
    raw: float,
    ours: float,
    *,
    target: str = "",
    met: bool | None = None,
    ratio: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": id,
        "title": title,
        "unit": unit,
        "raw": raw,
        "ours": ours,
        "ratio": ratio if ratio is not None else (ours / raw if raw else None),
        "target": target,
        "met": met,
        **extra,
    }


def bench_record_cost(url: str, key: str, turns: int, rounds: int) -> list[dict[str, Any]]:
    """Rows 7-7d: nanoseconds per call of `record()` vs the validation alone."""
    import synap
    from synap import _validation

    client = synap.Synap(api_key=key, base_url=url)
    data = _turns(turns)
    clock = time.perf_counter_ns
    validate = _validation.record_message_body

    def sample(call: Callable[[str, str], Any]) -> list[float]:
        out = []
        for i, (conversation, content) in enumerate(data):
            start = clock()
            call(conversation, content)
            out.append((clock() - start) / 1e3)
            if i % 100 == 99:
                time.sleep(0.0005)  # a service's pace: the sender runs between requests
        return out

    results: dict[str, list[float]] = {"check": [], "memory": [], "spool": []}
    with tempfile.TemporaryDirectory(prefix="synap-bench-spool-") as tmp:
        for r in range(rounds):
            order = ["check", "memory", "spool"]
            for name in order if r % 2 == 0 else reversed(order):
                if name == "check":
                    results[name] += sample(
                        lambda c, t: validate(c, "user", t, "user_1", "customer_1")
                    )
                    continue
                spool = Path(tmp) / f"round{r}.spool" if name == "spool" else None
                rec = client.conversation.recorder(spool=spool)
                results[name] += sample(
                    lambda c, t, rec=rec: rec.record(c, "user", t, "user_1", "customer_1")
                )
                rec.close()
                if rec.stats.sent != len(data):
                    raise RuntimeError(f"recorder stored {rec.stats.sent} of {len(data)}")
    client.close()
    check_median = statistics.median(results["check"])
    check_p99 = _percentile(results["check"], 0.99)
    label = {"raw_label": "_validation.record_message_body (the check record() must make)"}
    rows = []
    for row_id, p99_id, name, what, limit in (
        ("7", "7b", "memory", "no spool", 20.0),
        ("7c", "7d", "spool", "spool (OS write per turn)", 50.0),
    ):
        median = statistics.median(results[name])
        p99 = _percentile(results[name], 0.99)
        ours_label = f"Recorder.record(), {what}, its thread sending"
        rows.append(
            _row(row_id, f"record() cost, {what}: median", "us/turn", check_median, median,
                 target=f"<= {limit:.0f} us", met=median <= limit, ours_label=ours_label,
                 **label)
        )  # fmt: skip
        rows.append(
            _row(p99_id, f"  record() cost, {what}: p99", "us/turn", check_p99, p99,
                 ours_label=ours_label, **label)
        )  # fmt: skip
    return rows


def bench_recorder_throughput(url: str, key: str, n: int, rounds: int) -> list[dict[str, Any]]:
    """Rows 7e (blocking) and 7f (async): turns stored per second, recorder vs hand loop."""
    import synap

    data = _turns(n)

    def batches() -> list[list[dict[str, Any]]]:
        entries = [
            {
                "conversation_id": c,
                "role": "user",
                "content": t,
                "user_id": "user_1",
                "customer_id": "customer_1",
            }
            for c, t in data
        ]
        return [entries[i : i + 100] for i in range(0, len(entries), 100)]

    client = synap.Synap(api_key=key, base_url=url)

    def hand_loop() -> float:
        chunks = batches()
        start = time.perf_counter()
        for chunk in chunks:
            client.conversation.record_messages_batch(chunk)
        return n / (time.perf_counter() - start)

    def recorder() -> float:
        start = time.perf_counter()
        rec = client.conversation.recorder()
        for conversation, content in data:
            rec.record(conversation, "user", content, "user_1", "customer_1")
        rec.close()
        if rec.stats.sent != n:
            raise RuntimeError(f"recorder stored {rec.stats.sent} of {n}")
        return n / (time.perf_counter() - start)

    async def run_async(rounds: int) -> dict[str, list[float]]:
        aclient = synap.AsyncSynap(api_key=key, base_url=url)

        async def ahand_loop() -> float:
            chunks = batches()
            start = time.perf_counter()
            for chunk in chunks:
                await aclient.conversation.record_messages_batch(chunk)
            return n / (time.perf_counter() - start)

        async def arecorder() -> float:
            start = time.perf_counter()
            rec = aclient.conversation.recorder()
            for conversation, content in data:
                rec.record(conversation, "user", content, "user_1", "customer_1")
            await rec.aclose()
            if rec.stats.sent != n:
                raise RuntimeError(f"async recorder stored {rec.stats.sent} of {n}")
            return n / (time.perf_counter() - start)

        out: dict[str, list[float]] = {"hand": [], "recorder": []}
        await ahand_loop()  # warm-up
        await arecorder()
        for r in range(rounds):
            pair = [("hand", ahand_loop), ("recorder", arecorder)]
            for name, fn in pair if r % 2 == 0 else reversed(pair):
                out[name].append(await fn())
        await aclient.aclose()
        return out

    hand_loop()  # warm-up
    recorder()
    blocking: dict[str, list[float]] = {"hand": [], "recorder": []}
    for r in range(rounds):
        pair: list[tuple[str, Callable[[], float]]] = [("hand", hand_loop), ("recorder", recorder)]
        for name, fn in pair if r % 2 == 0 else reversed(pair):
            blocking[name].append(fn())
    client.close()
    async_samples = asyncio.run(run_async(rounds))
    rows = []
    for row_id, kind, samples in (("7e", "blocking", blocking), ("7f", "async", async_samples)):
        raw, ours = statistics.median(samples["hand"]), statistics.median(samples["recorder"])
        rows.append(
            _row(row_id, f"recorder throughput, {kind}, {n:,} turns", "msg/s", raw, ours,
                 target=">= 0.90", met=ours / raw >= 0.90,
                 raw_label=f"{kind}: a loop of 100-turn record_messages_batch calls",
                 ours_label=f"{kind}: rec.record() per turn, then close() (flush)",
                 samples={"hand": samples["hand"], "recorder": samples["recorder"]})
        )  # fmt: skip
    return rows
