"""Reading import files: timestamps as people have them, JSONL lines, folders of documents."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from synap.bulk import InvalidItem
from synap.bulk._files import (
    SourceMap,
    TimestampError,
    count_documents,
    count_lines,
    read_documents,
    read_messages,
    resolve_timezone,
    to_utc_iso,
)

CID = "9e9e45b2-399a-490a-89f2-9d25e1bf9a1d"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01 12:00", "2024-05-01T12:00:00Z"),
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("Wed, 01 May 2024 14:00:00 +0200", "2024-05-01T12:00:00Z"),
        ("Wed, 01 May 2024 12:00:00 GMT", "2024-05-01T12:00:00Z"),
        ("Wed, 01 May 2024 12:00:00", "2024-05-01T12:00:00Z"),
        ("2024-05-01 12:00:00.250", "2024-05-01T12:00:00.250000Z"),
        ("May 1 2024 7:00 AM -0500", "2024-05-01T12:00:00Z"),
        (1714564800, "2024-05-01T12:00:00Z"),
        (datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))), "2024-05-01T12:00:00Z"),
    ],
)
def test_timestamps_people_have_become_iso_utc(text: object, expected: str) -> None:
    assert to_utc_iso(text) == expected


def test_naive_timestamps_read_in_the_given_zone() -> None:
    paris = resolve_timezone("Europe/Paris")
    assert to_utc_iso("2024-05-01 12:00", naive_tz=paris) == "2024-05-01T10:00:00Z"
    # An explicit offset wins over the zone for naive times.
    assert to_utc_iso("2024-05-01 12:00 +0000", naive_tz=paris) == "2024-05-01T12:00:00Z"


@pytest.mark.parametrize("bad", ["yesterday-ish", "", "2024-13-45", True, None, [1]])
def test_unreadable_timestamps_are_refused(bad: object) -> None:
    with pytest.raises(TimestampError):
        to_utc_iso(bad)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(TimestampError, match="Mars/Olympus"):
        resolve_timezone("Mars/Olympus")


def test_messages_jsonl_keeps_positions_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    lines = [
        json.dumps({"conversation_id": CID, "role": "user", "content": "hi", "timestamp": 0}),
        "",  # blank lines are skipped, not counted
        "{not json",
        json.dumps(["a", "list"]),
        "   ",
        json.dumps({"role": "assistant", "content": "yo", "timestamp": "2024-05-01 12:00"}),
        json.dumps({"role": "user", "content": "x", "timestamp": "soon"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    smap = SourceMap()
    items = list(
        read_messages(path, defaults={"conversation_id": CID, "user_id": "u1"}, source_map=smap)
    )
    assert count_lines(path) == len(items) == 5
    assert items[0] == {
        "conversation_id": CID,
        "role": "user",
        "content": "hi",
        "timestamp": "1970-01-01T00:00:00Z",
        "user_id": "u1",
    }
    assert isinstance(items[1], InvalidItem)
    assert "not valid JSON" in items[1].reason
    assert isinstance(items[2], InvalidItem)
    assert "JSON object" in items[2].reason
    assert items[3]["conversation_id"] == CID
    assert items[3]["timestamp"] == "2024-05-01T12:00:00Z"
    assert isinstance(items[4], InvalidItem)
    assert items[4].reason.startswith("timestamp:")
    assert [smap.label(p) for p in range(5)] == [f"{path}:{n}" for n in (1, 3, 4, 6, 7)]


def test_non_utf8_line_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_bytes(b'{"content": "\xff"}\n{"content": "ok"}\n')
    items = list(read_messages(path))
    assert isinstance(items[0], InvalidItem)
    assert items[1] == {"content": "ok"}


def test_documents_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").write_text("secret")
    (tmp_path / "a.txt").write_text("plain text")
    (tmp_path / "b" / "mail.eml").write_text("Subject: hi\n\nbody")
    (tmp_path / "b" / "call.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nhello")
    (tmp_path / "c.json").write_text(json.dumps({"subject": "x", "date": "2024-05-01 12:00"}))
    (tmp_path / "d.jsonl").write_text(
        json.dumps({"document": "one", "document_created_at": "Wed, 01 May 2024 12:00:00 GMT"})
        + "\n\n"
        + json.dumps({"document": "two", "document_type": "email"})
        + "\n"
    )
    (tmp_path / "e.pdf").write_bytes(b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n")
    mtime = datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    os.utime(tmp_path / "a.txt", (mtime, mtime))

    smap = SourceMap()
    docs = list(
        read_documents(
            [tmp_path], defaults={"user_id": "u1"}, created_at_field="date", source_map=smap
        )
    )
    assert count_documents([tmp_path]) == len(docs) == 7
    a, vtt, eml, c, one, two, pdf = docs
    assert a == {
        "user_id": "u1",
        "document": "plain text",
        "document_type": "document",
        "document_created_at": "2023-01-02T03:04:05Z",
        "metadata": {"source": str(tmp_path / "a.txt")},
    }
    assert eml["document_type"] == "email"
    assert vtt["document_type"] == "meeting-transcript"
    assert c["document"] == {"subject": "x", "date": "2024-05-01 12:00"}
    assert c["document_created_at"] == "2024-05-01T12:00:00Z"
    assert one["document"] == "one"
    assert one["user_id"] == "u1"
    assert one["document_created_at"] == "2024-05-01T12:00:00Z"
    assert two["document_type"] == "email"
    assert "document_created_at" not in two
    assert isinstance(pdf, InvalidItem)
    assert "binary" in pdf.reason
    assert smap.label(0) == str(tmp_path / "a.txt")
    assert smap.label(1) == str(tmp_path / "b" / "call.vtt")
    assert smap.label(4) == f"{tmp_path / 'd.jsonl'}:1"
    assert smap.label(5) == f"{tmp_path / 'd.jsonl'}:3"
    assert smap.label(6) == str(tmp_path / "e.pdf")


def test_document_type_override(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (doc,) = read_documents([tmp_path / "notes.txt"], document_type="meeting-transcript")
    assert doc["document_type"] == "meeting-transcript"


def test_text_in_other_encodings_is_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "a-latin1.txt").write_bytes("Café crème, naïve façade".encode("latin-1"))
    smart = "\u201csmart quotes\u201d \u2013 \u20ac5"  # curly quotes, an en dash, the euro
    (tmp_path / "b-cp1252.txt").write_bytes(smart.encode("cp1252"))
    (tmp_path / "c-utf16.txt").write_text("Grüße aus Köln", encoding="utf-16")
    (tmp_path / "d-bom.txt").write_bytes("\ufeffwith a BOM".encode())
    (tmp_path / "e.bin").write_bytes(b"\x00\x01\x02binary\x00")
    docs = list(read_documents([tmp_path]))
    assert [d["document"] if isinstance(d, dict) else d.reason[:11] for d in docs] == [
        "Café crème, naïve façade",
        smart,
        "Grüße aus Köln",
        "with a BOM",
        "binary file",
    ]
    # --encoding names the encoding instead of guessing, for documents and JSONL lines alike.
    (tmp_path / "koi8.txt").write_bytes("Привет".encode("koi8_r"))
    (doc,) = read_documents([tmp_path / "koi8.txt"], encoding="koi8_r")
    assert doc["document"] == "Привет"
    (tmp_path / "lines.jsonl").write_bytes(
        json.dumps({"document": "naïve"}, ensure_ascii=False).encode("latin-1") + b"\n"
    )
    (bad,) = read_documents([tmp_path / "lines.jsonl"])
    assert isinstance(bad, InvalidItem)
    assert "--encoding" in bad.reason
    (good,) = read_documents([tmp_path / "lines.jsonl"], encoding="latin-1")
    assert good["document"] == "naïve"


def test_a_json_file_shaped_like_a_request_is_a_record(tmp_path: Path) -> None:
    record = {
        "document": "Renewal notice",
        "document_type": "email",
        "document_id": "doc-1",
        "user_id": "user_1",
        "metadata": {"tag": "billing"},
    }
    (tmp_path / "record.json").write_text(json.dumps(record))
    (tmp_path / "data.json").write_text(json.dumps({"document": "x", "author": "not a field"}))
    data, rec = read_documents([tmp_path], defaults={"customer_id": "c1"})
    assert rec["document"] == "Renewal notice"
    assert rec["document_type"] == "email"
    assert rec["document_id"] == "doc-1"
    assert rec["customer_id"] == "c1"
    assert rec["metadata"] == {"tag": "billing", "source": str(tmp_path / "record.json")}
    assert rec["document_created_at"].endswith("Z")  # the file's time, as for any file
    # Keys that are not CreateMemoryRequest fields: the JSON is the document itself.
    assert data["document"] == {"document": "x", "author": "not a field"}
    assert data["document_type"] == "document"


def test_one_default_document_type(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("file")
    (tmp_path / "b.jsonl").write_text(json.dumps({"document": "record"}) + "\n")
    (tmp_path / "c.json").write_text(json.dumps({"document": "json record"}))
    docs = list(read_documents([tmp_path]))
    assert [d["document_type"] for d in docs] == ["document"] * 3
    typed = list(read_documents([tmp_path], document_type="email"))
    assert [d["document_type"] for d in typed] == ["email"] * 3


def test_empty_documents_are_reported_not_sent(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("")
    (tmp_path / "b.md").write_text("  \n\t\n")
    (tmp_path / "c.jsonl").write_text(
        json.dumps({"document": ""}) + "\n" + json.dumps({"document": "ok"}) + "\n"
    )
    a, b, c1, c2 = read_documents([tmp_path])
    for empty in (a, b, c1):
        assert isinstance(empty, InvalidItem)
        assert "the document is empty" in empty.reason
    assert c2["document"] == "ok"


def test_request_fields_come_from_the_generated_model() -> None:
    import attrs
    from synap_api.models import CreateMemoryRequest

    from synap.bulk._files import request_fields

    names = {f.name for f in attrs.fields(CreateMemoryRequest)} - {"additional_properties"}
    assert request_fields() == names
    assert {"document", "document_type", "metadata"} <= names
