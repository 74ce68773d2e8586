"""The verified TLS context every client shares.

Building an `ssl.SSLContext` and loading the CA bundle into it costs tens of milliseconds, and
httpx does it for every client it builds, even one that only ever talks to `http://127.0.0.1`.
A context is safe to share between clients and threads, so the SDK builds one, lazily, the
first time a client is made, exactly as httpx would (certifi's bundle, or `SSL_CERT_FILE` /
`SSL_CERT_DIR` when set), and every later client reuses it. A caller's `verify=` or
`http_client=` still wins.

A client whose base URL is plain `http://` (the local server on loopback) never makes a TLS
handshake: every call goes to its base URL and redirects are not followed. It gets a context
that trusts no certificate at all (any handshake would fail, so nothing is weakened), which
costs nothing to build, and the CA bundle is not loaded for it. Unless a proxy is set in the
environment (`HTTP_PROXY`, `ALL_PROXY`, ...): httpx may reach an `https://` proxy with it.
"""

from __future__ import annotations

import os
import ssl
import threading

_lock = threading.Lock()
_context: ssl.SSLContext | None = None
_trust_nothing: ssl.SSLContext | None = None


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


def trust_nothing_context() -> ssl.SSLContext:
    """A verifying context with no trusted certificates: every TLS handshake fails. For
    clients that never make one (a plain `http://` base URL); built once."""
    global _trust_nothing
    if _trust_nothing is None:
        # PROTOCOL_TLS_CLIENT: CERT_REQUIRED and hostname checks on; no CA loaded.
        _trust_nothing = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return _trust_nothing


def _proxy_in_env() -> bool:
    # httpx reads these (any case) when trust_env is on, as its clients have by default.
    return any(name.lower() in _PROXY_VARIABLES for name in os.environ)


_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def ssl_context(verify: ssl.SSLContext | bool, *, https: bool = True) -> ssl.SSLContext:
    """The context for a client's `verify=`: True shares the default one (or, when the base
    URL is not `https`, the one that trusts nothing), False turns certificate checks off
    (explicitly asked for), a context of the caller's is used as is."""
    if verify is True:
        if https or _proxy_in_env():
            return default_ssl_context()
        return trust_nothing_context()
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
