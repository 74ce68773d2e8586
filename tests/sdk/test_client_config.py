"""Configuration, the https rule, timeouts, `with_options`, closing, the key's secrecy,
logging, and what `import synap` costs, on both facades."""

from __future__ import annotations

import asyncio
import logging
import pickle
import subprocess
import sys
import threading
from typing import Any

import httpx
import pytest

import synap
from synap import _config, _pool
from tests.sdk.conftest import BASE, KEY, Facade, record_args

# The key -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_missing_key_names_the_variable(kind: str) -> None:
    cls = synap.AsyncSynap if kind == "async" else synap.Synap
    with pytest.raises(synap.AuthenticationError, match="SYNAP_API_KEY"):
        cls()
    with pytest.raises(synap.SynapAuthError, match="SYNAP_API_KEY"):
        cls(api_key="   ")


async def test_the_key_comes_from_the_environment(
    facade: Facade, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNAP_API_KEY", "synap_from_env\n")  # as read from a file
    client = facade.build(api_key=None)
    await facade.call("conversation.record_message", client=client, **record_args())
    assert facade.fake.last.headers["authorization"] == "Bearer synap_from_env"
    explicit = facade.build(api_key="synap_explicit")  # the argument wins
    await facade.call("conversation.record_message", client=explicit, **record_args())
    assert facade.fake.last.headers["authorization"] == "Bearer synap_explicit"


@pytest.mark.parametrize("bad", ["synap key", "synap_\u00e9", "synap_\x00"])
def test_a_key_that_cannot_be_a_header_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(synap.AuthenticationError) as caught:
        synap.Synap(api_key=bad)
    assert bad not in str(caught.value)


# Base URL and the https rule ---------------------------------------------------------------


def test_base_url_order_argument_then_client_then_env_then_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert synap.Synap(api_key="k").base_url == "https://synap-cloud-prod.maximem.ai"
    monkeypatch.setenv("SYNAP_BASE_URL", "https://env.test")
    assert synap.Synap(api_key="k").base_url == "https://env.test"
    own = httpx.Client(base_url="https://own.test")
    assert synap.Synap(api_key="k", http_client=own).base_url == "https://own.test"
    assert synap.Synap(api_key="k", base_url="https://arg.test").base_url == "https://arg.test"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:8000", "http://127.9.9.9"],
)
def test_plain_http_is_fine_on_loopback(url: str) -> None:
    assert synap.Synap(api_key="k", base_url=url).base_url.startswith("http://")


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("url", ["http://synap.example.com", "http://10.0.0.5:8000"])
def test_plain_http_elsewhere_is_refused_unless_allowed(
    kind: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = synap.AsyncSynap if kind == "async" else synap.Synap
    with pytest.raises(synap.InvalidInputError) as caught:
        cls(api_key="k", base_url=url)
    assert caught.value.field == "base_url"
    assert "allow_insecure_http" in str(caught.value)
    monkeypatch.setenv("SYNAP_BASE_URL", url)
    with pytest.raises(synap.InvalidInputError):
        cls(api_key="k")
    assert cls(api_key="k", allow_insecure_http=True).base_url.startswith("http://")


@pytest.mark.parametrize("url", ["ftp://synap.test", "synap.test", "https://", "http://[bad"])
def test_base_url_must_be_an_http_url(url: str) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        synap.Synap(api_key="k", base_url=url)
    assert caught.value.field == "base_url"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_http_client_of_the_wrong_kind_is_refused(kind: str) -> None:
    if kind == "async":
        with pytest.raises(synap.InvalidInputError) as caught:
            synap.AsyncSynap(api_key="k", http_client=httpx.Client())  # type: ignore[arg-type]
    else:
        with pytest.raises(synap.InvalidInputError) as caught:
            synap.Synap(api_key="k", http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    assert caught.value.field == "http_client"


@pytest.mark.parametrize("value", [-1, 1.5, "2", True, None])
def test_max_retries_must_be_a_count(value: Any) -> None:
    with pytest.raises(synap.InvalidInputError) as caught:
        synap.Synap(api_key="k", max_retries=value)
    assert caught.value.field == "max_retries"


# Timeouts ------------------------------------------------------------------------------------


def timeout_of(request: httpx.Request) -> dict[str, Any]:
    timeouts: dict[str, Any] = request.extensions["timeout"]
    return timeouts


async def test_default_timeouts_are_finite(facade: Facade) -> None:
    client = facade.build(http_client=None, base_url="https://synap.test")
    assert client.timeout == httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)
    await facade.close(client)


async def test_timeouts_per_client_and_per_call(facade: Facade) -> None:
    client = facade.build(timeout=7)
    await facade.call("conversation.record_message", client=client, **record_args())
    assert timeout_of(facade.fake.last) == {"connect": 7, "read": 7, "write": 7, "pool": 7}
    await facade.call(
        "conversation.record_message",
        client=client,
        **record_args(),
        timeout=httpx.Timeout(2.0, read=20.0),
    )
    assert timeout_of(facade.fake.last) == {"connect": 2, "read": 20, "write": 2, "pool": 2}
    await facade.call("memories.batch_create", [{"document": "x"}], client=client, timeout=None)
    assert timeout_of(facade.fake.last) == dict.fromkeys(("connect", "read", "write", "pool"))
    await facade.call("conversation.record_message", client=client, **record_args())
    assert timeout_of(facade.fake.last)["read"] == 7  # a call's timeout is its own


async def test_an_http_clients_own_timeout_is_the_default(facade: Facade) -> None:
    transport = httpx.MockTransport(facade.fake)
    own = (
        httpx.AsyncClient(transport=transport, timeout=3.0)
        if facade.is_async
        else httpx.Client(transport=transport, timeout=3.0)
    )
    client = facade.build(http_client=own)
    await facade.call("conversation.record_message", client=client, **record_args())
    assert timeout_of(facade.fake.last)["read"] == 3.0


async def test_concurrent_calls_keep_their_own_timeouts() -> None:
    seen: dict[str, float] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.001)  # let the other calls interleave
        seen[request.headers["x-correlation-id"]] = timeout_of(request)["read"]
        return httpx.Response(401, json={"detail": "no"})

    client = synap.AsyncSynap(
        api_key="k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    async with client:
        calls = [
            client.conversation.record_message(
                **record_args(), timeout=float(i + 1), correlation_id=f"call-{i}"
            )
            for i in range(20)
        ]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, synap.AuthenticationError) for o in outcomes)
    assert seen == {f"call-{i}": float(i + 1) for i in range(20)}


