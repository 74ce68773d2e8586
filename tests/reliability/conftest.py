"""The reliability suite's shared pieces: the chaos figures of this run, shown at the end of
pytest's report (written as JSON by each chaos test under its tmp dir, and all together to
`$SYNAP_CHAOS_FIGURES` when set), and fast retries."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from synap import _retry

FIGURES = pytest.StashKey[list[dict[str, Any]]]()


@pytest.fixture
def chaos_figures(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Append a chaos test's figures here to have them printed in the run's summary."""
    return request.config.stash.setdefault(FIGURES, [])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if not figures:
        return
    terminalreporter.section("synap chaos figures (tests/reliability)")
    for run in figures:
        terminalreporter.write_line(json.dumps(run, sort_keys=True))
    # SYNAP_CHAOS_FIGURES=path.json keeps this run's figures, all in one file.
    target = os.environ.get("SYNAP_CHAOS_FIGURES")
    if target:
        Path(target).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        terminalreporter.write_line(f"written to {target}")


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries wait at most 20 ms instead of the policy's delay, which is recorded: the list
    holds every delay the SDK asked for (`Retry-After` values included), in order."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        import time

        asked.append(seconds)
        time.sleep(min(seconds, 0.02))

    async def async_sleep(seconds: float) -> None:
        import asyncio

        asked.append(seconds)
        await asyncio.sleep(min(seconds, 0.02))

    monkeypatch.setattr(_retry, "sleep", sleep)
    monkeypatch.setattr(_retry, "async_sleep", async_sleep)
    return asked
