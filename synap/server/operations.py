"""The three operations, as plain functions of (caller, parsed body): no HTTP in here.

`Service.handle` validates against the spec, applies the tenancy rules, and writes in one
transaction together with the idempotency record. It answers a `Reply` (status and exact
response bytes) for every outcome, errors included.

Tenancy (who a message belongs to), in order:
1. A key bound to a customer (`--api-key KEY=CUSTOMER`) acts for that customer only: an
   absent `customer_id` becomes that customer; another customer's id, or a conversation
   owned by another customer, is a 403 for the whole request (nothing stored).
2. A given `customer_id` is kept as given.
3. B2C instances resolve an absent `customer_id` to the entry's `user_id` (each end user is
   their own customer); without a `user_id` the entry has no customer.
4. B2B instances require `customer_id` on every message (`record_message`: 422; a batch
   entry: a per-entry `error`). Documents of `batch_create` may have none (the docs make it
   optional there).

What a body may hold is the spec's (validated against its schemas); which keys have a column
of their own is the store's. Every other key of a stored message or document, a property the
spec added since the store was laid out included, is kept in the row's `extra` JSON, so
nothing accepted is dropped. An operation of the spec without a handler here answers 501.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from synap.server.schema import ErrorItem, SpecValidator, describe
from synap.server.store import (
    ConversationUpdate,
    DocumentRow,
    MessageRow,
    Replay,
    Store,
    Transaction,
)

Tenancy = Literal["b2b", "b2c"]
B2B_CUSTOMER_REQUIRED = "customer_id is required on B2B instances"
REPLAY_HEADER = "Idempotent-Replayed"
"""Response header set to `true` on an answer replayed for a repeated `Idempotency-Key`."""

HANDLED = ("record_message", "record_messages_batch", "batch_create")
"""The operationIds this server implements; any other operation of the spec answers 501."""


def _columns(schema: Mapping[str, Any], row: type[tuple[Any, ...]]) -> frozenset[str]:
    """The spec's properties of `schema` that the store keeps in columns of their own."""
    fields: tuple[str, ...] = getattr(row, "_fields", ())
    return frozenset(schema.get("properties", {})) & (frozenset(fields) - {"extra"})


