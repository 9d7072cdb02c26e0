"""A third-party package whose modules we import without running its ``__init__`` first.

Importing ``a.b`` always runs ``a/__init__.py`` first, and two packages on the path of
every ``/v1`` server import far more there than the server uses (issue 12, idle memory):

- ``uvicorn/__init__`` imports uvicorn's command line (``click``) and process supervisors
  (``multiprocessing``); a one-process server needs ``uvicorn.config`` and
  ``uvicorn.server`` (decision 0234).
- ``sqlalchemy/ext/asyncio/__init__`` imports the async *session*, and with it all of
  ``sqlalchemy.orm`` (~6 MB resident); Core statements on an ``AsyncConnection`` need
  ``sqlalchemy.ext.asyncio.engine`` only (decision 0237).

``unexecuted(name)`` registers such a package in ``sys.modules`` as the import system
would, minus running ``__init__``: the module object has its ``__path__``, so its
submodules import as usual by their full paths. It stays a complete package for
everyone else: the first time code reads a name the package does not have yet
(``from sqlalchemy.ext.asyncio import AsyncSession``, ``uvicorn.run``), the real
``__init__`` runs, once, under a lock, and the name is returned — that code then pays
for what it uses, and nothing else changes for it.

A package already imported whole is returned as it is (a test, a plugin, a CLI command
that imported it first).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from importlib.machinery import PathFinder
from types import ModuleType
from typing import Any

_LOCK = threading.RLock()


def unexecuted(name: str) -> ModuleType:
    """The package ``name`` in ``sys.modules``; its ``__init__`` runs on the first read of
    a name it defines (see the module doc)."""
    with _LOCK:
        loaded = sys.modules.get(name)
        if loaded is not None:
            return loaded
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            raise ImportError(f"{name} is not an installed package: reinstall Switchboard")
        loader = spec.loader
        package = importlib.util.module_from_spec(spec)
        lock = threading.RLock()
        state = {"started": False}

        def complete(attribute: str) -> Any:
            # The import system probes dunders, and ``from . import exc`` asks the package
            # for its submodule before importing it: neither is a reason to run __init__.
            if attribute.startswith("__") or PathFinder.find_spec(
                    f"{name}.{attribute}", package.__path__) is not None:
                raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
            # Another thread waits here until __init__ has run; this ``__getattr__`` stays
            # in place meanwhile, so no reader sees the package half made. The thread
            # running __init__ re-enters (the lock is re-entrant) and, as with any module
            # being imported, finds only the names set so far.
            with lock:
                if not state["started"]:
                    state["started"] = True
                    try:
                        loader.exec_module(package)  # the package's own __init__, once
                    finally:
                        if package.__dict__.get("__getattr__") is complete:
                            del package.__dict__["__getattr__"]
            try:
                return package.__dict__[attribute]
            except KeyError:
                raise AttributeError(
                    f"module {name!r} has no attribute {attribute!r}") from None

        package.__dict__["__getattr__"] = complete  # PEP 562: only for names not yet set
        sys.modules[name] = package
        parent, _, child = name.rpartition(".")
        if parent:  # as the import system does: ``a.b`` is an attribute of ``a``
            setattr(importlib.import_module(parent), child, package)
        return package
