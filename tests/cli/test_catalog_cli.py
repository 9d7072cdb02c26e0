"""``switchboard providers | keys | models add/import/...``: scriptable catalog admin.

The end-to-end test runs the CLI's ``main()`` in-process, command after command, against a
vendor-shaped fake server on loopback: add a provider, pipe its key on stdin, import its
models, chat through it — and checks that the key exists only encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.cli.main import main
from switchboard.security import generate_master_key
from tests.cli.run import run_main as run_cli
from tests.fakes import openai as fake_openai
from tests.fakes.script import Received, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

KEY = "sk-proj-CLISECRETclisecret0123456789abcd-9XyZ"


def _check(req: Received) -> str | None:
    return None if req.headers.get("authorization") == f"Bearer {KEY}" else "Incorrect API key"


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    app = FakeVendor(fake_openai.Wire(), key_check=_check)
    with serve_in_thread(app) as base:
        yield app, f"{base}/v1"


def _db_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("switchboard.db*"))


def test_end_to_end_add_key_import_chat(
    vendor: tuple[FakeVendor, str], _isolated_env: Path
) -> None:
    app, url = vendor
    outputs: list[str] = []

    def ok(*args: str, input: str | None = None) -> str:
        done = run_cli(*args, input=input)
        outputs.extend((done.stdout, done.stderr))
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "added provider 'work'" in ok("providers", "add", "work", "--kind", "openai",
                                         "--base-url", url)
    stored = ok("keys", "set", "work", input=KEY + "\n")
    assert "(\u20269XyZ)" in stored
    assert "3 model(s) found for work" in stored  # its first key lists its models at once
    assert app.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    imported = ok("models", "import", "work")
    assert "+ work:gpt-4o-mini" not in imported  # already there

    app.then(Reply(chunks=["Hello", " through", " the catalog"]))
    assert ok("chat", "-m", "work:gpt-4o-mini", "hi") == "Hello through the catalog\n"
    assert app.last.headers["authorization"] == f"Bearer {KEY}"

    assert "re-encrypted 1 provider key(s)" in ok("keys", "rotate-master")
    app.then(Reply(chunks=["still works"]))
    assert ok("chat", "-m", "work:gpt-4o-mini", "hi") == "still works\n"

    raw = _db_bytes(_isolated_env)
    assert raw and KEY.encode() not in raw and b"CLISECRET" not in raw
    assert all(KEY not in text and "CLISECRET" not in text for text in outputs)


def test_wrong_master_key_is_one_clear_line(
    vendor: tuple[FakeVendor, str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, _isolated_env: Path,
) -> None:
    _, url = vendor
    assert main(["providers", "add", "work", "--kind", "openai", "--base-url", url]) == 0
    monkeypatch.setattr("sys.stdin", _Stdin(KEY))
    assert main(["keys", "set", "work"]) == 0
    assert main(["providers", "list"]) == 0
    listing = capsys.readouterr().out
    assert "\u20269XyZ" in listing and KEY not in listing
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", generate_master_key("wrong").encode())
    assert main(["chat", "-m", "work:gpt-4o-mini", "hi"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "SWITCHBOARD_SECRET_KEY" in err
    assert "Traceback" not in err and KEY not in err


class _Stdin:
    """A non-terminal stdin holding ``text`` (what a pipe looks like to the CLI)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def isatty(self) -> bool:
        return False

    def read(self) -> str:
        return self.text


def test_providers_crud_and_refusals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "add", "groq", "--kind", "openai_compatible",
                 "--preset", "groq"]) == 0
    assert main(["providers", "update", "groq", "--set", "timeout=30", "--disable"]) == 0
    assert main(["models", "add", "groq", "llama-3.3-70b-versatile", "--price-input",
                 "0.59", "--price-output", "0.79"]) == 0
    capsys.readouterr()
    assert main(["providers", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["groq"]["settings"]["timeout"] == 30 and rows["groq"]["enabled"] is False
    assert rows["groq"]["base_url"] == "https://api.groq.com/openai/v1"
    assert rows["offline"]["models"][0]["is_default"] is True  # first-run seed

    assert main(["providers", "remove", "groq"]) == 1
    err = capsys.readouterr().err
    assert "used by 1 model(s)" in err and "--cascade" in err
    assert main(["providers", "add", "x", "--kind", "nope"]) == 1
    assert "installed kinds: " in capsys.readouterr().err
    assert main(["models", "disable", "offline", "offline-chat"]) == 1
    assert "set-default" in capsys.readouterr().err
    assert main(["providers", "remove", "groq", "--cascade"]) == 0
    assert main(["keys", "set", "nope"]) == 1
    assert "no provider 'nope'" in capsys.readouterr().err


def test_models_enable_disable_and_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "update", "openai", "--enable"]) == 0
    assert main(["models", "disable", "openai", "gpt-4o"]) == 0
    assert main(["models", "set-default", "openai", "gpt-4o-mini"]) == 0
    capsys.readouterr()
    assert main(["models", "list", "--json", "--provider", "openai"]) == 0
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)}
    assert "gpt-4o" not in rows and rows["gpt-4o-mini"]["default"] is True
    assert main(["models", "enable", "openai", "gpt-4o"]) == 0
    assert main(["models", "remove", "openai", "gpt-4o"]) == 0
    assert main(["models", "enable", "openai", "gpt-4o"]) == 1
    assert "has no model 'gpt-4o'" in capsys.readouterr().err


def test_key_is_never_an_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["keys", "set", "openai", "sk-on-the-command-line"])
    assert "unrecognized arguments" in capsys.readouterr().err


def test_models_fallbacks_set_show_clear(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "fallbacks", "set", "openai:gpt-4o", "anthropic:claude-sonnet-4-5",
                 "openai:gpt-4o-mini"]) == 0
    assert "falls back to anthropic:claude-sonnet-4-5, openai:gpt-4o-mini" in (
        capsys.readouterr().out)
    assert main(["models", "fallbacks", "show", "openai:gpt-4o"]) == 0
    assert capsys.readouterr().out.split() == ["anthropic:claude-sonnet-4-5",
                                               "openai:gpt-4o-mini"]
    assert main(["models", "fallbacks", "set", "openai:gpt-4o", "gpt-4o-mini"]) == 1
    assert "write it as provider:model" in capsys.readouterr().err
    assert main(["models", "fallbacks", "clear", "openai:gpt-4o"]) == 0
    assert main(["models", "fallbacks", "show", "openai:gpt-4o"]) == 0
    assert "has no fallbacks" in capsys.readouterr().out
