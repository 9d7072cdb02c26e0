"""Run the real ``switchboard`` CLI in a subprocess (the environment is the test's,
already isolated by ``tests/conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def run_cli(*args: str, input: str | None = None,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli.main", *args],
        input=input if input is not None else "",
        capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )
