"""Fork safety (the gunicorn `--preload` pattern): one client warmed by a call, then used by
the parent and 3 forked children, 120 calls each. Each process must get its own answers: an
inherited keep-alive connection shared by two processes hands one process another's answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synap.server import LocalServer, read_snapshot

ROOT = Path(__file__).resolve().parents[2]
CALLS, CHILDREN = 120, 3


def run_job(kind: str, server: LocalServer) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.connections._fork_job", kind, server.url, server.api_key,
         str(CALLS), str(CHILDREN)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    assert len({r["pid"] for r in results}) == 1 + CHILDREN
    return results


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_each_process_gets_its_own_pool_and_its_own_answers(kind: str, tmp_path: Path) -> None:
    with LocalServer(tmp_path / "synap.db") as server:
        results = run_job(kind, server)
    stored = {
        m["message_id"]: (c["conversation_id"], m["content"])
        for c in read_snapshot(tmp_path / "synap.db")["conversations"]
        for m in c["messages"]
    }
    for process in results:
        assert process["errors"] == []
        assert len(process["calls"]) == CALLS
        for sent, answered, message_id, content in process["calls"]:
            assert answered == sent  # the answer to this call, not to another process's
            assert stored[message_id] == (sent, content)
    assert len(stored) == (1 + CHILDREN) * CALLS + 1  # and the warm-up call


@pytest.mark.parametrize("kind", ["sync-own", "async-own"])
def test_a_callers_client_with_inherited_connections_is_refused_before_sending(
    kind: str, tmp_path: Path
) -> None:
    with LocalServer(tmp_path / "synap.db") as server:
        parent, *children = run_job(kind, server)
    assert parent["errors"] == []
    assert len(parent["calls"]) == CALLS
    for child in children:
        assert child["calls"] == []
        assert len(child["errors"]) == CALLS
        assert all("SynapError" in e and "os.fork()" in e for e in child["errors"])
    stored = read_snapshot(tmp_path / "synap.db")["conversations"]
    assert len(stored) == CALLS + 1  # nothing from the children reached the server
