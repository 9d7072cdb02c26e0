"""``switchboard mcp add | list | test | remove``, in-process (``main()``), against the
real stdio fixture server."""

from __future__ import annotations

import shlex
import sys

import pytest

from switchboard.cli.main import main
from tests.mcp_servers.test_sources import SCRIPT


def sb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_mcp_cli(capsys: pytest.CaptureFixture[str]) -> None:
    command = shlex.join([sys.executable, str(SCRIPT)])
    code, out, err = sb(capsys, "mcp", "add", "files", "--command", command,
                        "--env", "FIXTURE_TOKEN=tok-123456789", "--timeout", "10")
    assert code == 0, err
    assert "'files' added" in out and "switchboard mcp test files" in out
    code, out, err = sb(capsys, "mcp", "add", "web", "--url", "http://127.0.0.1:9/mcp",
                        "--header", "Authorization=Bearer abc=def-123456", "--policy", "allow")
    assert code == 0, err

    code, out, _ = sb(capsys, "mcp", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "ON", "POLICY"]
    assert "files" in lines[1] and "FIXTURE_TOKEN=\u20266789" in lines[1]
    assert "web" in lines[2] and "allow" in lines[2] and "Authorization=\u20263456" in lines[2]
    assert "tok-123456789" not in out and "abc=def" not in out

    code, out, _ = sb(capsys, "mcp", "test", "files")
    assert code == 0, out
    assert "files: connected in" in out and "files.echo" in out and "ask" in out

    # Its tools are set like any tool (the CLI's toolbox starts the servers to list them).
    code, out, err = sb(capsys, "tools", "set", "files.echo", "--policy", "allow")
    assert code == 0, err
    assert out.startswith("files.echo:") and "policy allow" in out

    code, out, _ = sb(capsys, "mcp", "test", "web")  # nothing listens on port 9
    assert code == 1 and "web: could not connect" in out

    code, _, err = sb(capsys, "mcp", "add", "bad", "--command", "python 'unclosed")
    assert code == 1 and "cannot be split" in err
    code, _, err = sb(capsys, "mcp", "add", "bad", "--url", "http://x/", "--header", "novalue")
    assert code == 1 and "KEY=VALUE" in err
    code, _, err = sb(capsys, "mcp", "add", "files", "--command", "x")
    assert code == 1 and "exists already" in err

    assert sb(capsys, "mcp", "remove", "web")[0] == 0
    code, _, err = sb(capsys, "mcp", "remove", "web")
    assert code == 1 and "no MCP server named 'web'" in err
    code, out, _ = sb(capsys, "mcp", "list", "--json")
    assert '"name": "files"' in out and '"web"' not in out
