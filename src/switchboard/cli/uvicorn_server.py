"""uvicorn's server and configuration without uvicorn's command line (decision 0234).

Importing any module of the ``uvicorn`` package first runs ``uvicorn/__init__.py``, which
imports ``uvicorn.main``: uvicorn's own command line (``click``), its reload and
multi-process supervisors and with them ``multiprocessing``. A one-process
``switchboard serve`` uses none of it (our command line is ``argparse``), yet it stayed
resident for the server's whole life: ~1.4 MB and 27 modules of the 75 MB idle budget of
issue 12.

So this module registers the ``uvicorn`` package without running its ``__init__``
(``switchboard.packages.unexecuted``) and then imports the two modules a server needs,
``uvicorn.config`` and ``uvicorn.server``, which import the rest they use (protocols, loop,
lifespan) by their own module paths. The package's public names a submodule reads from
the package itself are set on it: ``uvicorn.lifespan.on`` does ``from uvicorn import
Config``.

Only the one-process path imports this module. ``--workers N`` keeps ``uvicorn.run`` and
its supervisor, which needs ``multiprocessing`` anyway. If ``uvicorn`` was already imported
whole (a test process, a plugin), that package is used as it is.

tests/cli/test_uvicorn_server.py pins both halves on the installed uvicorn: the command
line stays out, and a server built here answers a request and stops. An upgrade that
moves what ``__init__`` must provide fails there, not in production.
"""

from __future__ import annotations

from switchboard.packages import unexecuted

_UVICORN = unexecuted("uvicorn")

from uvicorn.config import STARTUP_FAILURE, Config  # noqa: E402  (after the registration)
from uvicorn.server import Server  # noqa: E402

# Names uvicorn's own modules import from the package (``from uvicorn import Config``):
# set, so reading them does not run the package's ``__init__``.
setattr(_UVICORN, "Config", Config)  # noqa: B010  (a module object: mypy cannot see it)
setattr(_UVICORN, "Server", Server)  # noqa: B010

__all__ = ["STARTUP_FAILURE", "Config", "Server"]
