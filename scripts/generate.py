#!/usr/bin/env python3
"""Compile openapi/synap.yaml into the low-level client in generated/synap_api.

    python scripts/generate.py           regenerate generated/synap_api in place
    python scripts/generate.py --check   regenerate into a temporary folder and exit 1,
                                         naming every file that differs, if the committed
                                         tree has drifted from the spec

The output depends only on the spec, scripts/generator/ (config and templates) and the pinned
versions below: the generator and ruff are checked against the pins before anything runs, ruff
runs with --isolated (no configuration around it is read), and nothing touches the network.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "synap.yaml"
GENERATOR_DIR = ROOT / "scripts" / "generator"
PACKAGE = "synap_api"
TARGET = ROOT / "generated" / PACKAGE

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


def generate(into: Path) -> Path:
    """Generate the package under `into` and return its folder."""
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


def differences(expected: Path, actual: Path) -> list[str]:
    want, have = tree(expected), tree(actual)
    changed = [
        f"changed: {name}"
        for name in sorted(want & have)
        if not filecmp.cmp(expected / name, actual / name, shallow=False)
    ]
    missing = [f"missing: {name}" for name in sorted(want - have)]
    extra = [f"not generated: {name}" for name in sorted(have - want)]
    return changed + missing + extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 and name the files that differ instead of writing generated/",
    )
    args = parser.parse_args()
    check_pins()
    with tempfile.TemporaryDirectory(prefix="synap-generate-") as tmp:
        fresh = generate(Path(tmp))
        found = differences(fresh, TARGET)
        rel = TARGET.relative_to(ROOT).as_posix()
        if args.check:
            if found:
                print(f"{rel} has drifted from openapi/synap.yaml:", file=sys.stderr)
                for line in found:
                    print(f"  {line}", file=sys.stderr)
                print("run: python scripts/generate.py", file=sys.stderr)
                return 1
            print(f"{rel} matches openapi/synap.yaml")
            return 0
        if not found:
            print(f"{rel} is already up to date")
            return 0
        shutil.rmtree(TARGET, ignore_errors=True)
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(fresh, TARGET)
        print(f"regenerated {rel}: {len(found)} file(s) changed")
        for line in found:
            print(f"  {line}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
