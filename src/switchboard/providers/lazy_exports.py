"""A provider package's public names, imported from their modules on first access.

Each built-in adapter package (``providers/<kind>/__init__.py``) names its public classes
without importing them (PEP 562 ``__getattr__``): importing one light module of the
package — its ``config``, or a helper another layer uses — must not import the whole
adapter, which a start pays only for the kinds it calls (issue 12, decision 0220). One
implementation here rather than a copy per package.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """The module-level ``__getattr__`` for ``package``: ``exports`` maps each public
    name to the submodule (relative to ``package``) that defines it. The first access
    imports that submodule and stores the name on the package, so later lookups are
    plain attribute reads that never call this again."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # once: later lookups skip this
        return value

    return __getattr__
