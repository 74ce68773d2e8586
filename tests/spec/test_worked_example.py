"""README "Regenerating the client", performed: the worked example on a copy of the project.

An optional field is added to the spec's message and document schemas, the client is
regenerated into the copy, and nothing in `synap/` is edited. Then, in a fresh interpreter
that imports the copy: a batch entry or a document carrying the field is type-checked
against the spec (a wrong type is an `InvalidInputError` naming the entry and the key, and
nothing is sent), sent in spec order, validated and stored by the local server and shown by
`synap inspect`. The parity tests of the copy name the one hand edit left
(`record_message`'s parameter), and a new endpoint answers 501 from the local server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.spec.test_generate import copy_project, run_generate

ROOT = Path(__file__).resolve().parents[2]

# The README's worked example, verbatim: the same text is added under each schema.
FIELD = {
    "annotations": {
        "type": "object",
        "additionalProperties": True,
        "description": "Labels attached by the caller's own pipeline.",
    }
}
SCHEMAS = ("RecordMessageRequest", "BatchMessage", "CreateMemoryRequest")

PROBE = textwrap.dedent(
    """
    import json, subprocess, sys, uuid

    import httpx
    import synap, synap_api, synap_spec
    from synap.memories.models import CreateMemoryRequest
    from synap.server import LocalServer

    here = sys.argv[1]
    assert synap.__file__.startswith(here), synap.__file__  # the copy, not the checkout
    assert synap_spec.__file__.startswith(here), synap_spec.__file__
    sent = []

    def capture(request):
        sent.append((request.url.path, json.loads(request.content)))

    cid = str(uuid.uuid4())
    entry = {"annotations": {"topic": "ui"}, "content": "dark mode please", "role": "user",
             "conversation_id": cid, "timestamp": "2026-05-16T09:00:00Z",
             "customer_id": "acme"}
    with LocalServer() as server, httpx.Client(event_hooks={"request": [capture]}) as http, \\
            synap.Synap(api_key=server.api_key, base_url=server.url, http_client=http) as client:
        # 1. Type-checked against the spec: the entry and the key are named, nothing is sent.
        bad = dict(entry, annotations="not-an-object")
        try:
            client.conversation.record_messages_batch(messages=[entry, bad])
        except synap.InvalidInputError as error:
            assert (error.field, error.index) == ("annotations", 1), (error.field, error.index)
            assert "messages[1].annotations must be a dict" in str(error), str(error)
        else:
            raise AssertionError("a wrong type was accepted")
        try:
            client.memories.batch_create([{"document": "x", "annotations": 5}], fail_fast=True)
        except synap.InvalidInputError as error:
            assert (error.field, error.index) == ("annotations", 0)
            assert "documents[0].annotations" in str(error)
        else:
            raise AssertionError("a wrong type was accepted")
        assert sent == [], sent
        assert server.store.counts()["messages"] == 0

        # 2. Sent in spec order (undocumented keys first, as the generated models write them).
        client.conversation.record_messages_batch(messages=[entry])
        path, body = sent.pop()
        assert list(body["messages"][0]) == [
            "timestamp", "conversation_id", "role", "content", "customer_id", "annotations"
        ], list(body["messages"][0])
        batch = client.memories.batch_create(
            [{"annotations": {"source": "wiki"}, "document": "Blue is my colour."},
             CreateMemoryRequest(document="Green too.", extra={"annotations": {"n": 2}})]
        )
        assert batch.succeeded == 2, batch
        path, body = sent.pop()
        assert list(body["documents"][0])[-2:] == ["metadata", "annotations"], body
        assert body["documents"][1]["annotations"] == {"n": 2}, body

        # 3. Validated by the local server (it reads the copy's spec) ...
        raw = httpx.post(
            server.url + synap_spec.OPERATIONS["record_messages_batch"].path,
            json={"messages": [dict(entry, annotations="not-an-object")]},
            headers={"Authorization": "Bearer " + server.api_key},
        ).json()
        assert "annotations: Input should be a valid dictionary" in raw["results"][0]["error"], raw
        # ... and stored.
        snapshot = server.store.snapshot()
        (message,) = snapshot["conversations"][0]["messages"]
        assert message["extra"] == {"timestamp": "2026-05-16T09:00:00Z",
                                    "annotations": {"topic": "ui"}}, message
        document = snapshot["documents"][0]
        assert document["extra"] == {"annotations": {"source": "wiki"}}, document

        # 4. Shown by synap inspect.
        shown = subprocess.run(
            [sys.executable, "-m", "synap", "inspect", "--db", str(server.db_path)],
            capture_output=True, text=True, check=True,
        ).stdout
        assert 'annotations={"topic": "ui"}' in shown, shown
        assert 'annotations={"source": "wiki"}' in shown, shown

        # A new enum value: accepted by the SDK, the server and the CLI's choices.
        batch = client.memories.batch_create(
            [CreateMemoryRequest(document="a,b", document_type="spreadsheet")]
        )
        assert batch.succeeded == 1, batch
        assert sent.pop()[1]["documents"][0]["document_type"] == "spreadsheet"
        usage = subprocess.run(
            [sys.executable, "-m", "synap", "import", "documents", "--help"],
            capture_output=True, text=True, check=True,
        ).stdout
        assert "meeting-transcript,spreadsheet}" in usage, usage
        # A new response field: typed (the TypedDicts are generated).
        import typing
        hints = typing.get_type_hints(synap.RecordMessageResponse, include_extras=True)
        assert str(hints["language"]) == "typing.NotRequired[str]", hints

        # 5. The one hand edit not made yet: record_message has no such parameter.
        try:
            client.conversation.record_message(cid, "user", "hi", "u1", "acme",
                                               annotations={"a": 1})
        except TypeError as error:
            assert "annotations" in str(error)
        else:
            raise AssertionError("record_message took a parameter it does not have")

        # 6. A new endpoint: the local server answers 501 naming it (never 500).
        answer = httpx.post(
            server.url + "/v1/conversations/compact",
            json={"conversation_id": cid},
            headers={"Authorization": "Bearer " + server.api_key},
        )
        assert answer.status_code == 501, answer.text
        assert "compact_conversation" in answer.json()["detail"], answer.text
    print("worked example: ok")
    """
)


def _add_example(spec: dict[str, object]) -> None:
    schemas = spec["components"]["schemas"]  # type: ignore[index]
    for name in SCHEMAS:
        schemas[name]["properties"].update(FIELD)  # type: ignore[index]
    # A new enum value and a new response field need no edit anywhere.
    schemas["DocumentType"]["enum"].append("spreadsheet")  # type: ignore[index]
    schemas["RecordMessageResponse"]["properties"]["language"] = {  # type: ignore[index]
        "type": "string",
        "description": "The language the message was written in.",
    }
    spec["paths"]["/v1/conversations/compact"] = {  # type: ignore[index]
        "post": {
            "operationId": "compact_conversation",
            "tags": ["conversation"],
            "summary": "Compact a conversation.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Metadata"}}
                },
            },
            "responses": {
                "200": {
                    "description": "Compacted.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Metadata"}}
                    },
                }
            },
        }
    }


@pytest.mark.slow
def test_the_readme_worked_example(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    shutil.copytree(ROOT / "synap", project / "synap", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "tests" / "spec").mkdir(parents=True)
    for name in ("tests/__init__.py", "tests/spec/__init__.py", "tests/spec/test_parity.py"):
        shutil.copy(ROOT / name, project / name)
    spec_file = project / "openapi" / "synap.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    _add_example(spec)
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))

    # Generate: the changelog names every addition as compatible, nothing breaking.
    done = run_generate(project)
    assert done.returncode == 0, done.stderr
    for name in SCHEMAS:
        assert f"  compatible  {name}.annotations: added (optional, object)" in done.stdout
    assert "operation compact_conversation: added" in done.stdout
    assert "breaking  " not in done.stdout
    assert "  compatible  enum DocumentType: value 'spreadsheet' added" in done.stdout
    assert "  compatible  RecordMessageResponse.language: added (optional, string)" in done.stdout
    assert "(0 breaking, 6 compatible)" in done.stdout
    # Nothing in synap/ was touched.
    for path in (ROOT / "synap").rglob("*.py"):
        relative = path.relative_to(ROOT)
        assert (project / relative).read_bytes() == path.read_bytes(), relative

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project), str(project / "generated")]),
    }
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(project)],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=240,
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert "worked example: ok" in probe.stdout

    # The parity tests name what is left to write by hand, and nothing else.
    parity = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/spec/test_parity.py",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=240,
    )
    report = parity.stdout
    assert parity.returncode == 1, report
    assert "Synap lacks conversation.compact_conversation" in report
    assert "lacks parameter(s) annotations" in report
    assert "CreateMemoryRequest lacks annotations" in report
    assert "the local server answers 501 to compact_conversation" in report
    failed = {
        line.split("::")[1].split(" ")[0]
        for line in report.splitlines()
        if line.startswith("FAILED")
    }
    assert failed == {
        "test_every_operation_has_a_method_on_every_facade[Synap-compact_conversation]",
        "test_every_operation_has_a_method_on_every_facade[AsyncSynap-compact_conversation]",
        "test_every_operation_has_a_method_on_every_facade[MaximemSynapSDK-compact_conversation]",
        "test_every_request_property_is_a_parameter[Synap-record_message]",
        "test_every_request_property_is_a_parameter[AsyncSynap-record_message]",
        "test_every_request_property_is_a_parameter[MaximemSynapSDK-record_message]",
        "test_create_memory_request_has_every_document_field",
        "test_the_local_server_handles_every_operation",
    }, report

    # Make the hand edit the parity tests name for record_message (a keyword parameter, passed
    # on), in both twins: then record_message's parity holds and the field reaches the wire.
    conversation = project / "synap" / "conversation.py"
    source = conversation.read_text()
    edited = source.replace(
        "        metadata: dict[str, Any] | None = None,\n",
        "        metadata: dict[str, Any] | None = None,\n"
        "        annotations: dict[str, Any] | None = None,\n",
    ).replace(
        "                metadata=metadata,\n",
        "                metadata=metadata,\n                annotations=annotations,\n",
    )
    assert edited.count("annotations=annotations") == 2, "the README's hand edit no longer applies"
    conversation.write_text(edited)
    parity = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "record_message",
         "tests/spec/test_parity.py"],
        capture_output=True, text=True, env=env, cwd=project, timeout=240,
    )  # fmt: skip
    assert parity.returncode == 0, parity.stdout
