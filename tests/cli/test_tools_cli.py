"""``switchboard tools``: list the tools with their settings, change them (audited, the
same as Settings → Tools), a wrong name or no change said in words. In-process."""

from __future__ import annotations

import pytest

from switchboard.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_list_and_set(capsys: pytest.CaptureFixture[str]) -> None:
    lines = run(capsys, "tools").splitlines()
    assert lines[0].split() == ["TOOL", "SOURCE", "ENABLED", "DEFAULT", "ON", "POLICY"]
    assert [line.split()[0] for line in lines[1:]] == [
        "calculator", "datetime", "fetch_url", "generate_image", "search_conversations"]
    assert lines[1].split()[1:] == ["builtin", "yes", "yes", "allow"]

    out = run(capsys, "tools", "set", "fetch_url", "--disable", "--policy", "ask")
    assert out.strip() == "fetch_url: disabled, on in new chats, policy ask"
    out = run(capsys, "tools", "set", "generate_image", "--default-off")
    assert out.strip() == "generate_image: enabled, off in new chats, policy allow"
    row = next(line for line in run(capsys, "tools", "list").splitlines()
               if line.startswith("fetch_url"))
    assert row.split()[1:] == ["builtin", "no", "yes", "ask", "(changed)"]
    out = run(capsys, "tools", "set", "fetch_url", "--reset")
    assert out.strip() == "fetch_url: enabled, on in new chats, policy allow"

    with pytest.raises(SystemExit, match="give at least one of"):
        main(["tools", "set", "calculator"])
    assert main(["tools", "set", "weather", "--enable"]) != 0
    assert "no tool is called 'weather'" in capsys.readouterr().err
