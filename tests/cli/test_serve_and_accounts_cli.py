"""``switchboard serve``, ``users`` and ``tokens`` as real subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import openai

from tests.fakes.server import free_port

PASSWORD = "correct horse battery"


def sb(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchboard.cli.main", *args],
                          input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_users_and_tokens_cli(tmp_path: Path) -> None:
    made = sb("users", "add", "ops", "--admin", stdin=f"{PASSWORD}\n")
    assert made.returncode == 0, made.stderr
    assert "created admin 'ops'" in made.stdout
    assert PASSWORD not in made.stdout + made.stderr
    short = sb("users", "add", "tiny", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    listed = sb("users", "list")
    assert "ops" in listed.stdout and "admin" in listed.stdout
    token = sb("tokens", "create", "--user", "ops", "--name", "ci")
    assert token.returncode == 0, token.stderr
    value = token.stdout.strip()
    assert value.startswith("sb-") and "shown only now" in token.stderr
    tokens = sb("tokens", "list")
    assert "ci" in tokens.stdout and value not in tokens.stdout
    missing = sb("tokens", "create", "--user", "ghost")
    assert missing.returncode == 1 and "no user named 'ghost'" in missing.stderr


def test_serve_prints_the_setup_link_and_serves(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli.main", "serve", "--port", str(port),
         "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        link = None
        while True:  # read until uvicorn says the app is up (an event, not a timer)
            line = proc.stdout.readline()
            assert line, "serve exited early:\n" + "".join(lines)
            lines.append(line)
            if "/setup?token=" in line:
                link = line.strip()
            if "Application startup complete" in line:
                break
        assert link is not None, "".join(lines)
        assert any(f"open http://localhost:{port}/" in x for x in lines)
        token = link.split("token=", 1)[1]
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            setup = client.post("/api/setup", json={"token": token, "username": "root",
                                                    "password": PASSWORD})
            assert setup.status_code == 200, setup.text
            csrf = setup.json()["csrf_token"]
            made = client.post("/api/tokens", json={"name": "sdk"},
                               headers={"x-csrf-token": csrf})
            api_token = made.json()["token"]
        reply = openai.OpenAI(base_url=f"{base}/v1", api_key=api_token).chat.completions.create(
            model="offline:offline-chat", messages=[{"role": "user", "content": "hello"}])
        assert reply.choices[0].message.content
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
