"""examples/recorder_service.py (the README's "Recording turns from a service"): the FastAPI
app runs against a local server, through its lifespan, and every turn of every exchange is
stored in order once the app shuts down; its spool is left with nothing pending."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from synap.server import LocalServer, read_snapshot

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "recorder_service.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synap_recorder_service", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")
def test_the_service_records_both_turns_of_every_exchange(
    synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    monkeypatch.setenv("SYNAP_BASE_URL", synap_server.url)
    monkeypatch.setenv("SYNAP_API_KEY", synap_server.api_key)
    monkeypatch.setenv("SYNAP_RECORDER_SPOOL", str(tmp_path / "turns.spool"))
    example = load_example()
    conversations = [str(uuid.uuid4()) for _ in range(3)]
    with TestClient(example.app) as http:
        for i in range(30):
            answer = http.post(
                "/chat",
                json={
                    "user_id": "user_alice",
                    "customer_id": "customer_acme",
                    "message": f"message {i}",
                    "conversation_id": conversations[i % 3],
                },
            )
            assert answer.status_code == 200
            assert answer.json()["reply"] == f"You said: message {i}"
        fresh = http.post(
            "/chat", json={"user_id": "u2", "customer_id": "customer_acme", "message": "new"}
        ).json()
        stats = http.get("/recorder").json()
        assert stats["recorded"] == 62
        assert stats["failed"] == 0
    # The lifespan has closed the recorder: everything is stored, in order.
    held = {
        c["conversation_id"]: [m["content"] for m in c["messages"]]
        for c in read_snapshot(synap_server.db_path)["conversations"]
    }
    for n, cid in enumerate(conversations):
        expected = []
        for i in range(n, 30, 3):
            expected += [f"message {i}", f"You said: message {i}"]
        assert held[cid] == expected
    assert held[fresh["conversation_id"]] == ["new", "You said: new"]
    lines = (tmp_path / "turns.spool").read_bytes().splitlines()
    settled = {line for line in lines if line.startswith(b'{"d"')}
    formed = {line.replace(b'{"b"', b"") for line in lines if line.startswith(b'{"b"')}
    assert len(settled) == len(formed) > 0
