"""The cassettes of `tests/cassettes/`: what each one holds, and how it is recorded and replayed.

A scenario is a list of SDK calls with fixed arguments. The same scenario is run through the
blocking facade (`Synap`) and the async one (`AsyncSynap`), each into its own cassette,
`tests/cassettes/<facade>/<scenario>.yaml`:

- recording (`scripts/record_cassettes.py`): against a fresh local server per cassette, or
  the hosted service, with vcrpy in record mode `all`;
- replaying (`tests/replay/test_replay.py`): vcrpy in record mode `none` (a request that is
  not in the cassette fails), `allow_playback_repeats=False`, and every recorded interaction
  must be played.

What a cassette stores (`normalise_request`, `normalise_response`):
- request URIs rewritten to `https://synap.cassette/<path>`, the base URL's own path prefix
  removed, so a cassette replays against any host, port or prefix;
- request headers limited to `Content-Type`, `Idempotency-Key` and `X-Correlation-ID`
  (no `Authorization`: an allow-list, so no new header can leak a secret);
- the API key replaced by `<SYNAP_API_KEY>` wherever it would appear in a body or a response
  header; the `Date`, `Server` and `Set-Cookie` response headers dropped.

Requests match on method, path, JSON body, and the call's `Idempotency-Key` and
`X-Correlation-ID`: every call passes fixed ones (`<facade>-<scenario>-<write>` and
`<facade>-<scenario>-call-<n>`), so they are part of what a cassette pins down, as the exact
request bodies are.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import vcr
from vcr.record_mode import RecordMode
from vcr.request import Request

import synap
from synap.memories.models import CreateMemoryRequest, DocumentType, MemoryMode

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
FACADES = ("sync", "async")
Facade = Literal["sync", "async"]

HOST = "https://synap.cassette"
"""Every recorded request URI starts with this, whatever the server was."""
SECRET = "<SYNAP_API_KEY>"
"""What the API key is replaced with, should it appear in anything recorded."""
WRONG_KEY = "synap_" + "0" * 32
"""A well-formed key no server accepts (the 401 scenarios)."""
REPLAY_KEY = "synap_replayed_not_a_real_key"
"""The key the replay tests configure (it is never compared: Authorization is not stored)."""

KEPT_REQUEST_HEADERS = frozenset(("content-type", "idempotency-key", "x-correlation-id"))
DROPPED_RESPONSE_HEADERS = frozenset(("date", "server", "set-cookie"))


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One SDK call of a scenario.

    `method` is the call's path on a client (`"conversation.record_message"`); `write` names
    the write, which makes its idempotency key (steps naming the same write send the same key);
    `key` picks the valid API key or `WRONG_KEY`; `sends` is False for a call the SDK must
    refuse before sending anything (no interaction is recorded for it).
    """

    method: str
    kwargs: Mapping[str, Any]
    write: str
    key: Literal["valid", "wrong"] = "valid"
    sends: bool = True

    def arguments(self, facade: Facade, scenario: str, index: int) -> dict[str, Any]:
        """The call's arguments with its fixed `idempotency_key` (named after the write, so
        steps repeating a write share it) and `correlation_id` (one per call)."""
        return {
            **self.kwargs,
            "idempotency_key": f"{facade}-{scenario}-{self.write}",
            "correlation_id": f"{facade}-{scenario}-call-{index}",
        }


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    doc: str = ""

    @property
    def interactions(self) -> int:
        """How many HTTP interactions its cassette holds (one per step that sends)."""
        return sum(step.sends for step in self.steps)


def cid(n: int) -> str:
    """Fixed conversation ids (valid UUIDs, readable in a cassette)."""
    return f"00000000-0000-4000-8000-{n:012d}"


ALICE = {"user_id": "user_alice", "customer_id": "customer_acme"}


def _turn(n: int, role: str, content: str, **more: Any) -> dict[str, Any]:
    return {"conversation_id": cid(n), "role": role, "content": content, **ALICE, **more}


def _docs(*documents: CreateMemoryRequest | dict[str, Any]) -> list[Any]:
    return list(documents)


RECORD = "conversation.record_message"
BATCH = "conversation.record_messages_batch"
CREATE = "memories.batch_create"