def test_threads_keep_their_own_timeouts() -> None:
    seen: dict[str, float] = {}
    barrier = threading.Barrier(8, timeout=5)

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.headers["x-correlation-id"]] = timeout_of(request)["read"]
        return httpx.Response(401, json={"detail": "no"})

    client = synap.Synap(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )

    def work(i: int) -> None:
        barrier.wait()
        with pytest.raises(synap.AuthenticationError):
            client.conversation.record_message(
                **record_args(), timeout=float(i + 1), correlation_id=f"t-{i}"
            )

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {f"t-{i}": float(i + 1) for i in range(8)}


# with_options and closing --------------------------------------------------------------------


async def test_with_options_shares_the_connection_pool(facade: Facade) -> None:
    client = facade.client
    quick = client.with_options(timeout=1.5)
    assert type(quick) is type(client)
    assert quick._transport.conn is client._transport.conn  # one httpx client, one pool
    assert quick._transport.conn.http is client._transport.conn.http
    await facade.call("conversation.record_message", client=quick, **record_args())
    assert timeout_of(facade.fake.last)["read"] == 1.5
    await facade.call("conversation.record_message", client=client, **record_args())
    assert timeout_of(facade.fake.last)["read"] != 1.5
    assert quick.base_url == client.base_url
    assert quick.max_retries == client.max_retries


@pytest.mark.parametrize("exit_by", ["close", "context"])
async def test_closing_closes_the_owned_client(facade: Facade, exit_by: str) -> None:
    cls = synap.AsyncSynap if facade.is_async else synap.Synap
    client = cls(api_key="k", base_url=BASE)
    copy = client.with_options(max_retries=0)
    if exit_by == "close":
        await facade.close(client)
        await facade.close(client)  # idempotent
    elif facade.is_async:
        async with client as entered:
            assert entered is client
    else:
        with client as entered:
            assert entered is client
    assert client._transport.conn.closed
    assert copy._transport.conn.closed
    with pytest.raises(synap.SynapError, match="closed"):
        await facade.call("conversation.record_message", client=copy, **record_args())


