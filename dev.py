#!/usr/bin/env python3
"""Set everything up and run: ``python3 dev.py serve`` or ``python3 dev.py test``.

Needs only Python 3.11+. Creates ``.venv`` beside this file, installs Switchboard into it
(again only when pyproject.toml changed), then runs the command. Other commands:
``check`` (ruff + mypy), ``bench`` (the benchmark), ``screenshots`` (runs the browser tests
and rewrites docs/screenshots/), ``sb ARGS`` (any switchboard command).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_env(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Switchboard needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        print("· creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    target = f".[{extras}]" if extras else "."
    print(f"· installing switchboard{f'[{extras}]' if extras else ''} into .venv", flush=True)
    run([str(PY), "-m", "pip", "install", "-q", "-e", target], cwd=ROOT)
    stamp.write_text(digest)


def run(cmd: list[str], cwd: Path | None = None) -> None:
    code = subprocess.call(cmd, cwd=cwd)
    if code:
        sys.exit(code)


def main(argv: list[str]) -> int:
    cmd, rest = (argv[0], argv[1:]) if argv else ("serve", [])
    if cmd == "serve":
        ensure_env("")
        os.execv(str(BIN / "switchboard"), [str(BIN / "switchboard"), "serve", *rest])
    if cmd == "sb":
        ensure_env("")
        os.execv(str(BIN / "switchboard"), [str(BIN / "switchboard"), *rest])
    if cmd == "test":
        ensure_env("dev")
        return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)
    if cmd == "screenshots":
        ensure_env("dev")
        env = {**os.environ, "SWITCHBOARD_SCREENSHOTS": "1"}
        return subprocess.call([str(PY), "-m", "pytest", "tests/web", *rest],
                               cwd=ROOT, env=env)
    if cmd == "fuzz":  # the release check: the CI fuzzing gate with many more examples
        ensure_env("dev")
        examples = rest[0] if rest and rest[0].isdecimal() else "200"
        extra = rest[1:] if rest and rest[0].isdecimal() else rest
        env = {**os.environ, "SWITCHBOARD_FUZZ_EXAMPLES": examples}
        return subprocess.call([str(PY), "-m", "pytest", "-m", "fuzz", "tests/fuzz", "-s",
                                "-p", "no:cacheprovider", "-o", "timeout=0", *extra],
                               cwd=ROOT, env=env)
    if cmd == "check":
        ensure_env("dev")
        run([str(PY), "-m", "ruff", "check", "src", "tests", "bench"], cwd=ROOT)
        run([str(PY), "-m", "mypy"], cwd=ROOT)
        return 0
    if cmd == "bench":
        ensure_env("dev")
        return subprocess.call([str(PY), "-m", "bench", *rest], cwd=ROOT)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
