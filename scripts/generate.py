#!/usr/bin/env python3
"""Compile openapi/synap.yaml into generated/: the low-level client and the spec's facts.

    python scripts/generate.py           regenerate generated/ in place and print what changed
                                         in the spec since the last generation, each change
                                         marked breaking or compatible
    python scripts/generate.py --check   regenerate into a temporary folder and exit 1,
                                         naming every file that differs (and the spec changes
                                         behind them), if the committed tree has drifted
    --into DIR                           write the packages under DIR instead (a trial run)

Two packages are written: `synap_api` (openapi-python-client: attrs models and the
sync/async request functions) and `synap_spec` (scripts/generator/facts.py: the spec's
operations, properties in wire order, types, enums, limits and defaults as Python data, the
response TypedDicts, and `openapi.json`, the snapshot of the spec they came from, against which
the next run reports what changed).

The output depends only on the spec, scripts/generator/ (config and templates) and the pinned
versions below: the generator and ruff are checked against the pins before anything runs, ruff
runs with --isolated (no configuration around it is read), and nothing touches the network.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from generator import facts
from generator.changelog import changes

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "synap.yaml"
GENERATOR_DIR = ROOT / "scripts" / "generator"
PACKAGE = "synap_api"
FACTS_PACKAGE = "synap_spec"
GENERATED = ROOT / "generated"
TARGET = GENERATED / PACKAGE
SNAPSHOT = "openapi.json"  # inside synap_spec: the spec the committed tree was generated from

# Keep in step with the "generate" extra in pyproject.toml.
PINS = {"openapi-python-client": "0.29.1", "ruff": "0.17.6"}


def check_pins() -> None:
    """Exit unless the pinned tools are importable here (or re-run under the project's .venv)."""
    wrong = []
    for name, wanted in PINS.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = "not installed"
        if found != wanted:
            wrong.append(f"{name}=={wanted} (found: {found})")
    venv_python = ROOT / ".venv" / "bin" / "python"
    if wrong and venv_python.exists() and Path(sys.executable) != venv_python:
        # `python scripts/generate.py` from outside the venv: use the venv scripts/test.sh made.
        os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])
    if wrong:
        sys.exit(
            "generate.py needs the pinned tools: "
            + ", ".join(wrong)
            + "\ninstall them with: pip install -e '.[dev]'"
        )


def load_spec(path: Path) -> dict[str, Any]:
    """A spec file: YAML (the source) or JSON (the snapshot)."""
    import yaml

    with path.open(encoding="utf-8") as f:
        spec: dict[str, Any] = yaml.safe_load(f)
    return spec


