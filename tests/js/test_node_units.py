"""Runs the web UI's pure-module unit tests (``tests/js/*.test.mjs``: the Markdown
renderer, the SSE decoder, the answers reducer, the chat store) with ``node --test``, so
the normal test command covers them. Skipped without Node; failed instead when
``SWITCHBOARD_TEST_REQUIRE_SERVICES=1`` (CI), like the other external services."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MIN_NODE = 20  # node --test with glob-free directory runs and ES module detection


def _node() -> str:
    node = shutil.which("node")
    required = os.environ.get("SWITCHBOARD_TEST_REQUIRE_SERVICES") == "1"
    if node is None:
        if required:
            pytest.fail("Node is required for the web UI unit tests but `node` is not on "
                        "PATH", pytrace=False)
        pytest.skip("needs Node (`node`) for the web UI unit tests")
    version = subprocess.run([node, "--version"], capture_output=True, text=True,
                             check=True, timeout=30).stdout.strip()
    major = int(version.lstrip("v").split(".")[0])
    if major < MIN_NODE:
        message = f"needs Node {MIN_NODE} or newer for `node --test`; found {version}"
        if required:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return node


def test_web_ui_pure_modules() -> None:
    node = _node()
    files = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    assert files, "no tests/js/*.test.mjs found"
    result = subprocess.run([node, "--test", "--test-reporter=tap", *files],
                            capture_output=True, text=True, timeout=300, cwd=HERE)
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    assert "# fail 0" in result.stdout, result.stdout
