"""The facades: `Synap` (blocking), `AsyncSynap` (async) and `MaximemSynapSDK` (the vendor
docs' async entry point). Configuration, one httpx client, and the two resources."""

from __future__ import annotations

import ssl
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import httpx

from synap import _config, _tls
from synap._config import NOT_GIVEN, NotGiven, TimeoutTypes
from synap._errors import InvalidInputError
from synap._transport import AsyncConnection, AsyncTransport, SyncConnection, SyncTransport

if TYPE_CHECKING:
    # Imported when a client is built: they load the generated client and the models, which
    # `from synap import Synap` alone does not need.
    from synap.conversation import AsyncConversation, Conversation
    from synap.memories import AsyncMemories, Memories

__all__ = ["AsyncSynap", "MaximemSynapSDK", "Synap"]

_T = TypeVar("_T", SyncTransport, AsyncTransport)


class _Part:
    """A client's `conversation` / `memories` read on the class (`help(Synap.conversation)`):
    the class of what each client holds there, imported then. A client's own attribute,
    set when it is built, hides this (a non-data descriptor), so calls never come here."""

    __slots__ = ("attribute", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self.attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, instance: object, owner: type | None = None) -> object:
        if instance is not None:  # a client not (or no longer) set up: no part to give
            raise AttributeError(self.attribute)
        import importlib

        return getattr(importlib.import_module(self.module), self.name)


def _connect(
    kind: type[httpx.Client] | type[httpx.AsyncClient],
    *,
    api_key: str | None,
    base_url: str | httpx.URL | None,
    timeout: TimeoutTypes | NotGiven,
    allow_insecure_http: bool,
    http_client: httpx.Client | httpx.AsyncClient | None,
    instance_id: str | None,
    verify: ssl.SSLContext | bool,
    max_connections: int | NotGiven,
) -> tuple[dict[str, Any], httpx.Timeout]:
    """Resolve the configuration (shared by both facades): the `Connection`'s options."""
    _config.setup_logging()
    key = _config.api_key(api_key)
    if http_client is not None and not isinstance(http_client, kind):
        raise InvalidInputError(
            f"http_client must be an {kind.__module__}.{kind.__name__}, "
            f"got {type(http_client).__name__}",
            field="http_client",
        )
    url = _config.base_url(
        base_url,
        client_base_url=http_client.base_url if http_client is not None else None,
        allow_insecure_http=allow_insecure_http,
    )
    if http_client is not None and verify is not True:
        raise InvalidInputError(
            "verify= applies to the SDK's own connection pool; configure TLS on your "
            "http_client instead",
            field="verify",
        )
    if http_client is not None and not isinstance(max_connections, NotGiven):
        raise InvalidInputError(
            "max_connections= applies to the SDK's own connection pool; give your "
            "http_client limits=httpx.Limits(max_connections=...) instead",
            field="max_connections",
        )
    pool_size = _config.max_connections(max_connections)
    default = http_client.timeout if http_client is not None else _config.DEFAULT_TIMEOUT
    resolved_timeout = _config.timeout(timeout, default)
    instance = _config.instance_id(instance_id)
    if http_client is not None:
        # The generated functions send paths relative to the httpx client's base URL.
        http_client.base_url = httpx.URL(url)
    options = {
        "base_url": url,
        "api_key": key,
        "instance_id": instance,
        "timeout": resolved_timeout,
        "max_connections": pool_size,
        # Shared: no CA bundle loaded per client, none at all for a plain-http base URL.
        "ssl_context": (
            _tls.ssl_context(verify, https=url.startswith("https://"))
            if http_client is None
            else None
        ),
    }
    return options, resolved_timeout


class _Facade(Generic[_T]):
    """What the blocking and the async facade share: options, copies, repr (no I/O)."""

    _transport: _T

    def _use(self, transport: _T) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """The service URL calls go to."""
        return self._transport.conn.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of every call (unless a call passes its own)."""
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        """How many times a failed call is retried."""
        return self._transport.policy.max_retries

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy with another timeout and/or retry count, sharing this client's connection
        pool (closing either closes the pool)."""
        copy = object.__new__(type(self))
        copy._use(
            self._transport.copy(
                _config.timeout(timeout, self._transport.timeout),
                self.max_retries
                if isinstance(max_retries, NotGiven)
                else _config.max_retries(max_retries),
            )
        )
        return copy

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"


