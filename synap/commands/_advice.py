"""What the CLI says when something goes wrong: the SDK's message in the CLI's own terms.

The SDK's errors name Python arguments (`api_key=`, `allow_insecure_http=True`,
`str(uuid.uuid4())`); a shell user needs the flag or command that fixes it. Each message
names its subject (a line, a file, the URL, the key) and ends with what to do.
"""

from __future__ import annotations

import re

from synap._errors import (
    AuthenticationError,
    InsufficientCreditsError,
    NetworkError,
    NetworkTimeoutError,
    NotFoundError,
    SynapError,
)

# SDK wording -> the CLI's.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"generate one with str\(uuid\.uuid4\(\)\)"
                   r"(?: and reuse it for every turn of the conversation)?"),
        "give each conversation one UUID (`uuidgen` prints one) and use it for all its turns",
    ),
    (re.compile(r"pass allow_insecure_http=True"), "pass --allow-insecure-http"),
    (re.compile(r"pass api_key=\.\.\."), "pass --api-key KEY"),
    (re.compile(r"\bbase_url\b"), "--base-url"),
)  # fmt: skip

# The validator names an entry by its index in a batch: a report by line reads better
# without it ("messages[6].role must be ..." -> "role must be ...").
_ENTRY_FIELD = re.compile(r"^(?:messages|documents)\[\d+\]\.")
_ENTRY = re.compile(r"^(messages|documents)\[\d+\]\s")


def plain(message: str) -> str:
    """An SDK message with its Python advice put in CLI terms."""
    for pattern, replacement in _REWRITES:
        message = pattern.sub(replacement, message)
    return message


def item_reason(reason: str) -> str:
    """A failure reason of one item, naming the item (`the message is missing ...`)."""
    reason = _ENTRY_FIELD.sub("", reason)
    reason = _ENTRY.sub(lambda m: "the message " if m[1] == "messages" else "the document ", reason)
    return plain(reason)


def call_error(error: SynapError, base_url: str | None) -> str:
    """One line for an error that stopped the whole command, ending with the fix."""
    where = base_url or "the Synap URL"
    text = plain(str(error))
    if isinstance(error, NetworkTimeoutError):
        return f"{text}; is {where} the right URL (--base-url or SYNAP_BASE_URL)?"
    if isinstance(error, NetworkError):
        return (
            f"cannot reach Synap at {where}: {text}; check --base-url (or SYNAP_BASE_URL) and "
            "the network"
        )
    if isinstance(error, AuthenticationError):
        if error.status_code is None:
            return text
        return (
            f"Synap refused the API key: {text}; check --api-key (or SYNAP_API_KEY), and that "
            "the key belongs to this instance"
        )
    if isinstance(error, InsufficientCreditsError):
        return f"{text}; add credits to your Synap account, then rerun the same command"
    if isinstance(error, NotFoundError):
        return f"{text}; is {where} the right URL (--base-url or SYNAP_BASE_URL)?"
    return text