def generate_facts(spec: dict[str, Any], into: Path) -> Path:
    """Write the `synap_spec` package under `into` and return its folder."""
    out = into / FACTS_PACKAGE
    out.mkdir(parents=True)
    read = facts.read(spec)
    (out / "__init__.py").write_text(facts.render_facts(read), encoding="utf-8")
    (out / "responses.py").write_text(facts.render_responses(read), encoding="utf-8")
    (out / "py.typed").write_text("")
    snapshot = json.dumps(spec, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    (out / SNAPSHOT).write_text(snapshot, encoding="utf-8")
    ruff = Path(sys.executable).parent / "ruff"
    for cmd in (["check", "--isolated", "--select=F401,I", "--fix", "--quiet"], ["format"]):
        done = subprocess.run(
            [str(ruff), *cmd, *(["--isolated", "--quiet"] if cmd == ["format"] else []), "."],
            cwd=out,
            env={**os.environ, "RUFF_NO_CACHE": "true"},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            sys.exit(f"ruff failed on the generated {FACTS_PACKAGE} (exit {done.returncode})")
    return out


def generate(into: Path) -> Path:
    """Generate the client package under `into` and return its folder."""
    bin_dir = Path(sys.executable).parent
    tool = bin_dir / "openapi-python-client"
    out = into / PACKAGE
    env = {
        **os.environ,
        # The post hooks call `ruff`: make it the pinned one beside this interpreter.
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "RUFF_NO_CACHE": "true",
    }
    cmd = [
        str(tool),
        "generate",
        "--path",
        str(SPEC),
        "--config",
        str(GENERATOR_DIR / "config.yaml"),
        "--custom-template-path",
        str(GENERATOR_DIR / "templates"),
        "--meta",
        "none",
        "--output-path",
        str(out),
        "--fail-on-warning",
    ]
    done = subprocess.run(cmd, cwd=into, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(f"openapi-python-client failed (exit {done.returncode})")
    shutil.rmtree(out / ".ruff_cache", ignore_errors=True)
    # PEP 561: the generated package is typed, and mypy --strict checks it as such.
    (out / "py.typed").write_text("")
    return out


def tree(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def differences(expected: Path, actual: Path, prefix: str = "") -> list[str]:
    """How the committed tree `actual` differs from a fresh one: `changed:`, `added:` (new
    in the fresh tree), `not generated:` (in the committed tree only: removed on writing)."""
    want = tree(expected)
    have = tree(actual) if actual.is_dir() else set()
    changed = [
        f"changed: {prefix}{name}"
        for name in sorted(want & have)
        if not filecmp.cmp(expected / name, actual / name, shallow=False)
    ]
    added = [f"added: {prefix}{name}" for name in sorted(want - have)]
    extra = [f"not generated: {prefix}{name}" for name in sorted(have - want)]
    return changed + added + extra


def changelog(previous: Path, spec: dict[str, Any]) -> list[str]:
    """The spec-level changes since `previous` (a snapshot), one line each."""
    if not previous.is_file():
        return [f"(no previous spec at {previous}: every operation is new)"] + [
            c.line() for c in changes(facts.read({}), facts.read(spec))
        ]
    return [c.line() for c in changes(facts.read(load_spec(previous)), facts.read(spec))]


def report_changelog(lines: list[str], previous: Path, out: Any) -> None:
    where = previous.relative_to(ROOT).as_posix() if previous.is_relative_to(ROOT) else previous
    if not lines:
        print(f"spec: no changes to operations, properties or enums since {where}", file=out)
        return
    breaking = sum(line.startswith("breaking") for line in lines)
    print(
        f"spec changes since {where} ({breaking} breaking, {len(lines) - breaking} compatible):",
        file=out,
    )
    for line in lines:
        print(f"  {line}", file=out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 and name the files that differ instead of writing generated/",
    )
    parser.add_argument(
        "--into",
        type=Path,
        metavar="DIR",
        help="write synap_api and synap_spec under DIR instead of generated/",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="SPEC",
        help="report spec changes against this spec file (YAML or JSON) instead of the "
        "snapshot of the last generation",
    )
    args = parser.parse_args()
    check_pins()
    target_root = (args.into or GENERATED).resolve()
    previous = args.previous or target_root / FACTS_PACKAGE / SNAPSHOT
    spec = load_spec(SPEC)
    log = changelog(previous, spec)
    rel = (
        target_root.relative_to(ROOT).as_posix()
        if target_root.is_relative_to(ROOT)
        else target_root
    )
    with tempfile.TemporaryDirectory(prefix="synap-generate-") as tmp:
        fresh = {PACKAGE: generate(Path(tmp)), FACTS_PACKAGE: generate_facts(spec, Path(tmp))}
        found = [
            line
            for name, folder in fresh.items()
            for line in differences(folder, target_root / name, f"{name}/")
        ]
        if args.check:
            if found:
                print(f"{rel} has drifted from openapi/synap.yaml:", file=sys.stderr)
                for line in found:
                    print(f"  {line}", file=sys.stderr)
                report_changelog(log, previous, sys.stderr)
                print("run: python scripts/generate.py", file=sys.stderr)
                return 1
            print(f"{rel} matches openapi/synap.yaml")
            return 0
        report_changelog(log, previous, sys.stdout)
        if not found:
            print(f"{rel} is already up to date")
            return 0
        for name, folder in fresh.items():
            shutil.rmtree(target_root / name, ignore_errors=True)
            (target_root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(folder, target_root / name)
        print(f"regenerated {rel}: {len(found)} file(s) changed")
        for line in found:
            print(f"  {line}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
