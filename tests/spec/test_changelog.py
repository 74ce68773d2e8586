"""The generator's spec-level changelog: each realistic spec change is named and marked
breaking or compatible, by `changes()` and by `scripts/generate.py` (and `--check`)."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.spec._spec import ROOT, load_spec
from tests.spec.test_generate import copy_project, run_generate

sys.path.insert(0, str(ROOT / "scripts"))
from generator import facts
from generator.changelog import changes

Edit = Callable[[dict[str, Any]], None]


def schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]  # type: ignore[no-any-return]


def lines_after(edit: Edit) -> list[str]:
    new = copy.deepcopy(load_spec())
    edit(new)
    return [c.line() for c in changes(facts.read(load_spec()), facts.read(new))]


def add_optional_field(spec: dict[str, Any]) -> None:
    schemas(spec)["BatchMessage"]["properties"]["annotations"] = {"type": "object"}


def require_session(spec: dict[str, Any]) -> None:
    schemas(spec)["BatchMessage"]["required"].append("session_id")


def rename_content(spec: dict[str, Any]) -> None:
    for name in ("RecordMessageRequest", "BatchMessage"):
        schema = schemas(spec)[name]
        schema["properties"] = {
            ("text" if k == "content" else k): v for k, v in schema["properties"].items()
        }
        schema["required"] = ["text" if k == "content" else k for k in schema["required"]]


def add_document_type(spec: dict[str, Any]) -> None:
    schemas(spec)["DocumentType"]["enum"].append("spreadsheet")


def drop_document_type(spec: dict[str, Any]) -> None:
    schemas(spec)["DocumentType"]["enum"].remove("pdf")


def fewer_documents(spec: dict[str, Any]) -> None:
    schemas(spec)["BatchCreateRequest"]["properties"]["documents"]["maxItems"] = 50


def more_documents(spec: dict[str, Any]) -> None:
    schemas(spec)["BatchCreateRequest"]["properties"]["documents"]["maxItems"] = 500


def content_not_null(spec: dict[str, Any]) -> None:
    schemas(spec)["CreateMemoryRequest"]["properties"]["scope"]["type"] = "string"


def new_response_field(spec: dict[str, Any]) -> None:
    schemas(spec)["RecordMessageResponse"]["properties"]["language"] = {"type": "string"}


def new_endpoint(spec: dict[str, Any]) -> None:
    spec["paths"]["/v1/conversations/compact"] = {
        "post": {"operationId": "compact_conversation", "responses": {"200": {"description": "ok"}}}
    }


def drop_endpoint(spec: dict[str, Any]) -> None:
    del spec["paths"]["/api/v1/memories/batch"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (add_optional_field, ["compatible  BatchMessage.annotations: added (optional, object)"]),
        (require_session, ["breaking    BatchMessage.session_id: now required"]),
        (
            rename_content,
            [
                "breaking    RecordMessageRequest.content: renamed to text",
                "breaking    BatchMessage.content: renamed to text",
            ],
        ),
        (add_document_type, ["compatible  enum DocumentType: value 'spreadsheet' added"]),
        (drop_document_type, ["breaking    enum DocumentType: value 'pdf' removed"]),
        (fewer_documents, ["breaking    BatchCreateRequest.documents: maxItems 100 -> 50"]),
        (more_documents, ["compatible  BatchCreateRequest.documents: maxItems 100 -> 500"]),
        (content_not_null, ["breaking    CreateMemoryRequest.scope: type no longer accepts null"]),
        (
            new_response_field,
            ["compatible  RecordMessageResponse.language: added (optional, string)"],
        ),
        (
            new_endpoint,
            ["compatible  operation compact_conversation: added (POST /v1/conversations/compact)"],
        ),
    ],
)
def test_each_change_is_named_and_marked(edit: Edit, expected: list[str]) -> None:
    assert lines_after(edit) == expected


def test_a_removed_endpoint_is_breaking_with_what_only_it_used() -> None:
    found = lines_after(drop_endpoint)
    assert found[0] == "breaking    operation batch_create: removed (POST /api/v1/memories/batch)"
    assert all(line.startswith("breaking") for line in found)


def test_no_change_no_lines() -> None:
    assert lines_after(lambda spec: None) == []


@pytest.mark.slow
def test_generate_and_check_print_the_changelog(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    path = project / "openapi" / "synap.yaml"
    spec = yaml.safe_load(path.read_text())
    rename_content(spec)
    add_document_type(spec)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))

    check = run_generate(project, "--check")
    assert check.returncode == 1
    assert "spec changes since generated/synap_spec/openapi.json (2 breaking, 1 compatible)" in (
        check.stderr
    )
    assert "breaking    BatchMessage.content: renamed to text" in check.stderr

    done = run_generate(project)
    assert done.returncode == 0, done.stderr
    assert "  breaking    RecordMessageRequest.content: renamed to text" in done.stdout
    assert "  compatible  enum DocumentType: value 'spreadsheet' added" in done.stdout
    assert "added: synap_api/models/" not in done.stdout  # no new model: only changed ones
    # The snapshot moved on: the next run has nothing to report.
    again = run_generate(project)
    assert "spec: no changes to operations, properties or enums" in again.stdout
    assert "already up to date" in again.stdout
    # --previous compares with any spec file, e.g. the one of the last release.
    against = run_generate(project, "--check", "--previous", str(ROOT / "openapi" / "synap.yaml"))
    assert against.returncode == 0  # the tree matches; --check says nothing more then
    shown = subprocess.run(
        [sys.executable, str(project / "scripts" / "generate.py"), "--previous",
         str(ROOT / "openapi" / "synap.yaml")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "(2 breaking, 1 compatible)" in shown.stdout
