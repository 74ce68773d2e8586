"""Every example of the vendor docs, on both facades, checked byte for byte at the transport.

The examples are the copies in tests/examples/seeds/ (the docs' code, import line changed;
tests/examples checks them against the docs and runs them against the local server). Here
each runs twice: as written on `MaximemSynapSDK`, and translated to the blocking `Synap`
(`await` and `initialize()` dropped), over a MockTransport, configured the way the examples
will be run against a local server: the docs' key in the code, `SYNAP_BASE_URL` in the
environment.
"""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

import synap
from tests.sdk.conftest import FakeSynap

SEEDS = Path(__file__).resolve().parents[1] / "examples" / "seeds"
LOCAL = "http://127.0.0.1:8765"
DOCS_KEY = "synap_your_key_here"


def blocking(source: str) -> str:
    """The example as a blocking script: the docs' calls without `await`, on `Synap`."""
    source = re.sub(r"^await sdk\.initialize\(\)\n", "", source, flags=re.MULTILINE)
    source = source.replace("await ", "")
    return source.replace("MaximemSynapSDK", "Synap")


async def run(
    name: str, kind: str, fake: FakeSynap, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Run a seed example with the SDK's httpx client on `fake`; return its variables."""
    monkeypatch.setenv("SYNAP_BASE_URL", LOCAL)
    transport = httpx.MockTransport(fake)

    class OnFakeSDK(synap.MaximemSynapSDK):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, http_client=httpx.AsyncClient(transport=transport), **kwargs)

    class OnFakeSynap(synap.Synap):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, http_client=httpx.Client(transport=transport), **kwargs)

    # What `from synap import MaximemSynapSDK` / `Synap` in the example picks up.
    monkeypatch.setattr(synap, "MaximemSynapSDK", OnFakeSDK)
    monkeypatch.setattr(synap, "Synap", OnFakeSynap)
    source = (SEEDS / name).read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        if kind == "async":
            code = compile(source, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            await eval(code, namespace)
        else:
            exec(compile(blocking(source), name, "exec"), namespace)
    finally:
        sdk = namespace.get("sdk")
        if isinstance(sdk, synap.AsyncSynap):
            await sdk.shutdown() if isinstance(sdk, synap.MaximemSynapSDK) else await sdk.aclose()
        elif sdk is not None:
            sdk.close()
    return namespace


def check_sent_like_the_docs(fake: FakeSynap, path: str) -> None:
    for request in fake.requests:
        assert str(request.url) == LOCAL + path
        assert request.headers["authorization"] == f"Bearer {DOCS_KEY}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["idempotency-key"]
        assert request.headers["x-correlation-id"]


KINDS = ["async", "sync"]


@pytest.mark.parametrize("kind", KINDS)
async def test_record_message_example(
    kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeSynap()
    example = await run("record_message.py", kind, fake, monkeypatch)
    cid = example["conversation_id"]
    assert capsys.readouterr().out == ""
    check_sent_like_the_docs(fake, "/v1/conversations/messages")
    assert [r.content for r in fake.requests] == [
        b'{"conversation_id":"' + cid.encode() + b'","role":"user","content":"I prefer dark '
        b'mode and concise answers.","user_id":"user_alice","customer_id":"customer_acme",'
        b'"metadata":{"channel":"web"}}',
        b'{"conversation_id":"' + cid.encode() + b'","role":"assistant","content":"Got it. '
        b'I\'ll keep answers short and assume dark mode.","user_id":"user_alice",'
        b'"customer_id":"customer_acme","metadata":{}}',
    ]
    # Two calls, two idempotency keys (one per write, reused only by its own retries).
    assert len({r.headers["idempotency-key"] for r in fake.requests}) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_record_messages_batch_example(
    kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeSynap()
    example = await run("record_messages_batch.py", kind, fake, monkeypatch)
    assert capsys.readouterr().out == "Recorded 2 of 2 messages\n"
    check_sent_like_the_docs(fake, "/v1/conversations/messages/batch")
    (body,) = fake.bodies
    cid = example["conversation_id"]
    assert body == {
        "messages": [
            {
                "conversation_id": cid,
                "role": "user",
                "content": "What's on my calendar today?",
                "user_id": "user_alice",
                "customer_id": "customer_acme",
            },
            {
                "conversation_id": cid,
                "role": "assistant",
                "content": "You have two meetings and a dentist appointment.",
                "user_id": "user_alice",
                "customer_id": "customer_acme",
            },
        ]
    }
    result = example["result"]
    assert [r["recorded_at"] for r in result["results"]] == ["2026-11-21T23:32:19.719140Z"] * 2
    assert all(uuid.UUID(r["message_id"]) for r in result["results"])


@pytest.mark.parametrize("kind", KINDS)
async def test_batch_create_example(
    kind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeSynap()
    example = await run("batch_create.py", kind, fake, monkeypatch)
    assert capsys.readouterr().out == "2/2 queued\n"
    check_sent_like_the_docs(fake, "/api/v1/memories/batch")
    (request,) = fake.requests
    # All nine keys of each document, null where unset, as the vendor's client sends them.
    assert request.content == (
        b'{"documents":[{"document":"User: My favorite color is blue.\\nAssistant: Noted!",'
        b'"document_type":"ai-chat-conversation","document_id":null,"document_created_at":null,'
        b'"user_id":"user_789","customer_id":"cust_456","scope":null,"mode":"fast",'
        b'"metadata":{}},{"document":"User: I work at Acme Corp as a senior engineer.",'
        b'"document_type":"ai-chat-conversation","document_id":null,"document_created_at":null,'
        b'"user_id":"user_789","customer_id":"cust_456","scope":null,"mode":"fast",'
        b'"metadata":{}}],"fail_fast":false}'
    )
    batch = example["batch"]
    assert isinstance(batch, synap.BatchCreateResponse)
    assert [r.status for r in batch.results] == ["queued", "queued"]
    assert batch.results[0].queued_at == "2026-11-21T23:32:19.874191Z"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("name", "index"), [("record_message_old.py", None), ("record_messages_batch_old.py", 0)]
)
async def test_old_pages_examples_are_refused_before_sending(
    kind: str, name: str, index: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The older pages use "conv_2026_05_16_alice"; the newer pages require a UUID, and win.
    fake = FakeSynap()
    with pytest.raises(synap.InvalidInputError) as caught:
        await run(name, kind, fake, monkeypatch)
    assert caught.value.field == "conversation_id"
    assert caught.value.index == index
    assert "str(uuid.uuid4())" in str(caught.value)
    assert fake.requests == []


def test_every_seed_copy_is_exercised() -> None:
    assert sorted(p.name for p in SEEDS.glob("*.py")) == [
        "batch_create.py",
        "record_message.py",
        "record_message_old.py",
        "record_messages_batch.py",
        "record_messages_batch_old.py",
    ]
