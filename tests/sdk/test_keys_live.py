"""Against the real local server (which honours `Idempotency-Key` and answers
`Idempotent-Replayed`): a call cancelled by its caller, or timed out, is retried under the same
key and stored once; `with_raw_response` shows the replay; every `AsyncSynap` method works
under trio as under asyncio."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import anyio
import pytest

import synap
from synap.server import FaultPlan, LocalServer

BACKENDS = ("asyncio", "trio")
SLOW = FaultPlan({"latency": 1.0}, latency_seconds=0.5)  # every answer comes late, then stored


def turn(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "conversation_id": str(uuid.uuid4()),
        "role": "user",
        "content": "I prefer dark mode.",
        "user_id": "user_alice",
        "customer_id": "customer_acme",
    }
    args.update(overrides)
    return args


def messages_stored(server: LocalServer, count: int | None = None) -> int:
    """The number of stored messages; with `count`, once it reaches `count` (a cancelled
    write lands late) or after a bounded wait."""
    assert server.store is not None
    for _ in range(200):
        stored = server.store.counts()["messages"]
        if count is None or stored >= count:
            return stored
        time.sleep(0.05)
    return server.store.counts()["messages"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.synap_server(faults=SLOW)
def test_a_cancelled_call_retried_with_its_key_is_stored_once(
    backend: str, synap_server: LocalServer
) -> None:
    args = turn()
    key = synap.new_idempotency_key()  # made up front: the pattern the README shows

    async def cancelled_then_retried() -> synap.RawResponse[Any]:
        async with synap.AsyncSynap(
            api_key=synap_server.api_key, base_url=synap_server.url
        ) as client:
            # A warm client, as in a running service: the first call of a process also loads
            # the send path (aiohttp), which can take longer than the caller waits below.
            await client.conversation.record_message(**turn())
            with anyio.move_on_after(0.1) as scope:  # the caller gives up while it is in flight
                await client.conversation.record_message(**args, idempotency_key=key)
            assert scope.cancelled_caught
            # The server had the request: it stores it once its (slow) turn comes.
            assert messages_stored(synap_server, 2) == 2
            return await client.conversation.with_raw_response.record_message(
                **args, idempotency_key=key
            )

    raw = anyio.run(cancelled_then_retried, backend=backend)
    assert raw.status_code == 200
    assert raw.replayed  # the first call's answer, not a second write
    assert raw.idempotency_key == key
    assert messages_stored(synap_server) == 2  # the warm-up and the cancelled call, once


@pytest.mark.synap_server(faults=SLOW)
def test_the_readmes_pattern_with_asyncio_timeout(synap_server: LocalServer) -> None:
    # asyncio's own cancellation (task.cancel() under asyncio.timeout), as the README shows it.
    args = turn()

    async def main() -> synap.RawResponse[Any]:
        async with synap.AsyncSynap(
            api_key=synap_server.api_key, base_url=synap_server.url
        ) as client:
            key = synap.new_idempotency_key()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await client.conversation.record_message(**args, idempotency_key=key)
            assert messages_stored(synap_server, 1) == 1
            return await client.conversation.with_raw_response.record_message(
                **args, idempotency_key=key
            )

    raw = asyncio.run(main())
    assert raw.replayed
    assert messages_stored(synap_server) == 1


@pytest.mark.synap_server(faults=SLOW)
def test_without_the_key_the_same_retry_stores_twice(synap_server: LocalServer) -> None:
    # Why the pattern matters: the SDK's own key died with the cancelled call.
    args = turn()

    async def cancelled_then_retried() -> synap.RawResponse[Any]:
        async with synap.AsyncSynap(
            api_key=synap_server.api_key, base_url=synap_server.url
        ) as client:
            with anyio.move_on_after(0.1):
                await client.conversation.record_message(**args)
            assert messages_stored(synap_server, 1) == 1
            return await client.conversation.with_raw_response.record_message(**args)

    raw = anyio.run(cancelled_then_retried)
    assert not raw.replayed
    assert messages_stored(synap_server, 2) == 2


@pytest.mark.synap_server(faults=SLOW)
def test_a_timed_out_call_is_retried_with_the_errors_key(synap_server: LocalServer) -> None:
    args = turn()
    with synap.Synap(
        api_key=synap_server.api_key, base_url=synap_server.url, timeout=0.1, max_retries=0
    ) as client:
        with pytest.raises(synap.NetworkTimeoutError) as caught:
            client.conversation.record_message(**args)
        key = caught.value.idempotency_key
        assert key is not None
        assert messages_stored(synap_server, 1) == 1
        raw = client.conversation.with_raw_response.record_message(
            **args, idempotency_key=key, timeout=5.0
        )
    assert (raw.replayed, raw.idempotency_key) == (True, key)
    assert messages_stored(synap_server) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_async_method_under_each_backend(backend: str, synap_server: LocalServer) -> None:
    cid = str(uuid.uuid4())

    async def main() -> None:
        async with synap.AsyncSynap(
            api_key=synap_server.api_key, base_url=synap_server.url
        ) as client:
            first = await client.conversation.record_message(**turn(conversation_id=cid))
            raw = await client.conversation.with_raw_response.record_messages_batch(
                [turn(conversation_id=cid, role="assistant", content="Noted.")],
                extra_headers={"X-Request-Source": backend},
            )
            assert (raw.status_code, raw.replayed, raw.parse()["succeeded"]) == (200, False, 1)
            again = await client.conversation.with_raw_response.record_messages_batch(
                [turn(conversation_id=cid, role="assistant", content="Noted.")],
                idempotency_key=raw.idempotency_key,
            )
            assert again.replayed
            assert again.parse() == raw.parse()
            docs = await client.memories.with_raw_response.batch_create(
                [{"document": "User: I like blue.", "customer_id": "customer_acme"}]
            )
            assert docs.parse().succeeded == 1
            assert docs.headers["content-type"].startswith("application/json")
            summary = await client.conversation.record_messages_bulk(
                [turn(conversation_id=cid, content=f"m{i}") for i in range(5)], chunk_size=2
            )
            assert (summary.succeeded, summary.calls) == (5, 3)
            bulk_docs = await client.memories.bulk_create(
                [{"document": f"d{i}", "customer_id": "c"} for i in range(3)], chunk_size=2
            )
            assert bulk_docs.succeeded == 3
            assert first["conversation_id"] == cid

    anyio.run(main, backend=backend)
    assert synap_server.store is not None
    counts = synap_server.store.counts()
    assert (counts["messages"], counts["documents"]) == (7, 4)
