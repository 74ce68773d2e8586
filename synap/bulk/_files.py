"""Reading what people import: JSONL transcripts, folders of documents, their timestamps.

Used by `synap import`; every item read keeps its position, and `SourceMap.label(position)`
turns a position back into `path:line` (or `path`) for reports. Nothing here talks to Synap.
python-dateutil is imported only when a timestamp is parsed, so `import synap` stays cheap.
"""

from __future__ import annotations

import json
import os
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from synap.bulk._engine import InvalidItem

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})

# document_type by file extension (the docs' seven types); anything else is a "document".
DOCUMENT_TYPES: dict[str, str] = {
    ".eml": "email",
    ".vtt": "meeting-transcript",
    ".srt": "meeting-transcript",
    ".pdf": "pdf",
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"), "image"),
    **dict.fromkeys((".mp3", ".wav", ".m4a", ".ogg", ".flac", ".aac", ".opus"), "audio"),
}


# The document_type of a document that names none and whose file says nothing (one default,
# for whole files and for records alike).
DEFAULT_DOCUMENT_TYPE = "document"

# Files that hold binary data by their type: never read as text in another encoding.
_BINARY_TYPES = frozenset(("pdf", "image", "audio"))


def request_fields() -> frozenset[str]:
    """The keys of a `CreateMemoryRequest`, from the generated model (so from the spec)."""
    import attrs
    from synap_api.models import CreateMemoryRequest

    return frozenset(
        f.name for f in attrs.fields(CreateMemoryRequest) if f.name != "additional_properties"
    )


def is_request_record(value: object, fields: frozenset[str]) -> bool:
    """Whether a JSON object is a `CreateMemoryRequest` (a `document` and only its keys)
    rather than a document that happens to be JSON."""
    return isinstance(value, dict) and "document" in value and value.keys() <= fields


def _blank(document: object) -> bool:
    return document is None or (isinstance(document, str) and not document.strip())


_EMPTY = "the document is empty: nothing to ingest (remove it, or fill it in)"


class TimestampError(ValueError):
    """A timestamp that could not be understood."""


def resolve_timezone(name: str | None) -> tzinfo:
    """`None`/`UTC` -> UTC, `local` -> this machine's zone, else an IANA name (`Europe/Paris`)."""
    from dateutil import tz

    if name is None or name.upper() == "UTC":
        return UTC
    zone = tz.tzlocal() if name == "local" else tz.gettz(name)
    if zone is None:
        raise TimestampError(f"unknown time zone {name!r} (try UTC, local or Europe/Paris)")
    return zone


def to_utc_iso(value: Any, *, naive_tz: tzinfo = UTC) -> str:
    """A timestamp as people have them -> ISO-8601 in UTC with `Z`.

    Accepts ISO-8601, `2024-05-01 12:00`, RFC 2822 (`Wed, 01 May 2024 12:00:00 +0200`), with or
    without an offset (without one it is read in `naive_tz`), `datetime` objects, and numbers as
    Unix epoch seconds.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise TimestampError(f"timestamp out of range: {value!r}") from None
    elif isinstance(value, str) and value.strip():
        from dateutil import parser

        try:
            moment = parser.parse(value)
        except (ValueError, OverflowError):
            raise TimestampError(f"cannot read {value!r} as a date and time") from None
    else:
        raise TimestampError(f"cannot read {value!r} as a date and time")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=naive_tz)
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


@dataclass
class SourceMap:
    """Input position -> where it came from (`path:line` or `path`), compactly: one entry per
    file, plus the numbers of the blank lines that were skipped (they have no position)."""

    _starts: list[int] = field(default_factory=list)
    _files: list[tuple[str, bool, list[int]]] = field(default_factory=list)

    def add_file(self, start: int, name: str, *, lines: bool) -> list[int]:
        blanks: list[int] = []
        self._starts.append(start)
        self._files.append((name, lines, blanks))
        return blanks

    def locate(self, position: int) -> tuple[str, int | None]:
        i = bisect_right(self._starts, position) - 1
        if i < 0:
            return "?", None
        name, lines, blanks = self._files[i]
        if not lines:
            return name, None
        line = position - self._starts[i] + 1
        for blank in blanks:  # ascending; few in practice
            if blank <= line:
                line += 1
            else:
                break
        return name, line

    def label(self, position: int) -> str:
        name, line = self.locate(position)
        return name if line is None else f"{name}:{line}"


def _json_lines(path: Path, blanks: list[int], encoding: str | None = None) -> Iterator[Any]:
    """Each non-blank line of a JSONL file as a parsed value, or an InvalidItem saying why.
    Lines are UTF-8 unless `encoding` names another."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                blanks.append(number)
                continue
            try:
                yield json.loads(raw if encoding is None else raw.decode(encoding))
            except UnicodeDecodeError:
                yield InvalidItem(
                    f"the line is not {encoding or 'UTF-8'} text; pass --encoding with the "
                    "file's encoding (e.g. --encoding cp1252)"
                )
            except ValueError as exc:
                yield InvalidItem(f"the line is not valid JSON: {exc}")


