"""``switchboard serve`` as a real subprocess, for what only a separate process shows: a
hard kill (``kill -9``), a SIGTERM, a restart on the same database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from switchboard.config import load_settings
from switchboard.db.migrate import ensure_schema
from tests.fakes.server import free_port
from tests.server import Running


class ServerProcess:
    """One ``switchboard serve`` process; its output is collected as it runs."""

    def __init__(self, port: int, *args: str, env: dict[str, str] | None = None,
                 start_timeout: float = 60) -> None:
        """``args``: more ``serve`` options; ``env``: added to the test's environment;
        ``start_timeout``: seconds until the first worker must be up."""
        self.port = port
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli.main", "serve", "--port", str(port),
             "--log-level", "info", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **(env or {})})
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._started.wait(start_timeout):
            self.proc.kill()
            raise RuntimeError("the server did not start:\n" + self.log)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if "Application startup complete" in line:
                self._started.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextmanager
def serve(port: int, *args: str, env: dict[str, str] | None = None,
          start_timeout: float = 60) -> Iterator[list[str]]:
    """``switchboard serve --port PORT ARGS`` while the block runs; yields its output
    lines (still growing while it runs, complete once it stopped)."""
    process = ServerProcess(port, *args, env=env, start_timeout=start_timeout)
    try:
        yield process.lines
    finally:
        process.stop()
        process._reader.join(5)


@contextmanager
def server_process(port: int | None = None) -> Iterator[tuple[ServerProcess, Running]]:
    """A server subprocess on the test's isolated data directory; ``Running`` gives the
    same helpers as the in-process server (users, queries)."""
    port = port or free_port()
    process = ServerProcess(port)
    try:
        yield process, Running(f"http://127.0.0.1:{port}", load_settings())
    finally:
        process.stop()


def prepare_database() -> Running:
    """Migrate the isolated database now, so a provider can be added before the server
    starts (its catalog is then read at start-up, with no cache delay)."""
    settings = load_settings()
    asyncio.run(ensure_schema(settings.database_url))
    return Running("http://127.0.0.1:0", settings)


def wait_until(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
