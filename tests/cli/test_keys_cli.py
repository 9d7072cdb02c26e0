"""``switchboard keys add | list | retire | enable | disable``: a provider's key pool from
the command line (decision 0066), and ``keys set`` making the pool one key."""

from __future__ import annotations

import io
import json

import pytest

from switchboard.cli.main import main

OLD = "sk-proj-CLIPOOLoldkey0123456789abcd-0LD1"
NEW = "sk-proj-CLIPOOLnewkey0123456789abcd-NEW2"


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    assert OLD not in out + err and NEW not in out + err
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    code, out, _ = run(capsys, monkeypatch, "keys", "list", "openai", "--json")
    assert code == 0
    return {k["label"]: k for k in json.loads(out)}


def test_rotation_from_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "keys", "list", "openai")
    assert code == 0 and "no stored key" in out

    code, out, _ = run(capsys, monkeypatch, "keys", "add", "openai", stdin=OLD + "\n")
    assert code == 0 and "added key 'default' (\u20260LD1)" in out and "1 key(s)" in out
    code, out, _ = run(capsys, monkeypatch, "keys", "add", "openai", "--label", "2027",
                       "--weight", "3", "--rpm", "500", "--expires", "2099-01-31",
                       stdin=NEW)
    assert code == 0 and "added key '2027' (\u2026NEW2)" in out and "2 key(s)" in out

    keys = listed(capsys, monkeypatch)
    assert keys["2027"]["weight"] == 3 and keys["2027"]["rpm"] == 500
    assert str(keys["2027"]["expires_at"]).startswith("2099-01-31")
    assert keys["default"]["state"] == keys["2027"]["state"] == "active"
    code, table, _ = run(capsys, monkeypatch, "keys", "list", "openai")
    assert "LABEL" in table and "\u2026NEW2" in table and "active" in table

    code, out, _ = run(capsys, monkeypatch, "keys", "disable", "openai", "2027")
    assert code == 0 and "is disabled" in out
    code, out, _ = run(capsys, monkeypatch, "keys", "enable", "openai", "2027")
    assert code == 0 and "is active" in out

    code, out, _ = run(capsys, monkeypatch, "keys", "retire", "openai", "default")
    assert code == 0 and "retired key 'default'" in out and "1 key(s) serving" in out
    assert list(listed(capsys, monkeypatch)) == ["2027"]

    code, _, err = run(capsys, monkeypatch, "keys", "retire", "openai", "default")
    assert code == 1 and "no key 'default'" in err and "'2027'" in err

    # `keys set` replaces the pool with this one key.
    code, out, _ = run(capsys, monkeypatch, "keys", "set", "openai", stdin=OLD)
    assert code == 0
    assert list(listed(capsys, monkeypatch)) == ["default"]


def test_refusals_are_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, monkeypatch, "keys", "add", "openai", "--label", "a", stdin=OLD)
    code, _, err = run(capsys, monkeypatch, "keys", "add", "openai", "--label", "a",
                       stdin=NEW)
    assert code == 1 and "already has a key labelled 'a'" in err
    code, _, err = run(capsys, monkeypatch, "keys", "add", "openai", "--weight", "0",
                       stdin=NEW)
    assert code == 1 and "weight must be between 1 and 1000" in err
    code, _, err = run(capsys, monkeypatch, "keys", "add", "openai", "--expires",
                       "2001-01-01", stdin=NEW)
    assert code == 1 and "in the past" in err
    code, _, err = run(capsys, monkeypatch, "keys", "add", "nope", stdin=NEW)
    assert code == 1 and "no provider 'nope'" in err
    assert list(listed(capsys, monkeypatch)) == ["a"]
