"""``switchboard limits``: show the defaults and overrides, set and remove overrides."""

from __future__ import annotations

from tests.cli.run import run_main as run_cli

PASSWORD = "correct horse battery"


def test_limits_show_set_and_remove() -> None:
    assert run_cli("users", "add", "alice", input=f"{PASSWORD}\n").returncode == 0
    token = run_cli("tokens", "create", "--user", "alice", "--name", "ci")
    assert token.returncode == 0, token.stderr

    shown = run_cli("limits")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any(line.split()[:4] == ["user", "120", "1,000,000", "16"] for line in lines)
    assert any(line.split()[:4] == ["admin", "600", "5,000,000", "64"] for line in lines)
    assert "No user or token has limits of its own." in shown.stdout

    done = run_cli("limits", "set", "--user", "alice", "--rpm", "30", "--tpm", "none")
    assert done.returncode == 0, done.stderr
    assert "requests per minute 30" in done.stdout and "tokens per minute no limit" in (
        done.stdout) and "calls at once inherited" in done.stdout
    # set changes only what it is given
    assert run_cli("limits", "set", "--user", "alice", "--concurrent", "2").returncode == 0
    assert run_cli("limits", "set", "--token", "1", "--rpm", "5").returncode == 0
    assert run_cli("limits", "set", "--role", "user", "--rpm", "90").returncode == 0
    listed = run_cli("limits", "list").stdout.splitlines()
    row = next(line for line in listed if line.startswith("user alice"))
    assert row.split()[2:] == ["30", "no", "limit", "2"]
    row = next(line for line in listed if line.startswith("token 1"))
    assert row.split()[-3:] == ["5", "-", "-"]
    row = next(line for line in listed if line.startswith("user "))
    assert row.split()[:2] == ["user", "90"] and "(overridden)" in row

    back = run_cli("limits", "set", "--user", "alice", "--rpm", "default")
    assert "requests per minute inherited" in back.stdout
    assert run_cli("limits", "remove", "--user", "alice").returncode == 0
    assert "user alice" not in run_cli("limits").stdout
    again = run_cli("limits", "remove", "--user", "alice")
    assert again.returncode == 1 and "has no rate-limit override" in again.stderr

    bad = run_cli("limits", "set", "--user", "alice", "--rpm", "lots")
    assert bad.returncode == 2 and "not a limit" in bad.stderr
    nobody = run_cli("limits", "set", "--user", "ghost", "--rpm", "1")
    assert nobody.returncode == 1 and "no user named 'ghost'" in nobody.stderr
    none = run_cli("limits", "set", "--token", "99", "--rpm", "1")
    assert none.returncode == 1 and "no API token with id 99" in none.stderr
    empty = run_cli("limits", "set", "--token", "1")
    assert empty.returncode != 0 and "at least one of" in empty.stderr
