"""Fault injection for the local server (off by default): the failures a client must survive.

A `FaultPlan` says what fraction of requests get each fault; a `FaultInjector` draws one
uniform number per request from `random.Random(seed)`, so the n-th request always gets the
same fault under the same seed; `FaultMiddleware` (ASGI) applies it and counts it.

Kinds (the name is also the CLI spelling and the counter's name):

| kind          | what the client sees                                        | write stored? |
|---------------|-------------------------------------------------------------|---------------|
| `500`..`504`  | that status (500, 502, 503, 504), `{"detail": ...}`         | no            |
| `429`         | 429 with `Retry-After: <retry_after>` (integer seconds)     | no            |
| `drop_before` | headers, then the connection dies mid-body                  | no            |
| `drop_after`  | the real answer's headers, then the connection dies         | yes           |
| `latency`     | the request waits `latency_seconds` (past a client's read   | yes, late     |
|               | timeout), then is performed as usual                        |               |

`drop_after` and `latency` are the duplicate-makers: the write commits although the client
sees a failure, so only an idempotency key keeps its retry from storing twice.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KINDS = ("500", "502", "503", "504", "429", "drop_before", "drop_after", "latency")
"""Every fault kind, in the order their fractions are laid out on [0, 1)."""

_PARAMS = {"latency_seconds": float, "retry_after": int}


@dataclass(frozen=True)
class FaultPlan:
    """What fraction of requests gets which fault, and under which seed.

    `rates` maps kinds of `KINDS` to fractions (their sum at most 1). Build one directly,
    from a CLI spec with `FaultPlan.parse("503=0.1,drop_after=0.05", seed=7)`, or spread a
    total rate over every kind with `FaultPlan.every_kind(0.3, seed=7)`.
    """

    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    latency_seconds: float = 2.0
    retry_after: int = 1

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kind(s) {sorted(unknown)}; known: {', '.join(KINDS)}")
        if any(not 0 <= r <= 1 for r in self.rates.values()) or sum(self.rates.values()) > 1:
            raise ValueError("fault rates must be between 0 and 1 and add up to at most 1")
        if self.latency_seconds < 0 or self.retry_after < 0:
            raise ValueError("latency_seconds and retry_after must not be negative")

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> FaultPlan:
        """A plan from `kind=fraction,...` plus optional `latency_seconds=S`, `retry_after=N`.

        Example: `"500=0.05,503=0.05,429=0.05,drop_after=0.1,latency=0.02,latency_seconds=1.5"`.
        """
        rates: dict[str, float] = {}
        params: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep:
                raise ValueError(f"fault spec part {part!r} is not name=value")
            try:
                if name in _PARAMS:
                    params[name] = _PARAMS[name](value)
                else:
                    rates[name] = float(value)
            except ValueError:
                raise ValueError(f"fault spec part {part!r}: {value!r} is not a number") from None
        return cls(rates=rates, seed=seed, **params)

    @classmethod
    def every_kind(
        cls, total: float, *, seed: int = 0, kinds: Iterable[str] = KINDS, **params: Any
    ) -> FaultPlan:
        """`total` spread evenly over `kinds` (all of them by default)."""
        chosen = list(kinds)
        return cls(rates={k: total / len(chosen) for k in chosen}, seed=seed, **params)

    def to_spec(self) -> str:
        """The CLI spelling of this plan (without the seed: pass it as `--fault-seed`)."""
        parts = [f"{k}={self.rates[k]!r}" for k in KINDS if self.rates.get(k)]
        parts += [f"latency_seconds={self.latency_seconds!r}", f"retry_after={self.retry_after}"]
        return ",".join(parts)


class FaultInjector:
    """A running plan: the seeded draws and the counters of what was injected (thread-safe)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._random = random.Random(plan.seed)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("requests", *KINDS), 0)
        bounds: list[tuple[float, str]] = []
        edge = 0.0
        for kind in KINDS:
            edge += plan.rates.get(kind, 0.0)
            bounds.append((edge, kind))
        self._bounds = bounds

    def draw(self) -> str | None:
        """Count one request and pick its fault (None: serve it normally)."""
        with self._lock:
            self._counts["requests"] += 1
            x = self._random.random()
            kind = next((k for edge, k in self._bounds if x < edge), None)
            if kind is not None:
                self._counts[kind] += 1
            return kind

    def counts(self) -> dict[str, int]:
        """`{"requests": n, "injected": n, "500": n, ..., "latency": n}` so far."""
        with self._lock:
            counts = dict(self._counts)
        return {"requests": counts.pop("requests"), "injected": sum(counts.values()), **counts}


class InjectedDrop(Exception):
    """Raised on purpose after the response started, so the server cuts the connection."""


class _QuietDrops(logging.Filter):
    # uvicorn logs every exception escaping the app; ours are on purpose.
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedDrop))


_quiet = _QuietDrops()


class FaultMiddleware:
    """ASGI middleware applying a `FaultInjector` to every HTTP request under `paths`."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, paths: Iterable[str]) -> None:
        self.app = app
        self.injector = injector
        self.paths = frozenset(paths)
        logger = logging.getLogger("uvicorn.error")
        if _quiet not in logger.filters:
            logger.addFilter(_quiet)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        kind = self.injector.draw()
        if kind is None:
            await self.app(scope, receive, send)
            return
        plan = self.injector.plan
        # Read the whole request first: the client has sent it, whatever happens next.
        body = await _read_all(receive)
        if kind == "latency":
            await anyio.sleep(plan.latency_seconds)
            await self.app(scope, _replaying(body, receive), send)
        elif kind == "drop_after":
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.app(scope, _replaying(body, receive), hold)
            await send(held[0])  # the real status and Content-Length, then nothing
            raise InjectedDrop("response dropped after the write committed")
        elif kind == "drop_before":
            await send(_start(200, b'{"detail":"' + b" " * 64 + b'"}', {}))
            raise InjectedDrop("connection dropped before the write")
        else:
            status = int(kind)
            detail = json.dumps(
                {"detail": f"Injected fault: HTTP {status}"}, separators=(",", ":")
            ).encode()
            headers = {"retry-after": str(plan.retry_after)} if status == 429 else {}
            await send(_start(status, detail, headers))
            await send({"type": "http.response.body", "body": detail})


def _start(status: int, body: bytes, headers: Mapping[str, str]) -> Message:
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ] + [(k.encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http.response.start", "status": status, "headers": raw}


async def _read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
