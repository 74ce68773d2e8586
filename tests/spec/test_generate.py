"""scripts/generate.py: deterministic, drift-checked, and the only writer of generated/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def copy_project(dest: Path) -> Path:
    for name in ("openapi", "scripts", "generated"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def run_generate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(project / "scripts" / "generate.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_committed_tree_matches_the_spec() -> None:
    done = run_generate(ROOT, "--check")
    assert done.returncode == 0, done.stderr
    assert "matches" in done.stdout


def test_a_one_line_spec_change_is_caught_and_named(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    spec = project / "openapi" / "synap.yaml"
    text = spec.read_text()
    changed = text.replace(
        "          description: The message text.\n",
        "          description: The text of the message.\n",
        1,
    )
    assert changed != text
    spec.write_text(changed)
    done = run_generate(project, "--check")
    assert done.returncode == 1
    assert "changed: synap_api/models/record_message_request.py" in done.stderr
    # The facts carry descriptions too; nothing else drifted.
    assert "changed: synap_spec/__init__.py" in done.stderr
    assert "changed: synap_spec/openapi.json" in done.stderr  # the snapshot
    assert done.stderr.count("changed: ") == 3
    # A description is not a spec-level change.
    assert "spec: no changes to operations, properties or enums" in done.stderr


def test_a_hand_edit_of_generated_code_is_caught(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    target = project / "generated" / "synap_api" / "types.py"
    target.write_text(target.read_text() + "# edited by hand\n")
    (project / "generated" / "synap_api" / "extra.py").write_text("")
    done = run_generate(project, "--check")
    assert done.returncode == 1
    assert "changed: synap_api/types.py" in done.stderr
    assert "not generated: synap_api/extra.py" in done.stderr


def test_generating_twice_changes_no_byte(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    generated = project / "generated"
    shutil.rmtree(generated / "synap_api")
    done = run_generate(project)
    assert done.returncode == 0
    # New files are reported as added, not as missing.
    assert "added: synap_api/models/role.py" in done.stdout
    assert "missing" not in done.stdout
    first = {p.relative_to(generated): p.read_bytes() for p in generated.rglob("*") if p.is_file()}
    done = run_generate(project)
    assert done.returncode == 0
    assert "already up to date" in done.stdout
    second = {p.relative_to(generated): p.read_bytes() for p in generated.rglob("*") if p.is_file()}
    assert first == second
    assert Path("synap_api/py.typed") in first
    assert Path("synap_spec/py.typed") in first
    assert Path("synap_spec/openapi.json") in first


@pytest.mark.slow
def test_the_wheel_ships_both_packages_typed(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("synap_memory-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "synap/__init__.py",
        "synap/py.typed",
        "synap_api/py.typed",
        "synap_spec/py.typed",
    } <= names
    assert "synap_spec/responses.py" in names
    assert "synap_api/api/memories/batch_create.py" in names
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(wheel).extractall(unpacked)
    probe = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import synap_api, synap_spec, synap;"
            " from synap_api.api.conversation import record_message;"
            " print(synap_api.__file__)",
            str(unpacked),
        ],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith(str(unpacked))
