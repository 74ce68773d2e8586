"""One AsyncSynap, many event loops: a module-level client used by several `asyncio.run()`
calls (scripts, pytest-asyncio's function loops). Each loop gets its own pool, closed as that
loop ends; a pool whose loop closed without that is dropped untouched. No call fails, nothing
is stored twice, and no ResourceWarning or "Unclosed ..." report appears."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import uuid
import warnings
from typing import Any

import httpx
import pytest

import synap
from synap.server import LocalServer
from tests.sdk.conftest import async_synap


def record(client: synap.AsyncSynap, i: int) -> Any:
    return client.conversation.record_message(str(uuid.uuid4()), "user", f"run {i}", "u", "c")


class Leaks:
    """Everything a leaked socket, session or transport would report."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
        self.unraisable: list[str] = []
        monkeypatch.setattr(sys, "unraisablehook", lambda u: self.unraisable.append(repr(u)))
        caplog.set_level(logging.DEBUG, logger="asyncio")
        self.caplog = caplog
        self._catch = warnings.catch_warnings(record=True)

    def __enter__(self) -> Leaks:
        self.warned = self._catch.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc: object) -> None:
        gc.collect()
        self._catch.__exit__(*exc)

    def check(self) -> None:
        assert [w for w in self.warned if issubclass(w.category, ResourceWarning)] == []
        assert self.unraisable == []
        assert [r.getMessage() for r in self.caplog.records if "nclosed" in r.getMessage()] == []


@pytest.mark.parametrize("send_path", ["async", "async-httpx"], indirect=True)
def test_one_client_in_four_asyncio_runs(
    send_path: str,
    synap_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Leaks(monkeypatch, caplog) as leaks:
        client = async_synap(send_path, api_key=synap_server.api_key, base_url=synap_server.url)
        conn = client._transport.conn  # made outside any loop, like a module-level client
        for i in range(4):
            asyncio.run(record(client, i))
            assert conn._routes == {}  # that loop's pool was closed as the loop ended
        # A loop closed without running its async generators cannot close its pool: the
        # next loop leaves that pool alone (it is never used nor closed from elsewhere).
        loop = asyncio.new_event_loop()
        loop.run_until_complete(record(client, 4))
        loop.close()
        asyncio.run(record(client, 5))
        del loop
    leaks.check()
    assert synap_server.store is not None
    assert synap_server.store.counts()["messages"] == 6


def test_a_callers_client_from_a_closed_loop_is_refused_before_sending(
    synap_server: LocalServer,
) -> None:
    http = httpx.AsyncClient()  # made outside a loop, first used by the first asyncio.run()
    client = synap.AsyncSynap(
        api_key=synap_server.api_key, base_url=synap_server.url, http_client=http
    )
    asyncio.run(record(client, 0))
    with pytest.raises(synap.SynapError, match="event loop that has closed"):
        asyncio.run(record(client, 1))
    assert synap_server.store is not None
    assert synap_server.store.counts()["messages"] == 1  # the refused call sent nothing


def test_a_callers_client_without_open_connections_may_change_loops(
    synap_server: LocalServer,
) -> None:
    async def run(i: int) -> None:
        async with httpx.AsyncClient() as http:
            client = synap.AsyncSynap(
                api_key=synap_server.api_key, base_url=synap_server.url, http_client=http
            )
            await record(client, i)

    for i in range(3):
        asyncio.run(run(i))
    assert synap_server.store is not None
    assert synap_server.store.counts()["messages"] == 3
