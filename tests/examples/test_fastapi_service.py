"""examples/fastapi_service.py, served by uvicorn on loopback as a service runs it, against the
local Synap: the lifespan's one `AsyncSynap` records every turn of concurrent requests, a
repeated request (same `Idempotency-Key`) stores nothing twice, Synap's failures become 503 /
502, and shutdown closes the client."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn

import synap
from synap.server import FaultPlan, LocalServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi_service.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_service_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Service:
    """The example app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> Service:
        self.thread.start()
        for _ in range(1000):  # bounded: 10 s
            if self.server.started or not self.thread.is_alive():
                break
            time.sleep(0.01)
        assert self.server.started, "the example service did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()
        assert not self.thread.is_alive()


@pytest.fixture
def service(synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("SYNAP_BASE_URL", synap_server.url)
    monkeypatch.setenv("SYNAP_API_KEY", synap_server.api_key)
    with Service(load_example().app) as running:
        yield running


def turn(conversation_id: str, message: str, user: str = "user_alice") -> dict[str, str]:
    return {
        "conversation_id": conversation_id,
        "user_id": user,
        "customer_id": "customer_acme",
        "message": message,
    }


def test_concurrent_requests_each_record_their_turns(
    service: Service, synap_server: LocalServer
) -> None:
    conversations = [str(uuid.uuid4()) for _ in range(40)]

    async def clients() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            return await asyncio.gather(
                *(http.post("/chat", json=turn(c, f"hi {i}")) for i, c in enumerate(conversations))
            )

    answers = asyncio.run(clients())
    assert [a.status_code for a in answers] == [200] * 40
    assert [a.json()["reply"] for a in answers] == [f"You said: hi {i}" for i in range(40)]
    assert synap_server.store is not None
    stored = {
        c["conversation_id"]: c["messages"] for c in synap_server.store.snapshot()["conversations"]
    }
    assert sorted(stored) == sorted(conversations)
    for i, (conversation, answer) in enumerate(zip(conversations, answers, strict=True)):
        user, assistant = stored[conversation]
        assert (user["role"], user["content"]) == ("user", f"hi {i}")
        assert (assistant["role"], assistant["content"]) == ("assistant", f"You said: hi {i}")
        assert [user["message_id"], assistant["message_id"]] == [
            answer.json()["user_message_id"],
            answer.json()["assistant_message_id"],
        ]
        assert user["session_id"] == assistant["session_id"] == answer.json()["session_id"]


def test_a_repeated_request_with_its_key_stores_nothing_twice(
    service: Service, synap_server: LocalServer
) -> None:
    conversation = str(uuid.uuid4())
    headers = {"Idempotency-Key": "web-req-42", "traceparent": "00-0af7-b7ad-01"}
    with httpx.Client(base_url=service.url, timeout=30) as http:
        first = http.post("/chat", json=turn(conversation, "I like tea."), headers=headers)
        again = http.post("/chat", json=turn(conversation, "I like tea."), headers=headers)
        other = http.post("/chat", json=turn(conversation, "I like tea."))  # no key: a new turn
        bad = http.post("/chat", json=turn(conversation, "x"), headers={"Idempotency-Key": "a b"})
    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 200)
    assert again.json() == first.json()  # the server replayed both turns
    assert other.json()["user_message_id"] != first.json()["user_message_id"]
    assert bad.status_code == 422  # the service refuses a key Synap could not take
    assert synap_server.store is not None
    (stored,) = synap_server.store.snapshot()["conversations"]
    assert [m["content"] for m in stored["messages"]] == [
        "I like tea.",
        "You said: I like tea.",
    ] * 2


@pytest.mark.synap_server(faults=FaultPlan({"503": 1.0}))
def test_a_synap_outage_is_a_503_to_repeat(
    service: Service, synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synap import _retry

    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(_retry, "async_sleep", no_wait)
    with httpx.Client(base_url=service.url, timeout=30) as http:
        answer = http.post("/chat", json=turn(str(uuid.uuid4()), "hi"))
    assert answer.status_code == 503
    assert synap_server.fault_counts()["503"] == 3  # the SDK's own two retries came first


def test_a_refused_turn_is_a_502(service: Service) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        answer = http.post("/chat", json=turn(str(uuid.uuid4()), "hi", user=" " * 3))
    assert answer.status_code == 502
    assert "memory refused the turn" in answer.json()["detail"]


def test_shutdown_closes_the_lifespans_client(
    synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNAP_BASE_URL", synap_server.url)
    monkeypatch.setenv("SYNAP_API_KEY", synap_server.api_key)
    app = load_example().app
    with Service(app) as running, httpx.Client(base_url=running.url, timeout=30) as http:
        assert http.post("/chat", json=turn(str(uuid.uuid4()), "hi")).status_code == 200
    client: synap.AsyncSynap = app.state.synap

    async def after_shutdown() -> None:
        await client.conversation.record_message(str(uuid.uuid4()), "user", "x", "u", "c")

    with pytest.raises(synap.SynapError, match="closed"):
        asyncio.run(after_shutdown())