_TURNS = [
    _turn(20, "user", "What's on my calendar today?"),
    _turn(20, "assistant", "You have two meetings and a dentist appointment."),
    _turn(20, "user", "Move the dentist to Friday.", timestamp="2026-05-16T09:00:00Z"),
]
_BLUE = CreateMemoryRequest(
    document="User: My favorite color is blue.\nAssistant: Noted!",
    document_type="ai-chat-conversation",
    user_id="user_789",
    customer_id="cust_456",
    mode="fast",
)
_EMAIL = {
    "document": {"subject": "Offsite", "body": "The offsite moves to Lisbon."},
    "document_type": DocumentType.EMAIL,
    "document_id": "doc_given_1",
    "document_created_at": datetime.datetime(2026, 5, 16, 9, 30, tzinfo=datetime.UTC),
    "user_id": "user_789",
    "mode": MemoryMode.LONG_RANGE,
    "metadata": {"source": "imap"},
}
_BAD_TYPE = CreateMemoryRequest(document="Q3 numbers", document_type="spreadsheet")

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "record_message_success",
        (
            Step(
                RECORD,
                {
                    "conversation_id": cid(1),
                    "role": "user",
                    "content": "I prefer dark mode and concise answers.",
                    **ALICE,
                    "metadata": {"channel": "web"},
                },
                "user-turn",
            ),
            Step(
                RECORD,
                {
                    "conversation_id": cid(1),
                    "role": "assistant",
                    "content": "Got it. I'll keep answers short and assume dark mode.",
                    **ALICE,
                },
                "assistant-turn",
            ),
            Step(
                RECORD,
                {
                    "conversation_id": cid(1),
                    "role": "user",
                    "content": "And in the new session?",
                    **ALICE,
                    "session_id": "session-2",
                },
                "new-session",
            ),
        ),
        "a user turn, the assistant's reply (same session), a turn in a session of ours",
    ),
    Scenario(
        "record_message_401",
        (Step(RECORD, _turn(2, "user", "hi"), "wrong-key", key="wrong"),),
    ),
    Scenario(
        "record_message_422",
        (
            # B2B: the server requires customer_id on record_message; the SDK leaves it to it.
            Step(RECORD, {**_turn(3, "user", "hi"), "customer_id": None}, "no-customer"),
            Step(RECORD, _turn(3, "system", "hi"), "bad-role", sends=False),
            Step(
                RECORD,
                {**_turn(3, "user", "hi"), "conversation_id": "conv_2026_05_16_alice"},
                "not-a-uuid",
                sends=False,
            ),
        ),
        "the server's 422, then two calls the SDK refuses without sending",
    ),
    Scenario(
        "record_message_replay",
        (
            Step(RECORD, _turn(4, "user", "Remember: the cat is called Miso."), "once"),
            Step(RECORD, _turn(4, "user", "Remember: the cat is called Miso."), "once"),
            Step(RECORD, _turn(4, "user", "Remember: the dog is called Tofu."), "once"),
        ),
        "a repeated Idempotency-Key replays the first answer; with another body it is a 409",
    ),
    Scenario(
        "record_messages_batch_success",
        (Step(BATCH, {"messages": _TURNS}, "batch"),),
    ),
    Scenario(
        "record_messages_batch_rejection",
        (
            Step(
                BATCH,
                {
                    "messages": [
                        _turn(21, "user", "first"),
                        {**_turn(21, "assistant", "no customer"), "customer_id": None},
                        _turn(21, "user", "third"),
                    ]
                },
                "one-rejected",
            ),
            Step(BATCH, {"messages": []}, "empty", sends=False),
            Step(
                BATCH,
                {"messages": [_turn(21, "user", "ok"), _turn(21, "System", "bad role")]},
                "bad-role",
                sends=False,
            ),
        ),
        "the server rejects one entry (B2B, no customer_id); two batches the SDK refuses",
    ),
    Scenario(
        "record_messages_batch_401",
        (Step(BATCH, {"messages": _TURNS[:1]}, "wrong-key", key="wrong"),),
    ),
    Scenario(
        "record_messages_batch_replay",
        (
            Step(BATCH, {"messages": _TURNS[:2]}, "once"),
            Step(BATCH, {"messages": _TURNS[:2]}, "once"),
            Step(BATCH, {"messages": _TURNS[1:]}, "once"),
        ),
    ),
    Scenario(
        "batch_create_success",
        (Step(CREATE, {"documents": _docs(_BLUE, _EMAIL), "fail_fast": False}, "batch"),),
    ),
    Scenario(
        "batch_create_rejection",
        (
            # The invalid document is reported in place and never sent: the request has two.
            Step(
                CREATE,
                {"documents": _docs(_BLUE, _BAD_TYPE, _EMAIL), "fail_fast": False},
                "one-rejected",
            ),
            Step(
                CREATE,
                {"documents": _docs(_BLUE, _BAD_TYPE), "fail_fast": True},
                "fail-fast",
                sends=False,
            ),
            Step(
                CREATE,
                {"documents": [{"document": f"note {i}"} for i in range(101)]},
                "too-many",
                sends=False,
            ),
            Step(CREATE, {"documents": []}, "empty", sends=False),
        ),
        "a document refused in place (fail_fast=False); fail_fast, 101 and 0 documents refused",
    ),
    Scenario(
        "batch_create_401",
        (Step(CREATE, {"documents": _docs(_BLUE)}, "wrong-key", key="wrong"),),
    ),
    Scenario(
        "batch_create_replay",
        (
            Step(CREATE, {"documents": _docs(_BLUE)}, "once"),
            Step(CREATE, {"documents": _docs(_BLUE)}, "once"),
            Step(CREATE, {"documents": _docs(_EMAIL)}, "once"),
        ),
    ),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def cassette_path(facade: Facade, name: str, root: Path = CASSETTES) -> Path:
    return root / facade / f"{name}.yaml"


