"""The pytest plugin (`synap.testing`, entry point `pytest11`), run as a user's pytest would: in
a subprocess, on a folder of its own with its own config (none of this repository's)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

USER_CONFIG = """
[pytest]
asyncio_default_fixture_loop_scope = function
"""

USER_TESTS = """
import sys

# what loading the plugin imported, before any fixture ran
HEAVY = sorted(m for m in ("uvicorn", "starlette", "synap.server") if m in sys.modules)

import httpx
import pytest

import synap
from synap.server import FaultPlan
CONVERSATION = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"  # the same in every test
SEEN = []  # (url, api key, db_path) of the server each test got, in order


def test_loading_the_plugin_imports_nothing_heavy():
    assert HEAVY == []


def test_synap_server(synap_server, tmp_path):
    assert synap_server.url.startswith("http://127.0.0.1:")
    assert synap_server.api_key.startswith("synap_")
    # The worker's server keeps its file under pytest's temporary directory, not the test's.
    assert synap_server.db_path.is_file()
    assert synap_server.db_path.parent.parent == tmp_path.parent
    response = httpx.post(
        synap_server.url + "/api/v1/memories/batch",
        json={"documents": [{"document": "hello", "document_id": "doc-1"}]},
        headers={"Authorization": "Bearer " + synap_server.api_key, "Idempotency-Key": "k1"},
    )
    assert response.json()["succeeded"] == 1
    assert synap_server.store.counts()["documents"] == 1
    SEEN.append((synap_server.url, synap_server.api_key, synap_server.db_path))


def test_each_test_gets_an_empty_synap_under_a_new_key(synap_server):
    url, old_key, db_path = SEEN[-1]
    assert (synap_server.url, synap_server.db_path) == (url, db_path)  # one server, emptied
    assert synap_server.api_key != old_key
    assert synap_server.store.counts() == {
        "conversations": 0, "messages": 0, "documents": 0, "idempotency_keys": 0
    }
    assert synap_server.store.snapshot() == {"conversations": [], "documents": []}
    # The last test's key is retired: a client it leaked gets 401, nothing is written.
    stale = httpx.post(
        url + "/api/v1/memories/batch",
        json={"documents": [{"document": "late"}]},
        headers={"Authorization": "Bearer " + old_key},
    )
    assert stale.status_code == 401
    # The last test's idempotency key names nothing here: the same key stores again.
    again = httpx.post(
        url + "/api/v1/memories/batch",
        json={"documents": [{"document": "other body", "document_id": "doc-1"}]},
        headers={"Authorization": "Bearer " + synap_server.api_key, "Idempotency-Key": "k1"},
    )
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert [d["document"] for d in synap_server.store.snapshot()["documents"]] == ["other body"]
    SEEN.append((synap_server.url, synap_server.api_key, synap_server.db_path))


@pytest.mark.parametrize("turn", ["first", "second", "third"])
def test_a_conversation_starts_at_one_in_every_test(synap_client, synap_server, turn):
    result = synap_client.conversation.record_message(
        conversation_id=CONVERSATION,
        role="user",
        content=turn,
        user_id="u1",
        customer_id="c1",
        idempotency_key="the-same-key-in-every-test",
    )
    assert result["conversation_message_count"] == 1
    (stored,) = synap_server.store.snapshot()["conversations"]
    assert [m["content"] for m in stored["messages"]] == [turn]


def test_a_test_may_stop_the_server(synap_server):
    synap_server.stop()


def test_the_next_test_still_gets_a_running_server(synap_client):
    result = synap_client.memories.batch_create([{"document": "after a stop"}])
    assert result.succeeded == 1


@pytest.mark.synap_server(tenancy="b2c")
def test_marker_configures_the_server(synap_client, synap_server):
    assert synap_server.tenancy == "b2c"
    result = synap_client.conversation.record_message(
        conversation_id=CONVERSATION, role="user", content="hi", user_id="u1"
    )
    assert result["conversation_message_count"] == 1
    (stored,) = synap_server.store.snapshot()["conversations"]
    assert stored["customer_id"] == "u1"


@pytest.mark.synap_server(tenancy="b2c")
def test_a_b2c_test_is_isolated_too(synap_client, synap_server):
    result = synap_client.conversation.record_message(
        conversation_id=CONVERSATION, role="user", content="hi again", user_id="u2"
    )
    assert result["conversation_message_count"] == 1
    assert synap_server.store.counts()["messages"] == 1


def test_the_default_server_is_still_b2b(synap_client, synap_server):
    assert synap_server.tenancy == "b2b"
    SEEN.append((synap_server.url, synap_server.api_key, synap_server.db_path))
    with pytest.raises(synap.InvalidInputError):  # B2B: customer_id is required
        synap_client.conversation.record_message(
            conversation_id=CONVERSATION, role="user", content="hi", user_id="u1"
        )


@pytest.mark.synap_server(tenancy="b2b")
def test_options_at_their_default_share_the_default_server(synap_server):
    assert synap_server.url == SEEN[-1][0]