def utc_now() -> str:
    """Now, UTC, ISO-8601 with microseconds and `Z` (the service's timestamp format)."""
    global _this_second
    sec, micro = divmod(time.time_ns() // 1000, 1_000_000)
    second = _this_second
    if second[0] != sec:  # the date and time of day, formatted once a second (every message
        # of a batch is stamped: strftime per message was a tenth of the server's work)
        second = _this_second = (sec, datetime.fromtimestamp(sec, UTC).strftime(_SECOND))
    return f"{second[1]}.{micro:06d}Z"


_SECOND = "%Y-%m-%dT%H:%M:%S"
_this_second: tuple[int, str] = (-1, "")


def message_id() -> str:
    """A new message id: a UUID of RFC 9562's version 7 (48 bits of Unix milliseconds, then
    74 random bits). Ids made later sort later, so each insert lands at the end of the
    `messages` primary-key index instead of on a random page: with version 4 ids, writing
    that index's pages to the WAL was a third of the server's work per stored message."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10))  # 80 bits, 74 used
    value = (
        (ms & _MS_MASK) << 80
        | 0x7 << 76
        | (rand >> 64 & 0xFFF) << 64
        | 0b10 << 62
        | (rand & _RAND_B_MASK)
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_MS_MASK = (1 << 48) - 1
_RAND_B_MASK = (1 << 62) - 1


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as the service sends it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Caller:
    """Who is calling: `scope` names the API key (a hash, never the key), `customer_id` the
    customer the key is bound to, if any."""

    scope: str
    customer_id: str | None = None


@dataclass
class Reply:
    """An answer: HTTP status, the exact body bytes, extra headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answer, FastAPI style: `{"detail": detail}`."""

    def __init__(
        self, status: int, detail: str | list[ErrorItem], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    def reply(self) -> Reply:
        return Reply(self.status, dumps({"detail": self.detail}), self.headers)


class _CustomerRequired(Exception):
    pass


Write = Callable[[Transaction], dict[str, Any]]


class Service:
    """The local Synap's behaviour behind the HTTP layer (thread-safe)."""

    def __init__(
        self, store: Store, *, tenancy: Tenancy = "b2b", validator: SpecValidator | None = None
    ) -> None:
        if tenancy not in ("b2b", "b2c"):
            raise ValueError("tenancy must be 'b2b' or 'b2c'")
        self.store = store
        self.tenancy: Tenancy = tenancy
        self.validator = validator or SpecValidator()
        self._prepare: dict[str, Callable[[Any, Caller], Write]] = {
            operation_id: getattr(self, f"_{operation_id}") for operation_id in HANDLED
        }
        self._message_columns = _columns(
            self.validator.schema("RecordMessageRequest"), MessageRow
        ) | _columns(self.validator.schema("BatchMessage"), MessageRow)
        self._document_columns = _columns(self.validator.schema("CreateMemoryRequest"), DocumentRow)

    def unhandled(self) -> list[str]:
        """The operations of the spec this server has no handler for (each answers 501)."""
        return [op for op in self.validator.operation_ids() if op not in self._prepare]

    def handle(
        self, operation_id: str, caller: Caller, body: Any, idempotency_key: str | None = None
    ) -> Reply:
        """Judge and perform one request whose JSON body is `body`; never raises `ApiError`."""
        try:
            prepare = self._prepare.get(operation_id)
            if prepare is None:
                op = self.validator.operation(operation_id)
                method, path = self.validator.route(operation_id)
                raise ApiError(
                    501,
                    f"The local Synap server does not implement {operation_id} ({method} "
                    f"{path}): the spec has it, no handler in synap/server/operations.py does"
                    + (f" ({op['summary']})" if op.get("summary") else ""),
                )
            write = prepare(body, caller)
            fingerprint = _fingerprint(operation_id, body) if idempotency_key else ""
            with self.store.transaction() as tx:
                if idempotency_key is not None:
                    first = tx.replay(caller.scope, idempotency_key)
                    if first is not None:
                        if first.fingerprint != fingerprint:
                            raise ApiError(
                                409,
                                "Idempotency-Key was already used with a different request body",
                            )
                        return Reply(first.status, first.response, {REPLAY_HEADER: "true"})
                data = dumps(write(tx))
                if idempotency_key is not None:
                    tx.remember(
                        caller.scope, idempotency_key, Replay(fingerprint, 200, data), utc_now()
                    )
            return Reply(200, data)
        except ApiError as error:
            return error.reply()

    # --- the three operations: validate and decide, then return the write to run ---

    def _record_message(self, body: Any, caller: Caller) -> Write:
        errors = self.validator.errors("RecordMessageRequest", body, ("body",))
        if errors:
            raise ApiError(422, errors)
        try:
            customer = self._customer(body, caller, required=True)
        except _CustomerRequired:
            item = {"loc": ["body", "customer_id"], "msg": B2B_CUSTOMER_REQUIRED, "type": "missing"}
            raise ApiError(422, [item]) from None

        def write(tx: Transaction) -> dict[str, Any]:
            result, count = _write_messages(tx, caller, [(body, customer)], self._message_columns)[
                0
            ]
            return {**result, "conversation_message_count": count}

        return write

    def _record_messages_batch(self, body: Any, caller: Caller) -> Write:
        errors = self.validator.envelope_errors(
            "RecordMessagesBatchRequest", "messages", body, ("body",)
        )
        if errors:
            raise ApiError(422, errors)
        entries: list[dict[str, Any]] = body["messages"]
        verdicts: list[tuple[str | None, str | None]] = []  # (error, customer) per entry
        for entry in entries:
            entry_errors = self.validator.errors("BatchMessage", entry)
            if entry_errors:
                verdicts.append((describe(entry_errors), None))
                continue
            try:
                verdicts.append((None, self._customer(entry, caller, required=True)))
            except _CustomerRequired:
                verdicts.append((B2B_CUSTOMER_REQUIRED, None))

        def write(tx: Transaction) -> dict[str, Any]:
            valid = [(e, v[1]) for e, v in zip(entries, verdicts, strict=True) if v[0] is None]
            stored = iter(_write_messages(tx, caller, valid, self._message_columns))
            results: list[dict[str, Any]] = []
            rejected: list[dict[str, Any]] = []
            for index, (error, _) in enumerate(verdicts):
                if error is None:
                    results.append(next(stored)[0])
                else:
                    results.append({"error": error})
                    rejected.append({"index": index, "error": error})
            answer: dict[str, Any] = {
                "total": len(entries),
                "succeeded": len(entries) - len(rejected),
                "failed": len(rejected),
                "results": results,
            }
            if rejected:
                answer["errors"] = rejected
            return answer

        return write

    def _batch_create(self, body: Any, caller: Caller) -> Write:
        errors = self.validator.envelope_errors("BatchCreateRequest", "documents", body, ("body",))
        if errors:
            raise ApiError(422, errors)
        documents: list[Any] = body["documents"]
        verdicts: list[tuple[list[ErrorItem], str | None]] = []
        for index, document in enumerate(documents):
            doc_errors = self.validator.errors(
                "CreateMemoryRequest", document, ("body", "documents", index)
            )
            customer = None if doc_errors else self._customer(document, caller, required=False)
            verdicts.append((doc_errors, customer))
        if body.get("fail_fast", False) and any(e for e, _ in verdicts):
            raise ApiError(422, [item for e, _ in verdicts for item in e])
        default_type = self.validator.default("CreateMemoryRequest", "document_type")
        default_mode = self.validator.default("CreateMemoryRequest", "mode")
        columns = self._document_columns

        def write(tx: Transaction) -> dict[str, Any]:
            batch_id = str(uuid.uuid4())
            rows: list[DocumentRow] = []
            results: list[dict[str, Any]] = []
            for document, (doc_errors, customer) in zip(documents, verdicts, strict=True):
                given_id = document.get("document_id") if isinstance(document, dict) else None
                result: dict[str, Any] = {
                    "ingestion_id": str(uuid.uuid4()),
                    "document_id": given_id
                    if isinstance(given_id, str)
                    else f"doc_{uuid.uuid4().hex[:12]}",
                    "status": "failed" if doc_errors else "queued",
                    "queued_at": utc_now(),
                    "error_message": describe(doc_errors, skip=3) if doc_errors else None,
                }
                results.append(result)
                if doc_errors:
                    continue
                rows.append(
                    DocumentRow(
                        ingestion_id=result["ingestion_id"],
                        batch_id=batch_id,
                        document_id=result["document_id"],
                        document=dumps(document["document"]).decode(),
                        document_type=document.get("document_type") or default_type,
                        document_created_at=document.get("document_created_at"),
                        user_id=document.get("user_id"),
                        customer_id=customer,
                        scope=document.get("scope"),
                        mode=document.get("mode") or default_mode,
                        metadata=dumps(document.get("metadata") or {}).decode(),
                        status="queued",
                        queued_at=result["queued_at"],
                        extra=dumps(
                            {k: v for k, v in document.items() if k not in columns}
                        ).decode(),
                    )
                )
            tx.add_documents(rows)
            failed = len(documents) - len(rows)
            return {
                "batch_id": batch_id,
                "total": len(documents),
                "succeeded": len(rows),
                "failed": failed,
                "results": results,
            }

        return write

    def _customer(self, entry: Mapping[str, Any], caller: Caller, *, required: bool) -> str | None:
        """The customer an entry belongs to (the rules in this module's docstring)."""
        given = entry.get("customer_id")
        if caller.customer_id is not None:
            if given is not None and given != caller.customer_id:
                raise ApiError(403, f"This API key may not access customer {given!r}")
            return caller.customer_id
        if given is not None:
            return str(given)
        if self.tenancy == "b2c":
            user = entry.get("user_id")
            return None if user is None else str(user)
        if required:
            raise _CustomerRequired
        return None


def _write_messages(
    tx: Transaction,
    caller: Caller,
    entries: list[tuple[dict[str, Any], str | None]],
    columns: frozenset[str],
) -> list[tuple[dict[str, Any], int]]:
    """Store valid message entries in order: one result and the conversation's count each.

    An entry without `session_id` joins its conversation's current session (a new UUID for a
    new conversation).
    """
    order = list(dict.fromkeys(entry["conversation_id"] for entry, _ in entries))
    existing = tx.conversations(order)
    if caller.customer_id is not None:
        for conversation_id in order:
            owner = existing[conversation_id].customer_id if conversation_id in existing else None
            if owner is not None and owner != caller.customer_id:
                raise ApiError(403, "This API key may not access this conversation")
    state = {
        cid: _Tally(existing[cid].message_count, existing[cid].session_id)
        if cid in existing
        else _Tally(0, None)
        for cid in order
    }
    rows: list[MessageRow] = []
    out: list[tuple[dict[str, Any], int]] = []
    for entry, customer in entries:
        conversation_id = entry["conversation_id"]
        tally = state[conversation_id]
        if "session_id" in entry:
            tally.session = entry["session_id"]
        elif tally.session is None:
            tally.session = str(uuid.uuid4())
        tally.count += 1
        tally.added += 1
        tally.customer = tally.customer if tally.customer is not None else customer
        tally.user = tally.user if tally.user is not None else entry.get("user_id")
        metadata = entry.get("metadata")
        # Most entries carry no metadata and no keys without a column: "{}" without encoding.
        if entry.keys() <= columns:
            extra = "{}"
        else:
            extra = dumps({k: v for k, v in entry.items() if k not in columns}).decode()
        row = MessageRow(
            message_id=message_id(),
            conversation_id=conversation_id,
            seq=tally.count,
            role=entry["role"],
            content=entry["content"],
            user_id=entry.get("user_id"),
            customer_id=customer,
            session_id=tally.session,
            metadata=dumps(metadata).decode() if metadata else "{}",
            extra=extra,
            recorded_at=utc_now(),
        )
        rows.append(row)
        result = {
            "message_id": row.message_id,
            "conversation_id": conversation_id,
            "session_id": row.session_id,
            "recorded_at": row.recorded_at,
        }
        out.append((result, tally.count))
    now = utc_now()
    updates = [
        ConversationUpdate(cid, t.customer, t.user, t.session, t.added, now)
        for cid, t in state.items()
        if t.session is not None
    ]
    tx.add_messages(rows, updates)
    return out


@dataclass
class _Tally:
    """A conversation while one request adds to it."""

    count: int
    session: str | None
    customer: str | None = None
    user: str | None = None
    added: int = 0


def _fingerprint(operation_id: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{operation_id}\n{canonical}".encode()).hexdigest()
