"""The verified TLS context every client shares.

Building an `ssl.SSLContext` and loading the CA bundle into it costs tens of milliseconds, and
httpx does it for every client it builds, even one that only ever talks to `http://127.0.0.1`.
A context is safe to share between clients and threads, so the SDK builds one, lazily, the
first time a client is made, exactly as httpx would (certifi's bundle, or `SSL_CERT_FILE` /
`SSL_CERT_DIR` when set), and every later client reuses it. A caller's `verify=` or
`http_client=` still wins.
"""

from __future__ import annotations

import ssl
import threading

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    """The shared, verifying context (built on first use, then reused)."""
    global _context
    context = _context
    if context is None:
        with _lock:
            if _context is None:
                import httpx  # its own recipe, so trust settings match a plain httpx client

                _context = httpx.create_ssl_context()
            context = _context
    return context


def ssl_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    """The context for a client's `verify=`: True shares the default one, False turns
    certificate checks off (explicitly asked for), a context of the caller's is used as is."""
    if verify is True:
        return default_ssl_context()
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, ssl.SSLContext):
        return verify
    from synap._errors import InvalidInputError

    raise InvalidInputError(
        f"verify must be True, False or an ssl.SSLContext, got {type(verify).__name__}",
        field="verify",
    )
