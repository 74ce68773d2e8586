"""The pytest plugin (`synap.testing`, entry point `pytest11`), run as a user's pytest would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = """
import sys
import uuid

import httpx
import pytest

# what loading the plugin imported, before any fixture ran
HEAVY = sorted(m for m in ("uvicorn", "starlette", "synap.server") if m in sys.modules)


def test_loading_the_plugin_imports_nothing_heavy():
    assert HEAVY == []


def test_synap_server(synap_server, tmp_path):
    assert synap_server.url.startswith("http://127.0.0.1:")
    assert synap_server.api_key.startswith("synap_")
    assert synap_server.db_path == tmp_path / "synap.db"
    response = httpx.post(
        synap_server.url + "/api/v1/memories/batch",
        json={"documents": [{"document": "hello"}]},
        headers={"Authorization": "Bearer " + synap_server.api_key},
    )
    assert response.json()["succeeded"] == 1
    assert synap_server.store.counts()["documents"] == 1


def test_each_test_gets_a_fresh_database(synap_server):
    assert synap_server.store.counts()["documents"] == 0


@pytest.mark.synap_server(tenancy="b2c")
def test_marker_configures_the_server(synap_client, synap_server):
    assert synap_server.tenancy == "b2c"
    result = synap_client.conversation.record_message(
        conversation_id=str(uuid.uuid4()), role="user", content="hi", user_id="u1"
    )
    assert result["conversation_message_count"] == 1
    stored = synap_server.store.snapshot()["conversations"][0]
    assert stored["customer_id"] == "u1"


@pytest.mark.asyncio
async def test_async_client(async_synap_client, synap_server):
    conversation = str(uuid.uuid4())
    result = await async_synap_client.conversation.record_messages_batch(
        messages=[
            {"conversation_id": conversation, "role": role, "content": role, "customer_id": "c"}
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


def _pytest(folder: Path) -> subprocess.CompletedProcess[str]:
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
            str(folder),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_fixtures_serve_a_users_tests(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_without_the_extra_the_fixtures_say_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(WITHOUT_EXTRA_CONFTEST)
    (tmp_path / "test_user.py").write_text(WITHOUT_EXTRA_TESTS)
    result = _pytest(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 2 errors" in result.stdout
    assert result.stdout.count("pip install 'synap-memory[server]'") >= 2
    assert "Traceback" not in result.stdout
