"""Databases and server processes for the scale and multi-worker benchmarks.

- ``temp_database``: a SQLite file in a temp dir, or a fresh PostgreSQL database
  ``sb_scale_<random>`` created on the given server and dropped (``WITH (FORCE)``) on exit,
  so a run never touches anybody else's data.
- ``make_admin``: an admin user and an API token through ``switchboard.services.accounts``
  (the same path as ``switchboard users add --admin`` / ``switchboard tokens create``).
- ``server_env`` / ``start_server``: ``switchboard serve`` in a child process with only
  the variables we give it (the caller's ``SWITCHBOARD_*`` and vendor keys are dropped).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from bench.procs import Proc, spawn

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _plain(url: str) -> str:
    """An asyncpg URL (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


@asynccontextmanager
async def temp_database(postgres: str | None, workdir: Path) -> AsyncIterator[str]:
    """Yields a SQLAlchemy URL (schema at head) for a throwaway database."""
    from switchboard.config import normalise_database_url
    from switchboard.db.migrate import ensure_schema

    if postgres is None:
        url = f"sqlite+aiosqlite:///{workdir / 'scale.db'}"
        await ensure_schema(url)
        yield url
        return
    import asyncpg

    name = "sb_scale_" + secrets.token_hex(4)
    admin = await asyncpg.connect(_plain(postgres))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = normalise_database_url(postgres.rsplit("/", 1)[0] + "/" + name)
    try:
        await ensure_schema(url)
        yield url
    finally:
        admin = await asyncpg.connect(_plain(postgres))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def make_admin(url: str, username: str = "scale-admin") -> str:
    """Create an admin and return a fresh API token for it."""
    from switchboard.db import Database
    from switchboard.services import accounts

    db = Database.from_url(url, pooled=False)
    try:
        user = await accounts.create_user(db, username, secrets.token_urlsafe(18),
                                          role="admin")
        token, _ = await accounts.create_token(db, user.id, "scale-bench")
        return token
    finally:
        await db.dispose()


def server_env(workdir: Path, url: str, extra: Mapping[str, str] | None = None,
               ) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SWITCHBOARD_", "OPENAI_", "ANTHROPIC_", "MISTRAL_",
                                "GEMINI_", "GOOGLE_", "DEEPSEEK_", "GROQ_"))}
    env.update({"SWITCHBOARD_DATA_DIR": str(workdir / "data"),
                "SWITCHBOARD_DATABASE_URL": url, "PYTHONPATH": str(ROOT)})
    env.update(extra or {})
    return env


def start_server(env: Mapping[str, str], port: int, log: Path, *, workers: int = 1,
                 cpus: set[int] | None = None) -> Proc:
    return spawn("switchboard", ["-m", "switchboard.cli.main", "serve", "--port", str(port),
                                 "--workers", str(workers), "--log-level", "warning"],
                 cpus=cpus, env=env, log=log)


async def get(port: int, path: str, token: str, *, limit_s: float = 30.0,
              ) -> tuple[int, bytes]:
    """One GET on a fresh connection, read with the load generator's HTTP reader."""
    from bench.load import read_response

    async with asyncio.timeout(limit_s):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(get_bytes(port, path, token))
            status, body, _ = await read_response(reader, time.perf_counter())
            return status, body
        finally:
            writer.close()


def get_bytes(port: int, path: str, token: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
            f"authorization: Bearer {token}\r\n\r\n").encode()


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text()[-chars:] if log.exists() else ""


async def wait_ready(port: int, token: str, proc: Proc, log: Path, path: str = "/api/models",
                     limit_s: float = 60.0) -> float:
    """Poll ``path`` until it answers 200; returns the seconds waited."""
    started = time.perf_counter()
    last = ""
    while time.perf_counter() - started < limit_s:
        if proc.popen.poll() is not None:
            raise SystemExit(f"switchboard serve exited ({proc.popen.returncode}); "
                             f"see {log}:\n{tail(log)}")
        try:
            status, body = await get(port, path, token, limit_s=10)
            if status == 200:
                return time.perf_counter() - started
            last = f"HTTP {status}: {body[:200]!r}"
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            last = repr(exc)
        await asyncio.sleep(0.02)
    raise SystemExit(f"server not ready within {limit_s}s (last: {last}); see {log}")


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sb-scale-"))
