"""The I/O of a bulk job: the blocking runner (a thread pool over the facade's one httpx
client) and its async twin (tasks under a bound, on anyio: asyncio or trio). Every decision is
the `Job`'s; a call's answer comes back as `Part`s (one per call actually made, several when a
413 split it).

The two runners stay two: a thread cannot be cancelled, so the blocking one lets the calls on
the wire finish, while the async one cancels them."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from synap.bulk._engine import BulkSummary, Chunk, Job, Part, check_concurrency


def run_sync(
    job: Job, items: Iterable[Any], send: Callable[[Chunk], Any], concurrency: int
) -> BulkSummary:
    """Feed `items` through `job`, at most `concurrency` calls in flight, each `send(chunk)`."""
    check_concurrency(concurrency)
    job.open()
    running: dict[Future[list[Part]], Chunk] = {}
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="synap-bulk")

    def call(chunk: Chunk) -> list[Part]:
        try:
            return [Part(chunk, send(chunk), None)]
        except Exception as error:
            halves = job.split(chunk, error)
            if halves is None:
                return [Part(chunk, None, error)]
            return [part for half in halves for part in call(half)]

    def settle(done: Iterable[Future[list[Part]]], quiet: bool = False) -> None:
        for future in sorted(done, key=lambda f: running[f].index):
            del running[future]
            job.settle(future.result(), quiet=quiet)

    def drain_one() -> None:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        settle(done)

    def start(chunk: Chunk) -> None:
        while running and not job.can_start(chunk, running.values(), concurrency):
            drain_one()
        ready = job.hold_back(chunk) if job.fatal is None else None
        if ready is not None:
            running[pool.submit(call, ready)] = ready

    try:
        for item in items:
            chunk = job.add(item)
            if chunk is not None:
                start(chunk)
            if job.fatal is not None:
                break
        else:
            while (chunk := job.end()) is not None:  # the last chunk, and any held for later
                start(chunk)
        while running:
            drain_one()
    except BaseException:
        # A crash or Ctrl-C (possibly from a callback): start nothing new, let the calls on the
        # wire finish (a thread cannot be stopped), and checkpoint what they stored.
        for future in list(running):
            if future.cancel():
                del running[future]
        if running:
            done, _ = wait(running)
            with contextlib.suppress(Exception):  # the first error is the one to raise
                settle(done, quiet=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        job.close()
    if job.fatal is not None:
        raise job.fatal
    return job.summary()


async def run_async(
    job: Job,
    items: Iterable[Any] | AsyncIterable[Any],
    send: Callable[[Chunk], Awaitable[Any]],
    concurrency: int,
) -> BulkSummary:
    """The async twin of `run_sync`: tasks instead of threads; `items` may be async.

    anyio primitives only (a task group, a memory stream), so it runs under asyncio and trio.
    """
    import anyio

    check_concurrency(concurrency)
    job.open()
    running: dict[int, Chunk] = {}  # id(chunk) -> chunk (a Chunk is not hashable)
    # Each finished call reports here; unbounded, since at most `concurrency` are in flight.
    report, finished = anyio.create_memory_object_stream[tuple[Chunk, list[Part]]](math.inf)

    async def call(chunk: Chunk) -> list[Part]:
        try:
            return [Part(chunk, await send(chunk), None)]
        except Exception as error:
            halves = job.split(chunk, error)
            if halves is None:
                return [Part(chunk, None, error)]
            return [part for half in halves for part in await call(half)]

    async def run(chunk: Chunk) -> None:
        # A cancelled call reports nothing: it is not confirmed, and is resent on resume.
        report.send_nowait((chunk, await call(chunk)))

    done: list[tuple[Chunk, list[Part]]] = []  # answered, not yet settled

    def take_finished() -> None:
        while True:
            try:
                done.append(finished.receive_nowait())
            except anyio.WouldBlock:
                return

    def settle(quiet: bool = False) -> None:
        done.sort(key=lambda d: d[0].index, reverse=True)
        while done:
            chunk, parts = done.pop()  # popped first: a callback raising leaves the rest
            del running[id(chunk)]
            job.settle(parts, quiet=quiet)

    async def drain_one() -> None:
        done.append(await finished.receive())
        take_finished()
        settle()

    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:

            async def start(chunk: Chunk) -> None:
                while running and not job.can_start(chunk, running.values(), concurrency):
                    await drain_one()
                ready = job.hold_back(chunk) if job.fatal is None else None
                if ready is not None:
                    running[id(ready)] = ready
                    group.start_soon(run, ready)

            try:
                if isinstance(items, AsyncIterable):
                    async for item in items:
                        chunk = job.add(item)
                        if chunk is not None:
                            await start(chunk)
                        if job.fatal is not None:
                            break
                else:
                    for item in items:
                        chunk = job.add(item)
                        if chunk is not None:
                            await start(chunk)
                        if job.fatal is not None:
                            break
                if job.fatal is None:
                    while (chunk := job.end()) is not None:  # the last chunk, and any held
                        await start(chunk)
                while running:
                    await drain_one()
            except BaseException as exc:
                # Cancelled, Ctrl-C or a callback raised: cancel the calls on the wire (one the
                # server committed is replayed under its idempotency key on resume). Raised
                # below, after the group: a task group would wrap it in an exception group.
                failure = exc
                group.cancel_scope.cancel()
    finally:
        if running:  # checkpoint the calls that had answered before the failure
            take_finished()
            with contextlib.suppress(Exception):  # the first error is the one to raise
                settle(quiet=True)
        report.close()
        finished.close()
        job.close()
    if failure is not None:
        try:
            raise failure
        finally:
            failure = None  # no reference cycle through the traceback
    if job.fatal is not None:
        raise job.fatal
    return job.summary()
