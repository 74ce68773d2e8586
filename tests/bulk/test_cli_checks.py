"""What `synap import` checks and says: a dry run that agrees with the real run, one line for
a command that cannot work at all, and messages in the CLI's own terms."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synap import AuthenticationError, InsufficientCreditsError, NetworkError
from synap.cli import main
from synap.commands._advice import call_error, item_reason, plain
from synap.server import LocalServer, read_snapshot
from tests.bulk._support import conversation_id, stored_contents

LIMIT = 20_000  # --max-body-bytes for the corpus: a 30 kB item is too large for one call


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SYNAP_API_KEY", "SYNAP_BASE_URL", "SYNAP_INSTANCE_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "synap.db", tenancy="b2b") as running:
        yield running


def conn(server: LocalServer) -> list[str]:
    return ["--base-url", server.url, "--api-key", server.api_key]


def turn(n: int, i: int, **changes: Any) -> str:
    entry: dict[str, Any] = {
        "conversation_id": conversation_id(n),
        "role": "user" if i % 2 == 0 else "assistant",
        "content": f"conversation {n} turn {i}",
        "customer_id": "acme",
    }
    entry.update(changes)
    return json.dumps({k: v for k, v in entry.items() if v is not None})


def message_corpus(path: Path) -> Path:
    """Four conversations of ten turns: 0 is clean, 1 has no customer_id at all (a B2B server
    rejects each line), 2 ends with an invalid line, 3 ends with a line too large to send."""
    lines = [turn(0, i) for i in range(10)]
    lines += [turn(1, i, customer_id=None) for i in range(10)]
    lines += [turn(2, i) for i in range(9)] + [turn(2, 9, role="system")]
    lines += [turn(3, i) for i in range(9)] + [turn(3, 9, content="x" * 30_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def document_corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a-notes.md").write_text("# Notes\nDark mode, always.")
    (folder / "b-big.txt").write_text("lorem ipsum " * 3_000)  # 36 kB of text
    (folder / "c-empty.txt").write_text("")
    (folder / "d-blank.txt").write_text("\n \n")
    (folder / "e-latin1.txt").write_bytes("Café au lait".encode("latin-1"))
    (folder / "f-records.jsonl").write_text(
        json.dumps({"document": "from a record"}) + "\n" + json.dumps({"document": ""}) + "\n"
    )
    return folder


def failed_lines(out: str) -> dict[str, str]:
    """`where -> stage` of every failure line of a summary."""
    found = {}
    for row in out.splitlines()[1:]:
        match = re.match(r"^(.+?): (invalid|rejected|error|held): ", row)
        if match:
            found[match[1]] = match[2]
    return found


def test_dry_run_and_real_run_agree_on_messages(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = message_corpus(tmp_path / "chat.jsonl")
    args = ["import", "messages", str(corpus), "--max-body-bytes", str(LIMIT)]

    assert main([*args, "--dry-run"]) == 1
    dry_out, dry_err = capsys.readouterr()
    dry = failed_lines(dry_out)
    assert dry == {"line 30": "invalid", "line 40": "invalid"}
    assert "role must be 'user' or 'assistant'" in dry_out
    too_large = (
        r"line 40: invalid: the message is 30,\d{3} bytes as JSON, more than one call may "
        r"carry \(20,000 bytes\): split it into smaller messages"
    )
    assert re.search(too_large, dry_out)
    assert "warning: 10 lines have no customer_id, which a B2B Synap requires" in dry_err
    assert "--customer-id" in dry_err
    assert stored_contents(server) == []

    assert main([*args, *conn(server)]) == 1
    real_out, real_err = capsys.readouterr()
    real = failed_lines(real_out)
    # What the dry run flagged failed alike; the lines it warned about are the rejected ones.
    assert {w: s for w, s in real.items() if s == "invalid"} == dry
    rejected = [w for w, s in real.items() if s == "rejected"]
    assert rejected == [f"line {n}" for n in range(11, 21)]
    assert "warning: 10 lines have no customer_id" in real_err
    assert real_out.splitlines()[0] == "28 of 40 lines stored, 12 failed, 1 calls"
    assert len(stored_contents(server)) == 28


def test_dry_run_and_real_run_agree_on_documents(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = document_corpus(tmp_path / "kb")
    args = ["import", "documents", str(folder), "--max-body-bytes", str(LIMIT)]
    assert main([*args, "--dry-run"]) == 1
    dry_out, _ = capsys.readouterr()
    dry = failed_lines(dry_out)
    big, empty, blank = (str(folder / n) for n in ("b-big.txt", "c-empty.txt", "d-blank.txt"))
    assert dry == {
        big: "invalid",
        empty: "invalid",
        blank: "invalid",
        f"{folder / 'f-records.jsonl'}:2": "invalid",
    }
    assert re.search(rf"{re.escape(big)}: invalid: the document is 36,\d{{3}} bytes as JSON, "
                     r"more than one call may carry \(20,000 bytes\): split it into smaller "
                     rf"documents \(e.g. `split -C 10000 '{re.escape(big)}' ", dry_out)  # fmt: skip
    assert f"{empty}: invalid: the document is empty" in dry_out

    assert main([*args, *conn(server)]) == 1
    real_out, _ = capsys.readouterr()
    assert failed_lines(real_out) == dry
    stored = {d["document"]: d for d in read_snapshot(server.db_path)["documents"]}
    assert sorted(stored) == ["# Notes\nDark mode, always.", "Café au lait", "from a record"]
    assert {d["document_type"] for d in stored.values()} == {"document"}


def test_an_unreachable_url_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(turn(n, i) + "\n" for n in range(50) for i in range(10)))
    with LocalServer(tmp_path / "gone.db") as gone:
        url, key = gone.url, gone.api_key  # a port nothing listens on once it stops
    code = main(["import", "messages", str(path), "--base-url", url, "--api-key", key])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.startswith("synap import:")]
    assert len(lines) == 1
    assert lines[0].startswith(f"synap import: cannot reach Synap at {url}: ")
    assert lines[0].endswith("check --base-url (or SYNAP_BASE_URL) and the network")


def test_a_bad_key_is_one_line_and_exit_2(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text("".join(turn(n, i) + "\n" for n in range(50) for i in range(10)))
    args = ["import", "messages", str(path), "--base-url", server.url]
    assert main([*args, "--api-key", "synap_wrong"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = [line for line in err.splitlines() if line.startswith("synap import:")]
    assert len(lines) == 1
    assert "401" in lines[0]
    assert lines[0].endswith("check --api-key (or SYNAP_API_KEY), and that the key belongs to "
                             "this instance")  # fmt: skip
    assert main(args) == 2  # no key at all
    err = capsys.readouterr().err
    assert err.count("synap import:") == 1
    assert "pass --api-key KEY or set the SYNAP_API_KEY environment variable" in err


def test_plain_http_off_loopback_needs_the_flag(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text(turn(0, 0) + "\n")
    # 0.0.0.0 is not a loopback name, but a connection to it reaches this machine.
    url = server.url.replace("127.0.0.1", "0.0.0.0")
    args = ["import", "messages", str(path), "--base-url", url, "--api-key", server.api_key]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("synap import:") == 1
    assert "pass --allow-insecure-http" in err
    assert "allow_insecure_http=True" not in err
    assert main([*args, "--allow-insecure-http"]) == 0
    assert stored_contents(server) == ["conversation 0 turn 0"]


def test_missing_credits_and_other_stops_say_what_to_do() -> None:
    credits = InsufficientCreditsError("POST /v1/conversations/messages/batch: HTTP 402")
    assert call_error(credits, "https://x").endswith(
        "add credits to your Synap account, then rerun the same command"
    )
    unreachable = NetworkError("could not reach Synap (ConnectError: refused)")
    assert "cannot reach Synap at https://x" in call_error(unreachable, "https://x")
    assert call_error(AuthenticationError("No API key: pass api_key=... or set"), None) == (
        "No API key: pass --api-key KEY or set"
    )


def test_cli_messages_name_their_subject_and_the_cli_fix() -> None:
    assert item_reason("messages[6] is missing the required key 'content'") == (
        "the message is missing the required key 'content'"
    )
    assert item_reason("messages[6].role must be 'user' or 'assistant'") == (
        "role must be 'user' or 'assistant'"
    )
    uuid_error = item_reason(
        "messages[3].conversation_id must be a UUID, got 'conv_1'; generate one with "
        "str(uuid.uuid4()) and reuse it for every turn of the conversation"
    )
    assert "uuid4" not in uuid_error
    assert "`uuidgen` prints one" in uuid_error
    assert plain("base_url must be an http(s) URL") == "--base-url must be an http(s) URL"


def test_record_speaks_cli_too(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["record", "--user-id", "u", "--customer-id", "c", "--role", "user", *conn(server)]
    assert main([*base, "--conversation-id", "conv_1", "hello"]) == 2
    err = capsys.readouterr().err
    assert "`uuidgen` prints one" in err
    assert "uuid4" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import synap

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"synap-memory {synap.__version__}\n"
