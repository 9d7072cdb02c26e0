"""``switchboard models`` and ``switchboard plugins`` (in-process through ``main()``)."""

from __future__ import annotations

import json

import pytest

from switchboard.cli.main import main


def test_models_lists_known_models_with_status(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-whatever")
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["MODEL", "CAPABILITIES", "CONTEXT", "$/1M", "IN", "/",
                                "CACHED", "/", "OUT", "PROVIDER"]
    offline = next(line for line in lines if "offline:offline-chat" in line)
    assert offline.startswith("*offline:offline-chat")  # the default
    assert "offline (configured)" in offline
    # seeded enabled; without ANTHROPIC_API_KEY it is "not configured", not "disabled"
    assert any("anthropic (not configured)" in line for line in lines)
    gpt = next(line for line in lines if line.startswith(" openai:gpt-4o-mini "))
    assert "openai (configured)" in gpt and "stream,tools,vision" in gpt
    assert main(["models", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_models_json_for_one_provider(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list", "--provider", "openai", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["provider"] for r in rows} == {"openai"}
    mini = next(r for r in rows if r["model"] == "gpt-4o-mini")
    assert mini["ref"] == "openai:gpt-4o-mini"
    # seeded enabled; without OPENAI_API_KEY it is not configured (two separate states)
    assert mini["configured"] is False and mini["enabled"] is True
    assert set(mini["price_per_million"]) == {"input", "cached_input", "output",
                                              "cache_write"}
    assert mini["price_per_million"]["input"] > 0
    assert mini["context_window"] and mini["capabilities"]["streaming"] is True


def test_models_for_an_unknown_provider_is_an_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--provider", "nope"]) == 1
    assert capsys.readouterr().err.startswith("error: unknown provider 'nope'")


def test_plugins_lists_builtin_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plugins_enabled"] is False  # tests run with plugins disabled
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert kinds["offline"]["source"] == "builtin"
    assert kinds["openai"]["target"] == "switchboard.providers.openai:OpenAIProvider"
    assert main(["plugins"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("provider kinds:\n")
    assert "[built-in]" in text
    assert "plugins: disabled (SWITCHBOARD_DISABLE_PLUGINS is set)" in text
