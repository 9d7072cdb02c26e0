"""Issue 10 item 14a: at ``--log-level debug`` the log shows no secret held in the
database — CSRF tokens, session-cookie and API-token hashes, password hashes, key
ciphertexts — and none of the credentials themselves.

SQLAlchemy logs every statement *with its parameters* and every result row once the root
logger is at DEBUG, and its exceptions quote the parameters too; the SQLite driver logs
each call and its result. A real ``switchboard serve --log-level debug`` subprocess is
driven through login, token creation, a provider key and ``/v1``; then its whole output
is searched for every one of those values, read back from the database.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fakes.server import free_port

PASSWORD = "correct horse battery staple"
PROVIDER_KEY = "zq-debug-log-provider-key-4d1f"


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli.main", "serve", "--port", str(port),
         "--log-level", "debug"], stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while b"Application startup complete" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("serve did not start:\n" + log.read_text())
        time.sleep(0.1)
    link = next(line for line in log.read_text().splitlines() if "/setup?token=" in line)
    return proc, f"http://127.0.0.1:{port}", link.split("token=", 1)[1].strip()


def _spellings(value: str | bytes) -> set[str]:
    """A stored value as a log line could show it: as text, and bytes as repr/hex/base64."""
    if isinstance(value, bytes):
        return {repr(value)[2:-1][:40], value.hex()[:40], base64.b64encode(value).decode()[:40]}
    return {value}


def test_debug_log_shows_no_stored_secret(tmp_path: Path) -> None:
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path / "data")}
    env.pop("SWITCHBOARD_DATABASE_URL", None)
    log = tmp_path / "server.log"
    proc, url, setup = _start(env, log)
    try:
        with httpx.Client(base_url=url, timeout=60) as browser:
            made = browser.post("/api/setup", json={"token": setup, "username": "root",
                                                   "password": PASSWORD})
            assert made.status_code == 200, made.text
            login = browser.post("/api/session/login",
                                 json={"username": "root", "password": PASSWORD})
            assert login.status_code == 200, login.text
            csrf = login.json()["csrf_token"]
            cookie = browser.cookies["sb_session"]
            headers = {"x-csrf-token": csrf}
            token = browser.post("/api/tokens", json={"name": "ci"}, headers=headers)
            assert token.status_code in (200, 201), token.text
            api_token = token.json()["token"]
            provider = browser.post("/api/config/providers", headers=headers, json={
                "name": "acme", "kind": "openai_compatible",
                "base_url": "http://127.0.0.1:9/v1", "api_key": PROVIDER_KEY})
            assert provider.status_code == 201, provider.text
            assert browser.get("/api/me").status_code == 200
        with httpx.Client(base_url=url, timeout=60,
                          headers={"authorization": f"Bearer {api_token}"}) as client:
            assert client.get("/v1/models").status_code == 200
            chat = client.post("/v1/chat/completions", json={
                "model": "offline:echo", "messages": [{"role": "user", "content": "hi"}]})
            assert chat.status_code in (200, 404), chat.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    output = log.read_text(errors="replace")
    assert '"level":"debug"' in output.replace(" ", ""), "not a debug log: proves nothing"
    assert "/api/session/login" in output and "/v1/models" in output

    with sqlite3.connect(tmp_path / "data" / "switchboard.db") as db:
        stored: dict[str, str | bytes] = {}
        for (value,) in db.execute("SELECT password_hash FROM users"):
            stored["password hash"] = value
        for table in ("web_sessions", "api_tokens", "setup_tokens"):
            for i, (value,) in enumerate(db.execute(f"SELECT token_hash FROM {table}")):
                stored[f"{table} hash {i}"] = value
        for (value,) in db.execute("SELECT csrf_token FROM web_sessions"):
            stored["csrf token"] = value
        for (value,) in db.execute("SELECT ciphertext FROM provider_keys"):
            stored["key ciphertext"] = value
    assert {"password hash", "csrf token", "key ciphertext"} <= set(stored), stored
    assert any(name.startswith("web_sessions") for name in stored)
    assert any(name.startswith("api_tokens") for name in stored)
    secrets = {**stored, "password": PASSWORD, "cookie": cookie, "api token": api_token,
               "provider key": PROVIDER_KEY,
               "cookie sha256": hashlib.sha256(cookie.encode()).hexdigest()}
    leaked = {name for name, value in secrets.items()
              for spelling in _spellings(value) if spelling in output}
    lines = [line[:300] for line in output.splitlines()
             if any(s in line for v in secrets.values() for s in _spellings(v))]
    assert not leaked, f"{sorted(leaked)} in the debug log, e.g. {lines[:4]}"


def test_database_errors_do_not_quote_parameters(tmp_path: Path) -> None:
    """A failing statement's exception (which ``log.exception`` prints at any level)
    names the SQL but not the values bound to it."""
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from switchboard.db import create_engine

    canary = "csrf-or-hash-canary-6c2e"

    async def clash() -> str:
        engine = create_engine(url=f"sqlite:///{tmp_path / 'x.db'}", pooled=False)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (v TEXT UNIQUE)"))
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": canary})
                try:
                    await conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": canary})
                except IntegrityError as exc:
                    return str(exc)
            raise AssertionError("no IntegrityError")
        finally:
            await engine.dispose()

    message = asyncio.run(clash())
    assert "UNIQUE" in message and "INSERT INTO t" in message
    assert canary not in message, message