# --- running a scenario ----------------------------------------------------------------------


def _method(client: Any, path: str) -> Callable[..., Any]:
    target = client
    for part in path.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def run_sync(scenario: Scenario, *, base_url: str, api_key: str) -> list[Any]:
    """Each step through `synap.Synap`: its result, or the `SynapError` it raised."""
    # No retries: one interaction per call, recorded and replayed.
    options: dict[str, Any] = {"base_url": base_url, "max_retries": 0}
    outcomes: list[Any] = []
    with synap.Synap(api_key, **options) as valid, synap.Synap(WRONG_KEY, **options) as wrong:
        for index, step in enumerate(scenario.steps):
            method = _method(valid if step.key == "valid" else wrong, step.method)
            try:
                outcomes.append(method(**step.arguments("sync", scenario.name, index)))
            except synap.SynapError as error:
                outcomes.append(error)
    return outcomes


async def run_async(scenario: Scenario, *, base_url: str, api_key: str) -> list[Any]:
    """Each step through `synap.AsyncSynap`: its result, or the `SynapError` it raised."""
    options: dict[str, Any] = {"base_url": base_url, "max_retries": 0}
    outcomes: list[Any] = []
    async with (
        synap.AsyncSynap(api_key, **options) as valid,
        synap.AsyncSynap(WRONG_KEY, **options) as wrong,
    ):
        for index, step in enumerate(scenario.steps):
            method = _method(valid if step.key == "valid" else wrong, step.method)
            try:
                outcome = method(**step.arguments("async", scenario.name, index))
                assert inspect.isawaitable(outcome)
                outcomes.append(await outcome)
            except synap.SynapError as error:
                outcomes.append(error)
    return outcomes


def run(facade: Facade, scenario: Scenario, *, base_url: str, api_key: str) -> list[Any]:
    """Run a scenario through one facade (the async one in a fresh event loop)."""
    if facade == "sync":
        return run_sync(scenario, base_url=base_url, api_key=api_key)
    return asyncio.run(run_async(scenario, base_url=base_url, api_key=api_key))


# --- what is stored --------------------------------------------------------------------------


def _scrub(text: bytes | str | None, secrets: Sequence[str]) -> bytes | str | None:
    for secret in secrets:
        if isinstance(text, bytes):
            text = text.replace(secret.encode(), SECRET.encode())
        elif isinstance(text, str):
            text = text.replace(secret, SECRET)
    return text


def normalise_request(base_url: str, secrets: Sequence[str] = ()) -> Callable[[Request], Request]:
    """vcrpy's `before_record_request`: fixed host, base path removed, allow-listed headers,
    secrets scrubbed. vcrpy applies it to live requests before matching too."""
    prefix = urlsplit(base_url).path.rstrip("/")

    def normalise(request: Request) -> Request:
        request = copy.deepcopy(request)
        parts = urlsplit(request.uri)
        path = parts.path
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        request.uri = urlunsplit((*urlsplit(HOST)[:2], path, parts.query, ""))
        request.headers = {  # names in lower case: as httpx writes them, whichever path sent
            name.lower(): value
            for name, value in request.headers.items()
            if name.lower() in KEPT_REQUEST_HEADERS
        }
        request.body = _scrub(request.body, secrets)
        return request

    return normalise


def normalise_response(secrets: Sequence[str] = ()) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """vcrpy's `before_record_response`: noise headers dropped, secrets scrubbed (keeping
    `Content-Length` true to the body)."""

    def normalise(response: dict[str, Any]) -> dict[str, Any]:
        body = _scrub(response["body"]["string"], secrets)
        response["body"]["string"] = body
        headers: dict[str, list[str]] = {}
        for name, values in response["headers"].items():
            if name.lower() in DROPPED_RESPONSE_HEADERS:
                continue
            if name.lower() == "content-length" and body is not None:
                values = [str(len(body))]
            headers[name.lower()] = [str(_scrub(v, secrets)) for v in values]
        response["headers"] = headers
        return response

    return normalise


