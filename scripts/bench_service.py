#!/usr/bin/env python
"""The FastAPI service benchmark: what recording each request's turn costs an agent service.

    python scripts/bench_service.py --seconds 4 --rounds 3     # prints JSON rows

A FastAPI app (one `AsyncSynap` client made in its lifespan) serves `POST /chat`, run by
uvicorn in its own process; a load generator in another process (aiohttp, 200 concurrent
clients, each its own conversation) posts turns as fast as the app answers, for a fixed time
after a warm-up. Three modes, interleaved round by round (A B C, then C B A, ...):

- `nothing`:  the handler records nothing (the baseline);
- `direct`:   the handler awaits `client.conversation.record_message(...)` per request;
- `recorder`: the handler calls `rec.record(...)` on the app's recorder
              (`client.conversation.recorder()`, opened and closed in the lifespan).

Requests per second per mode; `scripts/bench.py` shows them as rows 7g-7h (ratio against
`nothing`). The local Synap server (another process) stores the turns in `direct` and
`recorder` modes. Each mode's app is started fresh, so no mode inherits another's warm state.

Where the CPU goes (Linux, from /proc): the app's CPU per request while the load runs (row
7i), and the Synap server's CPU per stored turn, from the load's start until the app has
exited (its recorder flushed), in `direct` and `recorder` modes (row 7j).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODES = ("nothing", "direct", "recorder")


# -- the app (run by `serve`) -------------------------------------------------------------------


def build_app(mode: str, synap_url: str, synap_key: str) -> Any:
    from contextlib import asynccontextmanager

    from fastapi import Body, FastAPI

    import synap

    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        async with synap.AsyncSynap(api_key=synap_key, base_url=synap_url) as client:
            state["client"] = client
            if mode == "recorder":
                async with client.conversation.recorder() as rec:
                    state["rec"] = rec
                    yield
            else:
                yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/chat")
    async def chat(turn: dict[str, str] = Body(...)) -> dict[str, str]:  # noqa: B008
        if mode == "direct":
            await state["client"].conversation.record_message(
                turn["conversation_id"], "user", turn["text"], turn["user_id"], "customer_bench"
            )
        elif mode == "recorder":
            state["rec"].record(
                turn["conversation_id"], "user", turn["text"], turn["user_id"], "customer_bench"
            )
        return {"reply": "ok"}

    return app


def serve(mode: str, port: int, synap_url: str, synap_key: str) -> None:
    import uvicorn

    app = build_app(mode, synap_url, synap_key)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the load generator (run by `load`) ---------------------------------------------------------


async def load(url: str, concurrency: int, warmup: float, seconds: float) -> dict[str, Any]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    done = 0
    errors = 0
    answered = 0  # all answers, warm-up included
    everyone_answered = asyncio.Event()
    # A slow mode answers in waves: a short window could hold none. The window lasts at least
    # `seconds` and until a quarter of the clients were answered in it (within 60 s more).
    enough = asyncio.Event()
    need = max(1, concurrency // 4)
    measuring = False
    stop = False

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal done, errors, answered
        conversation = str(uuid.uuid4())
        i = 0
        while not stop:
            body = {"conversation_id": conversation, "user_id": f"user_{n}", "text": f"turn {i}"}
            try:
                async with session.post(f"{url}/chat", json=body) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            answered += 1
            if answered >= concurrency:
                everyone_answered.set()
            if measuring:
                done += ok
                errors += not ok
                if done >= need:
                    enough.set()
            i += 1

    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(client(n, session)) for n in range(concurrency)]
        # Warm up until every client has had an answer (a slow mode's first answers come late,
        # and a window without them would count nothing), within warmup + 60 s.
        await asyncio.sleep(warmup)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everyone_answered.wait(), 60)
        measuring = True
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), 60)
        measuring = False
        elapsed = time.perf_counter() - start
        stop = True
        await asyncio.gather(*tasks)
    return {
        "requests": done,
        "errors": errors,
        "seconds": elapsed,
        "rps": done / elapsed,
        "answered": answered,  # warm-up included: what the CPU figures are divided by
    }


# -- orchestration ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("SYNAP_LOG", None)
    return env


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds a live process has used (Linux /proc), else None."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited: {process.stderr.read() if process.stderr else ''}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError("the app did not start")


def run_mode(
    mode: str,
    synap_url: str,
    synap_key: str,
    concurrency: int,
    warmup: float,
    seconds: float,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """One app process in `mode`, one load run against it; its requests per second, and the
    CPU the app and (given its pid) the Synap server spent per request."""
    port = _free_port()
    me = str(Path(__file__).resolve())
    app = subprocess.Popen(
        [sys.executable, me, "serve", mode, str(port), synap_url, synap_key],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    app_cpu = server_cpu = None
    try:
        _wait_ready(port, app)
        app_before, server_before = cpu_seconds(app.pid), cpu_seconds(server_pid)
        out = subprocess.run(
            [sys.executable, me, "load", f"http://127.0.0.1:{port}", str(concurrency),
             str(warmup), str(seconds)],
            env=_env(), capture_output=True, text=True, check=True, timeout=warmup + seconds + 120,
        )  # fmt: skip
        result: dict[str, Any] = json.loads(out.stdout)
        app_after = cpu_seconds(app.pid)
        if app_before is not None and app_after is not None:
            app_cpu = app_after - app_before
    finally:
        app.send_signal(signal.SIGINT)  # the lifespan's exit closes the recorder (a flush)
        try:
            app.wait(60)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
    server_after = cpu_seconds(server_pid)  # the recorder's last turns are stored by now
    if server_before is not None and server_after is not None:
        server_cpu = server_after - server_before
    answered = result.get("answered") or 0
    result["app_cpu_us"] = app_cpu * 1e6 / answered if app_cpu is not None and answered else None
    result["server_cpu_us"] = (
        server_cpu * 1e6 / answered if server_cpu is not None and answered else None
    )
    result["mode"] = mode
    return result


def bench_service(
    synap_url: str,
    synap_key: str,
    *,
    rounds: int,
    concurrency: int = 200,
    warmup: float = 1.0,
    seconds: float = 4.0,
    server_pid: int | None = None,
) -> dict[str, list[float]]:
    """Requests per second of each mode, `rounds` samples each, interleaved; with
    `server_pid` (and /proc), also `"<mode>.app_cpu_us"` and `"<mode>.server_cpu_us"`: CPU
    microseconds per request of the app and of the Synap server."""
    samples: dict[str, list[float]] = {m: [] for m in MODES}
    for r in range(rounds):
        for mode in MODES if r % 2 == 0 else reversed(MODES):
            result = run_mode(mode, synap_url, synap_key, concurrency, warmup, seconds, server_pid)
            if result["errors"]:
                raise RuntimeError(f"{mode}: {result['errors']} requests failed")
            samples[mode].append(result["rps"])
            for measure in ("app_cpu_us", "server_cpu_us"):
                if result[measure] is not None:
                    samples.setdefault(f"{mode}.{measure}", []).append(result[measure])
    return samples


def rows(samples: dict[str, list[float]], concurrency: int) -> list[dict[str, Any]]:
    """Rows 7g (direct) and 7h (recorder), each against `nothing`, as `scripts/bench.py` Rows."""
    base = statistics.median(samples["nothing"])
    out = []
    for row_id, mode, title, limit in (
        ("7g", "direct", "FastAPI app: await record_message per request", None),
        ("7h", "recorder", "FastAPI app: rec.record() per request", 0.90),
    ):
        ours = statistics.median(samples[mode])
        ratio = ours / base if base else None
        out.append(
            {
                "id": row_id,
                "title": f"{title}, {concurrency} clients",
                "unit": "req/s",
                "raw": base,
                "ours": ours,
                "ratio": ratio,
                "target": f">= {limit:.2f}" if limit else "",
                "met": (ratio >= limit) if (limit and ratio is not None) else None,
                "raw_label": "the same FastAPI app recording nothing",
                "ours_label": f"FastAPI app, mode {mode!r} (scripts/bench_service.py)",
                "samples": {"nothing": samples["nothing"], mode: samples[mode]},
            }
        )
    cpu = [
        # id, title, unit, raw and ours (sample names), labels
        ("7i", "  app CPU per request, recorder vs nothing", "us/req",
         "nothing.app_cpu_us", "recorder.app_cpu_us",
         "the app recording nothing", "the app recording through rec.record()"),
        ("7j", "  Synap server CPU per stored turn", "us/turn",
         "direct.server_cpu_us", "recorder.server_cpu_us",
         "one record_message call per turn (mode 'direct')", "the recorder's batches"),
    ]  # fmt: skip
    for row_id, title, unit, raw_name, ours_name, raw_label, ours_label in cpu:
        if not samples.get(raw_name) or not samples.get(ours_name):
            continue  # no /proc, or no server pid
        raw, ours = statistics.median(samples[raw_name]), statistics.median(samples[ours_name])
        out.append(
            {
                "id": row_id,
                "title": title,
                "unit": unit,
                "raw": raw,
                "ours": ours,
                "ratio": ours / raw if raw else None,
                "target": "",
                "met": None,
                "raw_label": raw_label,
                "ours_label": ours_label,
                "samples": {raw_name: samples[raw_name], ours_name: samples[ours_name]},
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve":
        mode, port, url, key = argv[1:5]
        serve(mode, int(port), url, key)
        return 0
    if argv and argv[0] == "load":
        url, concurrency, warmup, seconds = argv[1:5]
        result = asyncio.run(load(url, int(concurrency), float(warmup), float(seconds)))
        print(json.dumps(result))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--concurrency", type=int, default=200)
    args = p.parse_args(argv)
    import tempfile

    from synap.server import LocalServerProcess

    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalServerProcess(Path(tmp) / "service.db") as server,
    ):
        samples = bench_service(
            server.url,
            server.api_key,
            rounds=args.rounds,
            concurrency=args.concurrency,
            seconds=args.seconds,
            server_pid=server.pid,
        )
    print(json.dumps({"samples": samples, "rows": rows(samples, args.concurrency)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
