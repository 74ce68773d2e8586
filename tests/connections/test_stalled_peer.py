"""A peer that accepts the connection and never reads the request: every send path fails with
`NetworkTimeoutError` within its timeouts instead of waiting forever.

httpx has a write timeout; aiohttp (AsyncSynap's own pool under asyncio) has none, and its
read timer, armed before the body is written, does not wake a write waiting for the socket
to drain. The aiohttp path bounds the exchange by the phases together (`exchange_limit`).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import anyio
import httpx
import pytest

import synap
from synap._aiohttp import exchange_limit

CID = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"
# Far more than the socket buffers hold once the peer's receive window is small.
CONTENT = "x" * 8_000_000
TIMEOUT = httpx.Timeout(0.5)
# A hang guard, not a speed claim: the call must end on its own well before this.
HANG = 30.0


@pytest.fixture
def deaf_peer() -> Iterator[str]:
    """The base URL of a listener whose connections are never read (the kernel completes
    them from the backlog; nothing ever accepts or reads)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_the_exchange_limit_adds_up_the_phases() -> None:
    assert exchange_limit({"connect": 5.0, "read": 30.0, "write": 10.0, "pool": 10.0}) == 55.0
    assert exchange_limit({"connect": 5.0, "read": None, "write": 10.0, "pool": 10.0}) is None


async def test_async_aiohttp_path_times_out_on_a_peer_that_never_reads(deaf_peer: str) -> None:
    async with synap.AsyncSynap(
        api_key="synap_" + "0" * 32, base_url=deaf_peer, timeout=TIMEOUT, max_retries=0
    ) as client:
        with anyio.fail_after(HANG), pytest.raises(synap.NetworkTimeoutError) as caught:
            await client.conversation.record_message(CID, "user", CONTENT, "u1")
    assert isinstance(caught.value.__cause__, httpx.WriteTimeout)
    assert "stopped reading" in str(caught.value.__cause__)
    # It went the aiohttp way (the path without a write timeout of its own).
    assert caught.value.__cause__.__cause__ is not None


async def test_a_small_body_to_that_peer_ends_on_the_read_timeout(deaf_peer: str) -> None:
    # Taken by the socket whole: no write waits, so aiohttp's own read timer ends it.
    async with synap.AsyncSynap(
        api_key="synap_" + "0" * 32, base_url=deaf_peer, timeout=TIMEOUT, max_retries=0
    ) as client:
        with anyio.fail_after(HANG), pytest.raises(synap.NetworkTimeoutError) as caught:
            await client.conversation.record_message(CID, "user", "hello", "u1")
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_blocking_path_times_out_on_a_peer_that_never_reads(deaf_peer: str) -> None:
    with (
        synap.Synap(
            api_key="synap_" + "0" * 32, base_url=deaf_peer, timeout=TIMEOUT, max_retries=0
        ) as client,
        pytest.raises(synap.NetworkTimeoutError) as caught,
    ):
        client.conversation.record_message(CID, "user", CONTENT, "u1")
    assert isinstance(caught.value.__cause__, httpx.WriteTimeout)
