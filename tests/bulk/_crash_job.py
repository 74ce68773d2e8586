"""A bulk job that SIGKILLs its own process right after the server answered call KILL_AT
(committed on the server, never seen by the job): the worst moment to die.

    python _crash_job.py URL API_KEY CHECKPOINT KILL_AT sync|async
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import synap
from tests.bulk._support import messages

url, api_key, checkpoint, kill_at, facade = sys.argv[1:]
answered = 0


def maybe_die() -> None:
    global answered
    answered += 1
    if answered == int(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)


class Dying(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        maybe_die()
        return response


class AsyncDying(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        await response.aread()
        maybe_die()
        return response


if facade == "sync":
    with (
        httpx.Client(transport=Dying()) as http,
        synap.Synap(api_key=api_key, base_url=url, http_client=http) as client,
    ):
        client.conversation.record_messages_bulk(messages(1050), checkpoint=checkpoint)
else:

    async def main() -> None:
        async with (
            httpx.AsyncClient(transport=AsyncDying()) as http,
            synap.AsyncSynap(api_key=api_key, base_url=url, http_client=http) as client,
        ):
            await client.conversation.record_messages_bulk(messages(1050), checkpoint=checkpoint)

    asyncio.run(main())
sys.exit("the job was meant to be killed")
