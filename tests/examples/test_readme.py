"""The README's Python, checked: every ```python block type-checks (mypy, strict flags), the
blocks that talk to Synap run against a local server, and a user script with the README's
calls (tests/examples/typed/user_script.py) passes `mypy --strict` as is and runs."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import synap
from synap.server import LocalServer, read_snapshot

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
USER_SCRIPT = Path(__file__).parent / "typed" / "user_script.py"

# Names the README's blocks use without defining them (what the text around them says they
# are), declared for the type check, and given real values for a run.
DECLARED = {
    "cid": "cid: str = str(__import__('uuid').uuid4())",
    "documents": "documents: list[CreateMemoryRequest | dict[str, Any]] = "
    "[CreateMemoryRequest(document='a'), {'document': 'b', 'customer_id': 'c'}]",
    "read_my_transcripts": "def read_my_transcripts() -> Iterator[dict[str, Any]]:\n"
    "    cid = str(__import__('uuid').uuid4())\n"
    "    for i in range(250):\n"
    "        yield {'conversation_id': cid, 'role': 'user', 'content': f'turn {i}', "
    "'customer_id': 'c'}",
    "pytest": "import pytest",
    "synap": "import synap",
    "asyncio": "import asyncio",
    "client": "import synap as _s\nclient = _s.Synap(api_key='synap_...')",
    "async_client": "import synap as _s\nasync_client = _s.AsyncSynap(api_key='synap_...')",
    "text": "text: str = 'I prefer dark mode.'",
    # examples/recorder_service.py's, which the README's excerpt of it names
    "ChatRequest": "from pydantic import BaseModel\n"
    "class ChatRequest(BaseModel):\n"
    "    conversation_id: str\n    user_id: str\n    customer_id: str\n    message: str",
    "answer": "def answer(message: str) -> str:\n    return message",
    "report": "def report(turn: Any, error: Exception) -> None:\n    print(turn, error)",
}
HEADER = (
    "from collections.abc import Iterator\n"
    "from typing import Any\n"
    "from synap import CreateMemoryRequest\n"
)


def blocks() -> list[tuple[int, str]]:
    """(line number, code) of each ```python block of the README."""
    text = README.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        found.append((text.count("\n", 0, match.start()) + 1, match[1]))
    return found


def module(code: str) -> str:
    """A block as a module: the names it relies on declared, top-level `await` in a function."""
    prelude = [HEADER]
    for name, declaration in DECLARED.items():
        defined = re.search(rf"^(?:import {name}\b|def {name}\b|{name}\s*=)", code, re.MULTILINE)
        if re.search(rf"\b{name}\b", code) and not defined:
            prelude.append(declaration + "\n")
    awaits = re.search(
        r"^(?:await |async (?:with|for) )|^\S.*\bawait |^(?:try:|with )[^\n]*\n\s+async with ",
        code,
        re.MULTILINE,
    )
    if awaits:
        code = "async def _block() -> None:\n" + textwrap.indent(code, "    ")
    return "".join(prelude) + "\n" + code


BLOCKS = blocks()


def test_the_readme_has_the_blocks_this_file_runs() -> None:
    starts = [code.splitlines()[0] for _, code in BLOCKS]
    assert "import uuid" in starts  # the blocking script
    assert "from synap import AsyncSynap, CreateMemoryRequest, MaximemSynapSDK" in starts
    assert any("record_messages_bulk" in code for _, code in BLOCKS)


def _mypy(paths: list[Path], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *flags, *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_every_readme_block_type_checks(tmp_path: Path) -> None:
    paths = []
    for line, code in BLOCKS:
        path = tmp_path / f"readme_line_{line}.py"
        path.write_text(module(code), encoding="utf-8")
        paths.append(path)
    # Strict, except that a block may leave its own functions unannotated (the pytest
    # examples): their bodies are still checked.
    done = _mypy(paths, "--allow-untyped-defs", "--check-untyped-defs", "--allow-untyped-calls")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_a_user_script_with_the_readme_calls_passes_mypy_strict() -> None:
    done = _mypy([USER_SCRIPT])
    assert done.returncode == 0, done.stdout + done.stderr


def _run(code: str, env: dict[str, str]) -> dict[str, Any]:
    source = module(code)
    namespace: dict[str, Any] = {"__name__": "readme_block"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        exec(compile(source, "README.md", "exec"), namespace)
        if "_block" in namespace:
            asyncio.run(namespace["_block"]())
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return namespace


def test_the_readme_blocks_that_talk_to_synap_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the backfill block writes its checkpoint where it runs
    # The blocks use SYNAP_API_KEY / SYNAP_BASE_URL, or the docs' placeholder key.
    keys: dict[str, str | None] = {"synap_readme": None, "synap_...": None}
    with LocalServer(tmp_path / "synap.db", api_keys=keys) as server:
        env = {"SYNAP_API_KEY": "synap_readme", "SYNAP_BASE_URL": server.url}
        ran = 0
        for _, code in BLOCKS:
            # (The FastAPI service's excerpt is served whole as examples/fastapi_service.py.)
            talks = re.search(r"\b(Synap|AsyncSynap)\(", code) and "FastAPI(" not in code
            if talks and "def test_" not in code:
                _run(code, env)
                ran += 1
        assert ran == 3
        out = capsys.readouterr().out
        snapshot = read_snapshot(server.db_path)
    assert "250 of 250 stored" in out
    messages = sum(len(c["messages"]) for c in snapshot["conversations"])
    assert messages == 2 + 1 + 250  # the script's two turns, the service's one, the backfill
    assert len(snapshot["documents"]) == 2 + 1 + 2


def test_the_user_script_runs(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("user_script", USER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with LocalServer(tmp_path / "synap.db") as server:
        with synap.Synap(api_key=server.api_key, base_url=server.url) as client:
            ids = script.blocking(client)
            assert all(ids)
            assert script.resumable(client, str(tmp_path / "job.ckpt")) is not None

        async def service() -> int:
            async with synap.AsyncSynap(api_key=server.api_key, base_url=server.url) as client:
                stored: int = await script.async_service(client)
                return stored

        assert asyncio.run(service()) == 2 + 3


def test_the_public_names_and_help_on_a_clients_parts() -> None:
    import pydoc

    from synap.bulk import BulkFailure, BulkSummary, CheckpointError
    from synap.memories.models import CreateMemoryRequest

    assert synap.BulkSummary is BulkSummary
    assert synap.BulkFailure is BulkFailure
    assert synap.CheckpointError is CheckpointError
    assert synap.CreateMemoryRequest is CreateMemoryRequest
    assert {"BulkSummary", "BulkFailure", "CheckpointError", "CreateMemoryRequest"} <= set(
        synap.__all__
    )
    # On the class, a client's parts are documented (help() used to raise AttributeError).
    assert "record_messages_bulk" in pydoc.render_doc(
        synap.AsyncSynap.conversation, renderer=pydoc.plaintext
    )
    assert "bulk_create" in pydoc.render_doc(synap.Synap.memories, renderer=pydoc.plaintext)
