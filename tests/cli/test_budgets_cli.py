"""``switchboard budgets set | list | remove`` as an operator runs them (in-process:
``tests/cli/run.py``)."""

from __future__ import annotations

import json

from tests.cli.run import run_main as sb
from tests.cli.test_serve_and_accounts_cli import PASSWORD


def test_budgets_cli() -> None:
    assert sb("users", "add", "ada", input=f"{PASSWORD}\n").returncode == 0
    assert sb("tokens", "create", "--user", "ada", "--name", "ci").returncode == 0
    token_id = sb("tokens", "list").stdout.splitlines()[1].split()[0]

    made = sb("budgets", "set", "--user", "ada", "--amount", "5", "--period", "day")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "budget 1: the daily budget of $5.00 for user 'ada'"
    assert sb("budgets", "set", "--user", "ADA", "--amount", "6", "--period", "day"
              ).stdout.strip() == "budget 1: the daily budget of $6.00 for user 'ada'"
    soft = sb("budgets", "set", "--token", token_id, "--amount", "0.25", "--period", "month",
              "--soft")
    assert soft.stdout.strip() == (f"budget 2: the monthly soft budget of $0.25 for API token "
                                   f"{token_id} ('ci')")
    assert sb("budgets", "set", "--global", "--amount", "100", "--period", "week"
              ).returncode == 0

    table = sb("budgets", "list", env={"SWITCHBOARD_BUDGET_TIMEZONE": "Asia/Tokyo"})
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[-1] == "(Asia/Tokyo)"
    assert lines[1].split()[:6] == ["1", "user", "'ada'", "day", "hard", "$6.00"]
    assert lines[3].split()[:5] == ["3", "everyone", "week", "hard", "$100.00"]
    assert lines[1].endswith("00:00")  # midnight in Tokyo
    rows = json.loads(sb("budgets", "list", "--json").stdout)
    assert [(r["id"], r["amount"], r["spent"], r["soft"]) for r in rows] == [
        (1, "6", "0", False), (2, "0.25", "0", True), (3, "100", "0", False)]

    gone = sb("budgets", "remove", "2")
    assert gone.stdout.strip() == (f"budget 2 removed (the monthly soft budget of $0.25 for "
                                   f"API token {token_id} ('ci'))")
    assert [r["id"] for r in json.loads(sb("budgets", "list", "--json").stdout)] == [1, 3]

    for args, says in [
        (("remove", "2"), "error: no budget with id 2"),
        (("set", "--user", "ghost", "--amount", "1", "--period", "day"),
         "error: no user named 'ghost'"),
        (("set", "--global", "--amount", "lots", "--period", "day"),
         "error: the amount must be a number of US dollars"),
        (("set", "--global", "--amount", "0", "--period", "day"),
         "error: the amount must be more than $0"),
    ]:
        result = sb("budgets", *args)
        assert result.returncode == 1 and result.stderr.startswith(says), result.stderr
    both = sb("budgets", "set", "--global", "--user", "ada", "--amount", "1", "--period", "day")
    assert both.returncode == 2 and "not allowed with" in both.stderr
    bad_zone = sb("budgets", "list", env={"SWITCHBOARD_BUDGET_TIMEZONE": "Mars/Olympus"})
    assert bad_zone.returncode == 1
    assert "SWITCHBOARD_BUDGET_TIMEZONE must be a time zone name" in bad_zone.stderr
