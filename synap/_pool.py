"""Which connection pool a call may use: one per process, and (async) one per event loop.

A pool's sockets belong to the process and the event loop that opened them. After `os.fork()`
the child holds copies of the parent's sockets: writing on them interleaves two processes'
requests on one connection (answers go to the wrong process). An asyncio socket is tied to its
loop: used from another loop, or once that loop has closed, it fails, and closing it from
elsewhere fails too. So the SDK keeps its own pools per process and per running loop:

- a fork bumps `generation` (an `os.register_at_fork` hook); a connection that sees a new
  generation starts fresh pools and parks the inherited ones in `_inherited`, untouched: their
  finalizers would close sockets the parent still uses, or call into a loop that is not running;
- a pool made inside a loop is closed by that loop as it shuts down: an async generator started
  in the loop (`keep_until_loop_ends`) closes it in its `finally`, which `asyncio.run()` (through
  `loop.shutdown_asyncgens()`) and `trio.run()` run before the loop goes away;
- a caller's own `http_client` cannot be rebuilt: `check_foreign_pool` refuses (before anything
  is sent) one whose open connections belong to a parent process or to a closed loop.

`repair_httpcore_pool` works around encode/httpcore#1093 (still open): a request cancelled
after the pool gave it a new connection, but before that connection was opened, leaves the
connection in the pool, never opened and never reclaimed; enough of them fill the pool for good.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

generation = 0
"""How many forks this process is away from the one that imported the SDK (0 in that one)."""

_inherited: list[object] = []
"""Pools a fork or a closed loop left behind: kept referenced so no finalizer touches them."""

_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global generation, _lock
    generation += 1
    _lock = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)


def leave_alone(pool: object) -> None:
    """Keep `pool` referenced forever without using it (see the module docstring)."""
    with _lock:
        _inherited.append(pool)


def running_loop() -> object:
    """An identity of the event loop running this call: the asyncio loop, or trio's run."""
    asyncio = sys.modules.get("asyncio")  # not imported for the blocking client's sake
    if asyncio is not None:
        loop = asyncio._get_running_loop()
        if loop is not None:
            return loop
    try:
        import trio

        return trio.lowlevel.current_trio_token()
    except (ImportError, RuntimeError):
        pass
    raise RuntimeError("AsyncSynap runs under asyncio or trio (anyio on either)")


def loop_closed(loop: object) -> bool:
    """Whether a loop from `running_loop()` has closed (trio's: its run is over)."""
    is_closed = getattr(loop, "is_closed", None)  # an asyncio loop
    if is_closed is not None:
        return bool(is_closed())
    try:
        loop.run_sync_soon(_nothing)  # type: ignore[attr-defined]  # trio's token
    except Exception:  # trio.RunFinishedError
        return True
    return False


def _nothing() -> None:
    pass


async def _keeper(close: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await close()


async def keep_until_loop_ends(close: Callable[[], Awaitable[None]]) -> object:
    """Have the running loop await `close()` as it shuts down; returns a handle to keep
    referenced as long as the pool lives (dropping it closes the pool early)."""
    keeper = _keeper(close)
    await keeper.__anext__()
    return keeper


def _pool_of(http: Any) -> Any:
    """httpcore's pool behind an httpx client's default transport, or None."""
    transport = getattr(http, "_transport", None)
    return getattr(transport, "_pool", None)


def has_open_connections(http: Any) -> bool:
    """Whether an httpx client's pool holds connections (False when it cannot tell)."""
    pool = _pool_of(http)
    return bool(getattr(pool, "connections", None))


def check_foreign_pool(http: Any, born: int, loop: object | None) -> None:
    """Raise before sending when a caller's `http_client` holds connections of a parent
    process (`born` is the fork generation it was handed to the SDK in) or of a loop that has
    closed (`loop`: where it was last used)."""
    from synap._errors import SynapError

    if born != generation and has_open_connections(http):
        raise SynapError(
            "The http_client passed to this Synap client holds connections opened before "
            "os.fork(); the child process cannot use them (answers would reach the wrong "
            "process). Make the client in each process after the fork, or let the SDK own the "
            "pool (it starts a fresh one in each process)."
        )
    if loop is not None and loop_closed(loop) and has_open_connections(http):
        raise SynapError(
            "The http_client passed to this AsyncSynap holds connections of an event loop "
            "that has closed (an earlier asyncio.run()?); they cannot be used from this one. "
            "Make the httpx.AsyncClient inside the loop that uses it, or let the SDK own the "
            "pool (it keeps one per event loop)."
        )


async def repair_httpcore_pool(http: Any) -> None:
    """Drop connections a cancelled request left never-opened in an httpx client's pool
    (encode/httpcore#1093), then let waiting requests have the freed slots.

    A never-opened connection that no request in the pool is waiting on has no one left to
    open it. Runs after a call failed or was cancelled (never on success); a pool that is not
    httpcore's, or whose internals have changed, is left as it is.
    """
    pool = _pool_of(http)
    connections = getattr(pool, "_connections", None)
    requests = getattr(pool, "_requests", None)
    assign = getattr(pool, "_assign_requests_to_connections", None)
    close = getattr(pool, "_close_connections", None)
    if not isinstance(connections, list) or not isinstance(requests, list) or assign is None:
        return
    claimed = {id(getattr(r, "connection", None)) for r in requests}
    orphans = [
        c
        for c in connections
        if getattr(c, "_connection", True) is None
        and getattr(c, "_connect_failed", True) is False
        and id(c) not in claimed
    ]
    if not orphans:
        return
    with pool._optional_thread_lock:
        for connection in orphans:
            if connection in connections:
                connections.remove(connection)
        closing = assign()
    if closing and close is not None:
        import anyio

        with anyio.CancelScope(shield=True):  # the caller's cancellation is already on its way
            await close(closing)