async def test_a_callers_http_client_is_left_open(facade: Facade) -> None:
    own = facade.http_client()
    client = facade.build(http_client=own)
    await facade.close(client)
    assert not own.is_closed
    await facade.call("conversation.record_message", client=client, **record_args())
    if isinstance(own, httpx.AsyncClient):
        await own.aclose()
    else:
        own.close()
    with pytest.raises(synap.SynapError):
        await facade.call("conversation.record_message", client=client, **record_args())


async def test_a_callers_http_client_still_works_for_its_own_requests(facade: Facade) -> None:
    own = facade.http_client()
    facade.build(http_client=own)
    facade.fake.then(httpx.Response(204))
    request = own.build_request("GET", "https://elsewhere.test/health")
    response = own.send(request)
    if not isinstance(response, httpx.Response):
        response = await response
    assert "authorization" not in facade.fake.last.headers  # the key only goes to SDK calls
    assert facade.fake.last.extensions["timeout"] == own.timeout.as_dict()


async def test_maximem_sdk_lifecycle() -> None:
    own = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(401)))
    sdk = synap.MaximemSynapSDK(api_key="synap_k", base_url=BASE)
    assert isinstance(sdk, synap.AsyncSynap)
    await sdk.initialize()
    await sdk.initialize()  # harmless twice
    await sdk.shutdown()
    assert sdk._transport.conn.closed
    with pytest.raises(synap.SynapError, match="shut down"):
        await sdk.initialize()
    async with synap.MaximemSynapSDK(api_key="synap_k", http_client=own) as entered:
        await entered.initialize()
        with pytest.raises(synap.AuthenticationError):
            await entered.conversation.record_message(**record_args())
    await own.aclose()


# The blocking facade and event loops --------------------------------------------------------


