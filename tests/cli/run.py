"""Run the ``switchboard`` CLI as a test does: ``run_main`` calls ``main()`` in this
process (the same parser, handlers and exit codes, without paying an interpreter start
and the imports each call: ~1 s a call on the CI machine); ``run_cli`` starts a real
subprocess, kept for the tests that are about the process itself (the module runs as a
program, the server starts and stops). The environment is the test's, already isolated
by ``tests/conftest.py``; both return a ``CompletedProcess`` so a test reads either the
same way."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Mapping

import pytest

from switchboard.cli.main import main


def run_cli(*args: str, input: str | None = None,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli.main", *args],
        input=input if input is not None else "",
        capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )


def run_main(*args: str, input: str | None = None,
             env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``main(args)`` with ``input`` on stdin (empty, not a terminal, as ``run_cli``
    gives), ``env`` added to the environment for this call only, and stdout/stderr
    captured; a ``SystemExit`` (argparse's, a handler's message) becomes the return code
    and stderr, as the interpreter would make them."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        mp.setattr(sys, "stdin", io.StringIO(input or ""))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # as the interpreter ends: a message goes to stderr
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
                    code = 1
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
