"""Helpers for reading openapi/synap.yaml in tests."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi" / "synap.yaml"


@cache
def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)  # type: ignore[no-any-return]


def resolve(ref_or_obj: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (one level at a time, until there is none)."""
    spec = load_spec()
    while "$ref" in ref_or_obj:
        node: Any = spec
        for part in ref_or_obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        ref_or_obj = node
    return ref_or_obj


def examples() -> Iterator[tuple[str, str, Any]]:
    """Every example in the spec: (where, schema name, value)."""
    spec = load_spec()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            bodies = [("request", op["requestBody"])]
            bodies += [(f"response {code}", r) for code, r in op["responses"].items()]
            for label, body in bodies:
                media = resolve(body).get("content", {}).get("application/json")
                if not media:
                    continue
                schema_name = media["schema"]["$ref"].rsplit("/", 1)[-1]
                for name, example in media.get("examples", {}).items():
                    where = f"{method.upper()} {path} {label} {name}"
                    yield where, schema_name, example["value"]
