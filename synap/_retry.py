"""Retry decisions as data: (retries done, error) -> seconds to wait, or None to give up.

Retried: network failures and timeouts (`NetworkError`), and HTTP 408, 429, 500, 502, 503,
504. Never: 400, 401, 403, 422 or any other answer. The wait is exponential with jitter
(0.5 s x 2^n, at most 8 s), unless the server sent `Retry-After` (seconds or an HTTP date):
that is honoured up to 60 s; a longer wait raises the error at once rather than sleeping.

Every retry of a call reuses its `Idempotency-Key` and `X-Correlation-ID` (see `_transport`),
so a server that honours the key stores a retried write once.

`sleep` and `async_sleep` are the only places the SDK waits: tests replace them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from synap._errors import NetworkError, SynapError

__all__ = ["RETRY_STATUSES", "RetryPolicy", "async_sleep", "retry_delay", "sleep"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries. `max_retries` is the number of retries after the first try."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0


def is_retryable(error: SynapError) -> bool:
    """Whether trying the same call again may succeed."""
    return isinstance(error, NetworkError) or error.status_code in RETRY_STATUSES


def _jitter() -> float:
    import random  # only a failing call pays for it

    return random.random()


def retry_delay(
    policy: RetryPolicy,
    retries_done: int,
    error: SynapError,
    jitter: Callable[[], float] = _jitter,
) -> float | None:
    """Seconds to wait before retry number `retries_done + 1`, or None to raise `error`."""
    if retries_done >= policy.max_retries or not is_retryable(error):
        return None
    if error.retry_after is not None:
        return error.retry_after if error.retry_after <= policy.max_retry_after else None
    backoff = min(policy.initial_delay * 2.0**retries_done, policy.max_delay)
    # Up to a quarter off, so that clients failing together do not retry together.
    return backoff * (1.0 - 0.25 * jitter())


def sleep(seconds: float) -> None:
    """Wait in the blocking client (replaced in tests)."""
    time.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Wait in the async client (replaced in tests). anyio: works under asyncio and trio."""
    import anyio

    await anyio.sleep(seconds)
