"""`synap import` and `synap record` against a real local server."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synap.cli import main
from synap.server import LocalServer, read_snapshot
from tests.bulk._support import conversation_id, stored_contents

CID = conversation_id(1)


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SYNAP_API_KEY", "SYNAP_BASE_URL", "SYNAP_INSTANCE_ID"):
        monkeypatch.delenv(name, raising=False)


def conn(server: LocalServer) -> list[str]:
    return ["--base-url", server.url, "--api-key", server.api_key]


def line(i: int, **changes: Any) -> str:
    entry: dict[str, Any] = {
        "role": "user" if i % 2 == 0 else "assistant",
        "content": f"message {i}",
    }
    entry.update(changes)
    return json.dumps(entry)


@pytest.fixture
def transcript(tmp_path: Path) -> Path:
    """250 messages on 251 lines (line 10 is blank), four of them bad: lines 3, 7, 120, 251."""
    lines = [line(i) for i in range(250)]
    lines[2] = '{"role": "user", "content": '  # line 3: cut off
    lines[6] = line(6, role="bot")  # line 7
    lines[118] = line(118, timestamp="the day after tomorrow")  # line 120 (after the blank)
    lines[249] = line(249, conversation_id="conv_alice")  # line 251
    lines[0] = line(0, timestamp="Wed, 01 May 2024 14:00:00 +0200")
    lines[1] = line(1, timestamp="2024-05-01 12:00:05")
    lines.insert(9, "")
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_messages_reports_bad_lines_and_stores_the_rest(
    server: LocalServer, transcript: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "import",
            "messages",
            str(transcript),
            "--conversation-id",
            CID,
            "--user-id",
            "user_1",
            "--customer-id",
            "cust_1",
            "--no-preserve-order",  # one conversation: else its turns after line 7 are held
            "--concurrency",
            "1",  # and so its calls in input order
            *conn(server),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    report = out.splitlines()
    assert report[0] == "246 of 250 lines stored, 4 failed, 3 calls"
    assert [r.split(":")[0] for r in report[1:]] == ["line 3", "line 7", "line 120", "line 251"]
    assert "not valid JSON" in report[1]
    assert report[2].startswith("line 7: invalid: role must be 'user' or 'assistant'")
    assert "the day after tomorrow" in report[3]
    assert "UUID" in report[4]
    # Not a terminal: plain progress lines on stderr, the last one complete.
    assert "250/250" in err.splitlines()[-2]
    assert "rerunning this command as is stores nothing twice" in err.splitlines()[-1]

    (conversation,) = read_snapshot(server.db_path)["conversations"]
    stored = conversation["messages"]
    assert len(stored) == 246
    assert stored[0]["content"] == "message 0"
    assert stored[0]["extra"] == {"timestamp": "2024-05-01T12:00:00Z"}
    assert stored[1]["extra"] == {"timestamp": "2024-05-01T12:00:05Z"}
    assert {m["user_id"] for m in stored} == {"user_1"}
    assert {m["customer_id"] for m in stored} == {"cust_1"}


def test_dry_run_sends_nothing(
    server: LocalServer, transcript: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["import", "messages", str(transcript), "--conversation-id", CID, "--dry-run"]
    assert main([*args, "--no-preserve-order", *conn(server)]) == 1
    out, _ = capsys.readouterr()
    assert out.splitlines()[0] == (
        "dry run, nothing sent: 250 lines read, 246 valid, 4 would not be stored"
    )
    assert [r.split(":")[0] for r in out.splitlines()[1:]] == [
        "line 3",
        "line 7",
        "line 120",
        "line 251",
    ]
    # In order (the default), line 7's conversation stops there, as the real run would.
    assert main([*args, *conn(server)]) == 1
    out, _ = capsys.readouterr()
    report = out.splitlines()
    assert report[0] == (
        "dry run, nothing sent: 250 lines read, 5 valid, 245 would not be stored "
        "(241 of them held back behind an invalid turn)"
    )
    assert report[1].startswith("line 3: invalid: the line is not valid JSON")
    assert report[2].startswith("line 7: invalid: role must be")
    held = f"held: held back: an earlier turn of conversation {CID} (line 7) is invalid; "
    assert report[3].startswith(f"line 8 to line 119: {held}")
    assert report[4].startswith("line 120: invalid: timestamp: cannot read")
    assert report[5].startswith(f"line 121 to line 250: {held}")
    assert report[6].startswith("line 251: invalid: conversation_id must be a UUID")
    assert len(report) == 7
    assert stored_contents(server) == []
    assert server.store is not None
    assert server.store.counts()["idempotency_keys"] == 0
    # No server or key at all is needed to validate.
    assert main(args) == 1


def test_json_summary_and_resume_with_a_checkpoint(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clean.jsonl"
    path.write_text("".join(line(i, conversation_id=CID) + "\n" for i in range(150)))
    checkpoint = tmp_path / "import.ckpt"
    args = ["import", "messages", str(path), "--customer-id", "c", "--checkpoint", str(checkpoint)]
    assert main([*args, "--json", *conn(server)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "total": 150,
        "succeeded": 150,
        "failed": 0,
        "skipped": 0,
        "calls": 2,
        "dry_run": False,
        "failures": [],
    }
    assert main([*args, *conn(server)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "150 of 150 lines stored (150 by an earlier run), 0 failed, 0 calls"
    )
    assert len(stored_contents(server)) == 150


def test_nothing_storable_exits_2(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("nope\n" + line(1, role="system", conversation_id=CID) + "\n")
    assert main(["import", "messages", str(path), *conn(server)]) == 2
    assert "0 of 2 lines stored, 2 failed" in capsys.readouterr().out


def test_usage_errors_exit_2(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "messages", str(tmp_path / "missing.jsonl"), *conn(server)]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    path = tmp_path / "one.jsonl"
    path.write_text(line(0, conversation_id=CID) + "\n")
    assert main(["import", "messages", str(path), "--base-url", server.url]) == 2
    assert "SYNAP_API_KEY" in capsys.readouterr().err
    assert (
        main(
            ["import", "messages", str(path), "--api-key", "synap_wrong", "--base-url", server.url]
        )
        == 2
    )
    assert "401" in capsys.readouterr().err
    assert main(["import", "messages", str(path), "--chunk-size", "500", *conn(server)]) == 2
    assert "chunk_size" in capsys.readouterr().err
    assert main(["import", "messages", str(path), "--timezone", "Nowhere/Land", *conn(server)]) == 2
    ckpt = tmp_path / "docs.ckpt"
    ckpt.write_text(
        '{"synap_bulk_checkpoint":2,"kind":"documents","job_id":"x","chunk_size":100}\n'
    )
    assert main(["import", "messages", str(path), "--checkpoint", str(ckpt), *conn(server)]) == 2
    assert "documents job" in capsys.readouterr().err
    assert stored_contents(server) == []


def test_import_documents_from_a_folder(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "kb"
    (folder / "mail").mkdir(parents=True)
    (folder / "guide.md").write_text("# Guide\nUse dark mode.")
    (folder / "mail" / "renewal.eml").write_text("Subject: Renewal\n\nWe renew in May.")
    (folder / "records.jsonl").write_text(
        json.dumps({"document": "from a record", "created": "2024-05-01 12:00"})
        + "\n"
        + json.dumps({"document": "bad type", "document_type": "spreadsheet"})
        + "\n"
    )
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7\n\xe2\xe3\xcf\xd3")
    code = main(
        [
            "import",
            "documents",
            str(folder),
            "--user-id",
            "user_1",
            "--customer-id",
            "cust_1",
            "--created-at-field",
            "created",
            "--mode",
            "fast",
            *conn(server),
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 1
    report = out.splitlines()
    assert report[0] == "3 of 5 documents stored, 2 failed, 1 calls"
    assert report[1].startswith(f"{folder / 'records.jsonl'}:2: invalid: document_type")
    assert report[2].startswith(f"{folder / 'scan.pdf'}: invalid: binary file")
    documents = {d["document"]: d for d in read_snapshot(server.db_path)["documents"]}
    assert sorted(documents) == [
        "# Guide\nUse dark mode.",
        "Subject: Renewal\n\nWe renew in May.",
        "from a record",
    ]
    assert documents["from a record"]["document_created_at"] == "2024-05-01T12:00:00Z"
    email = documents["Subject: Renewal\n\nWe renew in May."]
    assert email["document_type"] == "email"
    assert email["mode"] == "fast"
    assert email["metadata"] == {"source": str(folder / "mail" / "renewal.eml")}
    assert documents["# Guide\nUse dark mode."]["document_type"] == "document"


def test_record_one_message(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["record", "--conversation-id", CID, "--user-id", "user_1", "--customer-id", "c1"]
    assert (
        main([*base, "--role", "user", "Hello there", "--metadata", '{"k": 1}', *conn(server)]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["conversation_id"] == CID
    assert result["conversation_message_count"] == 1

    monkeypatch.setattr(sys, "stdin", _Stdin("General Kenobi.\n"))
    monkeypatch.setenv("SYNAP_API_KEY", server.api_key)
    monkeypatch.setenv("SYNAP_BASE_URL", server.url)
    assert main([*base, "--role", "assistant", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["conversation_message_count"] == 2
    assert stored_contents(server) == ["Hello there", "General Kenobi."]

    assert (
        main(["record", "--conversation-id", "conv_1", "--user-id", "u", "--role", "user", "x"])
        == 2
    )
    assert "UUID" in capsys.readouterr().err
    assert main([*base, "--role", "user", "--metadata", "{nope", "x"]) == 2
    monkeypatch.setenv("SYNAP_API_KEY", "synap_wrong")
    assert main([*base, "--role", "user", "x"]) == 2
    assert "401" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main([*base, "--role", "system", "x"])
    assert usage.value.code == 2


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> str:
        return self.text


def test_the_command_line_entry_point(server: LocalServer, transcript: Path) -> None:
    env = {**os.environ, "SYNAP_API_KEY": server.api_key, "SYNAP_BASE_URL": server.url}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "synap",
            "import",
            "messages",
            str(transcript),
            "--conversation-id",
            CID,
            "--customer-id",
            "c1",
            "--no-preserve-order",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("246 of 250 lines stored, 4 failed, 3 calls\n")
    assert len(stored_contents(server)) == 246


def test_progress_bar_on_a_terminal_and_plain_lines_otherwise() -> None:
    from synap.commands.import_ import ProgressReport

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = ProgressReport(terminal, label="import messages", interval=0)
    bar(50, 200)
    bar(200, 200)
    bar.finish()
    frames = terminal.getvalue().split("\r\x1b[2K")[1:]
    assert frames[0].startswith("import messages [######------------------]  25% 50/200  ")
    assert "/s  ETA " in frames[0]
    assert frames[1].startswith("import messages [########################] 100% 200/200")
    assert frames[1].endswith("ETA 0:00\n")

    plain = io.StringIO()
    lines = ProgressReport(plain, label="import documents", interval=3600)
    lines(1, None)  # shown: the first report
    lines(2, None)  # not shown: too soon
    lines(3, 3)  # shown: complete
    lines.finish()
    shown = plain.getvalue().splitlines()
    assert len(shown) == 2
    assert shown[0].startswith("import documents 1 items")
    assert shown[1].startswith("import documents [####")
    assert "\r" not in plain.getvalue()
