"""The local Synap server: the three operations of `openapi/synap.yaml` on loopback, over SQLite.

Needs the `server` extra (`pip install 'synap-memory[server]'`). Public names:

- `LocalServer`: the server in a background thread (a context manager): `.url`, `.api_key`,
  `.db_path`, `.store`, `.stop()`, `.restart()`, `.reset()`, `.fault_counts()`.
- `LocalServerProcess`: the same as a child process (`python -m synap serve`), with
  `.kill()` (SIGKILL) for crash tests.
- `create_app(store, api_keys=..., tenancy=..., max_body_bytes=..., faults=...)`: the ASGI app.
- `Store`: the SQLite database; `schema_ddl()` its tables; `read_snapshot(path)` its content.
- `FaultPlan` / `FaultInjector`: fault injection (off by default).

Names are imported on first use, so `synap.server.store` (standard library only) can be used
without the extra, e.g. by `synap inspect`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synap.server.app import DEFAULT_MAX_BODY_BYTES, create_app, parse_api_keys
    from synap.server.faults import KINDS, FaultInjector, FaultPlan
    from synap.server.operations import Caller, Reply, Service
    from synap.server.process import LocalServerProcess
    from synap.server.runner import LocalServer, generate_api_key
    from synap.server.schema import SpecValidator, load_spec
    from synap.server.store import INSERT_MESSAGE, Store, read_snapshot, schema_ddl

_WHERE = {
    "DEFAULT_MAX_BODY_BYTES": "app",
    "create_app": "app",
    "parse_api_keys": "app",
    "KINDS": "faults",
    "FaultInjector": "faults",
    "FaultPlan": "faults",
    "Caller": "operations",
    "Reply": "operations",
    "Service": "operations",
    "LocalServerProcess": "process",
    "LocalServer": "runner",
    "generate_api_key": "runner",
    "SpecValidator": "schema",
    "load_spec": "schema",
    "INSERT_MESSAGE": "store",
    "Store": "store",
    "read_snapshot": "store",
    "schema_ddl": "store",
}

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "INSERT_MESSAGE",
    "KINDS",
    "Caller",
    "FaultInjector",
    "FaultPlan",
    "LocalServer",
    "LocalServerProcess",
    "Reply",
    "Service",
    "SpecValidator",
    "Store",
    "create_app",
    "generate_api_key",
    "load_spec",
    "parse_api_keys",
    "read_snapshot",
    "schema_ddl",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'synap.server' has no attribute {name!r}")
    return getattr(importlib.import_module(f"synap.server.{module}"), name)
