"""Every answer becomes the documented class, on both facades and all three methods; nothing
raw (httpx, KeyError, ValueError, JSON errors) ever escapes a public method."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import synap
from tests.sdk.conftest import CALL_IDS, CALLS, KINDS, STATUSES, Facade, async_synap, record_args


@pytest.mark.parametrize(("status", "cls"), STATUSES)
async def test_each_status_raises_its_class_with_the_answer(
    facade: Facade, status: int, cls: type[synap.SynapError]
) -> None:
    client = facade.build(max_retries=0)
    facade.fake.then(
        httpx.Response(status, json={"detail": f"said {status}"}, headers={"X-Server": "s1"})
    )
    with pytest.raises(synap.SynapError) as caught:
        await facade.call("conversation.record_message", client=client, **record_args())
    error = caught.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.detail == f"said {status}"
    assert error.body == {"detail": f"said {status}"}
    assert error.headers is not None
    assert error.headers["x-server"] == "s1"
    assert error.correlation_id == facade.fake.last.headers["x-correlation-id"]
    assert error.correlation_id in str(error)
    assert f"said {status}" in str(error)
    assert len(facade.fake.requests) == 1


@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_both_auth_names_catch_a_401_from_every_method(
    facade: Facade, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    caught: list[synap.SynapError] = []
    facade.fake.then(httpx.Response(401, json={"detail": "Invalid API key"}))
    try:
        await facade.call(method, *args, **kwargs)
    except synap.SynapAuthError as error:  # the docs' spelling on batch_create
        caught.append(error)
    facade.fake.then(httpx.Response(401, json={"detail": "Invalid API key"}))
    try:
        await facade.call(method, *args, **kwargs)
    except synap.AuthenticationError as error:  # the docs' spelling on the conversation calls
        caught.append(error)
    assert [(e.status_code, e.detail) for e in caught] == [(401, "Invalid API key")] * 2
    assert len(facade.fake.requests) == 2  # 401 is never retried


@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_validation_names_catch_a_422_from_every_method(
    facade: Facade, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    detail = [{"loc": ["body", "x"], "msg": "field required", "type": "missing"}]
    facade.fake.then(httpx.Response(422, json={"detail": detail}))
    with pytest.raises(synap.SynapValidationError) as caught:
        await facade.call(method, *args, **kwargs)
    assert isinstance(caught.value, synap.InvalidInputError)
    assert caught.value.detail == detail
    assert "body.x: field required" in str(caught.value)


HTML = b"<html><head><title>Service Unavailable</title></head><body>oops</body></html>"

MALFORMED_200: dict[str, httpx.Response] = {
    "html": httpx.Response(200, content=HTML, headers={"content-type": "text/html"}),
    "empty": httpx.Response(200, content=b""),
    "json-null": httpx.Response(200, content=b"null"),
    "json-list": httpx.Response(200, json=[1, 2]),
    "empty-object": httpx.Response(200, json={}),
    "not-utf8": httpx.Response(200, content=b"\xff\xfe\xfa{"),
    "truncated": httpx.Response(200, content=b'{"message_id": "c83'),
    "wrong-types": httpx.Response(
        200,
        json={
            "message_id": 5,
            "conversation_id": None,
            "session_id": [],
            "recorded_at": "not a time",
            "total": "two",
            "succeeded": None,
            "failed": {},
            "results": "none",
            "batch_id": "not-a-uuid",
        },
    ),
}


@pytest.mark.parametrize("answer", MALFORMED_200.values(), ids=MALFORMED_200.keys())
@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS, ids=CALL_IDS)
async def test_a_malformed_200_is_a_synap_error_and_not_retried(
    facade: Facade,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    answer: httpx.Response,
) -> None:
    facade.fake.then(answer)
    with pytest.raises(synap.SynapError) as caught:
        await facade.call(method, *args, **kwargs)
    assert type(caught.value) is synap.UnexpectedResponseError
    assert caught.value.status_code == 200
    assert caught.value.__cause__ is not None  # what went wrong reading it is kept
    assert len(facade.fake.requests) == 1  # the write may have happened: the caller decides


ODD_ANSWERS: list[tuple[httpx.Response, type[synap.SynapError]]] = [
    (httpx.Response(520, content=HTML), synap.ServiceUnavailableError),
    (httpx.Response(599, content=b""), synap.ServiceUnavailableError),
    (httpx.Response(302, headers={"Location": "https://x.test/"}), synap.UnexpectedResponseError),
    (httpx.Response(201, json={"message_id": "x"}), synap.UnexpectedResponseError),
    (httpx.Response(204), synap.UnexpectedResponseError),
    (httpx.Response(299, json={}), synap.UnexpectedResponseError),
    (httpx.Response(418, text="teapot"), synap.UnexpectedResponseError),
    (httpx.Response(401, content=HTML), synap.AuthenticationError),
    (httpx.Response(422, text="plain words"), synap.InvalidInputError),
    (httpx.Response(404, json={"detail": {"unexpected": "shape"}}), synap.NotFoundError),
    (httpx.Response(400, json=["not", "an", "object"]), synap.InvalidInputError),
]  # fmt: skip


@pytest.mark.parametrize(("answer", "cls"), ODD_ANSWERS)
async def test_odd_answers_map_by_status(
    facade: Facade, answer: httpx.Response, cls: type[synap.SynapError]
) -> None:
    client = facade.build(max_retries=0)
    facade.fake.then(answer)
    with pytest.raises(synap.SynapError) as caught:
        await facade.call("conversation.record_message", client=client, **record_args())
    assert type(caught.value) is cls
    assert caught.value.status_code == answer.status_code


async def test_an_html_error_page_gives_its_title_as_detail(facade: Facade) -> None:
    client = facade.build(max_retries=0)
    facade.fake.then(httpx.Response(503, content=HTML))
    with pytest.raises(synap.ServiceUnavailableError) as caught:
        await facade.call("conversation.record_message", client=client, **record_args())
    assert caught.value.detail == "Service Unavailable"


NETWORK: list[tuple[Exception, type[synap.SynapError]]] = [
    (httpx.ConnectError("connection refused"), synap.NetworkError),
    (httpx.ConnectTimeout("connect timed out"), synap.NetworkTimeoutError),
    (httpx.ReadTimeout("read timed out"), synap.NetworkTimeoutError),
    (httpx.WriteTimeout("write timed out"), synap.NetworkTimeoutError),
    (httpx.PoolTimeout("pool timed out"), synap.NetworkTimeoutError),
    (httpx.ReadError("connection reset"), synap.NetworkError),
    (httpx.RemoteProtocolError("peer closed connection"), synap.NetworkError),
]


@pytest.mark.parametrize(("exc", "cls"), NETWORK)
async def test_network_failures_are_network_errors_after_retries(
    facade: Facade, exc: Exception, cls: type[synap.SynapError]
) -> None:
    facade.fake.then(exc, exc, exc)
    with pytest.raises(synap.SynapError) as caught:
        await facade.call("conversation.record_message", **record_args())
    assert type(caught.value) is cls
    assert isinstance(caught.value, synap.NetworkError)
    assert caught.value.__cause__ is exc
    assert caught.value.status_code is None
    assert len(facade.fake.requests) == 3  # default max_retries=2


@pytest.mark.parametrize("boom", [RuntimeError("bug"), ValueError("bug"), KeyError("bug")])
async def test_an_unexpected_exception_below_the_sdk_is_a_synap_error(
    facade: Facade, boom: Exception
) -> None:
    facade.fake.then(boom)  # raised by a (custom) transport, after the request was sent
    with pytest.raises(synap.SynapError) as caught:
        await facade.call("conversation.record_message", **record_args())
    assert type(caught.value) is synap.SynapError
    assert caught.value.__cause__ is boom
    assert len(facade.fake.requests) == 1


# Real sockets on loopback: the failures a real transport produces.


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers (stops with the test)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.05)  # accept() wakes up often to see `stop`
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()
    for conn in held:
        conn.close()
    thread.join(5)


async def record_on_real_transport(kind: str, **options: Any) -> None:
    """One record_message through a client on a real socket (send paths: see `KINDS`)."""
    if kind != "sync":
        client = async_synap(kind, api_key="synap_k", **options)
        async with client:
            await client.conversation.record_message(**record_args())
        if kind == "async-own":
            await options_http(client).aclose()
    else:
        with synap.Synap(api_key="synap_k", **options) as blocking:
            blocking.conversation.record_message(**record_args())


def options_http(client: synap.AsyncSynap) -> Any:
    return client._transport.conn.http


@pytest.mark.parametrize("send_path", KINDS, indirect=True)
async def test_connection_refused_is_a_network_error(send_path: str, sleeps: list[float]) -> None:
    kind = send_path
    with pytest.raises(synap.NetworkError) as caught:
        await record_on_real_transport(
            kind, base_url=f"http://127.0.0.1:{unused_port()}", max_retries=1
        )
    assert type(caught.value) is synap.NetworkError
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(sleeps) == 1  # retried once


@pytest.mark.parametrize("send_path", KINDS, indirect=True)
async def test_a_server_that_never_answers_is_a_timeout(send_path: str, silent_server: str) -> None:
    kind = send_path
    with pytest.raises(synap.NetworkTimeoutError) as caught:
        await record_on_real_transport(kind, base_url=silent_server, timeout=0.2, max_retries=1)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
