"""`scripts/record_cassettes.py` and what it writes: re-recording against fresh local servers
reproduces the committed cassettes (so they are not stale), and no secret is ever stored."""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from vcr.request import Request

from tests.replay import cassettes

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "record_cassettes.py"
KEY = "synap_0123456789abcdef0123456789abcdef"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_cassettes", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Values that differ on every recording: server-assigned ids and timestamps.
_VARYING = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z|doc_[0-9a-f]{12})$"
)


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str) and _VARYING.match(value) and not value.startswith("00000000-"):
        return "<varies>"
    return value


def comparable(interaction: dict[str, Any]) -> dict[str, Any]:
    response = interaction["response"]
    return {
        "request": interaction["request"],
        "status": response["status"],
        "headers": response["headers"],
        "body": masked(json.loads(response["body"]["string"])),
    }


@pytest.mark.slow  # 24 local servers, one per cassette
def test_re_recording_reproduces_the_committed_cassettes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SYNAP_BASE_URL", raising=False)
    monkeypatch.delenv("SYNAP_API_KEY", raising=False)
    assert load_script().main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "against a fresh local server per cassette" in out
    assert "sync/record_message_replay.yaml: 200 200 409" in out
    for scenario in cassettes.SCENARIOS:
        for facade in cassettes.FACADES:
            fresh = cassettes.recorded(facade, scenario.name, root=tmp_path)
            committed = cassettes.recorded(facade, scenario.name)
            assert [comparable(i) for i in fresh] == [comparable(i) for i in committed], (
                f"{facade}/{scenario.name} is stale: run python scripts/record_cassettes.py"
            )


def test_recording_needs_both_url_and_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SYNAP_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("SYNAP_API_KEY", raising=False)
    assert load_script().main(["--out", str(tmp_path)]) == 2
    assert "set both SYNAP_BASE_URL and SYNAP_API_KEY" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_stored_requests_lose_the_key_the_host_and_the_prefix() -> None:
    normalise = cassettes.normalise_request("https://synap.example.org/prefix/", [KEY])
    request = Request(
        "POST",
        "https://synap.example.org/prefix/v1/conversations/messages?x=1",
        json.dumps({"content": f"my key is {KEY}"}).encode(),
        {
            "Authorization": f"Bearer {KEY}",
            "Content-Type": "application/json",
            "Idempotency-Key": "k1",
            "X-Correlation-ID": "c1",
            "User-Agent": "synap-python/0.1.0",
            "X-Instance-ID": "inst_0123456789abcdef",
        },
    )
    stored = normalise(request)
    assert stored.uri == "https://synap.cassette/v1/conversations/messages?x=1"
    assert dict(stored.headers) == {  # in lower case, whichever send path wrote them
        "content-type": "application/json",
        "idempotency-key": "k1",
        "x-correlation-id": "c1",
    }
    assert stored.body == b'{"content": "my key is <SYNAP_API_KEY>"}'
    assert request.headers["Authorization"] == f"Bearer {KEY}"  # the live request is untouched


def test_stored_responses_lose_the_key_and_keep_a_true_length() -> None:
    body = json.dumps({"detail": f"Invalid API key {KEY}"}).encode()
    response = {
        "status": {"code": 401, "message": "Unauthorized"},
        "headers": {
            "content-length": [str(len(body))],
            "date": ["Sun, 22 Nov 2026 00:00:00 GMT"],
            "server": ["uvicorn"],
            "set-cookie": ["session=abc"],
            "x-echo": [KEY],
        },
        "body": {"string": body},
    }
    stored = cassettes.normalise_response([KEY])(response)
    assert stored["body"]["string"] == b'{"detail": "Invalid API key <SYNAP_API_KEY>"}'
    assert stored["headers"] == {
        "content-length": [str(len(stored["body"]["string"]))],
        "x-echo": ["<SYNAP_API_KEY>"],
    }


def test_a_recording_that_does_not_match_its_scenario_writes_nothing(tmp_path: Path) -> None:
    from synap.server import LocalServer

    sent = cassettes.BY_NAME["record_message_success"].steps[0]
    wrong = cassettes.Scenario("record_message_success", (replace(sent, sends=False),))
    target = cassettes.cassette_path("sync", wrong.name, tmp_path)
    target.parent.mkdir()
    target.write_text("the cassette in place\n")
    with LocalServer() as server, pytest.raises(RuntimeError, match="1 interactions recorded"):
        cassettes.record("sync", wrong, base_url=server.url, api_key=server.api_key, root=tmp_path)
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    assert target.read_text() == "the cassette in place\n"
