"""Switchboard: one chat UI and one OpenAI-compatible API in front of every AI provider.

Importing the package is kept cheap (no submodules imported here): the CLI, the server
and plugins import what they use.
"""

__version__ = "0.1.0"

import sys as _sys

# httpx's package __init__ imports its command-line client (``httpx._main``) whenever
# click, rich and pygments are importable: ~4.5 MB resident and ~0.1 s at every start of a
# server that never runs it. A ``None`` entry in ``sys.modules`` makes that one import fail;
# httpx catches the ImportError and defines a stub ``main`` in its place
# (https://www.python-httpx.org/ "Command line client"; httpx/__init__.py). Decision 0089.
_sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
