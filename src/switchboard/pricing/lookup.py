"""Finding a model's price: exact id, then alias, then a dated snapshot of a known model.

Unknown is never zero: a model the catalog does not know gets ``None`` and its cost stays
unknown. Snapshot stripping removes one trailing date (``-2024-08-06``, ``-20241022``,
Mistral's ``-2411``) and tries the remaining id and ``<id>-latest`` (a bare family name
such as ``mistral-large`` also finds ``mistral-large-latest``); a snapshot whose price
differs from its family's is listed as its own row or alias, which wins before stripping.
"""

from __future__ import annotations

import re

from switchboard.pricing.catalog import ModelRow, VendorTable, load_catalog
from switchboard.spec import ModelInfo, Price

_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")


def _table(kind: str) -> VendorTable | None:
    return load_catalog().vendors.get(kind)


def _aliases(table: VendorTable) -> dict[str, str]:
    return {alias: model_id for model_id, row in table.models.items() for alias in row.aliases}


def find_row(kind: str, model_id: str) -> tuple[str, ModelRow] | None:
    """The catalog id and row for ``model_id`` of vendor ``kind``, or ``None``."""
    table = _table(kind)
    if table is None:
        return None
    wanted = model_id.strip().lower()
    aliases = _aliases(table)
    stripped = _SNAPSHOT.sub("", wanted)
    candidates = [wanted, f"{wanted}-latest"]
    if stripped != wanted:
        candidates += [stripped, f"{stripped}-latest"]
    for name in candidates:
        if name in table.models:
            return name, table.models[name]
        if name in aliases:
            return aliases[name], table.models[aliases[name]]
    return None


def lookup(kind: str, model_id: str) -> Price | None:
    """The price of ``model_id`` at vendor ``kind``; ``None`` when unknown (never zero)."""
    found = find_row(kind, model_id)
    return found[1].price if found else None


def builtin_models(kind: str) -> list[ModelInfo]:
    """The catalog's models for ``kind`` (empty for a kind it does not cover)."""
    table = _table(kind)
    if table is None:
        return []
    return [row.info(model_id, kind) for model_id, row in table.models.items()]


def catalog_kinds() -> list[str]:
    """The vendor kinds the catalog covers, sorted."""
    return sorted(load_catalog().vendors)
