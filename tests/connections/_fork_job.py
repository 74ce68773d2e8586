"""Run by test_fork.py in a fresh interpreter (no threads, so forking is safe): one client,
warmed by a call, then used by this process and by `children` forked ones, `calls` calls each.

    python -m tests.connections._fork_job KIND URL KEY CALLS CHILDREN

KIND: sync | async (the SDK's pools) | sync-own | async-own (a caller's http_client). Prints
one JSON object: for each process, every call's [sent conversation_id, answered
conversation_id, message_id, content] and the errors (repr) it raised.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

import httpx

import synap


def one(pid: int, i: int) -> tuple[str, str]:
    return str(uuid.uuid4()), f"process {pid} call {i}"


def run_sync(client: synap.Synap, calls: int) -> dict[str, Any]:
    done, errors = [], []
    for i in range(calls):
        cid, content = one(os.getpid(), i)
        try:
            r = client.conversation.record_message(cid, "user", content, "u", "c")
            done.append([cid, r["conversation_id"], r["message_id"], content])
        except Exception as exc:
            errors.append(repr(exc))
    return {"pid": os.getpid(), "calls": done, "errors": errors}


async def run_async(client: synap.AsyncSynap, calls: int) -> dict[str, Any]:
    done, errors = [], []

    async def worker(start: int) -> None:
        for i in range(start, calls, 8):  # 8 in flight
            cid, content = one(os.getpid(), i)
            try:
                r = await client.conversation.record_message(cid, "user", content, "u", "c")
                done.append([cid, r["conversation_id"], r["message_id"], content])
            except Exception as exc:
                errors.append(repr(exc))

    await asyncio.gather(*(worker(k) for k in range(8)))
    return {"pid": os.getpid(), "calls": done, "errors": errors}


def main() -> None:
    kind, url, key, calls, children = sys.argv[1:6]
    n, forks = int(calls), int(children)
    loop = asyncio.new_event_loop()  # kept open across the forks, as a running service's is
    if kind.startswith("sync"):
        own = httpx.Client() if kind == "sync-own" else None
        blocking = synap.Synap(api_key=key, base_url=url, http_client=own)

        def work() -> dict[str, Any]:
            return run_sync(blocking, n)
    else:

        async def build() -> synap.AsyncSynap:
            own = httpx.AsyncClient() if kind == "async-own" else None
            return synap.AsyncSynap(api_key=key, base_url=url, http_client=own)

        client = loop.run_until_complete(build())

        def work() -> dict[str, Any]:
            if os.getpid() == parent:
                return loop.run_until_complete(run_async(client, n))
            return asyncio.run(run_async(client, n))  # a child runs its own loop

    parent = os.getpid()
    warm = run_sync(blocking, 1) if kind.startswith("sync") else None
    if warm is None:
        warm = loop.run_until_complete(run_async(client, 1))
    assert not warm["errors"], warm
    pipes = []
    for _ in range(forks):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            result = json.dumps(work()).encode()
            with os.fdopen(write, "wb") as out:
                out.write(result)
            os._exit(0)
        os.close(write)
        pipes.append((pid, read))
    results = [work()]
    for pid, read in pipes:
        with os.fdopen(read, "rb") as got:
            results.append(json.loads(got.read()))
        os.waitpid(pid, 0)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
