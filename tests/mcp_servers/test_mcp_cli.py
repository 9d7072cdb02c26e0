"""``switchboard mcp add | list | test | remove``, in-process (``run_main``, decision 0093),
against the real stdio fixture server."""

from __future__ import annotations

import shlex
import sys

from tests.cli.run import run_main
from tests.mcp_servers.test_sources import SCRIPT


def sb(*args: str) -> tuple[int, str, str]:
    done = run_main(*args)
    return done.returncode, done.stdout, done.stderr


def test_mcp_cli() -> None:
    command = shlex.join([sys.executable, str(SCRIPT)])
    code, out, err = sb("mcp", "add", "files", "--command", command,
                        "--env", "FIXTURE_TOKEN=tok-123456789", "--timeout", "10")
    assert code == 0, err
    assert "'files' added" in out and "switchboard mcp test files" in out
    code, out, err = sb("mcp", "add", "web", "--url", "http://127.0.0.1:9/mcp",
                        "--header", "Authorization=Bearer abc=def-123456", "--policy", "allow")
    assert code == 0, err

    code, out, _ = sb("mcp", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "ON", "POLICY"]
    assert "files" in lines[1] and "FIXTURE_TOKEN=\u20266789" in lines[1]
    assert "web" in lines[2] and "allow" in lines[2] and "Authorization=\u20263456" in lines[2]
    assert "tok-123456789" not in out and "abc=def" not in out

    code, out, _ = sb("mcp", "test", "files")
    assert code == 0, out
    assert "files: connected in" in out and "files.echo" in out and "ask" in out

    # Its tools are set like any tool (the CLI's toolbox starts the servers to list them).
    code, out, err = sb("tools", "set", "files.echo", "--policy", "allow")
    assert code == 0, err
    assert out.startswith("files.echo:") and "policy allow" in out

    code, out, _ = sb("mcp", "test", "web")  # nothing listens on port 9
    assert code == 1 and "web: could not connect" in out

    code, _, err = sb("mcp", "add", "bad", "--command", "python 'unclosed")
    assert code == 1 and "cannot be split" in err
    code, _, err = sb("mcp", "add", "bad", "--url", "http://x/", "--header", "novalue")
    assert code == 1 and "KEY=VALUE" in err
    code, _, err = sb("mcp", "add", "files", "--command", "x")
    assert code == 1 and "exists already" in err

    assert sb("mcp", "remove", "web")[0] == 0
    code, _, err = sb("mcp", "remove", "web")
    assert code == 1 and "no MCP server named 'web'" in err
    code, out, _ = sb("mcp", "list", "--json")
    assert '"name": "files"' in out and '"web"' not in out
