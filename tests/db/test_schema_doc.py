"""docs/schema.md is what a contributor reads before touching the database: it must name
every migration revision and every column of the models. Lanes that added a migration
in parallel each updated only their own row, so the table silently lost 0005 and 0006
(and the columns they added); this keeps the document true as the schema grows."""

from __future__ import annotations

import re
from pathlib import Path

from switchboard.db.models import Base

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "schema.md"
VERSIONS = ROOT / "src" / "switchboard" / "db" / "migrations" / "versions"


def test_every_migration_has_a_row_in_the_migrations_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Migrations", 1)[1]
    rows = set(re.findall(r"^\| `([0-9]{4}_[a-z0-9_]+)` \|", table, flags=re.M))
    revisions = {p.stem for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py")}
    assert revisions - rows == set(), "docs/schema.md ## Migrations lacks these revisions"
    assert rows - revisions == set(), "docs/schema.md lists revisions that do not exist"


def test_every_column_is_named_in_the_document() -> None:
    words = set(re.findall(r"[a-z_][a-z0-9_]*", DOC.read_text(encoding="utf-8")))
    missing = sorted(f"{table.name}.{column.name}"
                     for table in Base.metadata.tables.values()
                     for column in table.columns
                     if table.name not in words or column.name not in words)
    assert missing == [], "docs/schema.md does not name these columns"