def _same_call_ids(r1: Request, r2: Request) -> None:
    for name in ("Idempotency-Key", "X-Correlation-ID"):
        first, second = r1.headers.get(name), r2.headers.get(name)
        if first != second:
            raise AssertionError(f"{name}: {first!r} != {second!r}")


MATCH_ON = ("method", "path", "body", "call_ids")


def _vcr(base_url: str, secrets: Sequence[str], **options: Any) -> vcr.VCR:
    config = vcr.VCR(
        match_on=MATCH_ON,
        before_record_request=normalise_request(base_url, secrets),
        before_record_response=normalise_response(secrets),
        decode_compressed_response=True,
        **options,
    )
    config.register_matcher("call_ids", _same_call_ids)
    return config


def replay_cassette(path: Path, base_url: str) -> Any:
    """Strict replay of one cassette (a context manager giving the `vcr.cassette.Cassette`):
    a request missing from it fails, and none is played twice. Whether every interaction was
    played is for the caller to check (`cassette.all_played`)."""
    if not path.is_file():  # record mode none would fail every request; say why up front
        raise FileNotFoundError(f"no cassette {path}: run scripts/record_cassettes.py")
    strict = _vcr(base_url, (), record_mode=RecordMode.NONE)
    return strict.use_cassette(str(path), allow_playback_repeats=False)


@dataclass
class Recorded:
    """What recording one cassette did."""

    path: Path
    statuses: list[int] = field(default_factory=list)


def record(
    facade: Facade, scenario: Scenario, *, base_url: str, api_key: str, root: Path = CASSETTES
) -> Recorded:
    """Run `scenario` against the server at `base_url`, writing its cassette afresh.

    Raises `RuntimeError` when the number of interactions is not one per sending step (a
    retry, a redirect, or a call sent that should have been refused); the cassette in place is
    then left as it was.
    """
    path = cassette_path(facade, scenario.name, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.recording")
    partial.unlink(missing_ok=True)
    try:
        recorder = _vcr(base_url, (api_key,), record_mode=RecordMode.ALL)
        with recorder.use_cassette(str(partial), allow_playback_repeats=False) as cassette:
            run(facade, scenario, base_url=base_url, api_key=api_key)
            statuses = [response["status"]["code"] for response in cassette.responses]
        if len(statuses) != scenario.interactions:
            raise RuntimeError(
                f"{facade}/{scenario.name}: {len(statuses)} interactions recorded, "
                f"expected {scenario.interactions}"
            )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return Recorded(path, statuses)


# --- replaying -------------------------------------------------------------------------------


class CassetteMismatch(AssertionError):
    """A replay that sent a request its cassette does not hold, or left one unplayed."""


def replay(facade: Facade, name: str, *, base_url: str, root: Path = CASSETTES) -> list[Any]:
    """Replay scenario `name` through `facade` from its cassette; return each step's outcome.

    Raises `CassetteMismatch` when a request was not in the cassette (the SDK turns vcrpy's
    refusal into a `SynapError`; its cause says which) or when an interaction was not played.
    """
    return replay_steps(facade, BY_NAME[name], base_url=base_url, root=root)


def replay_steps(
    facade: Facade, scenario: Scenario, *, base_url: str, root: Path = CASSETTES
) -> list[Any]:
    """`replay` of a given scenario, which may differ from the recorded one (for the tests
    that prove replay is strict)."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    path = cassette_path(facade, scenario.name, root)
    with replay_cassette(path, base_url) as cassette:
        outcomes = run(facade, scenario, base_url=base_url, api_key=REPLAY_KEY)
    for index, outcome in enumerate(outcomes):
        cause = getattr(outcome, "__cause__", None)
        if isinstance(cause, CannotOverwriteExistingCassetteException):
            raise CassetteMismatch(
                f"step {index} sent a request {path.name} does not hold: {cause}"
            )
    if not cassette.all_played:
        raise CassetteMismatch(
            f"{path.name}: only {cassette.play_count} of {len(cassette)} interactions were played"
        )
    return outcomes


def recorded(facade: Facade, name: str, root: Path = CASSETTES) -> list[dict[str, Any]]:
    """The interactions of a cassette file as stored (`request` / `response` dicts)."""
    import yaml

    data = yaml.safe_load(cassette_path(facade, name, root).read_text(encoding="utf-8"))
    return list(data["interactions"])
