"""The benchmark harness runs end to end at tiny sizes and reports every row (no timing is
asserted: speed is what the harness prints, not what a test can judge on a shared machine)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import synap

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench.py"
ROW_IDS = ["1", "1b", "1c", "2", "2b", "2c", "2d", "2e", "2f", "2g", "3", "3b", "3c", "4", "4b",
           "5", "5b"]  # fmt: skip
ROW_IDS += ["7", "7b", "7c", "7d", "7e", "7f", "7g", "7h", "7i", "7j", "7k", "7l"]
ROW_IDS += ["8", "8a", "8b", "8c", "8d", "8e"]
TARGETED = {
    "1",
    "2",
    "2d",
    "2f",
    "3",
    "3c",
    "4",
    "7",
    "7c",
    "7e",
    "7f",
    "7h",
    "8a",
    "8c",
    "8d",
    "8e",
}
TINY = [
    "--rounds", "1", "--calls", "5", "--async-calls", "16", "--in-flight", "4",
    "--overhead-calls", "10", "--backfill", "300", "--backfill-rounds", "1",
    "--rss-sizes", "200,500", "--import-runs", "1", "--ingest-batches", "2",
    "--many-in-flight", "4,8", "--many-calls", "16",
    "--startup-runs", "1", "--fixture-tests", "3", "--fixture-runs", "1",
    "--recorder-turns", "200", "--recorder-backfill", "300", "--recorder-rounds", "1",
    "--service-seconds", "0.5", "--service-rounds", "1",
]  # fmt: skip


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load("bench")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """One run of the whole harness at tiny sizes: its stdout and its JSON."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAP_")}
    done = subprocess.run(
        [sys.executable, str(BENCH), *TINY, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text(encoding="utf-8"))


def test_the_table_has_every_row_and_the_cpu_count(tiny_run: tuple[str, dict[str, Any]]) -> None:
    stdout, _ = tiny_run
    assert f"{os.cpu_count()} CPUs" in stdout
    table_ids = [line.split()[0] for line in stdout.splitlines() if line[:1].isdigit()]
    assert table_ids == ROW_IDS
    assert "targets missed:" in stdout


def test_the_json_has_the_same_rows_with_medians_and_samples(
    tiny_run: tuple[str, dict[str, Any]],
) -> None:
    _, report = tiny_run
    assert report["machine"]["cpu_count"] == os.cpu_count()
    assert report["mode"] == "full"  # sizes were given as flags, not --quick
    assert report["sizes"]["backfill"] == 300
    rows = {row["id"]: row for row in report["rows"]}
    assert list(rows) == ROW_IDS
    for row_id, row in rows.items():
        for value in (row["raw"], row["ours"]):
            assert math.isfinite(value), row_id
            # Import times are differences (minus a bare interpreter): one run may dip below 0.
            assert value > 0 or row_id.startswith("4"), row_id
        if row_id in TARGETED:
            assert row["target"], row_id
            assert isinstance(row["met"], bool), row_id
        else:
            assert row["met"] is None, row_id
    # Medians of the samples: one round here, so each median is its one sample (rounded).
    assert rows["1"]["samples"]["raw"] == [pytest.approx(rows["1"]["raw"], abs=1e-3)]
    assert rows["3"]["ratio"] == pytest.approx(rows["3"]["ours"] / rows["3"]["raw"])
    # Fixture cost: what the synap suite took per test beyond the plain one.
    for row_id in ("8d", "8e"):
        added = rows[row_id]["ours"] - rows[row_id]["raw"]
        assert rows[row_id]["extra"]["added_ms"] == pytest.approx(added)
    children = rows["3c"]["extra"]["children"]
    assert [c["messages"] for c in children] == [200, 500]
    assert all(c["succeeded"] == c["messages"] for c in children)


def test_compare_takes_medians_and_judges_the_target_in_its_direction(bench: ModuleType) -> None:
    slower = bench.compare(
        "x", "t", "us/call", {"raw": [100.0, 90.0, 110.0], "synap": [120.0, 100.0, 500.0]},
        "raw", "synap", limit=1.10,
    )  # fmt: skip
    assert (slower.raw, slower.ours, slower.ratio) == (100.0, 120.0, 1.2)
    assert slower.met is False
    assert slower.target == "<= 1.10"
    faster = bench.compare(
        "y", "t", "msg/s", {"raw": [1000.0], "synap": [950.0]}, "raw", "synap",
        limit=0.90, higher_is_better=True,
    )  # fmt: skip
    assert faster.met is True
    assert faster.target == ">= 0.90"
    reported = bench.compare("z", "t", "ms", {"a": [1.0], "b": [2.0]}, "a", "b")
    assert reported.met is None
    assert reported.target == ""


def test_interleave_alternates_the_order_every_round(bench: ModuleType) -> None:
    calls: list[str] = []

    def contender(name: str) -> Any:
        def run() -> dict[str, float]:
            calls.append(name)
            return {"n": float(len(calls))}

        return run

    samples = bench.interleave(3, {"a": contender("a"), "b": contender("b")})
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert samples == {"a.n": [1.0, 4.0, 5.0], "b.n": [2.0, 3.0, 6.0]}


def test_generated_transcripts_never_share_a_conversation_across_chunks(
    bench: ModuleType,
) -> None:
    seen: dict[str, int] = {}
    for index, chunk in enumerate(bench.chunks(bench.messages(1000))):
        for message in chunk:
            assert seen.setdefault(message["conversation_id"], index) == index


def test_quick_sizes_are_smaller_than_the_full_run(bench: ModuleType) -> None:
    quick, full = bench.parse_args(["--quick"]), bench.parse_args([])
    assert quick.backfill < full.backfill == 100_000
    assert full.rss_sizes == "100000,1000000"
    assert bench.parse_args(["--quick", "--backfill", "7"]).backfill == 7


def test_the_stub_answers_a_batch_as_the_sdk_expects(bench: ModuleType) -> None:
    stub = bench.Stub()
    try:
        with synap.Synap(api_key=stub.api_key, base_url=stub.url) as client:
            entries = list(bench.messages(3))
            answer = client.conversation.record_messages_batch(entries)
            assert answer["total"] == answer["succeeded"] == 3
            assert [r["conversation_id"] for r in answer["results"]] == [
                e["conversation_id"] for e in entries
            ]
        with httpx.Client(base_url=stub.url) as http:
            assert http.post("/v1/conversations/messages/batch", content=b"{").status_code == 422
            assert http.post("/elsewhere", json={}).status_code == 404
    finally:
        stub.stop()
    assert stub.process.returncode is not None  # it exits when its stdin closes
