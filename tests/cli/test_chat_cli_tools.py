"""``switchboard chat --tools``: the server's tool loop from the terminal (issue 14), run
in-process (decision 0093) with the offline model driving it and the real built-in tools.
The loop is the web chat's (``services.tools.driver.ToolLoop``); what is checked here is
what the terminal shows and asks."""

from __future__ import annotations

import io
import re
import sys

import pytest

from switchboard.cli.main import main
from tests.cli.run import run_main

CHAIN = "What time is it? Then compute 12 * (3 + 4)."


def tool_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("[tool] ")]


def test_a_three_step_chain_prints_each_step_and_the_turns_totals() -> None:
    done = run_main("chat", "--tools", "calculator,datetime", CHAIN)
    assert done.returncode == 0, done.stderr
    lines = tool_lines(done.stderr)
    assert len(lines) == 2, done.stderr
    assert re.fullmatch(r'\[tool\] datetime\(\{"timezone": "UTC"\}\) → \d{4}-\d\d-\d\dT.* '
                        r"\(\d+ ms\)", lines[0]), lines[0]
    assert re.fullmatch(r'\[tool\] calculator\(\{"expression": "12 \* \(3 \+ 4\)"\}\) '
                        r"→ 84 \(\d+ ms\)", lines[1]), lines[1]
    # stdout is the answer alone, written with both results.
    assert "[tool]" not in done.stdout
    assert "According to `calculator`: 84" in done.stdout
    assert "According to `datetime`: " in done.stdout
    totals = done.stderr.strip().splitlines()[-1]
    assert totals.startswith("offline:offline-chat · 3 model calls · "), totals
    tokens = re.search(r"· ([\d,]+) in / ([\d,]+) out tokens · \$0\.00 · ", totals)
    assert tokens is not None, totals
    # Three calls' prompts, each one carrying the tools and the question: far more than
    # the one call that a turn without tools makes.
    plain = run_main("chat", CHAIN)
    one = re.search(r"· ([\d,]+) in / ", plain.stderr.strip().splitlines()[-1])
    assert one is not None
    assert int(tokens[1].replace(",", "")) > 3 * int(one[1].replace(",", ""))


def test_tools_alone_takes_the_defaults_and_gives_a_prompt_back() -> None:
    done = run_main("chat", "--tools", "What is 2 * (3 + 4)?")
    assert done.returncode == 0, done.stderr
    assert [line.split("(")[0] for line in tool_lines(done.stderr)] == ["[tool] calculator"]
    assert "14" in done.stdout


def test_an_unknown_tool_is_an_error_naming_it() -> None:
    done = run_main("chat", "--tools", "calculator,nope", "2 * (3 + 4)")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "'nope'" in done.stderr
    assert done.stdout == ""


def test_an_ask_tool_is_declined_when_stdin_is_not_a_terminal() -> None:
    assert run_main("tools", "set", "calculator", "--policy", "ask").returncode == 0
    done = run_main("chat", "--tools", "calculator", "What is 2 * (3 + 4)?")
    assert done.returncode == 0, done.stderr
    assert "[tool] calculator asks before it runs; declined: stdin is not a terminal" \
        in done.stderr
    assert "failed: the user declined this tool call" in tool_lines(done.stderr)[1]
    assert "14" not in done.stdout


class Terminal(io.StringIO):
    """A stdin that is a terminal, with the person's answers already typed."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "ran"), [("y\n", True), ("n\n", False)])
def test_an_ask_tool_asks_on_a_terminal(typed: str, ran: bool, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "set", "calculator", "--policy", "ask"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", Terminal(typed))
    assert main(["chat", "--tools", "calculator", "What is 2 * (3 + 4)?"]) == 0
    out, err = capsys.readouterr()
    assert '[tool] calculator({"expression": "2 * (3 + 4)"}) asks before it runs. ' \
           "Run it? [y/N] " in err
    assert ("14" in out) is ran
    assert ("→ 14" in tool_lines(err)[0]) is ran
