"""Security of the SDK: the API key never shows (repr, str, errors, DEBUG logs, cassettes),
plain http:// only to loopback unless allowed, TLS certificates verified by default."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import os
import pickle
import ssl
import subprocess
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import synap
from synap import InvalidInputError, NetworkError, SynapError
from synap.server import FaultPlan, LocalServer
from tests.reliability._secrets import scan_file, scan_tree
from tests.reliability._support import FACADES, Facade, messages

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "tests" / "cassettes"
KEY = "synap_" + "5ec7e7" * 5 + "ab"  # key-shaped, and easy to spot anywhere


def _ok(_: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "message_id": str(uuid.uuid4()),
            "conversation_id": str(uuid.uuid4()),
            "session_id": "s",
            "recorded_at": "2026-01-01T00:00:00Z",
        },
    )


def _echo_key(request: httpx.Request) -> httpx.Response:
    # A proxy that quotes what it was sent: the key comes back in a body and a header.
    auth = request.headers["authorization"]
    return httpx.Response(
        401, json={"detail": f"Invalid token {auth}"}, headers={"X-Seen-Auth": auth}
    )


def _mocked(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> synap.Synap:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return synap.Synap(api_key=KEY, base_url="https://synap.test", http_client=http, **options)


def _shown(thing: object) -> str:
    """Everything a log line, a traceback or a debugger would show of `thing`."""
    parts = [repr(thing), str(thing)]
    if isinstance(thing, BaseException):
        parts.append("".join(traceback.format_exception(thing)))
        parts.append(repr(pickle.dumps(thing)))
        parts += [repr(v) for v in vars(thing).values()]
    return "\n".join(parts)


def _errors_of_every_kind(server: LocalServer) -> Iterator[SynapError]:
    """One error of each way a call can fail, from real calls where one fits."""
    cid = str(uuid.uuid4())
    calls: list[tuple[Callable[[], Any], str]] = []
    wrong = synap.Synap(api_key=KEY, base_url=server.url)  # a key the server does not know
    calls.append((lambda: wrong.conversation.record_message(cid, "user", "x", "u", "c"), "401"))
    calls.append((lambda: wrong.conversation.record_message(cid, "robot", "x", "u"), "invalid"))
    closed = synap.Synap(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    calls.append((lambda: closed.memories.batch_create([{"document": "x"}]), "network"))
    echo = _mocked(_echo_key, max_retries=0)
    calls.append((lambda: echo.conversation.record_messages_batch(list(messages(2))), "echo"))
    for call, _ in calls:
        with pytest.raises(SynapError) as caught:
            call()
        yield caught.value
    for client in (wrong, closed, echo):
        client.close()


def test_the_key_is_in_no_repr_or_str_of_a_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNAP_API_KEY", KEY)
    blocking = synap.Synap(base_url="http://127.0.0.1:9")
    copy = blocking.with_options(timeout=3.0, max_retries=0)

    async def build() -> list[Any]:
        a = synap.AsyncSynap(base_url="http://127.0.0.1:9")
        sdk = synap.MaximemSynapSDK(base_url="http://127.0.0.1:9")
        await sdk.initialize()
        objects = [a, sdk, a.conversation, a.memories, sdk.with_options(max_retries=1)]
        with pytest.raises(synap.NetworkError):  # opens this loop's pool
            await a.with_options(max_retries=0).conversation.record_message(
                str(uuid.uuid4()), "user", "x", "u", "c"
            )
        routes = list(a._transport.conn._routes.values())
        objects += [a._transport, a._transport.conn, *routes, *(r._api for r in routes)]
        await a.aclose()
        await sdk.shutdown()
        return objects

    objects: list[Any] = [blocking, copy, blocking.conversation, blocking.memories]
    objects += [blocking._transport, blocking._transport.conn, blocking._transport.conn.api()]
    objects += asyncio.run(build())
    for thing in objects:
        assert KEY not in _shown(thing), type(thing)
    blocking.close()


def test_the_key_is_in_no_error_even_when_the_server_echoes_it(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "synap.db") as server:
        errors = list(_errors_of_every_kind(server))
    assert [type(e).__name__ for e in errors] == [
        "AuthenticationError",
        "InvalidInputError",
        "NetworkError",
        "AuthenticationError",
    ]
    for error in errors:
        assert KEY not in _shown(error), repr(error)
    echoed = errors[-1]
    assert echoed.detail == "Invalid token Bearer [redacted]"  # still says what happened
    assert echoed.headers is not None
    assert echoed.headers["x-seen-auth"] == "Bearer [redacted]"


@pytest.mark.usefixtures("fast_retries")
def test_a_bulk_summary_of_failed_calls_shows_no_key() -> None:
    with _mocked(_echo_key, max_retries=0) as client:
        with pytest.raises(synap.AuthenticationError) as caught:  # fatal: the job stops
            client.conversation.record_messages_bulk(messages(250), chunk_size=100)
        assert KEY not in _shown(caught.value)
    with _mocked(lambda r: httpx.Response(503, text=r.headers["authorization"])) as client:
        summary = client.conversation.record_messages_bulk(messages(150), chunk_size=100)
    assert summary.failed == 150
    assert KEY not in _shown(summary)
    assert all(KEY not in _shown(f) and KEY not in _shown(f.error) for f in summary.failures)


@pytest.mark.parametrize("kind", FACADES)
@pytest.mark.usefixtures("fast_retries")
def test_debug_logs_of_synap_httpx_and_httpcore_never_show_the_key(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("synap", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    plan = FaultPlan({"503": 0.3, "429": 0.2, "drop_after": 0.2}, seed=3, retry_after=0)
    with (
        LocalServer(tmp_path / "synap.db", api_keys={KEY: None}, faults=plan) as server,
        Facade(kind, server.url, KEY, max_retries=3) as facade,
    ):
        for i in range(6):
            cid = str(uuid.uuid4())
            try:
                facade.call("conversation.record_message", cid, "user", f"{i}", "u", "c")
                facade.call("conversation.record_messages_batch", list(messages(3)))
                facade.call("memories.batch_create", [{"document": f"{i}"}])
            except SynapError:
                pass  # some calls run out of retries: their errors are logged too
        with pytest.raises(SynapError):
            facade.call("conversation.record_message", cid, "nobody", "x", "u")
    with LocalServer(tmp_path / "other.db") as other:  # a server that does not know the key
        for error in _errors_of_every_kind(other):
            logging.getLogger("synap").debug("caught %s", error)
    levels = {r.name.split(".")[0] for r in caplog.records}
    # the loggers really spoke (httpx's on the httpx paths; the aiohttp one logs no requests)
    assert {"synap", "httpx", "httpcore"} <= levels | (
        {"httpx", "httpcore"} if kind == "aiohttp" else set()
    )
    assert any("retry" in r.getMessage() for r in caplog.records if r.name == "synap")
    assert KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)


def test_synap_log_debug_writes_request_lines_without_the_key(tmp_path: Path) -> None:
    script = (
        "import sys, uuid, synap\n"
        "c = synap.Synap(base_url=sys.argv[1], max_retries=1)\n"
        "c.conversation.record_message(str(uuid.uuid4()), 'user', 'hi', 'u', 'c')\n"
        "try:\n"
        "    synap.Synap(api_key='synap_wrongwrongwrongwrong', base_url=sys.argv[1])"
        ".conversation.record_message(str(uuid.uuid4()), 'user', 'hi', 'u', 'c')\n"
        "except synap.AuthenticationError as e:\n"
        "    print(e, file=sys.stderr)\n"
    )
    with LocalServer(tmp_path / "synap.db", api_keys={KEY: None}) as server:
        env = {**os.environ, "SYNAP_API_KEY": KEY, "SYNAP_LOG": "debug"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        done = subprocess.run(
            [sys.executable, "-c", script, server.url],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    assert "synap DEBUG" in done.stderr
    assert "attempt 1" in done.stderr
    assert "HTTP 401" in done.stderr
    assert KEY not in done.stderr + done.stdout
    assert "synap_wrongwrongwrongwrong" not in done.stderr + done.stdout


# --- plain http and TLS ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://synap-cloud-prod.maximem.ai",
        "http://10.0.0.1:8080",
        "http://192.168.1.20",
        "http://[2001:db8::1]:80",
        "http://127.0.0.1.nip.io",
        "http://localhost.example.com",
        "HTTP://EXAMPLE.COM",
    ],
)
def test_plain_http_to_a_host_that_is_not_loopback_is_refused(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for make in (synap.Synap, synap.AsyncSynap, synap.MaximemSynapSDK):
        with pytest.raises(InvalidInputError) as caught:
            make(api_key=KEY, base_url=url)
        assert caught.value.field == "base_url"
        assert "allow_insecure_http=True" in str(caught.value)
        assert KEY not in str(caught.value)
    monkeypatch.setenv("SYNAP_BASE_URL", url)  # the environment is held to the same rule
    with pytest.raises(InvalidInputError):
        synap.Synap(api_key=KEY)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://127.8.9.10", "http://localhost:9", "http://[::1]:9"]
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    with synap.Synap(api_key=KEY, base_url=url) as client:
        assert client.base_url.startswith("http://")


def test_plain_http_elsewhere_only_when_explicitly_allowed() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    with synap.Synap(
        api_key=KEY, base_url="http://synap.internal", http_client=http, allow_insecure_http=True
    ) as client:
        client.conversation.record_message(str(uuid.uuid4()), "user", "hi", "u", "c")
    assert [str(r.url) for r in seen] == ["http://synap.internal/v1/conversations/messages"]


def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else() -> None:
    seen: list[str] = []

    def redirect(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"Location": "http://elsewhere.example/steal"})

    with _mocked(redirect) as client, pytest.raises(synap.UnexpectedResponseError):
        client.conversation.record_message(str(uuid.uuid4()), "user", "hi", "u", "c")
    assert seen == ["https://synap.test/v1/conversations/messages"]


# A self-signed certificate for 127.0.0.1 and localhost, valid 2000-2100 (test use only).
TEST_CERT = """-----BEGIN CERTIFICATE-----
MIIBjjCCATOgAwIBAgIBATAKBggqhkjOPQQDAjAfMR0wGwYDVQQDDBRzeW5hcC10
ZXN0LWxvY2FsaG9zdDAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAwMFow
HzEdMBsGA1UEAwwUc3luYXAtdGVzdC1sb2NhbGhvc3QwWTATBgcqhkjOPQIBBggq
hkjOPQMBBwNCAATgdEiiAinyGOTWtimJkmEujN/sZqEnaOCovEBw/bQBkxEgTRBM
F8JW/DFWmeaihOkGF8/8v2WSI1LyzftAyrKio14wXDAPBgNVHRMBAf8EBTADAQH/
MBoGA1UdEQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAOBgNVHQ8BAf8EBAMCAoQwHQYD
VR0OBBYEFCiETiVTjEKlmoe7smy2ccbqkHv+MAoGCCqGSM49BAMCA0kAMEYCIQDg
+MQ2iU2JbTKKJDtcVife3Yc1w0PzrRSGgW3DdKJQHgIhAJd7Ie7qPsPGOV2zJ6gX
Sw+AQJEzS3lGCMQmH1utfGhd
-----END CERTIFICATE-----
"""
TEST_CERT_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg59sf7NDKx5rIEiUC
FX8OE4NEe0YIoTOztALo5rENWNKhRANCAATgdEiiAinyGOTWtimJkmEujN/sZqEn
aOCovEBw/bQBkxEgTRBMF8JW/DFWmeaihOkGF8/8v2WSI1LyzftAyrKi
-----END PRIVATE KEY-----
"""


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, list[str], Path]]:
    """An HTTPS server on 127.0.0.1 with the self-signed certificate: (url, the paths it was
    asked for, the certificate file)."""
    cert = tmp_path / "cert.pem"
    cert.write_text(TEST_CERT + TEST_CERT_KEY)
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            asked.append(self.path)
            payload = json.dumps(json.loads(_ok(httpx.Request("POST", "/")).content)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", asked, cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("kind", FACADES)
def test_tls_certificates_are_verified_by_default(
    kind: str, https_server: tuple[str, list[str], Path]
) -> None:
    url, asked, cert = https_server
    cid = str(uuid.uuid4())
    with (
        Facade(kind, url, KEY, max_retries=0) as facade,  # the SDK's defaults otherwise
        pytest.raises(NetworkError) as caught,
    ):
        facade.call("conversation.record_message", cid, "user", "hi", "u", "c")
    assert "CERTIFICATE_VERIFY_FAILED" in "".join(traceback.format_exception(caught.value))
    assert asked == []  # no request was made over the unverified connection

    trusted = ssl.create_default_context(cafile=str(cert))
    if kind == "sync":
        with synap.Synap(
            api_key=KEY, base_url=url, http_client=httpx.Client(verify=trusted)
        ) as client:
            client.conversation.record_message(cid, "user", "hi", "u", "c")
    else:

        async def call() -> None:
            http = httpx.AsyncClient(verify=trusted)
            async with synap.AsyncSynap(api_key=KEY, base_url=url, http_client=http) as client:
                await client.conversation.record_message(cid, "user", "hi", "u", "c")
            await http.aclose()

        asyncio.run(call())
    assert asked == ["/v1/conversations/messages"]  # the same server, once it is trusted


def test_the_sdk_builds_its_http_clients_with_verification_on() -> None:
    """The facades' own httpx clients keep httpx's default: verify certificates and names."""
    with synap.Synap(api_key=KEY) as client:
        pool = client._transport.conn.http._transport._pool  # type: ignore[union-attr]
        assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
        assert pool._ssl_context.check_hostname is True


# --- cassettes -----------------------------------------------------------------------------


def _known_keys() -> list[str]:
    return [k for k in (os.environ.get("SYNAP_API_KEY"), KEY) if k]


def test_no_cassette_holds_a_key() -> None:
    scanned, findings = scan_tree(CASSETTES, _known_keys())
    assert findings == [], "\n".join(map(str, findings))
    if CASSETTES.is_dir():
        assert scanned > 0


CLEAN_CASSETTE = """interactions:
- request:
    body: '{"conversation_id":"00000000-0000-4000-8000-000000000001","role":"user","content":"hi"}'
    headers:
      content-type:
      - application/json
      idempotency-key:
      - sync-scenario-1
    method: POST
    uri: https://synap.cassette/v1/conversations/messages
  response:
    body:
      string: '{"detail":"Invalid API key"}'
    headers:
      www-authenticate:
      - Bearer
    status:
      code: 401
      message: Unauthorized
version: 1
"""


def _cassette_to_plant_in() -> str:
    found = sorted(CASSETTES.rglob("*.yaml")) if CASSETTES.is_dir() else []
    return found[0].read_text() if found else CLEAN_CASSETTE


PLANTS: list[tuple[str, Callable[[str], str]]] = [
    ("a key in a request body", lambda c: c.replace("body: '{", f'body: \'{{"k":"{KEY}",', 1)),
    (
        "an Authorization header kept",
        lambda c: c.replace(
            "    headers:\n", f"    headers:\n      authorization:\n      - Bearer {KEY}\n", 1
        ),
    ),
    (
        "a bearer token not key-shaped",
        lambda c: c + "# Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456\n",
    ),
    (
        "a key in a URL",
        lambda c: c.replace("uri: https://", f"uri: https://x/?api_key={KEY}&u=", 1),
    ),
    (
        "a key in a binary body",
        lambda c: (
            c
            + "extra:\n  body: !!binary |\n    "
            + __import__("base64").b64encode(f"token={KEY}".encode()).decode()
            + "\n"
        ),
    ),
]


@pytest.mark.parametrize(("what", "plant"), PLANTS, ids=[p[0] for p in PLANTS])
def test_the_scanner_finds_a_planted_key(
    tmp_path: Path, what: str, plant: Callable[[str], str]
) -> None:
    original = _cassette_to_plant_in()
    clean = tmp_path / "clean.yaml"
    clean.write_text(original)
    assert scan_file(clean, _known_keys()) == []
    planted = tmp_path / "planted.yaml"
    planted.write_text(plant(original))
    assert planted.read_text() != original
    findings = scan_file(planted, _known_keys())
    assert findings, what
    assert all(f.path == planted for f in findings)
    assert all(KEY not in str(f) for f in findings)  # the report does not leak it either
    # And the tree scan of a folder holding it fails too.
    scanned, in_tree = scan_tree(tmp_path, _known_keys())
    assert scanned == 2
    assert in_tree


def test_the_scanner_finds_the_key_in_json_cassettes_too(tmp_path: Path) -> None:
    cassette = {"interactions": [{"request": {"headers": {"Authorization": [f"Bearer {KEY}"]}}}]}
    planted = tmp_path / "c.json"
    planted.write_text(json.dumps(cassette))
    whats = {f.what for f in scan_file(planted, [])}
    assert {"a synap_ key", "a bearer token", "an Authorization header kept"} <= whats
