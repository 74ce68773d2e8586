"""Every code example of the vendor docs, run against the local server.

The docs pages are kept verbatim in tests/examples/pages/ (from the vendor docs,
../shared/seeds/ beside the repository where it is there); their examples are copied into
tests/examples/seeds/ as they are, except for the import line (`maximem_synap` -> `synap`),
and `test_the_copies_are_the_docs_examples` checks that against the pages in every clone.
Each example runs as the docs show it: top-level `await`
(compiled with `PyCF_ALLOW_TOP_LEVEL_AWAIT`, i.e. as the body of an async function), the
docs' placeholder key `synap_your_key_here`, and `SYNAP_BASE_URL` pointing at a local server
started with that key. The tests assert what each one printed and what the server stored.

Where two pages of one method disagree the markdown page is newer and wins: its
`conversation_id` must be a UUID, so the old pages' examples, which use
`"conv_2026_05_16_alice"`, must raise `InvalidInputError` before anything is sent.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

import synap
from synap.server import FaultPlan, LocalServer

COPIES = Path(__file__).parent / "seeds"
PAGES = Path(__file__).parent / "pages"  # the docs pages, verbatim
DOCS = Path(__file__).resolve().parents[3] / "shared" / "seeds"  # ../shared/seeds of the repo
KEY = "synap_your_key_here"

SOURCES = {
    # copy                           docs page (markdown pages are the newer ones)
    "record_message.py": "004_0ebbc83f8987da51.txt",  # markdown
    "record_message_old.py": "002_29a6a8de1167e245.txt",
    "record_messages_batch.py": "001_86306781f73a68b1.txt",  # markdown
    "record_messages_batch_old.py": "000_6bd52a466d077ba1.txt",
    "batch_create.py": "003_8b67ffb0c8d2f352.txt",  # the only page of batch_create
}

# The docs' key; a FaultPlan without faults only counts the requests that reach the server.
pytestmark = pytest.mark.synap_server(api_keys={KEY: None}, faults=FaultPlan())


async def run_example(name: str, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a copied example as the body of an async function; return its variables."""
    monkeypatch.setenv("SYNAP_BASE_URL", server.url)
    monkeypatch.delenv("SYNAP_API_KEY", raising=False)
    path = COPIES / name
    code = compile(
        path.read_text(encoding="utf-8"), str(path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        coroutine = eval(code, namespace)  # a coroutine when the code awaits, else None
        if coroutine is not None:
            await coroutine
    finally:
        sdk = namespace.get("sdk")
        if sdk is not None:  # the examples never shut their SDK down
            await sdk.shutdown()
    return namespace


def requests_seen(server: LocalServer) -> int:
    return server.fault_counts()["requests"]


def messages(server: LocalServer) -> list[tuple[Any, ...]]:
    assert server.store is not None
    return [
        (c["conversation_id"], m["role"], m["content"], m["user_id"], m["customer_id"])
        for c in server.store.snapshot()["conversations"]
        for m in c["messages"]
    ]


async def test_record_message(
    synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = await run_example("record_message.py", synap_server, monkeypatch)
    assert capsys.readouterr().out == ""
    conversation_id = example["conversation_id"]
    assert requests_seen(synap_server) == 2
    assert messages(synap_server) == [
        (
            conversation_id,
            "user",
            "I prefer dark mode and concise answers.",
            "user_alice",
            "customer_acme",
        ),
        (
            conversation_id,
            "assistant",
            "Got it. I'll keep answers short and assume dark mode.",
            "user_alice",
            "customer_acme",
        ),
    ]
    assert synap_server.store is not None
    (conversation,) = synap_server.store.snapshot()["conversations"]
    assert conversation["message_count"] == 2
    first, second = conversation["messages"]
    assert first["metadata"] == {"channel": "web"}
    assert second["metadata"] == {}
    assert first["session_id"] == second["session_id"]  # generated once, for both turns


async def test_record_messages_batch(
    synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = await run_example("record_messages_batch.py", synap_server, monkeypatch)
    assert capsys.readouterr().out == "Recorded 2 of 2 messages\n"
    assert requests_seen(synap_server) == 1
    conversation_id = example["conversation_id"]
    assert messages(synap_server) == [
        (conversation_id, "user", "What's on my calendar today?", "user_alice", "customer_acme"),
        (
            conversation_id,
            "assistant",
            "You have two meetings and a dentist appointment.",
            "user_alice",
            "customer_acme",
        ),
    ]
    result = example["result"]
    assert (result["total"], result["succeeded"], result["failed"]) == (2, 2, 0)
    assert [r["conversation_id"] for r in result["results"]] == [conversation_id] * 2


async def test_batch_create(
    synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = await run_example("batch_create.py", synap_server, monkeypatch)
    assert capsys.readouterr().out == "2/2 queued\n"
    assert requests_seen(synap_server) == 1
    assert synap_server.store is not None
    stored = [
        (d["document"], d["document_type"], d["user_id"], d["customer_id"], d["mode"], d["status"])
        for d in synap_server.store.snapshot()["documents"]
    ]
    assert stored == [
        (
            "User: My favorite color is blue.\nAssistant: Noted!",
            "ai-chat-conversation",
            "user_789",
            "cust_456",
            "fast",
            "queued",
        ),
        (
            "User: I work at Acme Corp as a senior engineer.",
            "ai-chat-conversation",
            "user_789",
            "cust_456",
            "fast",
            "queued",
        ),
    ]
    batch = example["batch"]
    assert [r.ingestion_id for r in batch.results] == [
        d["ingestion_id"] for d in synap_server.store.snapshot()["documents"]
    ]


@pytest.mark.parametrize(
    ("name", "index"),
    [("record_message_old.py", None), ("record_messages_batch_old.py", 0)],
)
async def test_old_pages_non_uuid_conversation_id_is_refused_before_sending(
    synap_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    index: int | None,
) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        await run_example(name, synap_server, monkeypatch)
    error = caught.value
    assert isinstance(error, synap.SynapValidationError)  # the docs' other name for it
    assert error.field == "conversation_id"
    assert error.index == index
    assert error.status_code is None
    assert "'conv_2026_05_16_alice'" in str(error)
    assert "str(uuid.uuid4())" in str(error)
    assert capsys.readouterr().out == ""
    assert requests_seen(synap_server) == 0
    assert synap_server.store is not None
    assert synap_server.store.counts()["messages"] == 0


def test_the_copies_are_the_docs_examples() -> None:
    assert sorted(SOURCES.values()) == sorted(p.name for p in PAGES.glob("*.txt"))
    for copy, page in SOURCES.items():
        text = (COPIES / copy).read_text(encoding="utf-8")
        assert "maximem_synap" not in text
        original = re.sub(r"^from synap\b", "from maximem_synap", text, flags=re.MULTILINE)
        assert original != text, f"{copy}: no import line changed"
        assert original.strip() in (PAGES / page).read_text(encoding="utf-8"), (
            f"{copy} differs from the example of {page} by more than its import line"
        )


@pytest.mark.skipif(not DOCS.is_dir(), reason=f"no vendor docs beside the repository ({DOCS})")
def test_the_kept_pages_are_the_vendor_docs() -> None:
    # Where the docs are at hand (the project's workplace), the kept pages must still be them.
    assert sorted(p.name for p in PAGES.glob("*.txt")) == sorted(p.name for p in DOCS.glob("*.txt"))
    for page in PAGES.glob("*.txt"):
        assert page.read_bytes() == (DOCS / page.name).read_bytes(), f"{page.name} differs"
