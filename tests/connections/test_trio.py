"""Under trio every AsyncSynap call works: aiohttp is asyncio-only, so the SDK's own pool
falls back to httpx there; a caller's `http_client` works as under asyncio. One client may
serve several `trio.run()` calls: each run's pool is closed as the run ends."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

import synap
from synap.memories.models import CreateMemoryRequest
from synap.server import LocalServer

trio = pytest.importorskip("trio")


async def every_method(client: synap.AsyncSynap, tag: str) -> None:
    cid = str(uuid.uuid4())
    one = await client.conversation.record_message(cid, "user", f"{tag} one", "u", "c")
    assert one["conversation_id"] == cid
    quick = client.with_options(timeout=5.0, max_retries=0)
    batch = await quick.conversation.record_messages_batch(
        [{"conversation_id": cid, "role": "assistant", "content": f"{tag} two",
          "user_id": "u", "customer_id": "c"}]
    )  # fmt: skip
    assert batch["succeeded"] == 1
    created = await client.memories.batch_create(
        [CreateMemoryRequest(document=f"{tag} doc", user_id="u", customer_id="c")]
    )
    assert created.succeeded == 1


@pytest.mark.parametrize("own", [False, True])
def test_every_method_under_trio(own: bool, synap_server: LocalServer) -> None:
    options: dict[str, Any] = {"api_key": synap_server.api_key, "base_url": synap_server.url}
    client = synap.AsyncSynap(**options) if not own else None

    async def main(run: int) -> None:
        if own:
            async with httpx.AsyncClient() as http:
                await every_method(synap.AsyncSynap(**options, http_client=http), f"run {run}")
        else:
            assert client is not None
            await every_method(client, f"run {run}")

    for run in range(2):
        trio.run(main, run)
        if client is not None:
            assert client._transport.conn._routes == {}  # the run's pool closed with it
    assert synap_server.store is not None
    counts = synap_server.store.counts()
    assert (counts["messages"], counts["documents"]) == (4, 2)


def test_another_event_loop_is_a_clear_error() -> None:
    from synap import _pool

    with pytest.raises(RuntimeError, match="runs under asyncio or trio"):
        _pool.running_loop()  # outside any loop: as under an event loop the SDK cannot use
