"""`async with AsyncSynap()` opens the running loop's pool on entry: a service entering the
client in its lifespan pays aiohttp's import (150 ms or so, the event loop blocked) at start-up
instead of on its first request. Each case runs in a fresh interpreter, so that nothing is
imported yet."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
import synap

async def main():
    client = synap.AsyncSynap(api_key="synap_" + "0" * 32, base_url="http://127.0.0.1:9")
    before = "aiohttp" in sys.modules
    async with client:
        route = client._transport.conn._route
        print(before, "aiohttp" in sys.modules, type(route).__name__)
"""


def run(runner: str, program: str = PROGRAM) -> list[str]:
    """What `program` then `runner` print, run in a fresh interpreter, as words."""
    source = textwrap.dedent(program) + runner
    done = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    return done.stdout.split()


def test_entering_under_asyncio_opens_the_aiohttp_pool() -> None:
    assert run("import asyncio\nasyncio.run(main())\n") == ["False", "True", "AiohttpRoute"]


def test_entering_under_trio_opens_the_httpx_pool_without_importing_aiohttp() -> None:
    assert run("import trio\ntrio.run(main)\n") == ["False", "False", "_HttpxRoute"]


def test_the_vendor_entry_points_initialize_opens_it_too() -> None:
    program = """
import sys
import synap

async def main():
    sdk = synap.MaximemSynapSDK(api_key="synap_" + "0" * 32, base_url="http://127.0.0.1:9")
    await sdk.initialize()
    print("aiohttp" in sys.modules, type(sdk._transport.conn._route).__name__)
    await sdk.shutdown()
"""
    assert run("import asyncio\nasyncio.run(main())\n", program) == ["True", "AiohttpRoute"]
