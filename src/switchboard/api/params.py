"""Parameter types shared by every route, so one rule holds for all of them.

``RowId`` is how a route takes a row id (path, query or body): an integer from 1 to
2^63-1 (``db.ids.MAX_ID``; pydantic reads ASCII digits only). Anything else is the REST
surface's 422 naming the parameter, and the OpenAPI document states the bounds, so the
fuzzing gate generates ids the way a caller could send them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

from switchboard.db.ids import MAX_ID

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id in a request body."""

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id (1 to 2^63-1)")]
"""A row id in the URL path."""

QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="a row id (1 to 2^63-1)")]
"""An optional row id in the query string."""
