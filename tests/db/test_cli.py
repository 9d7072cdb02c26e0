"""``switchboard db ...`` end to end, in a subprocess, as an operator would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.cli.main import main
from switchboard.db import migrate
from tests.db.test_migrations import REVISIONS

HEAD = migrate.head()


def _switchboard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli.main", "db", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["SWITCHBOARD_DATA_DIR"] = str(data_dir)
    if database_url:
        env["SWITCHBOARD_DATABASE_URL"] = database_url
    return env


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


async def test_upgrade_current_downgrade(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # SQLite: the default database inside SWITCHBOARD_DATA_DIR; PostgreSQL: by URL.
    sqlite = database_url.startswith("sqlite")
    env = _env(data_dir, None if sqlite else database_url)
    url = f"sqlite:///{data_dir / 'switchboard.db'}" if sqlite else database_url

    assert _ok(_switchboard(env, "upgrade")).endswith(
        f"upgraded (empty: no schema) -> {HEAD} (head)"
    )
    assert await migrate.current(url) == HEAD
    assert _ok(_switchboard(env, "downgrade")).endswith(
        f"downgraded {HEAD} (head) -> {REVISIONS[-2]}"
    )
    assert _ok(_switchboard(env, "current")) == REVISIONS[-2]
    assert await migrate.current(url) == REVISIONS[-2]


# The error paths run in-process (same code as the console script, minus ~1 s of start-up).


def test_current_of_an_empty_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out == "(empty: no schema)\n"


def test_upgrade_again_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.endswith(f"upgraded (empty: no schema) -> {HEAD} (head)\n")
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.endswith(f"already at {HEAD} (head)\n")


def test_errors_are_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "downgrade"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot downgrade") and "no schema yet" in err
    assert err.count("\n") == 1

    assert main(["db", "upgrade", "0099_nope"]) == 1
    assert "Can't locate revision identified by '0099_nope'" in capsys.readouterr().err


def test_unreachable_database_names_the_setting_and_hides_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://switchboard:hunter2-secret@127.0.0.1:1/switchboard"  # nothing listens
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    assert main(["db", "current"]) == 1
    out, err = capsys.readouterr()
    assert "SWITCHBOARD_DATABASE_URL" in err
    assert "127.0.0.1:1" in err
    assert "hunter2-secret" not in out + err


def test_db_without_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db"]) == 2
    out = capsys.readouterr().out
    assert all(word in out for word in ("upgrade", "downgrade", "current"))
