"""``switchboard models task-defaults``: list, set and clear the model Auto uses per task
type from a script, with the same checks as the API (an unknown task or model, a model
that is not a model but ``auto``, is an error with exit code 1) and an audit row."""

from __future__ import annotations

import json

import pytest

from switchboard.cli.main import main


def test_list_set_clear(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "task-defaults"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["code", "(global", "default)"] and len(lines) == 12

    assert main(["models", "task-defaults", "set", "code", "offline:offline-chat"]) == 0
    assert capsys.readouterr().out.strip() == "code: offline:offline-chat"
    assert main(["models", "task-defaults", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["code"] == "offline:offline-chat" and listed["math"] is None

    for bad, said in ((["set", "cooking", "offline:offline-chat"], "unknown task type"),
                      (["set", "code", "auto"], "not auto"),
                      (["set", "code", "nope:nothing"], "nope")):
        assert main(["models", "task-defaults", *bad]) == 1
        assert said in capsys.readouterr().err

    assert main(["models", "task-defaults", "clear", "code", "math"]) == 0
    assert "code: cleared" in capsys.readouterr().out
    assert main(["models", "task-defaults", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["code"] is None
    assert main(["audit", "export", "--action", "task_defaults.set"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]  # after the CSV header
    assert len(rows) == 2 and all("cli" in row for row in rows)
