"""schemathesis against the local server's ASGI app, from `openapi/synap.yaml` (schemathesis 4).

Every case schemathesis makes of the three operations (the spec's examples, its coverage
cases, valid and invalid bodies and headers, requests without or with a wrong key) runs
through all of schemathesis' checks: never a 500, a status, content type, headers and body
the spec documents, valid data accepted, invalid data refused. On top, each case's effect on
the database is exactly what its answer says: nothing for a refusal or a replay, one row per
stored item for a 200, never a part of a request.

Two rules of the API shape what "refused" means, both written in the spec:
- the batch endpoints judge entries one by one: a 200 whose `results` mark the invalid entry
  failed refuses that entry (schemathesis, judging the whole body, would expect a 4xx);
- on a B2B instance `customer_id` is required although the schema lets it be null, so a
  schema-valid message without one is refused there: `positive_data_acceptance` runs on the
  B2C instance only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from synap_spec import OPERATIONS, SCHEMAS

from synap.server import Store, create_app
from synap.server.schema import spec_path

KEY = "synap_schemathesis_0123456789abcdef"
# Batch operations by path -> the list their entries are judged in (from the spec's facts).
BATCHES = {
    op.path: prop.name
    for op in OPERATIONS.values()
    if op.request
    for prop in SCHEMAS[op.request].properties
    if "array" in prop.types and prop.items in SCHEMAS
}


class _AppUnderTest:
    """The ASGI app schemathesis calls, bound per tenancy by the `store` fixture (the schema
    and its operations are built at import, before any fixture runs)."""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


APP = _AppUnderTest()
schema = schemathesis.openapi.from_path(str(spec_path()))
schema.app = APP
schema.config.update(base_url="http://testserver")


@pytest.fixture(scope="module", params=["b2c", "b2b"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    db = Store(tmp_path_factory.mktemp(f"schemathesis-{request.param}") / "synap.db")
    APP.target = create_app(db, api_keys={KEY: None}, tenancy=request.param)
    APP.target.state.tenancy = request.param
    yield db
    APP.target = None
    db.close()


def entries_judged_one_by_one(ctx: Any, response: Any, case: Any) -> bool | None:
    """`negative_data_rejection`, except that a batch may refuse an invalid entry in a 200:
    then every entry the case made invalid must be marked failed in `results`."""
    container = BATCHES.get(case.path)
    if container is not None and response.status_code == 200 and case.meta is not None:
        body = response.json()
        mutations = getattr(case.meta.phase.data, "mutations", ())
        indexes = {
            m.path[1]
            for m in mutations
            if len(m.path) >= 2 and m.path[0] == container and isinstance(m.path[1], int)
        }
        if body.get("failed", 0) > 0:
            for index in indexes:
                result = body["results"][index]
                assert result.get("error") or result.get("status") == "failed", (index, result)
            return None
    return negative_data_rejection(ctx, response, case)


def _expected_writes(case: Any, status: int, body: Any, replayed: bool) -> dict[str, int]:
    nothing = {"conversations_touched": 0, "messages": 0, "documents": 0, "idempotency_keys": 0}
    if status != 200 or replayed:
        return nothing
    keyed = any(name.lower() == "idempotency-key" for name in case.headers or {})
    if case.path == "/v1/conversations/messages":
        stored = {"messages": 1, "documents": 0}
    elif case.path == "/v1/conversations/messages/batch":
        stored = {"messages": body["succeeded"], "documents": 0}
    else:
        stored = {"messages": 0, "documents": body["succeeded"]}
    return {**nothing, **stored, "idempotency_keys": int(keyed)}


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_generated_case_is_answered_as_the_spec_says_and_writes_all_or_nothing(
    case: Any, store: Store
) -> None:
    excluded = [negative_data_rejection]
    if APP.target.state.tenancy == "b2b":
        excluded.append(positive_data_acceptance)
    before = store.counts()
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {KEY}"},
        excluded_checks=excluded,
        additional_checks=[entries_judged_one_by_one],
    )
    after = store.counts()
    body = response.json()
    replayed = response.headers.get("idempotent-replayed") == ["true"]  # lists of values
    expected = _expected_writes(case, response.status_code, body, replayed)
    written = {table: after[table] - before[table] for table in before}
    assert written["messages"] == expected["messages"], (response.status_code, body)
    assert written["documents"] == expected["documents"], (response.status_code, body)
    assert written["idempotency_keys"] == expected["idempotency_keys"]
    if expected["messages"] == 0:
        assert written["conversations"] == 0
