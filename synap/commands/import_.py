"""`synap import messages FILE.jsonl` and `synap import documents PATH ...`.

Streams the input (memory stays flat), sends it in calls of at most 100 with bounded
concurrency, shows progress on stderr (a live bar on a terminal, plain lines otherwise), prints
a summary on stdout with the file line of every item not stored, and exits 0 when everything
is stored, 1 when some items failed, 2 on bad usage or when nothing could be stored (130 on
Ctrl-C; rerun with the same --checkpoint to resume).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from synap_spec import ENUMS

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# The local server's limit, and the hosted service's as far as it is known (a 5.3 MB document
# is refused there with 413).
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

# "(item 6)" in a held-back reason -> the line or file of that input position.
_ITEM = re.compile(r"\(item (\d+)\)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    messages = kinds.add_parser(
        "messages",
        help="record conversation messages from a JSONL file (one message object per line)",
        description="Record conversation messages from a JSONL file: one JSON object per line "
        "with conversation_id, role, content (and optionally user_id, customer_id, session_id, "
        "metadata, timestamp, ...).",
    )
    messages.add_argument("file", metavar="FILE.jsonl", help="the JSONL file to import")
    messages.add_argument(
        "--conversation-id", help="conversation_id for lines that have none (a UUID)"
    )
    messages.add_argument(
        "--timestamp-field",
        default="timestamp",
        metavar="NAME",
        help="the field holding each message's time, sent as ISO-8601 UTC (default: timestamp)",
    )
    messages.add_argument(
        "--preserve-order",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="store each conversation's turns in file order: after a turn that is not stored "
        "(invalid, rejected, or its call failed), the conversation's later turns are held "
        "back and reported, and a rerun with --checkpoint sends them in order (default: on)",
    )
    _common(messages)

    documents = kinds.add_parser(
        "documents",
        help="ingest documents from files and folders",
        description="Ingest documents: each file is one document (its text; a .json file's "
        "JSON, or the CreateMemoryRequest it holds), each line of a .jsonl file is one "
        "CreateMemoryRequest as JSON. Folders are read recursively, in name order, hidden "
        "files skipped. Text that is not UTF-8 is read as Windows-1252 unless --encoding "
        "says otherwise; empty files are reported, not sent.",
    )
    documents.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    documents.add_argument(
        "--document-type",
        choices=ENUMS["DocumentType"],  # the spec's enum (synap_spec, generated)
        help="document_type of every document that names none (default: from the file "
        "extension: .eml email, .vtt/.srt meeting-transcript, otherwise document; records "
        "in .json/.jsonl files without one: document)",
    )
    documents.add_argument(
        "--created-at-field",
        default="document_created_at",
        metavar="NAME",
        help="the field holding the creation time in .json/.jsonl documents (default: "
        "document_created_at); other files use their modification time",
    )
    documents.add_argument("--mode", choices=ENUMS["MemoryMode"], help="processing mode")
    documents.add_argument("--scope", help="memory scope of every document")
    _common(documents)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user-id", help="user_id for items that have none")
    parser.add_argument("--customer-id", help="customer_id for items that have none")
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="N", help="calls in flight (default: 4)"
    )
    parser.add_argument(
        "--chunk-size", type=int, metavar="N", help="items per call, at most 100 (default: 100)"
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="make the import resumable: confirmed calls are recorded here, and a rerun with "
        "the same file skips them",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything that can be checked without Synap (each item, its size, "
        "missing customer_id) and report what the real run would refuse; send nothing",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help="the largest request body Synap takes; an item larger than one call can carry "
        f"is reported, not sent (default: {DEFAULT_MAX_BODY_BYTES} = 4 MiB)",
    )
    parser.add_argument(
        "--encoding",
        metavar="NAME",
        help="the text encoding of the input files (default: UTF-8; documents that are not "
        "UTF-8 are read as Windows-1252), e.g. latin-1, cp1252, utf-16",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        metavar="TZ",
        help="zone of timestamps without an offset: UTC (default), local, or e.g. Europe/Paris",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--base-url", help="Synap URL (default: $SYNAP_BASE_URL)")
    parser.add_argument("--api-key", help="API key (default: $SYNAP_API_KEY)")
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain http:// URL off this machine (the key then crosses the network in "
        "clear text; only on a network you trust)",
    )


def run(args: argparse.Namespace) -> int:
    import codecs

    from synap._errors import SynapError
    from synap.bulk import CheckpointError
    from synap.bulk._files import SourceMap, TimestampError, resolve_timezone
    from synap.commands._advice import call_error, plain

    try:
        naive_tz = resolve_timezone(args.timezone)
    except TimestampError as exc:
        return _usage(f"--timezone: {exc}")
    if args.encoding is not None:
        try:
            codecs.lookup(args.encoding)
        except LookupError:
            return _usage(f"--encoding: unknown encoding {args.encoding!r} (try utf-8, cp1252)")
    if args.max_body_bytes < 1:
        return _usage(f"--max-body-bytes must be a positive number, not {args.max_body_bytes}")
    source_map = SourceMap()
    try:
        items, total = _reader(args, naive_tz, source_map)
    except OSError as exc:
        return _usage(f"cannot read {exc.filename}: {exc.strerror}")
    census = Census()
    if args.kind == "messages":
        items = census.watch(items)

    progress = ProgressReport(sys.stderr, label=f"import {args.kind}")
    try:
        summary = _send(args, items, total, progress)
    except KeyboardInterrupt:
        progress.finish()
        hint = (
            f"rerun with --checkpoint {args.checkpoint} to resume"
            if args.checkpoint
            else "use --checkpoint FILE to make an import resumable"
        )
        print(f"synap import: interrupted; {hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CheckpointError as exc:
        progress.finish()
        return _usage(f"--checkpoint: {plain(str(exc))}")
    except SynapError as exc:
        # A wrong URL, a refused key, no credits: every call would fail alike. One line.
        progress.finish()
        return _usage(call_error(exc, args.base_url or os.environ.get("SYNAP_BASE_URL")))
    except OSError as exc:
        progress.finish()
        return _usage(f"cannot read {exc.filename}: {exc.strerror}")
    progress.finish()
    _print_summary(args, summary, source_map)
    census.warn(args, summary)
    if summary.ok:
        return EXIT_OK
    good = summary.total - summary.failed if summary.dry_run else summary.succeeded
    # Some items failed; when none could be stored (or, in a dry run, none is valid) say so.
    return EXIT_SOME_FAILED if good else EXIT_USAGE


def _usage(message: str) -> int:
    print(f"synap import: {message}", file=sys.stderr)
    return EXIT_USAGE


def _reader(args: argparse.Namespace, naive_tz: Any, source_map: Any) -> tuple[Iterator[Any], int]:
    from synap.bulk import _files

    if args.kind == "messages":
        defaults = {
            "conversation_id": args.conversation_id,
            "user_id": args.user_id,
            "customer_id": args.customer_id,
        }
        total = _files.count_lines(args.file)  # also fails early on a missing file
        items = _files.read_messages(
            args.file,
            defaults=defaults,
            timestamp_field=args.timestamp_field,
            naive_tz=naive_tz,
            source_map=source_map,
            encoding=args.encoding,
        )
        return items, total
    for path in args.paths:
        os.stat(path)  # a missing path fails here, before anything is sent
    defaults = {
        "user_id": args.user_id,
        "customer_id": args.customer_id,
        "mode": args.mode,
        "scope": args.scope,
    }
    total = _files.count_documents(args.paths)
    items = _files.read_documents(
        args.paths,
        document_type=args.document_type,
        defaults={k: v for k, v in defaults.items() if v is not None},
        created_at_field=args.created_at_field,
        naive_tz=naive_tz,
        source_map=source_map,
        encoding=args.encoding,
    )
    return items, total


def _send(
    args: argparse.Namespace, items: Iterator[Any], total: int, progress: ProgressReport
) -> Any:
    from synap import bulk

    options: dict[str, Any] = {
        "chunk_size": args.chunk_size,
        "concurrency": args.concurrency,
        "checkpoint": args.checkpoint,
        "on_progress": progress,
        "total": total,
        "dry_run": args.dry_run,
        "max_body_bytes": args.max_body_bytes,
    }
    if args.kind == "messages":
        options["preserve_order"] = args.preserve_order
    if args.dry_run:
        # Nothing is sent, so no client (and no API key) is needed.
        if args.kind == "messages":
            return bulk.record_messages(None, items, **options)
        return bulk.bulk_create(None, items, **options)
    from synap import Synap

    with Synap(
        api_key=args.api_key,
        base_url=args.base_url,
        allow_insecure_http=args.allow_insecure_http,
    ) as client:
        if args.kind == "messages":
            return bulk.record_messages(client.conversation, items, **options)
        return bulk.bulk_create(client.memories, items, **options)


def _print_summary(args: argparse.Namespace, summary: Any, source_map: Any) -> None:
    from synap.commands._advice import item_reason

    noun = "lines" if args.kind == "messages" else "documents"

    def where(position: int) -> str:
        name, line = source_map.locate(position)
        if args.kind == "messages":
            return f"line {line}"
        return f"{name}:{line}" if line is not None else name

    failures = []
    for failure in summary.failures:
        name, line = source_map.locate(failure.position)
        reason = _ITEM.sub(lambda m: f"({where(int(m[1]))})", item_reason(failure.reason))
        if "more than one call may carry" in reason:
            reason += _split_hint(args, name, line)
        failures.append(
            {
                "position": failure.position,
                "source": name,
                "line": line,
                "where": where(failure.position),
                "stage": failure.stage,
                "reason": reason,
            }
        )
    if args.json:
        report = {
            "total": summary.total,
            "succeeded": summary.succeeded,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "calls": summary.calls,
            "dry_run": summary.dry_run,
            "failures": failures,
        }
        print(json.dumps(report, ensure_ascii=False))
        return
    held = sum(1 for f in failures if f["stage"] == "held")
    if summary.dry_run:
        also = f" ({held:,} of them held back behind an invalid turn)" if held else ""
        print(
            f"dry run, nothing sent: {summary.total:,} {noun} read, "
            f"{summary.total - summary.failed:,} valid, {summary.failed:,} would not be "
            f"stored{also}"
        )
    else:
        resumed = f" ({summary.skipped:,} by an earlier run)" if summary.skipped else ""
        print(
            f"{summary.succeeded:,} of {summary.total:,} {noun} stored{resumed}, "
            f"{summary.failed:,} failed, {summary.calls:,} calls"
        )
    for first, last, f in _runs(failures):
        span = f["where"] if first is last else f"{first['where']} to {last['where']}"
        print(f"{span}: {f['stage']}: {f['reason']}")
    if failures and not summary.dry_run:
        print(_rerun_hint(args), file=sys.stderr)


def _split_hint(args: argparse.Namespace, name: str, line: int | None) -> str:
    """How to make an item that is too large for one call fit."""
    if args.kind == "documents" and line is None:
        part = max(args.max_body_bytes // 2, 1)
        return (
            f" (e.g. `split -C {part} '{name}' '{name}.part-'`, then import the parts), or "
            "raise --max-body-bytes if your Synap takes larger bodies"
        )
    return ", or raise --max-body-bytes if your Synap takes larger bodies"


def _runs(failures: list[dict[str, Any]]) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """Consecutive failures held back for the same reason, as (first, last, one of them)."""
    i = 0
    while i < len(failures):
        j = i
        if failures[i]["stage"] == "held":
            while (
                j + 1 < len(failures)
                and failures[j + 1]["stage"] == "held"
                and failures[j + 1]["reason"] == failures[i]["reason"]
                and failures[j + 1]["position"] == failures[j]["position"] + 1
            ):
                j += 1
        yield failures[i], failures[j], failures[i]
        i = j + 1


def _rerun_hint(args: argparse.Namespace) -> str:
    if args.checkpoint:
        return (
            f"synap import: fix what is listed and rerun with --checkpoint {args.checkpoint}: "
            "what is stored is skipped and the rest is sent, each conversation in order"
        )
    return (
        "synap import: rerunning this command as is stores nothing twice (each call replays); "
        "to fix lines and send them, rerun with --checkpoint FILE from the start next time "
        "(without one, a call with a changed line is sent whole again)"
    )


class Census:
    """Counts what the server may refuse that only the server can decide: messages without
    `customer_id` (a B2B Synap rejects them; a B2C one uses `user_id`)."""

    def __init__(self) -> None:
        self.without_customer = 0

    def watch(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            if isinstance(item, dict) and item.get("customer_id") is None:
                self.without_customer += 1
            yield item

    def warn(self, args: argparse.Namespace, summary: Any) -> None:
        if not self.without_customer:
            return
        noun = "line has" if self.without_customer == 1 else "lines have"
        print(
            f"synap import: warning: {self.without_customer:,} {noun} no customer_id, which a "
            "B2B Synap requires (it rejects them; a B2C one uses user_id): pass --customer-id "
            "ID for lines without one, or add it to them",
            file=sys.stderr,
        )


class ProgressReport:
    """`(done, total)` -> progress on `stream`: a live bar with rate and ETA on a terminal,
    a plain line at most every few seconds (and at the end) otherwise."""

    def __init__(self, stream: IO[str], *, label: str, interval: float | None = None) -> None:
        self.stream = stream
        self.label = label
        self.live = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.1 if self.live else 2.0)
        self.started = time.monotonic()
        self.last = float("-inf")  # the first report is always shown
        self.shown = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self.last < self.interval:
            return
        self.last = now
        line = f"{self.label} {self.render(done, total, now - self.started)}"
        if self.live:
            self.stream.write("\r\x1b[2K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    @staticmethod
    def render(done: int, total: int | None, elapsed: float) -> str:
        rate = done / elapsed if elapsed > 0 else 0.0
        speed = f"{rate:,.0f}/s"
        if not total:
            return f"{done:,} items  {speed}"
        fraction = min(done / total, 1.0)
        width = 24
        filled = int(fraction * width)
        bar = "#" * filled + "-" * (width - filled)
        eta = _clock((total - done) / rate) if rate > 0 and done < total else "0:00"
        return f"[{bar}] {fraction:4.0%} {done:,}/{total:,}  {speed}  ETA {eta}"

    def finish(self) -> None:
        if self.live and self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
