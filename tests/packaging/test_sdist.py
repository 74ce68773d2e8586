"""The distribution as a user gets it: the sdist and the wheel build, carry what they must
(LICENSE, examples/, the tests, the version), and the sdist installed into a fresh virtual
environment (dependencies from the package index) runs part of the test suite against the
installed package, not the source tree."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import synap

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NAME, VERSION = PROJECT["name"], PROJECT["version"]
STEM = f"{NAME.replace('-', '_')}-{VERSION}"

# Quick tests that need only the SDK, its server extra and pytest.
TESTS = [
    "tests/bulk/test_files.py",
    "tests/bulk/test_checkpoint.py",
    "tests/bulk/test_cli_checks.py",
    "tests/examples/test_seeds.py",
]


def run(*args: str | Path, cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")  # built from the working tree, as `build` would
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT, cwd=ROOT)
    return out


def test_the_version_is_the_one_in_pyproject() -> None:
    assert synap.__version__ == VERSION
    from synap._version_source import UNKNOWN, from_pyproject

    # A source tree without build output reads pyproject.toml; anything else is "unknown".
    assert from_pyproject(ROOT / "pyproject.toml") == VERSION
    assert from_pyproject(ROOT / "missing.toml") == UNKNOWN


@pytest.mark.slow
def test_the_sdist_and_wheel_carry_what_they_must(dist: Path) -> None:
    with tarfile.open(dist / f"{STEM}.tar.gz") as sdist:
        names = {n.removeprefix(f"{STEM}/") for n in sdist.getnames()}
    for needed in ("LICENSE", "README.md", "pyproject.toml", "examples/demo.py",
                   "openapi/synap.yaml", "synap/_version.py", "scripts/demo.sh", ".ci/run",
                   "tests/examples/pages/004_0ebbc83f8987da51.txt", *TESTS):  # fmt: skip
        assert needed in names, needed
    with zipfile.ZipFile(dist / f"{STEM}-py3-none-any.whl") as wheel:
        files = set(wheel.namelist())
        metadata = email.message_from_bytes(wheel.read(f"{STEM}.dist-info/METADATA"))
    assert {"synap/_version.py", "synap/server/synap.yaml", "synap_api/client.py"} <= files
    assert f"{STEM}.dist-info/licenses/LICENSE" in files
    assert metadata["Name"] == NAME == "synap-memory"
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "MIT"
    assert any(u.startswith("Homepage, https://") for u in metadata.get_all("Project-URL"))
    assert "Typing :: Typed" in metadata.get_all("Classifier")
    assert "server" in metadata.get_all("Provides-Extra")


@pytest.mark.slow
def test_the_sdist_installs_and_its_tests_pass(dist: Path, tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    sdist = dist / f"{STEM}.tar.gz"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        f"{sdist}[server]", "pytest", "pytest-asyncio", cwd=tmp_path)  # fmt: skip
    assert run(env / "bin" / "synap", "--version", cwd=tmp_path) == f"{NAME} {VERSION}\n"

    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    tree = tmp_path / STEM
    # Without the sources the tests import what was installed.
    shutil.rmtree(tree / "synap")
    shutil.rmtree(tree / "generated")
    where = run(python, "-c", "import synap; print(synap.__file__)", cwd=tree)
    assert where.startswith(str(env))
    out = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS, cwd=tree)
    assert " passed" in out
    assert " failed" not in out
