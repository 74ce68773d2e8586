"""The demo (`./scripts/demo.sh`): its Python part, examples/demo.py, run against a local
server as the script runs it (configured by SYNAP_BASE_URL and SYNAP_API_KEY), and what
`synap inspect` then shows. The install step of the script is not run here."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from synap.cli import main as synap_cli
from synap.server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.py"
DEMO_SH = ROOT / "scripts" / "demo.sh"


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synap_demo", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_records_backfills_and_ingests(
    synap_server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SYNAP_BASE_URL", synap_server.url)
    monkeypatch.setenv("SYNAP_API_KEY", synap_server.api_key)
    assert load_demo().main() == 0
    out = capsys.readouterr().out

    assert synap_server.store is not None
    snapshot = synap_server.store.snapshot()
    live, backfilled = snapshot["conversations"]
    assert [m["role"] for m in live["messages"]] == ["user", "assistant"] * 2
    assert [m["role"] for m in backfilled["messages"]] == ["user", "assistant", "user"]
    for conversation in (live, backfilled):
        assert (conversation["user_id"], conversation["customer_id"]) == (
            "user_alice",
            "customer_acme",
        )
        assert f"conversation {conversation['conversation_id']}" in out
        for message in conversation["messages"]:  # what came back is printed
            assert message["message_id"] in out
    assert "Recorded 3 of 3 messages" in out
    assert "3/3 queued" in out
    documents = snapshot["documents"]
    assert [d["status"] for d in documents] == ["queued"] * 3
    assert [d["document_type"] for d in documents] == ["ai-chat-conversation", "document", "email"]
    for document in documents:
        assert f"{document['document_id']}: queued, ingestion {document['ingestion_id']}" in out

    # the script's last step: the stored transcripts, readable
    assert synap_cli(["inspect", "--db", str(synap_server.db_path)]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("2 conversation(s), 7 message(s), 3 memory document(s)\n")
    for conversation in (live, backfilled):
        for message in conversation["messages"]:
            line = re.compile(
                rf"^ +{message['seq']}\. \S+ +{message['role']} +{re.escape(message['content'])}",
                re.MULTILINE,
            )
            assert line.search(shown), message


def test_demo_reports_an_error_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalServer() as server:
        monkeypatch.setenv("SYNAP_BASE_URL", server.url)
        monkeypatch.setenv("SYNAP_API_KEY", "synap_" + "0" * 32)  # not the server's key
        assert load_demo().main() == 1
    captured = capsys.readouterr()
    assert "demo: AuthenticationError:" in captured.err
    assert "0" * 32 not in captured.out + captured.err


def test_demo_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(DEMO_SH)], check=True)
