"""Samples for bench rows 8: what a client costs to build, and what the pytest fixtures cost.

Used by `scripts/bench.py` (which turns the samples into rows); standard library only here, the
contenders run in child processes:

- Client start: a fresh interpreter imports the library (not timed), then times its first
  client and the median of the next ones. `synap.Synap()` / `synap.AsyncSynap()` against
  `httpx.Client()` / `httpx.AsyncClient()`, the same machine, alternating child by child.
- Fixture cost: pytest in a subprocess on a generated folder of its own (its own `pytest.ini`,
  none of this repository's config) runs N tests that each record one message through
  `synap_client` (or `async_synap_client`), against N tests that do nothing; the difference
  of the two run loops' wall times (the worker's one server start included) over N is what
  the fixtures cost a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CLIENTS = {
    "httpx.Client()": ("import httpx", "httpx.Client()"),
    "synap.Synap()": ("import httpx, synap", "synap.Synap(api_key='synap_bench')"),
    "httpx.AsyncClient()": ("import httpx", "httpx.AsyncClient()"),
    "synap.AsyncSynap()": ("import httpx, synap", "synap.AsyncSynap(api_key='synap_bench')"),
}

_CLIENT_CHILD = """
import json, time
{imports}
start = time.perf_counter()
kept = [{build}]
first = time.perf_counter() - start
later = []
for _ in range({next_clients}):
    start = time.perf_counter()
    kept.append({build})
    later.append(time.perf_counter() - start)
later.sort()
print(json.dumps({{"first_ms": first * 1e3, "next_ms": later[len(later) // 2] * 1e3}}))
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAP_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode as an installed wheel has it
    return env


def client_samples(runs: int, next_clients: int = 200) -> dict[str, list[float]]:
    """`{"<contender>.first_ms": [...], "<contender>.next_ms": [...]}`, one sample per child,
    the contenders alternating (ABCD, then DCBA, ...)."""
    names = list(CLIENTS)
    samples: dict[str, list[float]] = {}
    env = _env()

    def child(name: str) -> dict[str, float]:
        imports, build = CLIENTS[name]
        code = _CLIENT_CHILD.format(imports=imports, build=build, next_clients=next_clients)
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=tempfile.gettempdir(),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        result: dict[str, float] = json.loads(done.stdout)
        return result

    for name in names:  # warm-up: bytecode written, files in the OS cache
        child(name)
    for r in range(runs):
        for name in names if r % 2 == 0 else reversed(names):
            for measure, value in child(name).items():
                samples.setdefault(f"{name}.{measure}", []).append(value)
    return samples


_PLAIN = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_plain(n):
    assert n >= 0
"""

_BLOCKING = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_records(synap_client, n):
    result = synap_client.conversation.record_message(
        conversation_id="9e9e45b2-399a-490a-89f2-9d25e1bf9a1d", role="user", content=f"turn {{n}}",
        user_id="user_alice", customer_id="customer_acme",
    )
    assert result["conversation_message_count"] == 1
"""

_ASYNC_PLAIN = """
import pytest

@pytest.mark.parametrize("n", range({n}))
@pytest.mark.asyncio
async def test_plain(n):
    assert n >= 0
"""

_ASYNC = """
import pytest

@pytest.mark.parametrize("n", range({n}))
@pytest.mark.asyncio
async def test_records(async_synap_client, n):
    result = await async_synap_client.conversation.record_message(
        conversation_id="9e9e45b2-399a-490a-89f2-9d25e1bf9a1d", role="user", content=f"turn {{n}}",
        user_id="user_alice", customer_id="customer_acme",
    )
    assert result["conversation_message_count"] == 1
"""

# The harness's own conftest: times the run loop only (every test's setup, call and teardown),
# leaving out what both suites pay alike (the interpreter, loading plugins, collection).
_TIMER = """
import json
import os
import time

import pytest

TESTS = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        TESTS.append(time.perf_counter() - start)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        loop = time.perf_counter() - start
        with open(os.environ["SYNAP_BENCH_LOOP_FILE"], "w") as out:
            json.dump({"loop": loop, "tests": TESTS}, out)
"""

SUITES = {
    "plain": _PLAIN,
    "synap_client": _BLOCKING,
    "async_plain": _ASYNC_PLAIN,
    "async_synap_client": _ASYNC,
}


def fixture_samples(tests: int, runs: int) -> dict[str, list[float]]:
    """Per suite and run, the suites alternating (ABCD, then DCBA, ...):
    `<suite>.ms_per_test`: the wall time of pytest's run loop over `tests` tests (the one
    server's start included) divided by `tests`; `<suite>.median_ms`: the median test (setup,
    call, teardown); `<suite>.first_ms`: the first test (where the server starts)."""
    env = _env()
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="synap-bench-fixtures-") as tmp:
        folders = {}
        for name, source in SUITES.items():
            folder = Path(tmp) / name
            folder.mkdir()
            (folder / "pytest.ini").write_text(
                "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
            )
            (folder / f"test_{name}.py").write_text(source.format(n=tests))
            (folder / "conftest.py").write_text(_TIMER)
            folders[name] = folder
        loop_file = Path(tmp) / "loop_seconds"
        env["SYNAP_BENCH_LOOP_FILE"] = str(loop_file)

        def run(name: str) -> dict[str, float]:
            folder = folders[name]
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "-p", "no:randomly", "--rootdir", str(folder), str(folder)],
                env=env, cwd=folder, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if done.returncode != 0 or f"{tests} passed" not in done.stdout:
                raise RuntimeError(f"the {name} suite failed:\n{done.stdout[-2000:]}")
            timed = json.loads(loop_file.read_text())
            durations = sorted(timed["tests"])
            return {
                "ms_per_test": timed["loop"] * 1e3 / tests,
                "median_ms": durations[len(durations) // 2] * 1e3,
                "first_ms": timed["tests"][0] * 1e3,
            }

        names = list(SUITES)
        for name in names:  # warm-up
            run(name)
        for r in range(runs):
            for name in names if r % 2 == 0 else reversed(names):
                for measure, value in run(name).items():
                    samples.setdefault(f"{name}.{measure}", []).append(value)
    return samples
