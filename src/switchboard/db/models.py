"""The ORM classes (``db.orm``), imported on first use (decision 0236).

``from switchboard.db import models as m`` and then ``m.Provider`` is how the services
reach the ORM. The classes themselves live in ``db.orm``: importing them maps 39 classes
(~4 MB resident) and the first query configures them (~1.7 MB more). A `/v1` gateway
answers with Core statements on ``db.tables`` and never needs them, so this module loads
``db.orm`` when one of its names is first read (PEP 562 ``__getattr__``) instead of when a
service module is imported: a server that only answers ``/v1`` never pays for them, the
first REST request or ORM query does. ``from switchboard.db.models import Provider`` at a
module's top still works but loads the classes with that module; on the start path use
``m.Provider`` inside functions (tests/test_startup_imports.py fails otherwise).

The import machinery's lock makes the first load thread-safe; each name read is then
stored here, so later reads are ordinary module attributes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from switchboard.db import tables

if TYPE_CHECKING:  # the type checker sees every class with its real type
    from switchboard.db.orm import *  # noqa: F403

# The schema's vocabularies, from ``db.tables``: reading one never loads the ORM classes.
ALERT_CHANNEL_KINDS = tables.ALERT_CHANNEL_KINDS
ALERT_DELIVERY_EVENTS = tables.ALERT_DELIVERY_EVENTS
ALERT_DELIVERY_STATUSES = tables.ALERT_DELIVERY_STATUSES
BUDGET_PERIODS = tables.BUDGET_PERIODS
BUDGET_SCOPES = tables.BUDGET_SCOPES
GRADE_OUTCOMES = tables.GRADE_OUTCOMES
GRADE_SOURCES = tables.GRADE_SOURCES
MCP_TRANSPORTS = tables.MCP_TRANSPORTS
MESSAGE_ROLES = tables.MESSAGE_ROLES
MESSAGE_STATUSES = tables.MESSAGE_STATUSES
NAMING_CONVENTION = tables.NAMING_CONVENTION
PROVIDER_STATUSES = tables.PROVIDER_STATUSES
RATE_LIMIT_SCOPES = tables.RATE_LIMIT_SCOPES
SETUP_TOKEN_PURPOSES = tables.SETUP_TOKEN_PURPOSES
TOOL_POLICIES = tables.TOOL_POLICIES
USAGE_SOURCES = tables.USAGE_SOURCES
USAGE_STATUSES = tables.USAGE_STATUSES
USER_ROLES = tables.USER_ROLES

_ORM = "switchboard.db.orm"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):  # module dunders (__path__, __file__ …) are not ORM names
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_ORM), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(importlib.import_module(_ORM))))
