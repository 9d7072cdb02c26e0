"""Issue 10 item 2: a provider key echoed by the vendor reaches no one.

A canary key is configured for one provider of each kind, each pointed at an
``EchoVendor`` (tests/fakes/echo.py) that repeats the key — whole, URL-encoded, masked,
truncated — in the message, type, code, param, nested details and every request-id
header of its errors, for a 401, a 429, a 500 and an in-band stream error. Every surface
a member or an admin can reach is then exercised, and none may show any spelling of the
key:

- ``/v1/chat/completions`` (status error, stream error chunk, response headers);
- ``/api/chat`` and ``/api/chat/stream`` (the error event and the saved message);
- ``/api/providers/{id}/test`` (and the ``status_error`` it stores), model import;
- the CLI: ``switchboard models import``, ``providers test``, ``chat`` (run in-process
  through ``main()``, so every log record the commands emit is searched too);
- the server's log (a real ``switchboard serve --log-level debug`` subprocess);
- every row of every table (``audit_log``, ``usage_events``, ``messages``, ...).

The key matches none of the generic key patterns of ``spec.redaction``, so only the
redaction of the call's own key (and its spellings) stands between it and the caller.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import httpx
import pytest

from switchboard.cli.main import main
from switchboard.config import load_settings
from switchboard.db import Database
from switchboard.db.models import ApiToken, User
from switchboard.security.passwords import hash_password
from switchboard.security.tokens import generate_token
from tests.conftest import VENDOR_ENV, isolate
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import gemini as fake_gemini
from tests.fakes import mistral as fake_mistral
from tests.fakes import openai as fake_openai
from tests.fakes.echo import MODES, STATUS_MODES, EchoVendor, key_forms
from tests.fakes.server import free_port, serve_in_thread

# No vendor key prefix, characters that URL-encoding changes, and a tail ("Qz7v") that
# no hex id or ordinary word contains.
CANARY = "cnry+Vq8/Kx3=Lm5~Wp2Jd6Qz7v"
RUN = 8  # this many consecutive characters of the key already give it away


@dataclass(frozen=True)
class Kind:
    name: str
    fake: ModuleType
    base_suffix: str  # OpenAI's base URL includes /v1; the others are the host root
    model: str


KINDS = {
    "openai": Kind("openai", fake_openai, "/v1", fake_openai.MODEL),
    "openai_compatible": Kind("openai_compatible", fake_openai, "/v1", fake_openai.MODEL),
    "anthropic": Kind("anthropic", fake_anthropic, "", fake_anthropic.MODEL),
    "mistral": Kind("mistral", fake_mistral, "", fake_mistral.MODEL),
    "gemini": Kind("gemini", fake_gemini, "", fake_gemini.MODEL),
}


def leaks(text: str) -> list[str]:
    """Every spelling of the canary found in ``text``: the echoed forms, and any run of
    ``RUN`` characters of the key or of its URL-encoded form."""
    found = [name for name, form in key_forms(CANARY).items() if form in text]
    for spelling in (CANARY, quote(CANARY, safe="")):
        for i in range(len(spelling) - RUN + 1):
            if spelling[i:i + RUN] in text:
                found.append(f"run {spelling[i:i + RUN]!r}")
                break
    return found


@dataclass
class Stack:
    url: str
    data_dir: Path
    log: Path
    admin: str
    member: str
    vendors: dict[str, EchoVendor]
    provider_ids: dict[str, int]

    def database(self) -> Path:
        return self.data_dir / "switchboard.db"


async def _make_user(username: str, role: str) -> str:
    db = Database.from_url(load_settings().database_url, pooled=False)
    new = generate_token()
    try:
        async with db.unit_of_work() as session:
            user = User(username=username, role=role,
                        password_hash=hash_password("correct horse battery"))
            session.add(user)
            await session.flush()
            session.add(ApiToken(user_id=user.id, name="canary", token_hash=new.token_hash,
                                 prefix=new.hint))
    finally:
        await db.dispose()
    return new.token


def _start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli.main", "serve", "--port", str(port),
         "--log-level", "debug"], stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while b"Application startup complete" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("serve did not start:\n" + log.read_text())
        time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("canary")
    data_dir = root / "data"
    env = {k: v for k, v in os.environ.items() if k not in VENDOR_ENV}
    env.update(SWITCHBOARD_DATA_DIR=str(data_dir), SWITCHBOARD_DISABLE_PLUGINS="1",
               SWITCHBOARD_AUTO_TITLES="0")
    log = root / "server.log"
    vendors = {name: EchoVendor(name if name != "openai_compatible" else "openai",
                                kind.fake.Wire())
               for name, kind in KINDS.items()}
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, data_dir)
        proc, url = _start_server(env, log)
        try:
            with _serve_all(vendors) as vendor_urls:
                admin = asyncio.run(_make_user("root", "admin"))
                member = asyncio.run(_make_user("pat", "user"))
                ids = {}
                with httpx.Client(base_url=url, timeout=60,
                                  headers={"authorization": f"Bearer {admin}"}) as client:
                    for name, kind in KINDS.items():
                        made = client.post("/api/config/providers", json={
                            "name": f"echo-{name.replace('_', '-')}", "kind": name,
                            "base_url": vendor_urls[name] + kind.base_suffix,
                            "api_key": CANARY, "settings": {"max_retries": 0}})
                        assert made.status_code == 201, made.text
                        ids[name] = made.json()["id"]
                        imported = client.post(
                            f"/api/config/providers/{ids[name]}/import-models")
                        assert imported.status_code == 200, imported.text
                        assert kind.model in imported.text, imported.text
                yield Stack(url, data_dir, log, admin, member, vendors, ids)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


class _serve_all:
    """Serve every echo vendor on its own loopback port."""

    def __init__(self, vendors: dict[str, EchoVendor]) -> None:
        self._managers = {name: serve_in_thread(app) for name, app in vendors.items()}

    def __enter__(self) -> dict[str, str]:
        return {name: cm.__enter__() for name, cm in self._managers.items()}

    def __exit__(self, *exc: object) -> None:
        for cm in self._managers.values():
            cm.__exit__(None, None, None)


def _dump_database(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(f"{t}: {conn.execute(f'SELECT * FROM {t}').fetchall()!r}"
                         for t in tables)


def _describe(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path} -> {response.status_code}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_an_echoed_key_reaches_no_surface(stack: Stack, kind: str, mode: str,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str],
                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(stack.data_dir))
    caplog.set_level(logging.DEBUG)
    vendor = stack.vendors[kind]
    pid = stack.provider_ids[kind]
    name = f"echo-{kind.replace('_', '-')}"
    ref = f"{name}:{KINDS[kind].model}"
    seen_before = len(vendor.keys_seen)
    vendor.mode = mode
    responses: list[httpx.Response] = []
    cli: list[str] = []
    try:
        member = httpx.Client(base_url=stack.url, timeout=60,
                              headers={"authorization": f"Bearer {stack.member}"})
        admin = httpx.Client(base_url=stack.url, timeout=60,
                             headers={"authorization": f"Bearer {stack.admin}"})
        with member, admin:
            chat = {"model": ref, "messages": [{"role": "user", "content": "hi"}]}
            responses += [
                member.post("/v1/chat/completions", json=chat),
                member.post("/v1/chat/completions", json={**chat, "stream": True}),
                member.post("/api/chat", json={"model": ref, "text": "hi"}),
                member.post("/api/chat/stream", json={"model": ref, "text": "hi"}),
                admin.post(f"/api/providers/{pid}/test"),
                admin.post(f"/api/config/providers/{pid}/import-models"),
            ]
            conversations = member.get("/api/conversations").json()["items"]
            responses += [member.get(f"/api/conversations/{c['id']}") for c in conversations]
            responses += [admin.get(f"/api/config/providers/{pid}"),
                          admin.get("/api/providers"), member.get("/api/providers"),
                          admin.get(f"/api/providers/{pid}/status")]
        for argv in (["models", "import", name], ["providers", "test", name],
                     ["chat", "-m", ref, "hi"], ["chat", "--no-stream", "-m", ref, "hi"]):
            code = main(argv)
            out, err = capsys.readouterr()
            cli.append(f"$ switchboard {' '.join(argv)} -> {code}\n{out}{err}")
    finally:
        vendor.mode = "ok"

    # the key was sent, and the vendor did echo it: the checks below can fail
    assert CANARY in vendor.keys_seen[seen_before:]
    v1, v1_stream = responses[0], responses[1]
    assert v1.status_code >= 400 and "[redacted]" in v1.text, _describe(v1) + v1.text
    assert "[redacted]" in v1_stream.text, v1_stream.text
    if mode in STATUS_MODES:
        test = responses[4].json()
        assert test["ok"] is False and "[redacted]" in test["message"], test
        assert responses[5].status_code >= 400, _describe(responses[5])
    assert any("[redacted]" in text for text in cli), cli

    problems = []
    for response in responses:
        for where, text in (("body", response.text), ("headers", str(response.headers))):
            if found := leaks(text):
                problems.append(f"{_describe(response)} {where}: {found}: {text[:400]}")
    problems += [f"CLI: {found}: {text[:400]}" for text in cli if (found := leaks(text))]
    formatter = logging.Formatter()
    for record in caplog.records:  # the CLI's own log records (and any traceback)
        text = f"{record.getMessage()} {vars(record)!r}"
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        if found := leaks(text):
            problems.append(f"CLI log record {record.name}: {found}: {text[:400]}")
    if found := leaks(_dump_database(stack.database())):
        problems.append(f"database rows: {found}")
    log = stack.log.read_text(errors="replace")
    if found := leaks(log):
        lines = [line for line in log.splitlines() if leaks(line)]
        problems.append(f"server log: {found}: {lines[:3]}")
    assert not problems, "\n".join(problems)


def test_the_log_and_the_database_were_really_searched(stack: Stack) -> None:
    """The whole-log and whole-database checks above are not vacuous."""
    log = stack.log.read_text(errors="replace")
    assert '"level":"debug"' in log.replace(" ", "") and "/v1/chat/completions" in log
    dump = _dump_database(stack.database())
    assert re.search(r"usage_events: \[\(", dump) and "audit_log: [(" in dump
