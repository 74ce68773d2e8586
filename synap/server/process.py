"""`LocalServerProcess`: `python -m synap serve` as a child process, for crash tests.

Standard library only: the parent needs neither Starlette nor uvicorn.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from synap.server.faults import FaultPlan

_COUNTS_LINE = re.compile(r"^synap: faults: (.*)$", re.MULTILINE)


class LocalServerProcess:
    """The local Synap server in a child process (`python -m synap serve`) on 127.0.0.1.

    ```python
    with LocalServerProcess(tmp_path / "synap.db") as server:
        ...                    # server.url, server.api_key
        server.kill()          # SIGKILL: no shutdown, no goodbye
        server.start()         # same database, same port when still free
    ```

    `stop()` ends it with SIGTERM (a clean stop) and returns the exit code; `kill()` sends
    SIGKILL. What the server wrote to stderr is `stderr_text()`; after a clean stop,
    `fault_counts()` holds the fault counters it printed. Arguments as for `LocalServer`,
    except that `db_path` is required (it outlives the process).
    """

    def __init__(
        self,
        db_path: str | PathLike[str],
        *,
        api_keys: Mapping[str, str | None] | None = None,
        tenancy: Literal["b2b", "b2c"] = "b2b",
        faults: FaultPlan | None = None,
        max_body_bytes: int | None = None,
        port: int = 0,
        startup_timeout: float = 20.0,
    ) -> None:
        self.db_path = Path(db_path)
        self.api_keys = dict(api_keys) if api_keys else None
        self.tenancy = tenancy
        self.faults = faults
        self.max_body_bytes = max_body_bytes
        self.port = port
        self.startup_timeout = startup_timeout
        self.url = ""
        self.api_key = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as self)

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        cmd = [sys.executable, "-m", "synap", "serve", "--no-access-log"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--db", str(self.db_path)]
        cmd += ["--tenancy", self.tenancy]
        for key, customer in (self.api_keys or {}).items():
            cmd += ["--api-key", key if customer is None else f"{key}={customer}"]
        if self.max_body_bytes is not None:
            cmd += ["--max-body-bytes", str(self.max_body_bytes)]
        if self.faults is not None:
            cmd += ["--faults", self.faults.to_spec(), "--fault-seed", str(self.faults.seed)]
        return cmd

    def start(self) -> LocalServerProcess:
        """Start the child and wait for its `SYNAP_BASE_URL` / `SYNAP_API_KEY` lines."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("the server process is already running")
        env = dict(os.environ)
        # The child imports this very synap, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        try:
            lines = self._read_lines(2)
        except BaseException:
            self.kill()
            raise
        values = dict(line.split("=", 1) for line in lines)
        self.url = values["SYNAP_BASE_URL"]
        self.api_key = values["SYNAP_API_KEY"]
        self.port = int(self.url.rsplit(":", 1)[1])
        if self.api_keys is None:
            self.api_keys = {self.api_key: None}  # the same key again after a restart
        return self

    def _read_lines(self, count: int) -> list[str]:
        assert self._process is not None
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        buffer = b""
        deadline = time.monotonic() + self.startup_timeout
        while buffer.count(b"\n") < count:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                raise RuntimeError(
                    "the server process did not start:\n" + self.stderr_text()[-2000:]
                )
            buffer += chunk
        return buffer.decode().splitlines()[:count]

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM and wait: a clean stop. Returns the exit code (None if it was not running)."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        return self._finish()

    def kill(self) -> int | None:
        """SIGKILL and reap: the crash case. Returns the exit code (None if it was not running)."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        return self._finish()

    def _finish(self) -> int | None:
        assert self._process is not None
        code = self._process.returncode
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None
        return code

    def restart(self) -> None:
        """Stop cleanly, then start again on the same database."""
        self.stop()
        self.start()

    def stderr_text(self) -> str:
        """Everything the server has written to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def fault_counts(self) -> dict[str, int]:
        """The fault counters the server printed on its last clean stop ({} if none)."""
        found = _COUNTS_LINE.findall(self.stderr_text())
        if not found:
            return {}
        return {k: int(v) for k, v in (p.split("=") for p in found[-1].split())}

    def __enter__(self) -> LocalServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()  # stderr_text() and fault_counts() stay readable

    def __repr__(self) -> str:
        state = self.url if self._process is not None else "stopped"
        return f"<LocalServerProcess {state} db={str(self.db_path)!r}>"
