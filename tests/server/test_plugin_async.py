"""The README's test example, as written, under the async runners users have: pytest-asyncio's
default (strict) mode, anyio's plugin alone, pytest-asyncio's auto mode.

Each run is a user's: a temporary folder with its own config (never this repository's, whose
`asyncio_mode = "auto"` would hide a missing mark), pytest in a subprocess, rootdir there.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # each test runs pytest in a subprocess (a few seconds)

# Warnings that mean a client was left open or closed in the wrong loop fail the run.
STRICT_WARNINGS = (
    "-W",
    "error::ResourceWarning",
    "-W",
    "error::pytest.PytestUnraisableExceptionWarning",
)


def readme_example() -> str:
    """The README's fenced Python block that holds the async test."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    (example,) = [b for b in blocks if "async def test_remembers_async" in b]
    return example


def anyio_backends() -> int:
    """How many times anyio's plugin runs an anyio-marked test: once per installed backend
    (asyncio, and trio where it is installed, as in this project's dev extra)."""
    from anyio.pytest_plugin import get_available_backends

    return len(get_available_backends())


def run_user_suite(
    folder: Path, example: str, ini: str, *args: str
) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    (folder / "pytest.ini").write_text(ini)
    (folder / "test_memory.py").write_text(example)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(folder),
            *STRICT_WARNINGS,
            *args,
            str(folder),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_example_has_both_async_marks() -> None:
    example = readme_example()
    assert re.search(r"^@pytest\.mark\.asyncio\b", example, flags=re.MULTILINE)
    assert re.search(r"^@pytest\.mark\.anyio\b", example, flags=re.MULTILINE)
    assert "async_synap_client" in example


def test_as_written_under_pytest_asyncio_strict_mode(tmp_path: Path) -> None:
    # The default config: nothing set, so pytest-asyncio runs in strict mode; anyio's plugin
    # (installed with httpx) runs the anyio-marked test alongside.
    result = run_user_suite(tmp_path / "user", readme_example(), "[pytest]\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"asyncio: mode=(Mode\.)?strict", result.stdout, flags=re.IGNORECASE)
    assert f"{3 + anyio_backends()} passed" in result.stdout


def test_as_written_under_anyio_alone(tmp_path: Path) -> None:
    # No pytest-asyncio at all: its test is the one that does not apply.
    result = run_user_suite(
        tmp_path / "user",
        readme_example(),
        "[pytest]\n",
        "-p",
        "no:asyncio",
        "-k",
        "not test_remembers_async",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{2 + anyio_backends()} passed, 1 deselected" in result.stdout


def test_under_pytest_asyncio_auto_mode_the_mark_is_optional(tmp_path: Path) -> None:
    example = readme_example()
    unmarked = re.sub(r"@pytest\.mark\.asyncio[^\n]*\n", "", example)
    assert unmarked != example
    result = run_user_suite(
        tmp_path / "user",
        unmarked,
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
        "-k",
        "not anyio",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"3 passed, {anyio_backends()} deselected" in result.stdout


@pytest.mark.parametrize("loop_scope", ["module", "session"])
def test_the_client_lives_in_the_tests_loop_at_any_loop_scope(
    tmp_path: Path, loop_scope: str
) -> None:
    tests = f"""
import asyncio

import pytest

LOOPS = []


@pytest.mark.asyncio(loop_scope="{loop_scope}")
async def test_one(async_synap_client):
    LOOPS.append(asyncio.get_running_loop())
    result = await async_synap_client.memories.batch_create([{{"document": "one"}}])
    assert result.succeeded == 1


@pytest.mark.asyncio(loop_scope="{loop_scope}")
async def test_two(async_synap_client, synap_server):
    assert LOOPS == [asyncio.get_running_loop()]  # the same loop as test_one: its scope
    result = await async_synap_client.memories.batch_create([{{"document": "two"}}])
    assert result.succeeded == 1
    assert [d["document"] for d in synap_server.store.snapshot()["documents"]] == ["two"]
"""
    result = run_user_suite(tmp_path / "user", tests, "[pytest]\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_an_unmarked_async_test_is_told_which_mark_to_add(tmp_path: Path) -> None:
    tests = """
async def test_unmarked(async_synap_client):
    pass


def test_not_async(async_synap_client):
    pass
"""
    result = run_user_suite(tmp_path / "user", tests, "[pytest]\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 errors" in result.stdout
    assert result.stdout.count("mark it @pytest.mark.anyio") >= 2
    assert "Traceback" not in result.stdout
