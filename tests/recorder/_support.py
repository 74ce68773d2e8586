"""Helpers of the recorder tests: turns with checkable contents, what the server stored, and
an httpx transport that holds requests at a gate until the test opens it."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from synap.server import read_snapshot


def cid(n: int, tag: str = "rec") -> str:
    """The n-th conversation's id (stable)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"synap-recorder/{tag}/{n}"))


def stored(db_path: Path) -> dict[str, list[str]]:
    """Conversation id -> the contents it holds, in stored order."""
    snapshot = read_snapshot(db_path)
    return {
        c["conversation_id"]: [m["content"] for m in c["messages"]]
        for c in snapshot["conversations"]
    }


def check_exactly_once(db_path: Path, expected: dict[str, list[str]]) -> dict[str, int]:
    """Compare what is stored with what was recorded, per conversation: contents must be
    unique (`"<conversation n> <i>"`) and stored in the recorded order."""
    held = stored(db_path)
    counts = Counter(c for contents in held.values() for c in contents)
    wanted = {c for contents in expected.values() for c in contents}
    out_of_order = 0
    for conversation, contents in expected.items():
        got = [c for c in held.get(conversation, []) if c in wanted]
        out_of_order += got != [c for c in contents if c in set(got)]
    return {
        "recorded": len(wanted),
        "stored": sum(1 for c in wanted if counts[c] >= 1),
        "lost": sum(1 for c in wanted if counts[c] == 0),
        "duplicated": sum(n - 1 for c, n in counts.items() if n > 1),
        "unexpected": sum(n for c, n in counts.items() if c not in wanted),
        "conversations_out_of_order": out_of_order,
    }


class Gate:
    """Requests wait here until `open()`; counts what reaches it."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.arrived = threading.Event()
        self.requests = 0

    def open(self) -> None:
        self.opened.set()


class GatedTransport(httpx.HTTPTransport):
    def __init__(self, gate: Gate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.gate.requests += 1
        self.gate.arrived.set()
        self.gate.opened.wait(30)
        return super().handle_request(request)