class Synap(_Facade[SyncTransport]):
    """The blocking Synap client, for scripts, notebooks and threaded servers.

    Args:
        api_key: Your Synap API key (`synap_...`); defaults to `SYNAP_API_KEY`.
        base_url: The service URL; defaults to `SYNAP_BASE_URL`, else the hosted service.
            Plain `http://` is refused except to loopback unless `allow_insecure_http=True`.
        timeout: Seconds for every phase, or an `httpx.Timeout`; None disables. Default:
            connect 5 s, read 30 s, write 10 s, pool 10 s.
        max_retries: Retries after a failed try (network errors, timeouts, 408, 429, 5xx).
        allow_insecure_http: Allow `http://` to hosts other than loopback.
        http_client: An `httpx.Client` of your own (proxies, custom transports, mocks). The
            SDK adds its event hooks and sets its `base_url`; you keep ownership: `close()`
            does not close it. It cannot be rebuilt after `os.fork()`: used in a child while
            it holds connections opened before the fork, a call raises `SynapError` before
            sending (make it after the fork, or let the SDK own the pool).
        instance_id: Sent as `X-Instance-ID`; defaults to `SYNAP_INSTANCE_ID`.
        verify: TLS certificate checks: True (default) verifies against the CA bundle httpx
            uses (one context built once per process and shared by every client), an
            `ssl.SSLContext` of your own is used as is, False turns checks off.
        max_connections: The most connections the SDK's pool opens (default 100); every one
            is kept alive between calls. Not with `http_client` (give it `limits=`).

    The SDK's own pool is per process: a child of `os.fork()` (gunicorn `--preload`, Celery)
    gets a fresh one on its first call and never touches the parent's connections. Use as a
    context manager, or call `close()`, to release the connection pool.

    Raises:
        AuthenticationError: no API key (argument or `SYNAP_API_KEY`).
        InvalidInputError: an invalid base URL, timeout, `max_retries`, `max_connections` or
            `http_client`.
    """

    if TYPE_CHECKING:
        conversation: Conversation
        """`record_message`, `record_messages_batch` and `record_messages_bulk`."""
        memories: Memories
        """`batch_create` and `bulk_create`."""
    else:  # set per client; on the class, `help()` shows what they hold
        conversation = _Part("synap.conversation", "Conversation")
        memories = _Part("synap.memories", "Memories")

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        allow_insecure_http: bool = False,
        http_client: httpx.Client | None = None,
        instance_id: str | None = None,
        verify: ssl.SSLContext | bool = True,
        max_connections: int | NotGiven = NOT_GIVEN,
    ) -> None:
        retries = _config.max_retries(max_retries)
        options, resolved = _connect(
            httpx.Client,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
            http_client=http_client,
            instance_id=instance_id,
            verify=verify,
            max_connections=max_connections,
        )
        self._use(SyncTransport(SyncConnection(http_client, **options), resolved, retries))

    def _use(self, transport: SyncTransport) -> None:
        from synap.conversation import Conversation
        from synap.memories import Memories

        self._transport = transport
        self.conversation = Conversation(transport)
        self.memories = Memories(transport)

    def close(self) -> None:
        """Close the connection pool (not an `http_client` you passed in). Idempotent."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSynap(_Facade[AsyncTransport]):
    """The async Synap client, for asyncio (and trio) services.

    The same arguments as `Synap`, with an `httpx.AsyncClient` for `http_client`; the same
    methods, awaited. Use `async with`, or `await client.aclose()`, to release the pool.

    Make one for the whole service, anywhere (also outside any event loop). Its own pool is
    per process and per running event loop, each closed as its loop shuts down; under asyncio
    it is aiohttp's when aiohttp is installed (`pip install 'synap-memory[aiohttp]'`), else httpx's.
    A call may be cancelled at any point (`asyncio.wait_for`, `task.cancel()`, anyio/trio
    cancel scopes) without leaking a connection. An `http_client` of yours holding
    connections of an event loop that has closed, or of a parent process, raises `SynapError`
    before anything is sent: make it in the loop (and process) that uses it.
    """

    if TYPE_CHECKING:
        conversation: AsyncConversation
        """`record_message`, `record_messages_batch` and `record_messages_bulk`."""
        memories: AsyncMemories
        """`batch_create` and `bulk_create`."""
    else:  # set per client; on the class, `help()` shows what they hold
        conversation = _Part("synap.conversation", "AsyncConversation")
        memories = _Part("synap.memories", "AsyncMemories")

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        allow_insecure_http: bool = False,
        http_client: httpx.AsyncClient | None = None,
        instance_id: str | None = None,
        verify: ssl.SSLContext | bool = True,
        max_connections: int | NotGiven = NOT_GIVEN,
    ) -> None:
        retries = _config.max_retries(max_retries)
        options, resolved = _connect(
            httpx.AsyncClient,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
            http_client=http_client,
            instance_id=instance_id,
            verify=verify,
            max_connections=max_connections,
        )
        self._use(AsyncTransport(AsyncConnection(http_client, **options), resolved, retries))

    def _use(self, transport: AsyncTransport) -> None:
        from synap.conversation import AsyncConversation
        from synap.memories import AsyncMemories

        self._transport = transport
        self.conversation = AsyncConversation(transport)
        self.memories = AsyncMemories(transport)

    async def aclose(self) -> None:
        """Close the connection pool (not an `http_client` you passed in). Idempotent."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        """Open this event loop's pool now (aiohttp's import included, 150 ms or so), so that
        a service entering the client in its lifespan does not pay it on its first request."""
        await self._transport.conn.prepare()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class MaximemSynapSDK(AsyncSynap):
    """The vendor docs' entry point: an `AsyncSynap` with `initialize()` and `shutdown()`.

        sdk = MaximemSynapSDK(api_key="synap_your_key_here")
        await sdk.initialize()
        await sdk.conversation.record_message(...)
        await sdk.shutdown()

    Takes the same arguments as `AsyncSynap` (and honours `SYNAP_API_KEY`,
    `SYNAP_BASE_URL`); also usable as `async with MaximemSynapSDK(...) as sdk:`.
    """

    async def initialize(self) -> None:
        """Get ready to make calls. Configuration is checked when the SDK is built, so this
        makes no network call: it opens this event loop's pool (as `async with` does), so
        the first call does not."""
        if self._transport.conn.closed:
            from synap._errors import SynapError

            raise SynapError("This SDK was shut down; create a new one.")
        await self._transport.conn.prepare()

    async def shutdown(self) -> None:
        """Release the connection pool (the same as `aclose()`)."""
        await self.aclose()
