"""B2B and B2C instances, and API keys bound to one customer."""

from __future__ import annotations

from typing import Any

import pytest

from synap.server import LocalServer
from tests.server._data import (
    MEMORIES_BATCH,
    MESSAGES,
    MESSAGES_BATCH,
    client,
    document,
    message,
    new_id,
)


def _customers(server: LocalServer) -> dict[str, list[Any]]:
    assert server.store is not None
    return {
        c["conversation_id"]: [m["customer_id"] for m in c["messages"]]
        for c in server.store.snapshot()["conversations"]
    }


def test_b2b_requires_customer_id_on_record_message(synap_server: LocalServer) -> None:
    with client(synap_server.url, synap_server.api_key) as c:
        for body in (
            message(customer_id=None),
            {k: v for k, v in message().items() if k != "customer_id"},
        ):
            response = c.post(MESSAGES, json=body)
            assert response.status_code == 422
            assert response.json()["detail"] == [
                {
                    "loc": ["body", "customer_id"],
                    "msg": "customer_id is required on B2B instances",
                    "type": "missing",
                }
            ]
    assert _customers(synap_server) == {}


@pytest.mark.synap_server(tenancy="b2c")
def test_b2c_resolves_the_customer_from_the_user(synap_server: LocalServer) -> None:
    conversation = new_id()
    with client(synap_server.url, synap_server.api_key) as c:
        assert c.post(MESSAGES, json=message(conversation, customer_id=None)).status_code == 200
        assert (
            c.post(MESSAGES, json=message(conversation, customer_id="explicit")).status_code == 200
        )
        batch = {"messages": [{"conversation_id": conversation, "role": "user", "content": "x"}]}
        assert c.post(MESSAGES_BATCH, json=batch).json()["succeeded"] == 1
        docs = c.post(MEMORIES_BATCH, json={"documents": [document(customer_id=None)]}).json()
        assert docs["succeeded"] == 1
    assert _customers(synap_server)[conversation] == ["user_alice", "explicit", None]
    assert synap_server.store is not None
    assert synap_server.store.snapshot()["documents"][0]["customer_id"] == "user_789"


def test_b2b_documents_may_have_no_customer(synap_server: LocalServer) -> None:
    with client(synap_server.url, synap_server.api_key) as c:
        body = c.post(MEMORIES_BATCH, json={"documents": [document(customer_id=None)]}).json()
    assert body["succeeded"] == 1
    assert synap_server.store is not None
    assert synap_server.store.snapshot()["documents"][0]["customer_id"] is None


BOUND = {"synap_admin": None, "synap_acme": "customer_acme", "synap_globex": "customer_globex"}


@pytest.mark.synap_server(api_keys=BOUND)
def test_a_bound_key_acts_for_its_customer_only(synap_server: LocalServer) -> None:
    assert synap_server.store is not None
    acme = client(synap_server.url, "synap_acme")
    globex = client(synap_server.url, "synap_globex")
    admin = client(synap_server.url, "synap_admin")
    with acme, globex, admin:
        conversation = new_id()
        # absent customer: the key's; B2B is satisfied by the binding
        assert acme.post(MESSAGES, json=message(conversation, customer_id=None)).status_code == 200
        assert acme.post(MESSAGES, json=message(conversation)).status_code == 200
        before = synap_server.store.counts()
        # another customer named: 403, on each endpoint, nothing stored
        for path, body in [
            (MESSAGES, message(customer_id="customer_globex")),
            (MESSAGES_BATCH, {"messages": [message(), message(customer_id="customer_globex")]}),
            (MEMORIES_BATCH, {"documents": [document(customer_id="customer_acme")]}),
        ]:
            response = (
                acme.post(path, json=body)
                if path != MEMORIES_BATCH
                else globex.post(path, json=body)
            )
            assert response.status_code == 403, path
            assert isinstance(response.json()["detail"], str)
        # writing into another customer's conversation: 403 too
        response = globex.post(MESSAGES, json=message(conversation, customer_id=None))
        assert response.status_code == 403
        batch = {
            "messages": [
                message(new_id(), customer_id=None),
                message(conversation, customer_id=None),
            ]
        }
        assert globex.post(MESSAGES_BATCH, json=batch).status_code == 403
        assert synap_server.store.counts() == before
        # an unbound key may write for any customer
        assert admin.post(MESSAGES, json=message(customer_id="customer_globex")).status_code == 200
        docs = globex.post(MEMORIES_BATCH, json={"documents": [document(customer_id=None)]}).json()
        assert docs["succeeded"] == 1
    assert _customers(synap_server)[conversation] == ["customer_acme", "customer_acme"]
    assert synap_server.store.snapshot()["documents"][-1]["customer_id"] == "customer_globex"


@pytest.mark.synap_server(api_keys=BOUND)
def test_idempotency_keys_are_scoped_per_api_key(synap_server: LocalServer) -> None:
    assert synap_server.store is not None
    headers = {"Idempotency-Key": "same-key"}
    body = message(customer_id="customer_acme")
    with (
        client(synap_server.url, "synap_acme") as acme,
        client(synap_server.url, "synap_admin") as admin,
    ):
        first = acme.post(MESSAGES, json=body, headers=headers)
        # the same key and body under another API key: a write of its own, not acme's answer
        other = admin.post(MESSAGES, json=body, headers=headers)
        again = acme.post(MESSAGES, json=body, headers=headers)
    assert first.status_code == other.status_code == again.status_code == 200
    assert "idempotent-replayed" not in other.headers
    assert other.json()["message_id"] != first.json()["message_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert synap_server.store.counts()["messages"] == 2
