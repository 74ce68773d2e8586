"""Fixtures of the SDK tests: a scripted stand-in for the service behind `httpx.MockTransport`,
and a `facade` fixture that runs every test once on `Synap` and once on `AsyncSynap`.

Exact statuses, headers and bytes are what these tests are about, so a MockTransport fits;
`test_live.py` runs the real round trips against the local server.
"""

from __future__ import annotations

import inspect
import json
import operator
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import synap
from synap import _retry

KEY = "synap_test_0123456789abcdef0123456789"
BASE = "https://synap.test"
CID = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"
RECORDED_AT = "2026-11-21T23:32:19.719140Z"
QUEUED_AT = "2026-11-21T23:32:19.874191Z"

Answer = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


# Every status wire.md lists (and 408, 413, 520) with the class it maps to.
STATUSES: list[tuple[int, type[synap.SynapError]]] = [
    (400, synap.InvalidInputError),
    (401, synap.AuthenticationError),
    (402, synap.InsufficientCreditsError),
    (403, synap.AuthenticationError),
    (404, synap.NotFoundError),
    (408, synap.NetworkTimeoutError),
    (409, synap.ConflictError),
    (413, synap.PayloadTooLargeError),
    (422, synap.InvalidInputError),
    (429, synap.RateLimitError),
    (500, synap.ServiceUnavailableError),
    (502, synap.ServiceUnavailableError),
    (503, synap.ServiceUnavailableError),
    (504, synap.ServiceUnavailableError),
    (520, synap.ServiceUnavailableError),
]


def answer_like_the_service(request: httpx.Request) -> httpx.Response:
    """A 200 as the hosted service answers it (wire.md), built from the request."""
    body = json.loads(request.content)
    path = request.url.path
    if path.endswith("/v1/conversations/messages"):
        return httpx.Response(
            200,
            json={
                "message_id": str(uuid.uuid4()),
                "conversation_id": body["conversation_id"],
                "session_id": body.get("session_id") or str(uuid.uuid4()),
                "recorded_at": RECORDED_AT,
                "conversation_message_count": 1,
            },
        )
    if path.endswith("/v1/conversations/messages/batch"):
        results = [
            {
                "message_id": str(uuid.uuid4()),
                "conversation_id": m["conversation_id"],
                "session_id": m.get("session_id") or str(uuid.uuid4()),
                "recorded_at": RECORDED_AT,
            }
            for m in body["messages"]
        ]
        n = len(results)
        return httpx.Response(
            200, json={"total": n, "succeeded": n, "failed": 0, "results": results}
        )
    if path.endswith("/api/v1/memories/batch"):
        results = [
            {
                "ingestion_id": str(uuid.uuid4()),
                "document_id": d["document_id"] or f"doc_{uuid.uuid4().hex[:12]}",
                "status": "queued",
                "queued_at": QUEUED_AT,
                "error_message": None,
            }
            for d in body["documents"]
        ]
        n = len(results)
        return httpx.Response(
            200,
            json={
                "batch_id": str(uuid.uuid4()),
                "total": n,
                "succeeded": n,
                "failed": 0,
                "results": results,
            },
        )
    return httpx.Response(404, json={"detail": "Not Found"})


class FakeSynap:
    """The handler of a MockTransport: answers like the service unless scripted otherwise
    (`then(...)`: responses, exceptions to raise, or functions of the request), and keeps
    every request it saw."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: deque[Answer] = deque()

    def then(self, *answers: Answer) -> FakeSynap:
        self.script.extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            answer = self.script.popleft()
            if isinstance(answer, BaseException):
                raise answer
            if callable(answer):
                return answer(request)
            # A Response is read once; a copy lets one scripted answer serve many tests.
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )
        return answer_like_the_service(request)

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@dataclass
class Facade:
    """One of the two facades over a `FakeSynap`; `call` awaits only what needs awaiting."""

    kind: str
    fake: FakeSynap = field(default_factory=FakeSynap)
    built: list[Any] = field(default_factory=list)

    @property
    def is_async(self) -> bool:
        return self.kind == "async"

    def http_client(self) -> httpx.Client | httpx.AsyncClient:
        transport = httpx.MockTransport(self.fake)
        return (
            httpx.AsyncClient(transport=transport)
            if self.is_async
            else httpx.Client(transport=transport)
        )

    def build(self, **kwargs: Any) -> Any:
        """A client of this facade on the fake (api_key and base_url given unless passed)."""
        kwargs.setdefault("api_key", KEY)
        kwargs.setdefault("base_url", BASE)
        kwargs.setdefault("http_client", self.http_client())
        client = (synap.AsyncSynap if self.is_async else synap.Synap)(**kwargs)
        self.built.append(client)
        return client

    @property
    def client(self) -> Any:
        if not self.built:
            self.build()
        return self.built[0]

    async def call(self, method: str, *args: Any, client: Any = None, **kwargs: Any) -> Any:
        """`call("conversation.record_message", ...)` on `client` (default: the first)."""
        target = operator.attrgetter(method)(client if client is not None else self.client)
        result = target(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def close(self, client: Any) -> None:
        if self.is_async:
            await client.aclose()
        else:
            client.close()


@pytest.fixture(params=["sync", "async"])
async def facade(request: pytest.FixtureRequest) -> AsyncIterator[Facade]:
    f = Facade(request.param)
    yield f
    for client in f.built:
        await f.close(client)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """No SDK test really sleeps: the waits the retry loop asked for are recorded instead."""
    asked: list[float] = []

    async def no_async_sleep(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(_retry, "sleep", asked.append)
    monkeypatch.setattr(_retry, "async_sleep", no_async_sleep)
    return asked


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SYNAP_API_KEY", "SYNAP_BASE_URL", "SYNAP_INSTANCE_ID", "SYNAP_LOG"):
        monkeypatch.delenv(name, raising=False)


def record_args(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a valid record_message call."""
    args: dict[str, Any] = {
        "conversation_id": CID,
        "role": "user",
        "content": "I prefer dark mode and concise answers.",
        "user_id": "user_alice",
    }
    args.update(overrides)
    return args


def message(**overrides: Any) -> dict[str, Any]:
    """A valid entry of record_messages_batch."""
    entry: dict[str, Any] = {"conversation_id": CID, "role": "user", "content": "hi"}
    entry.update(overrides)
    return entry


# The three methods, each with valid arguments: (method, args, kwargs).
CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("conversation.record_message", (), record_args()),
    ("conversation.record_messages_batch", ([message(), message(role="assistant")],), {}),
    ("memories.batch_create", ([{"document": "User: hi"}],), {}),
]
CALL_IDS = ["record_message", "record_messages_batch", "batch_create"]


# The async send paths: every behaviour a real socket shows is tested on each ----------------

KINDS = ("sync", "async", "async-httpx", "async-own")
"""`async`: AsyncSynap's default (aiohttp, installed by the dev extra); `async-httpx`: the
SDK's own httpx pool (what trio, or an install without aiohttp, uses); `async-own`: a caller's
`httpx.AsyncClient` passed as `http_client=`."""


def async_synap(kind: str, **options: Any) -> synap.AsyncSynap:
    """An AsyncSynap on the send path `kind` names (call inside the test's event loop)."""
    if kind == "async-own":
        options["http_client"] = httpx.AsyncClient()
    return synap.AsyncSynap(**options)


@pytest.fixture
def send_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The `kind` parameter of the test, with the SDK's httpx pool chosen for `async-httpx`."""
    from synap._transport import AsyncConnection

    kind: str = request.param
    if kind == "async-httpx":
        monkeypatch.setattr(AsyncConnection, "use_aiohttp", False)
    return kind
