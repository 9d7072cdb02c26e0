"""The schema is Core tables (``db.tables``) and the ORM classes map onto them (``db.models``).

The split exists so that a query needing only Core can use the tables without loading
the ORM (issue 12): ``db.tables`` must not import it. And since a mapped class gets its
columns from the table, a column added there without an annotation on its class would
be mapped but untyped: every column must be annotated.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Mapped

from switchboard.db import models, tables

TABLES = Path(tables.__file__)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_tables_import_neither_the_orm_nor_the_models() -> None:
    found = {name for name in _imports(TABLES)
             if name.startswith(("sqlalchemy.orm", "sqlalchemy.ext.asyncio",
                                 "switchboard.db.models"))}
    assert found == set()


def test_the_models_share_the_tables_metadata() -> None:
    assert models.Base.metadata is tables.metadata
    mapped = {mapper.local_table for mapper in models.Base.registry.mappers}
    assert mapped == set(tables.metadata.tables.values())


def _annotations(cls: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        found.update(getattr(klass, "__annotations__", {}))
    return found


def test_every_column_is_a_typed_attribute_of_its_class() -> None:
    untyped = []
    for mapper in models.Base.registry.mappers:
        annotations = _annotations(mapper.class_)
        for column in mapper.local_table.columns:
            hint = annotations.get(column.key)
            if not (isinstance(hint, str) and hint.startswith(Mapped.__name__ + "[")):
                untyped.append(f"{mapper.class_.__name__}.{column.key}")
    assert untyped == [], "annotate these columns on their class (``x: Mapped[...]``)"
