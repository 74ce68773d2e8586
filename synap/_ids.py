"""Random ids for calls: the `Idempotency-Key` and the `X-Correlation-ID` each call sends.

Kept apart from the transport so that `synap.new_idempotency_key()` costs no httpx import.
"""

from __future__ import annotations

import os

__all__ = ["new_id", "new_idempotency_key"]


def new_id() -> str:
    """A random (version 4) UUID as text: `str(uuid.uuid4())` at less than half the cost,
    and every call makes two (idempotency key, correlation id)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_idempotency_key() -> str:
    """A fresh idempotency key (a random UUID) to pass as `idempotency_key=`.

    Make the key before a call that may be cancelled or time out, and pass the same key to
    the call and to every repeat of it: a server that honours `Idempotency-Key` then stores the
    write once and answers the repeat with the first answer (`Idempotent-Replayed: true`).

        key = synap.new_idempotency_key()
        try:
            await client.conversation.record_message(..., idempotency_key=key)
        except (asyncio.CancelledError, synap.SynapTransientError):
            ...  # later: the same call with idempotency_key=key stores nothing twice
    """
    return new_id()
