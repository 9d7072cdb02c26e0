"""Row ids as callers write them: the one rule for turning outside text into an id.

Every primary key is a signed 64-bit integer (BIGINT on PostgreSQL, SQLite's rowid). A
number outside that range cannot name a row, and handing it to the driver fails deep in
the query (SQLite: ``OverflowError``; asyncpg: "value out of int64 range") instead of as
"not found". Only ASCII digits count: ``str.isdigit`` and ``int`` also accept other
scripts' digits ("١٢", "²"), which are not how anyone writes an id and which ``int``
sometimes refuses after ``isdigit`` said yes.
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1
"""The largest id a row can have (signed 64-bit)."""

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: str) -> int | None:
    """``text`` as a row id, or ``None`` when it is not one (not ASCII digits, zero, or
    beyond 64 bits)."""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
