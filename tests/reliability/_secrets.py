"""A scanner for API keys in files that get committed, such as the vcrpy cassettes.

It flags, line by line: a key-shaped token (`synap_` and 16 or more letters or digits), a
`Bearer <token>` whose token is not a redaction placeholder, an `api_key=...`-style value, and
any of the `known` keys given, as text or base64. In YAML and JSON files it also flags an
`Authorization` header kept with a real value, and scans binary bodies (`!!binary`) decoded.
Findings show only the first characters of what they found: the report must not leak either.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KEY_SHAPED = re.compile(r"synap_[A-Za-z0-9]{16,}")
BEARER = re.compile(r"\bBearer[ \t]+([^\s\"',;\]}]+)", re.IGNORECASE)
NAMED = re.compile(r"(?i)\b(?:x-)?api[_-]?key[\"']?\s*[:=]\s*[\"']?([^\s\"'&,;}]{8,})")
PLACEHOLDER = re.compile(r"(?i)redacted|filtered|removed|hidden|<[^>]*>|^\*+$|^x+$|^\.\.\.$")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int  # 1-based; 0 when found in the parsed structure rather than a line
    what: str
    excerpt: str  # the start of what was found, never all of it

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} ({self.excerpt})"


def _mask(secret: str) -> str:
    return f"{secret[:8]}..." if len(secret) > 8 else "..."


def _encodings(key: str) -> set[str]:
    raw = key.encode()
    forms = {key}
    for prefix in (b"", b"Bearer "):
        encoded = base64.b64encode(prefix + raw).decode()
        forms.add(encoded.rstrip("="))
    return forms


def scan_text(text: str, path: Path, known: Iterable[str] = ()) -> list[Finding]:
    """Findings in `text`, line by line."""
    forms = {form for key in known if key for form in _encodings(key)}
    found: list[Finding] = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in KEY_SHAPED.finditer(line):
            found.append(Finding(path, number, "a synap_ key", _mask(match.group())))
        for pattern, what in ((BEARER, "a bearer token"), (NAMED, "an api_key value")):
            for match in pattern.finditer(line):
                if not PLACEHOLDER.search(match.group(1)):
                    found.append(Finding(path, number, what, _mask(match.group(1))))
        for form in forms:
            if form in line:
                found.append(Finding(path, number, "a known key", _mask(form)))
    return found


def _walk(node: Any) -> Iterator[tuple[str | None, Any]]:
    """(key it sits under, value) for every value of a parsed YAML or JSON document."""
    stack: list[tuple[str | None, Any]] = [(None, node)]
    while stack:
        key, value = stack.pop()
        yield key, value
        if isinstance(value, dict):
            stack.extend((str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((key, v) for v in value)


def _parse(path: Path, text: str) -> Any:
    try:
        if path.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        if path.suffix == ".json":
            return json.loads(text)
    except (yaml.YAMLError, ValueError):
        return None
    return None


def scan_file(path: Path, known: Iterable[str] = ()) -> list[Finding]:
    """Findings in one file: its text, and its parsed structure when it is YAML or JSON."""
    known = list(known)
    text = path.read_bytes().decode("utf-8", "replace")
    found = scan_text(text, path, known)
    for key, value in _walk(_parse(path, text)):
        if isinstance(value, bytes):  # a binary body: scan it decoded
            decoded = value.decode("utf-8", "replace")
            found += [
                Finding(path, 0, f"{f.what} in a binary body", f.excerpt)
                for f in scan_text(decoded, path, known)
            ]
        elif (
            key is not None
            and key.lower() in ("authorization", "proxy-authorization")
            and not isinstance(value, list | dict)
            and not PLACEHOLDER.search(str(value))
        ):
            found.append(Finding(path, 0, f"an {key} header kept", _mask(str(value))))
    return found


def scan_tree(root: Path, known: Iterable[str] = ()) -> tuple[int, list[Finding]]:
    """(files scanned, findings) for every file under `root` (none when it does not exist)."""
    known = list(known)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    return len(files), [finding for path in files for finding in scan_file(path, known)]
