"""`LocalServer.reset()`: what lets the pytest fixtures share one server between tests. Empty
again, under new keys, and nothing of the earlier test can land in the next one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from synap.server import LocalServer, Service, Store
from synap.server.app import ApiKeys
from synap.server.operations import ApiError
from synap.server.store import StaleRequest, run_admitted
from tests.server._data import MEMORIES_BATCH, MESSAGES, client, document, message

EMPTY = {"conversations": 0, "messages": 0, "documents": 0, "idempotency_keys": 0}


def test_reset_empties_every_table_and_retires_the_key(tmp_path: Path) -> None:
    conversation = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"
    with LocalServer(tmp_path / "synap.db") as server:
        assert server.store is not None
        old_key = server.api_key
        with client(server.url, old_key) as http:
            first = http.post(
                MESSAGES, json=message(conversation), headers={"Idempotency-Key": "k"}
            )
            assert first.json()["conversation_message_count"] == 1
            assert http.post(MEMORIES_BATCH, json={"documents": [document()]}).status_code == 200
            assert server.store.counts() == {**EMPTY, "conversations": 1, "messages": 1,
                                             "documents": 1, "idempotency_keys": 1}  # fmt: skip
            server.reset()
            assert server.store.counts() == EMPTY
            assert server.api_key != old_key
            assert list(server.api_keys) == [server.api_key]
            # The old key is gone, at once, on a connection that was already open.
            late = http.post(MEMORIES_BATCH, json={"documents": [document()]})
            assert late.status_code == 401
        assert server.store.counts() == EMPTY
        with client(server.url, server.api_key) as http:
            # The same conversation starts again at 1; the same idempotency key is unused.
            again = http.post(
                MESSAGES,
                json=message(conversation, content="other"),
                headers={"Idempotency-Key": "k"},
            )
            assert again.status_code == 200
            assert "idempotent-replayed" not in again.headers
            assert again.json()["conversation_message_count"] == 1
        (stored,) = server.store.snapshot()["conversations"]
        assert [m["content"] for m in stored["messages"]] == ["other"]


def test_reset_installs_the_keys_it_is_given(tmp_path: Path) -> None:
    keys = {"synap_admin": None, "synap_acme": "customer_acme"}
    with LocalServer(tmp_path / "synap.db") as server:
        server.reset(keys)
        assert (server.api_keys, server.api_key) == (keys, "synap_admin")
        for key in keys:
            with client(server.url, key) as http:
                body = {"documents": [document(customer_id=None)]}
                assert http.post(MEMORIES_BATCH, json=body).is_success
        assert server.store is not None
        assert [d["customer_id"] for d in server.store.snapshot()["documents"]] == [
            None,
            "customer_acme",
        ]


def test_reset_of_a_stopped_server_empties_its_file_and_keys_apply_on_start(
    tmp_path: Path,
) -> None:
    server = LocalServer(tmp_path / "synap.db")
    with server:
        with client(server.url, server.api_key) as http:
            http.post(MEMORIES_BATCH, json={"documents": [document()]}).raise_for_status()
        server.stop()
        server.reset({"synap_next": None})
        assert Store(tmp_path / "synap.db").counts() == EMPTY
        server.start()
        with client(server.url, "synap_next") as http:
            assert http.post(MEMORIES_BATCH, json={"documents": [document()]}).is_success


def test_a_request_admitted_before_a_clear_cannot_write_after_it(tmp_path: Path) -> None:
    # The HTTP layer's path, without HTTP: authenticate (which gives the epoch the request is
    # admitted in), then the service's work under run_admitted, as the endpoint runs it.
    store = Store(tmp_path / "synap.db")
    keys = ApiKeys({"synap_old": None}, store.epoch)
    service = Service(store)
    caller, epoch = keys.authenticate("Bearer synap_old")
    store.clear()  # the fixture's reset, while that request was still on its way
    keys.replace({"synap_new": None}, store.epoch)
    with pytest.raises(StaleRequest):
        run_admitted(epoch, service.handle, "batch_create", caller, {"documents": [document()]})
    assert store.counts() == EMPTY
    with pytest.raises(ApiError) as refused:
        keys.authenticate("Bearer synap_old")
    assert refused.value.status == 401
    caller, epoch = keys.authenticate("Bearer synap_new")
    reply = run_admitted(epoch, service.handle, "batch_create", caller, {"documents": [document()]})
    assert reply.status == 200
    assert store.counts()["documents"] == 1
    store.close()


def test_the_app_answers_a_stale_request_401(tmp_path: Path) -> None:
    # End to end: the store moves on to a new epoch while the key table still admits requests
    # into the old one, which is what a request admitted just before a clear() carries.
    with LocalServer(tmp_path / "synap.db") as server:
        store = server.store
        assert store is not None
        with client(server.url, server.api_key) as http:
            http.post(MEMORIES_BATCH, json={"documents": [document()]}).raise_for_status()
            store._epoch += 1
            stale = http.post(MEMORIES_BATCH, json={"documents": [document()]})
        assert stale.status_code == 401
        assert stale.json() == {"detail": "Invalid API key"}
        assert store.counts()["documents"] == 1


def test_http_clients_of_the_old_key_get_401_not_a_500() -> None:
    with LocalServer() as server:
        old = server.api_key
        server.reset()
        response = httpx.post(
            server.url + MEMORIES_BATCH,
            json={"documents": [document()]},
            headers={"Authorization": f"Bearer {old}"},
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