@pytest.mark.synap_server(api_keys={"synap_mine": None, "synap_acme": "customer_acme"})
def test_marker_keys(synap_client, synap_server):
    assert synap_server.url == SEEN[-1][0]  # keys alone do not need another server
    assert synap_server.api_key == "synap_mine"
    assert synap_server.api_keys == {"synap_mine": None, "synap_acme": "customer_acme"}
    assert synap_client.memories.batch_create([{"document": "x"}]).succeeded == 1


@pytest.mark.synap_server(max_body_bytes=2048)
def test_marker_limits(synap_client):
    with pytest.raises(synap.PayloadTooLargeError):
        synap_client.memories.batch_create([{"document": "x" * 4096}])


@pytest.mark.synap_server(faults=FaultPlan(rates={"503": 1.0}), max_body_bytes=2048)
def test_marker_faults_get_a_server_of_their_own(synap_server, tmp_path):
    assert synap_server.db_path == tmp_path / "synap.db"
    client = synap.Synap(api_key=synap_server.api_key, base_url=synap_server.url, max_retries=0)
    with client, pytest.raises(synap.ServiceUnavailableError):
        client.memories.batch_create([{"document": "x"}])
    assert synap_server.fault_counts()["503"] == 1


@pytest.mark.asyncio
async def test_async_client(async_synap_client, synap_server):
    result = await async_synap_client.conversation.record_messages_batch(
        messages=[
            {"conversation_id": CONVERSATION, "role": role, "content": role, "customer_id": "c"}
            for role in ("user", "assistant")
        ]
    )
    assert result["succeeded"] == 2
    assert synap_server.store.counts()["messages"] == 2
"""

WITHOUT_EXTRA_CONFTEST = """
import sys

# As if `pip install synap-memory` without the server extra: these cannot be imported.
for name in ("starlette", "uvicorn"):
    sys.modules[name] = None
"""

WITHOUT_EXTRA_TESTS = """
def test_unrelated():
    assert True


def test_needs_the_server(synap_server):
    pass


def test_needs_a_client(synap_client):
    pass
"""

XDIST_TESTS = """
import json
import os
import uuid
from pathlib import Path

import pytest

CONVERSATION = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"


def seen(server, test):
    record = {
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        "pid": os.getpid(),
        "url": server.url,
        "key": server.api_key,
        "db": str(server.db_path),
        "test": test,
    }
    Path(os.environ["SEEN_DIR"], uuid.uuid4().hex + ".json").write_text(json.dumps(record))


@pytest.mark.parametrize("n", range(12))
def test_blocking(synap_client, synap_server, n):
    result = synap_client.conversation.record_message(
        conversation_id=CONVERSATION, role="user", content=f"turn {n}",
        user_id="u", customer_id="c", idempotency_key="one-key-for-all",
    )
    assert result["conversation_message_count"] == 1
    assert synap_server.store.counts()["messages"] == 1
    seen(synap_server, f"blocking {n}")


@pytest.mark.parametrize("n", range(6))
@pytest.mark.asyncio
async def test_async(async_synap_client, synap_server, n):
    result = await async_synap_client.memories.batch_create(
        [{"document": f"doc {n}", "document_id": "doc-1"}], idempotency_key="one-key-for-all"
    )
    assert result.succeeded == 1
    assert [d["document"] for d in synap_server.store.snapshot()["documents"]] == [f"doc {n}"]
    seen(synap_server, f"async {n}")
"""


def _pytest(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--rootdir",
            str(folder),
            *args,
            str(folder),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_the_fixtures_serve_a_users_tests_each_with_an_empty_synap(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(USER_CONFIG)
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "16 passed" in result.stdout


def test_without_the_extra_the_fixtures_say_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(USER_CONFIG)
    (tmp_path / "conftest.py").write_text(WITHOUT_EXTRA_CONFTEST)
    (tmp_path / "test_user.py").write_text(WITHOUT_EXTRA_TESTS)
    result = _pytest(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 2 errors" in result.stdout
    assert result.stdout.count("pip install 'synap-memory[server]'") >= 2
    assert "Traceback" not in result.stdout


@pytest.mark.slow
def test_under_xdist_each_worker_has_its_own_server_and_every_test_an_empty_one(
    tmp_path: Path,
) -> None:
    import os

    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text(USER_CONFIG)
    (project / "test_user.py").write_text(textwrap.dedent(XDIST_TESTS))
    seen_dir = tmp_path / "seen"
    seen_dir.mkdir()
    result = _pytest(project, "-n", "2", env={**os.environ, "SEEN_DIR": str(seen_dir)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "18 passed" in result.stdout
    records = [json.loads(p.read_text()) for p in seen_dir.iterdir()]
    assert len(records) == 18
    workers = {r["worker"] for r in records}
    assert workers == {"gw0", "gw1"}
    by_worker = {w: [r for r in records if r["worker"] == w] for w in workers}
    for mine in by_worker.values():
        # One server per worker (one process, one URL, one file), a new key for every test.
        assert len({(r["pid"], r["url"], r["db"]) for r in mine}) == 1
        assert len({r["key"] for r in mine}) == len(mine)
    assert by_worker["gw0"][0]["url"] != by_worker["gw1"][0]["url"]
    assert by_worker["gw0"][0]["db"] != by_worker["gw1"][0]["db"]
