"""Client configuration: explicit argument > environment > default, checked once at build time.

- API key: `api_key=` > `SYNAP_API_KEY`; missing is an `AuthenticationError` before any request.
- Base URL: `base_url=` > the `http_client`'s own base URL > `SYNAP_BASE_URL` > the hosted
  service. Plain `http://` is refused for any host but loopback unless
  `allow_insecure_http=True`: the key would cross the network in clear text.
- Pool: `max_connections` (default 100) connections at most, all kept alive 15 s when idle.
- Timeouts: finite by default (connect 5 s, read 30 s, write 10 s, pool 10 s, as the real
  service's own client); a float (every phase) or an `httpx.Timeout`; None disables them.
- `SYNAP_INSTANCE_ID` (optional) goes out as `X-Instance-ID`. `SYNAP_LOG=debug` turns on the
  `synap` logger.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any, Final

import httpx

from synap._errors import AuthenticationError, InvalidInputError, brief

DEFAULT_BASE_URL: Final = "https://synap-cloud-prod.maximem.ai"
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_CONNECTIONS: Final = 100
"""Connections a client opens at most (per process and event loop); every one is kept alive."""
KEEPALIVE_EXPIRY: Final = 15.0
"""Seconds an idle connection is kept, on every path (aiohttp's default; httpx's 5 s closes
connections that sat out a few seconds of a busy pool, to reopen them moments later). A
connection the server closed meanwhile is noticed before reuse; in the rare race, the call is
retried with its idempotency key."""

ENV_API_KEY: Final = "SYNAP_API_KEY"
ENV_BASE_URL: Final = "SYNAP_BASE_URL"
ENV_INSTANCE_ID: Final = "SYNAP_INSTANCE_ID"
ENV_LOG: Final = "SYNAP_LOG"

logger = logging.getLogger("synap")


class NotGiven:
    """The type of `NOT_GIVEN`: an argument left out (None has a meaning of its own)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

TimeoutTypes = float | httpx.Timeout | None


def _header_safe(value: str) -> bool:
    return bool(value) and value.isascii() and value.isprintable() and " " not in value


def api_key(value: str | None) -> str:
    """The API key to send, from the argument or `SYNAP_API_KEY`. Never echoed in errors."""
    key = value if value is not None else os.environ.get(ENV_API_KEY)
    if not isinstance(key, str) or not key.strip():
        raise AuthenticationError(
            f"No API key: pass api_key=... or set the {ENV_API_KEY} environment variable "
            "(keys look like synap_...)."
        )
    key = key.strip()  # a key read from a file often ends with a newline
    if not _header_safe(key):
        raise AuthenticationError(
            f"The API key (argument or {ENV_API_KEY}) contains characters that cannot be sent "
            "in an HTTP header (spaces, control or non-ASCII characters)."
        )
    return key


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(
    value: str | httpx.URL | None,
    *,
    client_base_url: httpx.URL | None = None,
    allow_insecure_http: bool = False,
) -> str:
    """The base URL to send to, checked (http(s), a host, the https rule)."""
    if value is not None:
        chosen: Any = value
    elif client_base_url is not None and str(client_base_url):
        chosen = client_base_url
    else:
        chosen = os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    try:
        url = httpx.URL(str(chosen).strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidInputError(f"base_url is not a valid URL: {exc}", field="base_url") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidInputError(
            f"base_url must be an http(s) URL with a host, like {DEFAULT_BASE_URL}; "
            f"got {brief(chosen)}",
            field="base_url",
        )
    if url.scheme == "http" and not allow_insecure_http and not _is_loopback(url.host):
        raise InvalidInputError(
            f"Refusing to send the API key in clear text to {url.host!r} over http://. Use "
            "https://, or pass allow_insecure_http=True if the network in between is trusted.",
            field="base_url",
        )
    return str(url)


MAX_TIMEOUT: Final = 86400.0
"""The longest timeout accepted, in seconds (a day); None means no limit. Longer ones overflow
the operating system's timers, failing the call only once it is under way."""


def _seconds(value: object) -> bool:
    # `0 < value <= MAX` is False for NaN, so this also refuses NaN and infinities.
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= MAX_TIMEOUT
    )


def timeout(
    value: TimeoutTypes | NotGiven, default: httpx.Timeout = DEFAULT_TIMEOUT
) -> httpx.Timeout:
    """A timeout from a float (every phase), an `httpx.Timeout`, None (no limit) or the default."""
    if isinstance(value, NotGiven):
        return default
    if isinstance(value, httpx.Timeout):
        for phase, seconds in value.as_dict().items():
            if seconds is not None and not _seconds(seconds):
                raise InvalidInputError(
                    f"timeout ({phase}) must be a positive number of seconds up to "
                    f"{MAX_TIMEOUT:.0f}, or None for no limit; got {brief(seconds)}",
                    field="timeout",
                )
        return value
    if value is None:
        return httpx.Timeout(None)
    if _seconds(value):
        return httpx.Timeout(float(value))
    raise InvalidInputError(
        f"timeout must be a positive number of seconds up to {MAX_TIMEOUT:.0f}, an httpx.Timeout "
        f"or None (no limit); got {brief(value)}",
        field="timeout",
    )


def max_retries(value: object) -> int:
    """How many times a failed call is retried: a non-negative int."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidInputError(
        f"max_retries must be a non-negative int; got {brief(value)}", field="max_retries"
    )


def max_connections(value: object) -> int:
    """The size of the SDK's connection pool: a positive int."""
    if isinstance(value, NotGiven):
        return DEFAULT_MAX_CONNECTIONS
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise InvalidInputError(
        f"max_connections must be a positive int; got {brief(value)}", field="max_connections"
    )


def instance_id(value: str | None) -> str | None:
    """The `X-Instance-ID` to send, from the argument or `SYNAP_INSTANCE_ID`, if any."""
    chosen = value if value is not None else os.environ.get(ENV_INSTANCE_ID)
    if chosen is None or chosen == "":
        return None
    if not isinstance(chosen, str) or not _header_safe(chosen.strip()):
        raise InvalidInputError(
            f"instance_id must be printable ASCII without spaces (like inst_0123456789abcdef); "
            f"got {brief(chosen)}",
            field="instance_id",
        )
    return chosen.strip()


def call_id(value: object, field: str) -> str | None:
    """A caller's `idempotency_key` / `correlation_id`: sent as a header, so 1-255 printable
    ASCII characters without spaces."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 255 and _header_safe(value):
        return value
    raise InvalidInputError(
        f"{field} must be a string of 1 to 255 printable ASCII characters without spaces; "
        f"got {brief(value)}",
        field=field,
    )


_logging_ready = False


def setup_logging() -> None:
    """Honour `SYNAP_LOG=debug|info` once: a stderr handler on the `synap` logger."""
    global _logging_ready
    if _logging_ready:
        return
    _logging_ready = True
    level = os.environ.get(ENV_LOG, "").strip().lower()
    if level not in ("debug", "info"):
        return
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
