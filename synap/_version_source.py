"""`synap.__version__`: the version written in pyproject.toml, the one place it is kept.

Every build (wheel, editable install, sdist) writes it into `synap/_version.py` (not in git);
reading that file costs nothing, unlike `importlib.metadata`. A source tree that was never
built or installed has no such file: then pyproject.toml beside the package is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

UNKNOWN = "0+unknown"


def read() -> str:
    import importlib

    try:
        written = importlib.import_module("synap._version")  # absent until a build writes it
    except ImportError:
        from pathlib import Path

        return from_pyproject(Path(__file__).resolve().parents[1] / "pyproject.toml")
    return str(written.__version__)


def from_pyproject(path: Path) -> str:
    """[project] version of the pyproject.toml at `path`; `0+unknown` when there is none."""
    import tomllib

    try:
        with path.open("rb") as handle:
            project = tomllib.load(handle).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return UNKNOWN
    if project.get("name") != "synap-memory" or not isinstance(project.get("version"), str):
        return UNKNOWN  # some other project's file
    return str(project["version"])
