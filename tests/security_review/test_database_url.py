"""Issue 10 item 12: a wrong ``SWITCHBOARD_DATABASE_URL`` (or an unusable data
directory) is one line naming the variable and the problem — never the password, never a
traceback — and a non-zero exit, for ``switchboard serve`` and the other commands that
open the database. Real subprocesses, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.dbfixtures import _postgres_server_url
from tests.fakes.server import free_port

PASSWORD = "hunter2-canary-pw"
COMMANDS = (["serve", "--port", "0"], ["providers", "list"], ["db", "current"],
            ["users", "list"])


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchboard.cli.main", *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, stdin=subprocess.DEVNULL)


def _assert_one_line(result: subprocess.CompletedProcess[str], variable: str,
                     *expected: str) -> None:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert "Traceback" not in output and len(output.splitlines()) == 1, output
    assert output.startswith("error: ") and variable in output, output
    assert PASSWORD not in output, output
    for words in expected:
        assert words in output, output


def _check(env: dict[str, str], variable: str, *expected: str,
           commands: tuple[list[str], ...] = COMMANDS[:2]) -> None:
    for args in commands:
        _assert_one_line(_run(args, env), variable, *expected)


URL = "SWITCHBOARD_DATABASE_URL"


@pytest.mark.parametrize(("url", "expected"), [
    pytest.param(f"postgresql://me:{PASSWORD}@127.0.0.1:{{port}}/switchboard",
                 ("connection refused", "127.0.0.1"), id="nothing-listens-on-the-port"),
    pytest.param(f"postgresql://me:{PASSWORD}@host:notaport/db", ("not a database URL",),
                 id="port-not-a-number"),
    pytest.param(f"not a url {PASSWORD}", ("not a database URL",), id="malformed"),
    pytest.param(f"mysql://me:{PASSWORD}@localhost/db", ("does not support", "mysql"),
                 id="unsupported-database"),
    pytest.param(f"postgresql+psycopg2://me:{PASSWORD}@localhost/db", ("driver",),
                 id="sync-driver"),
    pytest.param(f"postgresql+nosuchdriver://me:{PASSWORD}@localhost/db", ("driver",),
                 id="unknown-driver"),
])
def test_a_wrong_database_url_is_one_line(url: str, expected: tuple[str, ...]) -> None:
    _check({URL: url.replace("{port}", str(free_port()))}, URL, *expected)


def test_every_command_that_opens_the_database_says_it_in_one_line() -> None:
    url = f"postgresql://me:{PASSWORD}@127.0.0.1:{free_port()}/switchboard"
    _check({URL: url}, URL, "connection refused", commands=COMMANDS)


def test_an_unusable_data_directory_is_one_line(tmp_path: object) -> None:
    blocker = os.path.join(str(tmp_path), "a-file")
    with open(blocker, "w") as f:
        f.write("not a directory")
    _check({"SWITCHBOARD_DATA_DIR": os.path.join(blocker, "data")}, "SWITCHBOARD_DATA_DIR",
           "cannot create the directory")


@pytest.mark.postgres
def test_a_missing_postgres_database_is_one_line() -> None:
    server = _postgres_server_url()
    url = server.set(database="switchboard_no_such_database", password=PASSWORD)
    _check({URL: url.render_as_string(hide_password=False)}, URL,
           "switchboard_no_such_database", "does not exist",
           commands=(["serve", "--port", "0"], ["providers", "list"]))


@pytest.mark.postgres
def test_rejected_postgres_credentials_are_one_line_without_the_password() -> None:
    server = _postgres_server_url()
    url = server.set(username="switchboard_no_such_role", password=PASSWORD)
    _check({URL: url.render_as_string(hide_password=False)}, URL,
           "switchboard_no_such_role", commands=(["serve", "--port", "0"], ["db", "current"]))
