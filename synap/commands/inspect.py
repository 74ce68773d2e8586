"""`synap inspect --db PATH [--json]`: what a local server's database holds.

Conversations with their messages in order, then memory documents with their status. Opens
the file read-only (safe while the server runs) and needs only the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

PREVIEW = 100  # characters of a document shown in the human-readable listing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="synap.db", help="SQLite file (default ./synap.db)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")


def run(args: argparse.Namespace) -> int:
    from synap.server.store import read_snapshot

    try:
        snapshot = read_snapshot(args.db)
    except FileNotFoundError as error:
        print(f"synap inspect: {error}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(snapshot, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(snapshot))
    return 0


def render(snapshot: dict[str, Any]) -> str:
    """The snapshot (`synap.server.store.read_snapshot`) as text for a person."""
    conversations = snapshot["conversations"]
    documents = snapshot["documents"]
    messages = sum(len(c["messages"]) for c in conversations)
    lines = [
        f"{len(conversations)} conversation(s), {messages} message(s), "
        f"{len(documents)} memory document(s)",
    ]
    for conversation in conversations:
        owner = _who(conversation["user_id"], conversation["customer_id"])
        lines += [
            "",
            f"conversation {conversation['conversation_id']}{owner}: "
            f"{conversation['message_count']} message(s)",
        ]
        for m in conversation["messages"]:
            meta = f" {json.dumps(m['metadata'], ensure_ascii=False)}" if m["metadata"] else ""
            meta += _extra(m)
            lines.append(
                f"  {m['seq']:>3}. {m['recorded_at']}  {m['role']:<9} {_one_line(m['content'])}"
                f"  [session {m['session_id']}{meta}]"
            )
    if documents:
        lines += ["", "memory documents:"]
    for d in documents:
        text = d["document"] if isinstance(d["document"], str) else json.dumps(d["document"])
        lines.append(
            f"  {d['document_id']}  {d['status']}  {d['document_type']}  mode={d['mode']}"
            f"{_who(d['user_id'], d['customer_id'])}  queued {d['queued_at']}{_extra(d)}"
        )
        lines.append(f"      {_one_line(text)[:PREVIEW]}")
    return "\n".join(lines) + "\n"


def _extra(row: dict[str, Any]) -> str:
    """The keys stored without a column of their own (undocumented ones, or fields the spec
    added after the store was laid out), shown so that nothing stored is hidden."""
    extra = row.get("extra") or {}
    return "".join(
        f"  {key}={json.dumps(value, ensure_ascii=False)}" for key, value in extra.items()
    )


def _who(user: str | None, customer: str | None) -> str:
    parts = [f"user {user}" if user else "", f"customer {customer}" if customer else ""]
    shown = ", ".join(p for p in parts if p)
    return f" ({shown})" if shown else ""


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")