def read_messages(
    path: str | os.PathLike[str],
    *,
    defaults: Mapping[str, Any] | None = None,
    timestamp_field: str = "timestamp",
    naive_tz: tzinfo = UTC,
    source_map: SourceMap | None = None,
    encoding: str | None = None,
) -> Iterator[Any]:
    """The messages of a JSONL file, one JSON object per line, for `record_messages_bulk`.

    Keys missing from a line are taken from `defaults` (e.g. `user_id`); the `timestamp_field`
    of a line, when present, is sent as ISO-8601 UTC. Unreadable lines come out as
    `InvalidItem`s so they keep their position and are reported, never sent.
    """
    p = Path(path)
    blanks = (source_map or SourceMap()).add_file(0, str(p), lines=True)
    for value in _json_lines(p, blanks, encoding):
        if isinstance(value, InvalidItem):
            yield value
        elif not isinstance(value, dict):
            yield InvalidItem(
                f"the line is a JSON {type(value).__name__}, not an object: a message is one "
                "JSON object per line"
            )
        else:
            yield _with_defaults(value, defaults, timestamp_field, naive_tz)


def _with_defaults(
    record: dict[str, Any],
    defaults: Mapping[str, Any] | None,
    time_field: str | None,
    naive_tz: tzinfo,
) -> dict[str, Any] | InvalidItem:
    for key, value in (defaults or {}).items():
        if value is not None and record.get(key) is None:
            record[key] = value
    if time_field and record.get(time_field) is not None:
        try:
            record[time_field] = to_utc_iso(record[time_field], naive_tz=naive_tz)
        except TimestampError as exc:
            return InvalidItem(
                f"{time_field}: {exc}; write it as ISO-8601 (2024-05-01T12:00:00Z) or RFC 2822"
            )
    return record