def test_the_blocking_facade_never_starts_an_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the blocking facade started an event loop")

    monkeypatch.setattr(asyncio, "new_event_loop", forbidden)
    monkeypatch.setattr(asyncio, "run", forbidden)
    monkeypatch.setattr(asyncio, "get_event_loop", forbidden)
    monkeypatch.setattr(asyncio.events, "new_event_loop", forbidden)
    answers = iter([httpx.Response(503), httpx.ReadTimeout("slow")])

    def handler(request: httpx.Request) -> httpx.Response:
        nxt = next(answers, None)
        if isinstance(nxt, Exception):
            raise nxt
        if nxt is not None:
            return nxt
        from tests.sdk.conftest import answer_like_the_service

        return answer_like_the_service(request)

    with synap.Synap(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as client:
        client.conversation.record_message(**record_args())  # after a 503 and a timeout
        client.conversation.record_messages_batch([{**record_args(), "role": "assistant"}])
        client.memories.batch_create([{"document": "x"}])


async def test_the_blocking_facade_works_inside_a_running_loop() -> None:
    from tests.sdk.conftest import answer_like_the_service

    transport = httpx.MockTransport(answer_like_the_service)
    with synap.Synap(api_key="k", http_client=httpx.Client(transport=transport)) as client:
        assert client.conversation.record_message(**record_args())["message_id"]


# The key never shows -----------------------------------------------------------------------


async def test_the_key_is_in_no_repr_str_log_or_error(
    facade: Facade, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = facade.client
    facade.fake.then(httpx.Response(503, json={"detail": "busy"}))
    await facade.call("conversation.record_message", **record_args())
    facade.fake.then(httpx.Response(401, json={"detail": "Invalid API key"}))
    with pytest.raises(synap.AuthenticationError) as caught:
        await facade.call("memories.batch_create", [{"document": "x"}])
    error = caught.value
    conn = client._transport.conn
    texts = [
        repr(client),
        str(client),
        repr(client.conversation),
        repr(client.memories),
        repr(client.with_options(timeout=2)),
        repr(client._transport),
        repr(client._transport.conn),
        repr(client._transport.conn),
        repr(conn._user.api if facade.is_async else conn.api()),
        repr(client._transport.conn.http),
        repr(client._transport.conn.http.headers),
        str(error),
        repr(error),
        repr(error.headers),
        repr(error.body),
        repr(error.__cause__),
        repr(pickle.loads(pickle.dumps(error)).__dict__),
        caplog.text,
        *(repr(r.args) for r in caplog.records),
    ]
    for text in texts:
        assert KEY not in text
    assert "retry 1 of 2" in caplog.text  # the retry was logged (at DEBUG)
    assert "attempt 2" in caplog.text
    assert "answered HTTP 503" in caplog.text
    assert "answered HTTP 200" in caplog.text


def test_synap_log_debug_turns_on_the_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("synap")
    monkeypatch.setattr(_config, "_logging_ready", False)
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    monkeypatch.setenv("SYNAP_LOG", "debug")
    synap.Synap(api_key="k")
    assert logger.level == logging.DEBUG
    assert len(logger.handlers) == 1
    synap.Synap(api_key="k")
    assert len(logger.handlers) == 1  # set up once


def test_without_synap_log_the_logger_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("synap")
    monkeypatch.setattr(_config, "_logging_ready", False)
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    synap.Synap(api_key="k")
    assert (logger.level, logger.handlers) == (logging.NOTSET, [])


# Imports and the public surface --------------------------------------------------------------


def test_import_synap_loads_nothing_heavy() -> None:
    code = (
        "import sys, synap\n"
        "heavy = ['synap_api', 'attrs', 'dateutil', 'synap.server', 'synap.cli', 'synap.bulk',"
        " 'starlette', 'uvicorn', 'asyncio']\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "from synap import Synap\n"
        "print([m for m in ('synap_api', 'dateutil', 'synap.server', 'synap.bulk')"
        " if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out == ["[]", "[]"]


def test_every_documented_name_is_public() -> None:
    for name in synap.__all__:
        assert getattr(synap, name) is not None
    from synap.memories.models import CreateMemoryRequest as FromDocsPath

    assert synap.CreateMemoryRequest is FromDocsPath
    assert synap.DocumentType("email") == "email"
    assert synap.MemoryMode("fast") == "fast"
    with pytest.raises(AttributeError):
        _ = synap.NoSuchName  # type: ignore[attr-defined]


def test_bulk_delegates_use_the_bulk_defaults() -> None:
    import inspect

    from synap import bulk
    from synap.conversation import AsyncConversation, Conversation
    from synap.memories import AsyncMemories, Memories

    for method in (
        Conversation.record_messages_bulk,
        AsyncConversation.record_messages_bulk,
        Memories.bulk_create,
        AsyncMemories.bulk_create,
    ):
        assert inspect.signature(method).parameters["concurrency"].default == (
            bulk.DEFAULT_CONCURRENCY
        )


async def test_bulk_delegates_send_through_the_client(facade: Facade) -> None:
    messages = [{**record_args(), "content": f"turn {i}"} for i in range(5)]
    summary = await facade.call("conversation.record_messages_bulk", messages, chunk_size=2)
    assert (summary.total, summary.succeeded, summary.calls) == (5, 5, 3)
    summary = await facade.call("memories.bulk_create", [{"document": "a"}, {"document": 1}])
    assert (summary.total, summary.succeeded, summary.failed) == (2, 1, 1)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_clients_share_one_verifying_tls_context(kind: str) -> None:
    import ssl

    from synap import _tls

    def used(**kwargs: Any) -> list[ssl.SSLContext]:
        """The TLS context of each pool a client opens (the async one: on each async path)."""
        if kind == "sync":
            client = synap.Synap(api_key=KEY, base_url="https://synap.example", **kwargs)
            return [client._transport.conn.http._transport._pool._ssl_context]  # type: ignore[attr-defined]

        async def pools() -> list[ssl.SSLContext]:
            client = synap.AsyncSynap(api_key=KEY, base_url="https://synap.example", **kwargs)
            conn = client._transport.conn
            loop = _pool.running_loop()
            aio = conn._new_route(loop)  # aiohttp's pool
            type(conn).use_aiohttp = False
            try:
                own = conn._new_route(loop)  # the SDK's httpx pool
            finally:
                type(conn).use_aiohttp = True
            contexts = [aio.session.connector._ssl, own.http._transport._pool._ssl_context]
            await aio.aclose()
            await own.aclose()
            return contexts

        return asyncio.run(pools())

    contexts = used() + used()
    assert all(c is _tls.default_ssl_context() for c in contexts)
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED
    assert contexts[0].check_hostname
    own = ssl.create_default_context()
    assert all(c is own for c in used(verify=own))
    assert all(c.verify_mode == ssl.CERT_NONE for c in used(verify=False))


def test_verify_is_checked_and_not_mixed_with_an_http_client() -> None:
    with pytest.raises(synap.InvalidInputError) as info:
        synap.Synap(api_key=KEY, base_url=BASE, verify="yes")  # type: ignore[arg-type]
    assert info.value.field == "verify"
    with pytest.raises(synap.InvalidInputError, match="configure TLS on your http_client"):
        synap.Synap(api_key=KEY, base_url=BASE, verify=False, http_client=httpx.Client())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_plain_http_client_loads_no_ca_bundle_and_trusts_nothing(kind: str) -> None:
    import os
    import ssl
    import subprocess
    import sys

    # A fresh interpreter: the first client of a process to the local server builds no
    # verifying context (the CA bundle is what makes a first client slow).
    cls = "Synap" if kind == "sync" else "AsyncSynap"
    code = (
        "import synap\nfrom synap import _tls\n"
        f"client = synap.{cls}(api_key='synap_x', base_url='http://127.0.0.1:9')\n"
        "context = client._transport.conn.ssl\n"  # what every pool of the client is built with
        "assert _tls._context is None, 'the CA bundle was loaded'\n"
        "assert context is _tls.trust_nothing_context()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    # With a proxy in the environment httpx may speak TLS to it: the real context then.
    proxied = code.replace("assert _tls._context is None, 'the CA bundle was loaded'\n", "")
    proxied = proxied.replace("_tls.trust_nothing_context()", "_tls.default_ssl_context()")
    env["HTTPS_PROXY"] = "https://proxy.invalid:3128"
    done = subprocess.run([sys.executable, "-c", proxied], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    # That context still verifies (were it ever used) and trusts no certificate at all.
    from synap import _tls

    nothing = _tls.trust_nothing_context()
    assert nothing.verify_mode == ssl.CERT_REQUIRED
    assert nothing.check_hostname
    assert nothing.cert_store_stats()["x509_ca"] == 0
    # The caller's verify= still wins over it.
    own = ssl.create_default_context()
    client = (synap.Synap if kind == "sync" else synap.AsyncSynap)(
        api_key=KEY, base_url="http://127.0.0.1:9", verify=own
    )
    assert client._transport.conn.ssl is own  # every pool of this client is built with it


def test_the_async_twin_of_a_blocking_transport_has_its_options() -> None:
    """The blocking recorder sends through this twin: the same service, key, instance id,
    timeout, retries, TLS and pool size, on a pool of its own; none for a caller's client."""
    import ssl

    context = ssl.create_default_context()
    client = synap.Synap(
        api_key="synap_twin",
        base_url="https://synap.example",
        instance_id="inst-7",
        verify=context,
        max_connections=12,
    ).with_options(timeout=httpx.Timeout(3, connect=1), max_retries=5)
    ours = client.conversation._transport
    twin = ours.async_twin()
    assert twin is not None
    assert twin.conn is not ours.conn
    assert twin.conn.owns_http
    assert twin.conn.base_url == "https://synap.example"
    assert twin.conn.headers == ours.conn.headers
    assert ("X-Instance-ID", "inst-7") in twin.conn.headers
    assert ("Authorization", "Bearer synap_twin") in twin.conn.headers
    assert (twin.timeout, twin.policy) == (ours.timeout, ours.policy)
    assert twin.policy.max_retries == 5
    assert (twin.conn.ssl, twin.conn.max_connections) == (context, 12)
    client.close()
    with httpx.Client() as http:
        theirs = synap.Synap(
            api_key="synap_twin", base_url="https://synap.example", http_client=http
        )
        assert theirs.conversation._transport.async_twin() is None
