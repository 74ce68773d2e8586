"""Both facades against the local server over a real httpx transport: the round trip, and
the case idempotency keys exist for, an answer lost after the server stored the write."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

import synap
from synap._transport import AsyncConnection
from synap.memories.models import CreateMemoryRequest
from synap.server import FaultPlan, LocalServer
from tests.sdk.conftest import KINDS, async_synap


class Live:
    """A facade on the local server; `call` awaits only what needs awaiting."""

    def __init__(self, kind: str, server: LocalServer, **options: Any) -> None:
        options.update(api_key=server.api_key, base_url=server.url)
        self.client: Any = (
            synap.Synap(**options) if kind == "sync" else async_synap(kind, **options)
        )
        self.kind = "sync" if kind == "sync" else "async"
        self.own = options.get("http_client")

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        target: Any = self.client
        for part in method.split("."):
            target = getattr(target, part)
        result = target(*args, **kwargs)
        return await result if self.kind == "async" else result

    async def close(self) -> None:
        await self.client.aclose() if self.kind == "async" else self.client.close()
        if self.own is not None:
            await self.own.aclose()


@pytest.fixture(params=KINDS)
async def live(
    request: pytest.FixtureRequest, synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Live]:
    if request.param == "async-httpx":
        monkeypatch.setattr(AsyncConnection, "use_aiohttp", False)
    facade = Live(request.param, synap_server)
    yield facade
    await facade.close()


async def test_round_trip_of_the_three_methods(live: Live, synap_server: LocalServer) -> None:
    cid = str(uuid.uuid4())
    first = await live.call(
        "conversation.record_message",
        cid,
        "user",
        "I prefer dark mode.",
        "user_alice",
        "customer_acme",
        metadata={"channel": "web"},
    )
    assert first["conversation_id"] == cid
    quick = live.client.with_options(timeout=5.0, max_retries=0)
    batch_call = quick.conversation.record_messages_batch(
        [
            {"conversation_id": cid, "role": "assistant", "content": "Noted.",
             "session_id": first["session_id"], "user_id": "user_alice",
             "customer_id": "customer_acme"},
        ]
    )  # fmt: skip
    batch = await batch_call if live.kind == "async" else batch_call
    assert (batch["total"], batch["succeeded"], batch["failed"]) == (1, 1, 0)
    created = await live.call(
        "memories.batch_create",
        [CreateMemoryRequest(document="User: My favorite color is blue.", user_id="user_alice",
                             customer_id="customer_acme", mode="fast")],
    )  # fmt: skip
    assert (created.total, created.succeeded, created.failed) == (1, 1, 0)

    assert synap_server.store is not None
    snapshot = synap_server.store.snapshot()
    (conversation,) = snapshot["conversations"]
    stored = conversation["messages"]
    assert [m["message_id"] for m in stored] == [
        first["message_id"],
        batch["results"][0]["message_id"],
    ]
    assert [m["session_id"] for m in stored] == [first["session_id"]] * 2
    assert stored[0]["metadata"] == {"channel": "web"}
    (document,) = snapshot["documents"]
    assert document["ingestion_id"] == created.results[0].ingestion_id
    assert document["mode"] == "fast"


async def test_the_servers_errors_arrive_as_the_documented_classes(
    live: Live, synap_server: LocalServer
) -> None:
    wrong_key = Live(live.kind, synap_server)
    wrong_key.client = type(live.client)(
        api_key="synap_wrong", base_url=synap_server.url, http_client=live.own
    )
    try:
        with pytest.raises(synap.SynapAuthError) as caught:
            await wrong_key.call("memories.batch_create", [{"document": "x"}])
        assert caught.value.status_code == 401
        assert caught.value.correlation_id
    finally:
        await wrong_key.close()


@pytest.mark.synap_server(faults=FaultPlan({"drop_after": 1.0}))
async def test_a_write_whose_answer_is_lost_is_stored_once(
    live: Live, synap_server: LocalServer, sleeps: list[float]
) -> None:
    # Every answer is lost after the server committed: the client tries three times with one
    # idempotency key, and the server stores the message once.
    with pytest.raises(synap.NetworkError):
        await live.call(
            "conversation.record_message",
            str(uuid.uuid4()),
            "user",
            "once",
            "user_alice",
            "customer_acme",
        )
    assert len(sleeps) == 2
    assert synap_server.fault_counts()["drop_after"] == 3
    assert synap_server.store is not None
    assert synap_server.store.counts()["messages"] == 1
