"""`extra_headers=`: headers of the caller's own for one call, checked before anything is sent.

They are merged over the SDK's headers for that call, so any of them may be replaced:
`Authorization` (a per-call key; the SDK blanks it out of errors as it does its own key),
`User-Agent`, `X-Instance-ID`, `Content-Type`. Two are the call's own arguments under
another name: an `Idempotency-Key` or `X-Correlation-ID` given here is the call's
`idempotency_key` / `correlation_id` (retries reuse it, errors and raw responses carry it);
giving both spellings with different values is an error. The framing headers
(`Content-Length`, `Transfer-Encoding`, `Host`, `Connection` ...) belong to the HTTP layer and
are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple

from synap import _config
from synap._errors import InvalidInputError, brief

__all__ = ["CallHeaders", "call_headers"]

# RFC 9110 token characters: what a header name may be made of.
_TOKEN: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_FRAMING: Final = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)
_IDS: Final = {"idempotency-key": "idempotency_key", "x-correlation-id": "correlation_id"}


class CallHeaders(NamedTuple):
    """The checked per-call options: the ids to send (None: make one) and the other headers."""

    idempotency_key: str | None
    correlation_id: str | None
    extra: tuple[tuple[str, str], ...]
    secret: str | None  # an `Authorization` value given here, to blank out of errors


def _refuse(message: str) -> InvalidInputError:
    return InvalidInputError(message, field="extra_headers")


def _value_ok(value: str) -> bool:
    # Visible ASCII, spaces and tabs inside: no CR/LF (header injection), NUL or other controls.
    return value.isascii() and all(c == "\t" or " " <= c <= "~" for c in value)


def call_headers(
    extra_headers: Mapping[str, str] | None,
    idempotency_key: object = None,
    correlation_id: object = None,
    *,
    bulk: bool = False,
) -> CallHeaders:
    """Check a call's `idempotency_key`, `correlation_id` and `extra_headers` together.

    `bulk=True` (a bulk job's options, applied to each of its calls) refuses an
    `Idempotency-Key`: every call of a job has its own, derived from the job.
    """
    ids: dict[str, str | None] = {
        "idempotency_key": _config.call_id(idempotency_key, "idempotency_key"),
        "correlation_id": _config.call_id(correlation_id, "correlation_id"),
    }
    if extra_headers is None:
        return CallHeaders(ids["idempotency_key"], ids["correlation_id"], (), None)
    if not isinstance(extra_headers, Mapping):
        raise _refuse(
            f"extra_headers must be a mapping of header names to strings, "
            f"got {type(extra_headers).__name__}"
        )
    extra: list[tuple[str, str]] = []
    seen: set[str] = set()
    secret = None
    for name, value in extra_headers.items():
        if not isinstance(name, str) or not name or not set(name) <= _TOKEN:
            raise _refuse(f"extra_headers: {brief(name)} is not a valid HTTP header name")
        if not isinstance(value, str) or not _value_ok(value):
            raise _refuse(
                f"extra_headers[{name!r}] must be a string of printable ASCII characters "
                f"(no line breaks or control characters); got {brief(value)}"
            )
        lower = name.lower()
        if lower in seen:
            raise _refuse(f"extra_headers names {name!r} twice (header names ignore case)")
        seen.add(lower)
        if lower in _FRAMING:
            raise _refuse(f"extra_headers: {name!r} is set by the HTTP layer and cannot be given")
        argument = _IDS.get(lower)
        if argument is None:
            extra.append((name, value))
            if lower == "authorization":
                secret = value
            continue
        if bulk and argument == "idempotency_key":
            raise _refuse(
                "extra_headers: a bulk job gives each call its own Idempotency-Key (derived "
                "from the job and the call's content, for resuming); it cannot be given"
            )
        checked = _config.call_id(value, "extra_headers")
        if ids[argument] is not None and ids[argument] != checked:
            raise _refuse(
                f"extra_headers[{name!r}] and {argument}= disagree; give the {argument} once"
            )
        ids[argument] = checked
    return CallHeaders(ids["idempotency_key"], ids["correlation_id"], tuple(extra), secret)