def document_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named, and the files under folders named: in name order, a subfolder's files
    where its name sorts (like `find | sort`), hidden entries skipped. Deterministic, so a
    resumed import meets the same documents at the same positions."""
    for given in paths:
        p = Path(given)
        yield from _walk(p) if p.is_dir() else (p,)


def _walk(folder: Path) -> Iterator[Path]:
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(Path(entry.path))
        else:
            yield Path(entry.path)


def count_documents(paths: Iterable[str | os.PathLike[str]]) -> int:
    """How many documents `read_documents` will yield (for progress), reading JSONL lines."""
    count = 0
    for path in document_files(paths):
        if path.suffix.lower() in JSONL_SUFFIXES:
            with path.open("rb") as handle:
                count += sum(1 for raw in handle if raw.strip())
        else:
            count += 1
    return count


def count_lines(path: str | os.PathLike[str]) -> int:
    """Non-blank lines of a JSONL file (for progress)."""
    with Path(path).open("rb") as handle:
        return sum(1 for raw in handle if raw.strip())


def read_documents(
    paths: Iterable[str | os.PathLike[str]],
    *,
    document_type: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    created_at_field: str = "document_created_at",
    naive_tz: tzinfo = UTC,
    source_map: SourceMap | None = None,
    encoding: str | None = None,
) -> Iterator[Any]:
    """Documents for `bulk_create`, from files and folders.

    - `.jsonl` / `.ndjson`: one document per line, each a `CreateMemoryRequest` as JSON (at
      least `document`); missing keys come from `defaults`.
    - `.json`: an object with `document` and only `CreateMemoryRequest` keys is such a record;
      any other JSON value is the document itself.
    - any other file: its text is the document; `document_type` from its extension (`.eml`
      email, `.vtt`/`.srt` meeting-transcript, ...). Text is UTF-8 (a BOM is dropped), else
      `encoding` when given, else Windows-1252/Latin-1; files of a binary type (pdf, image,
      audio) or with NUL bytes are reported, not guessed at.
    Type: the one a record names, else `document_type` (the CLI's `--document-type`), else
    the one the file's extension suggests, else `"document"`. `document_created_at` is read
    from the record's `created_at_field`, else the file's modification time; either way sent
    as ISO-8601 UTC. Each whole file's path goes in `metadata["source"]`. Empty documents are
    reported, never sent.
    """
    smap = source_map or SourceMap()
    fields = request_fields()
    position = 0
    for path in document_files(paths):
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            blanks = smap.add_file(position, str(path), lines=True)
            if not path.is_file():
                continue
            for value in _json_lines(path, blanks, encoding):
                position += 1
                if isinstance(value, InvalidItem):
                    yield value
                elif not isinstance(value, dict):
                    yield InvalidItem(
                        f"the line is a JSON {type(value).__name__}, not an object: each line "
                        "is one CreateMemoryRequest object, with at least a document"
                    )
                else:
                    yield _record(value, document_type, defaults, created_at_field, naive_tz)
            continue
        smap.add_file(position, str(path), lines=False)
        position += 1
        yield _whole_file(
            path, suffix, document_type, defaults, created_at_field, naive_tz, encoding, fields
        )


def _record(
    value: dict[str, Any],
    document_type: str | None,
    defaults: Mapping[str, Any] | None,
    created_at_field: str,
    naive_tz: tzinfo,
) -> dict[str, Any] | InvalidItem:
    """A `CreateMemoryRequest` record (a JSONL line, a .json file) as sent."""
    if created_at_field != "document_created_at" and created_at_field in value:
        value["document_created_at"] = value.pop(created_at_field)
    if "document" in value and _blank(value["document"]):
        return InvalidItem(_EMPTY)
    record = dict(defaults or {})
    record["document_type"] = document_type or DEFAULT_DOCUMENT_TYPE
    record.update({k: v for k, v in value.items() if v is not None})
    return _with_defaults(record, None, "document_created_at", naive_tz)


def _text(data: bytes, suffix: str, encoding: str | None) -> str | InvalidItem:
    """A file's bytes as text, or why they are not."""
    if encoding is not None:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            return InvalidItem(
                f"the file is not {encoding} text (byte {exc.start}); pass the file's own "
                "encoding with --encoding"
            )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" not in data:  # NUL is UTF-8 too, but no text file holds one
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    if DOCUMENT_TYPES.get(suffix) in _BINARY_TYPES or b"\x00" in data:
        return InvalidItem(
            "binary file: Synap ingests text or JSON documents; extract the text first and "
            "import that (with --document-type to keep the type)"
        )
    try:
        return data.decode("cp1252")  # the usual 8-bit text; Latin-1 where cp1252 has a gap
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _whole_file(
    path: Path,
    suffix: str,
    document_type: str | None,
    defaults: Mapping[str, Any] | None,
    created_at_field: str,
    naive_tz: tzinfo,
    encoding: str | None,
    fields: frozenset[str],
) -> dict[str, Any] | InvalidItem:
    try:
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError as exc:
        return InvalidItem(f"the file cannot be read: {exc.strerror or exc}")
    text = _text(data, suffix, encoding)
    if isinstance(text, InvalidItem):
        return text
    if not text.strip():
        return InvalidItem(_EMPTY)
    content: Any = text
    created: Any = None
    if suffix == ".json":
        try:
            content = json.loads(text)
        except ValueError as exc:
            return InvalidItem(f"the file is not valid JSON: {exc}")
        if is_request_record(content, fields):
            if created_at_field not in content and "document_created_at" not in content:
                content[created_at_field] = mtime
            metadata = content.get("metadata")
            if isinstance(metadata, dict) and "source" not in metadata:
                content["metadata"] = {**metadata, "source": str(path)}
            elif metadata is None:
                content["metadata"] = {"source": str(path)}
            return _record(content, document_type, defaults, created_at_field, naive_tz)
        if isinstance(content, dict):
            created = content.get(created_at_field)
    record: dict[str, Any] = dict(defaults or {})
    record["document"] = content
    record["document_type"] = document_type or DOCUMENT_TYPES.get(suffix) or DEFAULT_DOCUMENT_TYPE
    record["document_created_at"] = created if created is not None else mtime
    metadata = dict(record.get("metadata") or {})
    metadata["source"] = str(path)
    record["metadata"] = metadata
    return _with_defaults(record, None, "document_created_at", naive_tz)
