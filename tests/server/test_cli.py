"""`synap serve` and `synap inspect` as a user runs them: real processes, curl, signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from synap.server import FaultPlan, LocalServer, LocalServerProcess
from tests.server._data import (
    MEMORIES_BATCH,
    MESSAGES,
    MESSAGES_BATCH,
    client,
    document,
    message,
    new_id,
)

CURL = "/usr/bin/curl"


def _curl(url: str, key: str, body: object, *headers: str) -> tuple[int, str]:
    cmd = [CURL, "-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", url]
    cmd += ["-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json"]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, "-d", json.dumps(body)], capture_output=True, text=True, check=True)
    text, _, code = out.stdout.rpartition("\n")
    return int(code), text


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_the_two_lines_answers_curl_and_stops_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    db = tmp_path / "synap.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "synap", "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first, second = process.stdout.readline(), process.stdout.readline()
        assert first.startswith("SYNAP_BASE_URL=http://127.0.0.1:")
        assert second.startswith("SYNAP_API_KEY=synap_")
        url, key = first.strip().split("=", 1)[1], second.strip().split("=", 1)[1]
        assert int(url.rsplit(":", 1)[1]) > 0
        conversation = new_id()
        assert _curl(url + MESSAGES, key, message(conversation))[0] == 200
        assert _curl(url + MESSAGES_BATCH, key, {"messages": [message(conversation)]})[0] == 200
        assert _curl(url + MEMORIES_BATCH, key, {"documents": [document()]})[0] == 200
        assert _curl(url + MESSAGES, "synap_wrong", message())[0] == 401
        code, text = _curl(url + MEMORIES_BATCH, key, {"documents": [document()] * 101})
        assert code == 422
        assert "at most 100" in text
        for _ in range(2):
            assert (
                _curl(url + MESSAGES, key, message(conversation), "Idempotency-Key: once")[0] == 200
            )
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    assert out == ""  # nothing after the two lines
    assert "synap: serving" in err
    assert err.rstrip().endswith("synap: stopped")
    assert key not in err  # the key is on stdout only
    stored = json.loads(
        subprocess.run(
            [sys.executable, "-m", "synap", "inspect", "--db", str(db), "--json"],
            capture_output=True,
            check=True,
        ).stdout
    )
    assert [c["message_count"] for c in stored["conversations"]] == [3]
    assert len(stored["documents"]) == 1


def test_serve_with_given_keys_and_faults_prints_the_counters(tmp_path: Path) -> None:
    plan = FaultPlan({"503": 0.5}, seed=3)
    server = LocalServerProcess(
        tmp_path / "synap.db", api_keys={"synap_mine": None, "synap_b": "cust_b"}, faults=plan
    )
    with server, client(server.url, server.api_key) as c:
        assert server.api_key == "synap_mine"
        statuses = [c.post(MESSAGES, json=message()).status_code for _ in range(20)]
        with client(server.url, "synap_b") as bound:
            bound_statuses = [bound.post(MESSAGES, json=message()).status_code for _ in range(6)]
    assert set(statuses) == {200, 503}
    assert set(bound_statuses) <= {403, 503}  # acme's customer is not cust_b's
    counts = server.fault_counts()  # printed by the server on its clean stop
    assert counts["requests"] == 26
    assert counts["503"] == counts["injected"] == (statuses + bound_statuses).count(503)


@pytest.mark.parametrize(
    "args",
    [
        ["--faults", "teapot=0.5"],
        ["--faults", "500=2"],
        ["--api-key", "=cust"],
        ["--tenancy", "b2x"],
        ["--port", "70000"],
        ["--max-body-bytes", "0"],
    ],
)
def test_serve_rejects_bad_arguments(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "synap.db"
    result = subprocess.run(
        [sys.executable, "-m", "synap", "serve", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr
    assert not db.exists()


def test_inspect_shows_conversations_in_order_and_documents(tmp_path: Path) -> None:
    conversation = new_id()
    with LocalServer(tmp_path / "synap.db") as server, client(server.url, server.api_key) as c:
        c.post(MESSAGES, json=message(conversation, content="I prefer dark mode."))
        c.post(
            MESSAGES, json=message(conversation, role="assistant", content="Got it.\nDark mode.")
        )
        c.post(MEMORIES_BATCH, json={"documents": [document("User: My favorite color is blue.")]})
    result = subprocess.run(
        [sys.executable, "-m", "synap", "inspect", "--db", str(tmp_path / "synap.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "1 conversation(s), 2 message(s), 1 memory document(s)"
    assert lines[2] == (
        f"conversation {conversation} (user user_alice, customer customer_acme): 2 message(s)"
    )
    assert lines[3].split()[0] == "1."
    assert lines[3].split()[2:4] == ["user", "I"]
    assert "I prefer dark mode." in lines[3]
    assert lines[4].split()[0] == "2."
    assert "assistant Got it.\\nDark mode." in lines[4]
    assert "memory documents:" in lines
    document_line = lines[lines.index("memory documents:") + 1]
    assert document_line.split()[1:3] == ["queued", "ai-chat-conversation"]
    assert "My favorite color is blue." in lines[-1]


def test_inspect_without_a_database_fails_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    result = subprocess.run(
        [sys.executable, "-m", "synap", "inspect", "--db", str(missing)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no database" in result.stderr
    assert not missing.exists()
