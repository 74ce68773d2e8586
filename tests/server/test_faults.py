"""Fault injection: each kind observable as a client sees it, counted, deterministic by seed."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from synap.server import KINDS, FaultPlan, LocalServer
from tests.server._data import MESSAGES, assert_valid, client, message


@pytest.mark.parametrize("kind", ["500", "502", "503", "504", "429"])
def test_error_answers_store_nothing(tmp_path: Path, kind: str) -> None:
    plan = FaultPlan({kind: 1.0}, retry_after=7)
    with (
        LocalServer(tmp_path / "synap.db", faults=plan) as server,
        client(server.url, server.api_key) as c,
    ):
        response = c.post(MESSAGES, json=message())
        assert response.status_code == int(kind)
        assert_valid("HTTPError", response.json())
        assert response.headers.get("retry-after") == ("7" if kind == "429" else None)
        assert server.store is not None
        assert server.store.counts()["messages"] == 0
        assert server.fault_counts() == {
            "requests": 1,
            "injected": 1,
            **{k: int(k == kind) for k in KINDS},
        }


def test_drop_before_the_write_loses_the_connection_and_stores_nothing(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "synap.db", faults=FaultPlan({"drop_before": 1.0})) as server:
        with client(server.url, server.api_key) as c, pytest.raises(httpx.RemoteProtocolError):
            c.post(MESSAGES, json=message())
        assert server.store is not None
        assert server.store.counts()["messages"] == 0
        assert server.fault_counts()["drop_before"] == 1


def test_drop_after_the_write_stores_it_and_a_keyed_retry_replays(tmp_path: Path) -> None:
    db = tmp_path / "synap.db"
    key = "the-api-key"
    body = message()
    with LocalServer(db, api_keys={key: None}, faults=FaultPlan({"drop_after": 1.0})) as server:
        with client(server.url, key) as c, pytest.raises(httpx.RemoteProtocolError):
            c.post(MESSAGES, json=body, headers={"Idempotency-Key": "k"})
        assert server.store is not None
        assert server.store.counts()["messages"] == 1  # committed, though the client saw a failure
    with LocalServer(db, api_keys={key: None}) as server, client(server.url, key) as c:
        retry = c.post(MESSAGES, json=body, headers={"Idempotency-Key": "k"})
        assert retry.status_code == 200
        assert retry.headers["idempotent-replayed"] == "true"
        assert server.store is not None
        assert server.store.counts()["messages"] == 1


def test_latency_outlasts_the_read_timeout_and_the_write_lands_late(tmp_path: Path) -> None:
    plan = FaultPlan({"latency": 1.0}, latency_seconds=0.4)
    with LocalServer(tmp_path / "synap.db", faults=plan) as server:
        assert server.store is not None
        with client(server.url, server.api_key, timeout=httpx.Timeout(5, read=0.1)) as c:
            with pytest.raises(httpx.ReadTimeout):
                c.post(MESSAGES, json=message(), headers={"Idempotency-Key": "slow"})
            assert server.store.counts()["messages"] == 0  # not yet
            deadline = time.monotonic() + 5
            while server.store.counts()["messages"] == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
        assert server.store.counts()["messages"] == 1
        assert server.fault_counts()["latency"] == 1


def _statuses(tmp_path: Path, plan: FaultPlan, n: int = 40) -> tuple[list[int], dict[str, int]]:
    with LocalServer(tmp_path / f"{plan.seed}-{time.monotonic_ns()}.db", faults=plan) as server:
        with client(server.url, server.api_key) as c:
            statuses = [c.post(MESSAGES, json=message()).status_code for _ in range(n)]
            c.get("/not-an-endpoint")  # outside the API: neither faulted nor counted
        return statuses, server.fault_counts()


def test_the_same_seed_gives_the_same_faults(tmp_path: Path) -> None:
    plan = FaultPlan({"500": 0.15, "503": 0.15, "429": 0.15}, seed=11, retry_after=0)
    first, counts = _statuses(tmp_path, plan)
    again, counts_again = _statuses(tmp_path, plan)
    other, _ = _statuses(tmp_path, FaultPlan(plan.rates, seed=12, retry_after=0))
    assert first == again
    assert counts == counts_again
    assert first != other
    assert set(first) == {200, 500, 503, 429}
    assert counts["requests"] == 40
    assert counts["injected"] == sum(s != 200 for s in first)
    assert counts["429"] == first.count(429)


def test_fault_plans_parse_and_print_back() -> None:
    plan = FaultPlan.parse(
        "500=0.05, 503=0.1,drop_after=0.05,latency=0.01,latency_seconds=1.5,retry_after=0", seed=9
    )
    assert plan.rates == {"500": 0.05, "503": 0.1, "drop_after": 0.05, "latency": 0.01}
    assert (plan.latency_seconds, plan.retry_after, plan.seed) == (1.5, 0, 9)
    assert FaultPlan.parse(plan.to_spec(), seed=9) == plan
    spread = FaultPlan.every_kind(0.3, seed=1)
    assert set(spread.rates) == set(KINDS)
    assert sum(spread.rates.values()) == pytest.approx(0.3)
    for bad in ("teapot=0.1", "500", "500=x", "500=0.6,503=0.6", "500=-0.1", "latency_seconds=-1"):
        with pytest.raises(ValueError, match=r"\S"):
            FaultPlan.parse(bad)
